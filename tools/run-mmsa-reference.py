#!/usr/bin/env python3
"""Runs one of MMSA's own models (thuiar/MMSA, PyTorch) through the reference runner (run_mmsa_baseline.py: one
MMSA_run() of one model and seed on one feature file, with per-epoch timing and the test metrics in OUT/summary.json)
on a CPU-only machine, for speed and accuracy runs side by side with mmsa on the same file (`npm run bench -- train`
runs it after mmsa's epochs of each model).

MMSA's code does not run unchanged here. The patches below are applied in-process, by name, to the models they
concern; no MMSA file is modified, and none of them changes what a model computes:
  - mctn_seq2seq_on_cpu (mctn): MCTN builds its two Seq2Seq modules with the device "cuda" hard-coded
    (models/singleTask/MCTN.py, `Seq2Seq(self.encoder1, self.decoder1, 'cuda', ...)`) and allocates their outputs there
    (`torch.zeros(...).to(self.device)`), which fails on a machine without CUDA; here they get the CPU instead.
  - detached_cpu (mult by default; any model with --patch detached_cpu): MULT's trainer stores every training batch's prediction for the epoch's metrics with
    `y_pred.append(outputs.cpu())` (trains/singleTask/MULT.py). On a CPU `.cpu()` returns the same tensor, graph
    included, so every batch's chain of backward nodes stays alive until the epoch ends and the process grows past
    8-10 GB at MOSI's lengths. Here `Tensor.cpu()` returns a detached tensor; the trainer's loss and backward use
    `outputs`, never the `.cpu()` copy, so training is unchanged (only the memory the kept graphs cost is gone).
    MISA's trainer (trains/singleTask/MISA.py) does the same; with bert-base fine-tuned its process grows by about half
    a gigabyte a batch, so a whole epoch does not fit in 24 GB as shipped: `--patch detached_cpu` times it.
  - do_test_accepts_return_sample_results (cenet, almt): their trainers define do_test(model, dataloader, mode)
    without the return_sample_results keyword that the runner (as MMSA's run.py for other trainers) passes; it is
    accepted there when False.
The runner itself makes torch.cuda.set_device a no-op for CPU devices (MMSA calls it unconditionally).

Usage: MMSA_SRC=<MMSA's src/> MMSA_RUNNER=<dir of run_mmsa_baseline.py> [MMSA_SHIMS=<its shims/>]
       /usr/bin/python3 tools/run-mmsa-reference.py --model mctn --dataset mosi --pkl FILE --seed 1111 --threads 1
       --max-epochs 2 --out DIR
(the arguments are the runner's: --model, --dataset, --pkl, --seed, --threads, --max-epochs, --config JSON, --out, and
--text features for Self-MM). `--patch NAME` (repeatable) applies a patch to a model it is not applied to by default;
the runner never sees it. `--list-patches` prints the patches and the models they apply to. Needs Debian's
python3-torch. tools/run-mmsa-small-bert.py wraps this for MMSA's BERT models on a small BERT.
"""
import os
import runpy
import sys


def mctn_seq2seq_on_cpu():
    """MCTN's Seq2Seq modules keep the device they are given as a plain attribute and MCTN gives them "cuda"; without
    CUDA they get the CPU."""
    import importlib

    import torch

    # The module, not the class the package re-exports under the same name.
    seq2seq = importlib.import_module("MMSA.models.singleTask.MCTN").Seq2Seq
    init = seq2seq.__init__

    def init_on_cpu(self, encoder, decoder, device, *args, **kwargs):
        if torch.device(device).type == "cuda" and not torch.cuda.is_available():
            device = "cpu"
        init(self, encoder, decoder, device, *args, **kwargs)

    seq2seq.__init__ = init_on_cpu


def detached_cpu():
    """`Tensor.cpu()` returns a detached tensor, so the predictions MULT's trainer keeps do not keep their graphs."""
    import torch

    cpu = torch.Tensor.cpu

    def detached_cpu(self, *args, **kwargs):
        return cpu(self, *args, **kwargs).detach()

    torch.Tensor.cpu = detached_cpu


def do_test_accepts_return_sample_results():
    """Lets the trainers whose do_test has no return_sample_results keyword take it (only False: they cannot
    return per-sample results)."""
    import inspect
    from MMSA.trains.singleTask import ALMT, CENET  # the trainer classes (the package re-exports them)

    for cls in (CENET, ALMT):
        original = cls.do_test
        if "return_sample_results" in inspect.signature(original).parameters:
            continue

        def do_test(self, model, dataloader, mode="VAL", return_sample_results=False, _original=original):
            if return_sample_results:
                raise ValueError(f"{type(self).__name__}.do_test cannot return per-sample results")
            return _original(self, model, dataloader, mode=mode)

        cls.do_test = do_test


# name -> (the MMSA model names it applies to, the patch)
PATCHES = {
    "mctn_seq2seq_on_cpu": (("mctn",), mctn_seq2seq_on_cpu),
    "detached_cpu": (("mult",), detached_cpu),
    "do_test_accepts_return_sample_results": (("cenet", "almt"), do_test_accepts_return_sample_results),
}


def patches_for(model):
    """Names of the patches that apply to MMSA's `model`, in the order they are applied."""
    return [name for name, (models, _) in PATCHES.items() if model in models]


def take_patches(argv):
    """Removes every `--patch NAME` from argv (the runner does not know the flag) and returns the names."""
    names = []
    while "--patch" in argv:
        i = argv.index("--patch")
        name = argv[i + 1] if i + 1 < len(argv) else None
        if name not in PATCHES:
            sys.exit(f"--patch must name one of: {', '.join(PATCHES)}")
        names.append(name)
        del argv[i:i + 2]
    return names


def arg_value(argv, flag):
    return argv[argv.index(flag) + 1] if flag in argv and argv.index(flag) + 1 < len(argv) else None


def main(first_paths=(), prepare=None):
    """Checks the environment, puts `first_paths`, the runner's shims and MMSA's src/ ahead on sys.path, calls
    `prepare(model)` (after MMSA's modules are importable), applies the model's patches and runs the runner with this
    process's arguments."""
    if "--list-patches" in sys.argv:
        for name, (models, fn) in PATCHES.items():
            print(f"{name} ({', '.join(models)}): {' '.join(fn.__doc__.split())}")
        return
    runner_dir = os.environ.get("MMSA_RUNNER")
    if not runner_dir or not os.path.isfile(os.path.join(runner_dir, "run_mmsa_baseline.py")):
        sys.exit("MMSA_RUNNER must name the directory holding the reference runner's run_mmsa_baseline.py")
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    extra_patches = take_patches(sys.argv)
    model = arg_value(sys.argv, "--model")
    if not model:
        sys.exit("--model is required (MMSA's model name: lmf, mult, mctn, self_mm, ...)")
    os.environ.setdefault("MMSA_SHIMS", os.path.join(runner_dir, "shims"))
    sys.path[:0] = [*first_paths, os.environ["MMSA_SHIMS"], src]
    if prepare:
        prepare(model)
    applied = patches_for(model) + [name for name in extra_patches if name not in patches_for(model)]
    for name in applied:
        PATCHES[name][1]()
    print(f"run-mmsa-reference: {model}, in-process patches: {', '.join(applied) or 'none'}", file=sys.stderr)
    runner = os.path.join(runner_dir, "run_mmsa_baseline.py")
    sys.argv[0] = runner
    runpy.run_path(runner, run_name="__main__")


if __name__ == "__main__":
    main()
