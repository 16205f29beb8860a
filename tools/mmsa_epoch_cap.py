"""MMSA_run for a fixed number of epochs, for the project's fixture tools (tools/make-mmsa-checkpoints.py,
tools/parity/record_torch_shuffles.py).

MMSA's trainers (trains/*/<MODEL>.py) train until early stopping: they have no epoch cap. `epoch_capped` replaces
MMSA.run's data loaders and trainer factory for the duration of a `with` block, so that MMSA_run trains exactly
`epochs` epochs with MMSA's own code: the train loader raises EpochCap when a new epoch would start after `epochs`
validation passes (before it draws anything from torch's global random stream, so the stream is where MMSA left it),
and the trainer's do_train returns None when that happens. MMSA_run then goes on as it does after early stopping: it
loads the best checkpoint it saved and tests it. MMSA's files are not modified.
"""
import contextlib


class EpochCap(Exception):
    """Raised by a capped train loader when the epoch cap is reached; do_train's wrapper takes it as the end of
    training."""


@contextlib.contextmanager
def epoch_capped(mrun, epochs, watch=None, on_train=None, amio=None):
    """Caps `mrun` (the imported MMSA.run module) at `epochs` epochs inside the block; restores it on the way out.

    watch(split, batches): an iterable over a loader's `batches` (a generator that yields every batch), for tools that
    record what each pass of the "train", "valid" or "test" loader gives; by default the batches pass through.
    on_train(args): called with MMSA's args when the trainer's do_train starts.
    amio(args): replaces MMSA.run's AMIO (the model factory MMSA_run calls) inside the block.
    """
    valid_passes = [0]

    class CappedLoader:
        def __init__(self, dl, split):
            self.dl, self.split = dl, split

        def __len__(self):
            return len(self.dl)

        def __iter__(self):
            if self.split == "train" and valid_passes[0] >= epochs:
                raise EpochCap()
            yield from (watch(self.split, self.dl) if watch else self.dl)
            if self.split == "valid":
                valid_passes[0] += 1

    orig_loader, orig_atio, orig_amio = mrun.MMDataLoader, mrun.ATIO, mrun.AMIO

    class CappedATIO(orig_atio):
        def getTrain(self, args):
            trainer = super().getTrain(args)
            do_train = trainer.do_train

            def capped(model, dataloader, return_epoch_results=False):
                if on_train:
                    on_train(args)
                try:
                    return do_train(model, dataloader, return_epoch_results=return_epoch_results)
                except EpochCap:
                    return None

            trainer.do_train = capped
            return trainer

    mrun.MMDataLoader = lambda args, num_workers: {k: CappedLoader(v, k) for k, v in orig_loader(args, num_workers).items()}
    mrun.ATIO = CappedATIO
    if amio is not None:
        mrun.AMIO = amio
    try:
        yield
    finally:
        mrun.MMDataLoader, mrun.ATIO, mrun.AMIO = orig_loader, orig_atio, orig_amio
