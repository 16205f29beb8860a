#!/usr/bin/env python3
"""Records the sample orders PyTorch's DataLoader(shuffle=True) gives, for `train.shuffle_rng: torch`
(test/fixtures/torch-shuffle/, checked by test/runtime/data/torch-shuffle.test.ts).

Two recordings in one JSON file:
  plain   torch.manual_seed(seed), `draws` uniform_ values (standing in for parameter initialisation), then `epochs`
          passes of DataLoader(range(n), batch_size, shuffle=True) per split, train then valid in every epoch, as
          MMSA's trainers iterate them; plus whether dropout at p 0 and at p 0.5 advances the global stream.
  mmsa    MMSA's own MFN (models/singleTask/MFN.py, trains/singleTask/MFN.py) run by MMSA_run on the small aligned
          MOSI file of test/fixtures/mmsa-checkpoints/data with every dropout 0: the dataset index of every sample
          each loader pass yields (train and valid for `--epochs` epochs, then the final test pass), and the
          initial state_dict right after the model was built (mmsa's parameter names are the test's business).

Needs MMSA_SRC (the directory holding the MMSA package) and MMSA_SHIMS (stand-ins for packages MMSA imports and never
calls here; see tools/parity/README.md). MMSA's files are not modified.

usage: record_torch_shuffles.py OUT.json [--epochs 3]
       record_torch_shuffles.py --init-only --pkl FILE.pkl --seed S --out-pth FILE.pth   (MFN with MMSA's mosi config:
       the state_dict MMSA_run's model starts from, for a one-off check at full size)
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

ap = argparse.ArgumentParser()
ap.add_argument("out", nargs="?")
ap.add_argument("--epochs", type=int, default=3)
ap.add_argument("--init-only", action="store_true")
ap.add_argument("--pkl")
ap.add_argument("--seed", type=int, default=1111)
ap.add_argument("--out-pth")
a = ap.parse_args()

os.environ.setdefault("MMSA_SHIM_BERT_LAYERS", "0")
sys.path[:0] = [os.environ["MMSA_SHIMS"], os.environ["MMSA_SRC"]]

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

torch.set_num_threads(1)
# MMSA_run calls torch.cuda.set_device unconditionally; a no-op for the CPU device (as the reference runner does)
_set_device = torch.cuda.set_device
torch.cuda.set_device = lambda dev: None if torch.device(dev).type != "cuda" else _set_device(dev)

import MMSA.run as mrun  # noqa: E402

sys.path.insert(0, os.path.dirname(HERE))  # tools/: the epoch cap shared with make-mmsa-checkpoints.py
from mmsa_epoch_cap import EpochCap, epoch_capped  # noqa: E402


def record_plain():
    cases = []
    for seed, draws, sizes, bs in [(1111, 0, {"train": 10, "valid": 7}, 4), (1111, 2172657, {"train": 1284, "valid": 229}, 128),
                                   (1112, 37, {"train": 48, "valid": 16}, 128), (7, 5, {"train": 3, "valid": 1}, 2)]:
        torch.manual_seed(seed)
        if draws:
            torch.empty(draws).uniform_()
        passes = []
        for epoch in range(1, a.epochs + 1):
            for split in ("train", "valid"):
                order = [int(i) for b in DataLoader(list(range(sizes[split])), batch_size=bs, shuffle=True) for i in b]
                passes.append({"epoch": epoch, "split": split, "order": order})
        cases.append({"seed": seed, "uniform_draws": draws, "sizes": sizes, "batch_size": bs, "passes": passes})

    def advances(f):
        before = torch.get_rng_state().clone()
        f()
        return not torch.equal(before, torch.get_rng_state())
    x = torch.ones(4, 3)
    dropout = {
        "functional_p0": advances(lambda: F.dropout(x, 0.0, training=True)),
        "module_p0": advances(lambda: torch.nn.Dropout(0.0).train()(x)),
        "functional_p05": advances(lambda: F.dropout(x, 0.5, training=True)),
        "eval_p05": advances(lambda: torch.nn.Dropout(0.5).eval()(x)),
    }
    return cases, dropout


def run_mmsa(config, pkl, seed, epochs, on_model=None):
    """MMSA_run of MFN for `epochs` epochs; returns every loader pass's dataset indexes in order."""
    passes = []

    def watch(split, batches):
        order = []
        for batch in batches:
            order.extend(int(i) for i in batch["index"])
            yield batch
        passes.append({"split": split, "order": order})

    def amio(args):
        model = orig_amio(args)
        if on_model:
            on_model(model)
        return model

    orig_amio = mrun.AMIO
    import tempfile
    with tempfile.TemporaryDirectory() as tmp, epoch_capped(mrun, epochs, watch=watch, amio=amio):
        mrun.MMSA_run("mfn", "mosi", config={"featurePath": pkl, **config}, seeds=[seed], gpu_ids=[0], num_workers=0,
                      verbose_level=0, model_save_dir=os.path.join(tmp, "m"), res_save_dir=os.path.join(tmp, "r"),
                      log_dir=os.path.join(tmp, "l"))
    return passes


NO_DROPOUT = {"NN1Config": {"drop": 0.0}, "NN2Config": {"drop": 0.0}, "gamma1Config": {"drop": 0.0},
              "gamma2Config": {"drop": 0.0}, "outConfig": {"drop": 0.0}}


def mmsa_config(small):
    base = {"hidden_dims": [8, 4, 4], "memsize": 6, "NN1Config": {"shapes": 5}, "NN2Config": {"shapes": 4},
            "gamma1Config": {"shapes": 4}, "gamma2Config": {"shapes": 3}, "outConfig": {"shapes": 4}, "batch_size": 20} if small else {}
    out = dict(base)
    for k, v in NO_DROPOUT.items():
        out[k] = {**base.get(k, {}), **v}
    return out


if a.init_only:
    # MMSA_run merges config dicts shallowly: give each *Config its mosi shapes back
    from MMSA.config import get_config_regression
    full = get_config_regression("mfn", "mosi")
    cfg = {k: {**full[k], "drop": 0.0} for k in NO_DROPOUT}
    saved = {}

    def keep(model):
        saved["sd"] = {k: v.clone() for k, v in model.state_dict().items()}
        raise EpochCap()
    try:
        run_mmsa(cfg, a.pkl, a.seed, 0, on_model=keep)
    except EpochCap:
        pass
    torch.save(saved["sd"], a.out_pth)
    print(f"wrote {a.out_pth}: {len(saved['sd'])} tensors")
    sys.exit(0)

plain, dropout = record_plain()
pkl = os.path.join(REPO, "test", "fixtures", "mmsa-checkpoints", "data", "mosi-aligned.pkl")
init = {}
mmsa = []
for seed in (1111, 1113):
    def keep(model, seed=seed):
        init[seed] = {k: {"shape": list(v.shape), "values": [float(x) for x in v.reshape(-1).tolist()]} for k, v in model.state_dict().items()}
    mmsa.append({"seed": seed, "passes": run_mmsa(mmsa_config(True), pkl, seed, a.epochs, on_model=keep)})
json.dump({"made_by": "tools/parity/record_torch_shuffles.py", "torch": torch.__version__, "plain": plain,
           "dropout_advances_stream": dropout,
           "mmsa_mfn": {"data": "test/fixtures/mmsa-checkpoints/data/mosi-aligned.pkl", "config": mmsa_config(True),
                        "epochs": a.epochs, "runs": mmsa, "init": {str(k): v for k, v in init.items()}}},
          open(a.out, "w"))
print(f"wrote {a.out}")
