#!/usr/bin/env python3
"""Self-MM parity tooling, reference side: runs MMSA's own SELF_MM trainer and model (BERT bypassed with the
precomputed [CLS] features, as mmsa's `precomputed` text encoder) from the initial weights and with the batch orders
that tools/parity/mmsa-trace.mjs wrote, and records the same trajectory (trace.json): per-step losses per head,
gradient norms per optimizer group, what each Adam group holds, per-epoch label banks, weights after chosen steps.

MMSA's source is not part of this project: point MMSA_SRC at the `src/` of an export of thuiar/MMSA and MMSA_SHIMS at
a folder with stand-ins for the packages it imports at module level but never uses here (transformers, pynvml,
einops, pytorch_transformers). See README.md.
"""
import argparse
import json
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--pkl", required=True)
ap.add_argument("--from", dest="src", help="directory mmsa-trace.mjs wrote (init weights, orders)")
ap.add_argument("--torch-init-only", action="store_true",
                help="write the weights MMSA's own run initialises for --seed (init-weights.json/.bin, mmsa names) and stop")
ap.add_argument("--out", required=True)
ap.add_argument("--seed", type=int, default=1111, help="torch seed (dropout masks only; weights and orders are given)")
ap.add_argument("--init-weights", help="weights index .json (default: FROM/init-weights.json)")
ap.add_argument("--max-epochs", type=int, default=0)
ap.add_argument("--no-dropout", action="store_true", help="post_text/audio dropout 0 (a deterministic comparison)")
ap.add_argument("--float64", action="store_true", help="run the model and ULGM in float64")
ap.add_argument("--grad-steps", type=int, default=12)
ap.add_argument("--dump-steps", default="1,2,4")
ap.add_argument("--config", default="{}", help="extra JSON config overrides")
a = ap.parse_args()

for var in ("MMSA_SRC", "MMSA_SHIMS"):
    if not os.environ.get(var):
        sys.exit(f"ref_trace.py: set {var} (see tools/parity/README.md)")
os.environ.setdefault("MMSA_SHIM_BERT_LAYERS", "0")
sys.path[:0] = [os.environ["MMSA_SHIMS"], os.environ["MMSA_SRC"]]

import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
_orig_set_device = torch.cuda.set_device
torch.cuda.set_device = lambda dev: None if torch.device(dev).type != "cuda" else _orig_set_device(dev)

from MMSA.config import get_config_regression  # noqa: E402
from MMSA.data_loader import MMDataset  # noqa: E402
from MMSA.models import AMIO  # noqa: E402
from MMSA.models.subNets.BertTextEncoder import BertTextEncoder  # noqa: E402
from MMSA.trains import ATIO  # noqa: E402
from MMSA.utils import setup_seed  # noqa: E402
from torch.utils.data import DataLoader  # noqa: E402

from mmsa_names import mmsa_key, ref_key  # noqa: E402  (beside this file)

# The BERT bypass: the encoder returns its (B, L, 768) input, SELF_MM takes [:, 0, :] (the [CLS] feature).
BertTextEncoder.forward = lambda self, text: text

os.makedirs(a.out, exist_ok=True)
src = a.src
if not a.torch_init_only and not src:
    sys.exit("ref_trace.py: --from DIR is required (or --torch-init-only)")
orders = json.load(open(os.path.join(src, "orders.json"))) if src else None

args = get_config_regression("self_mm", "mosi")
args.update({
    "featurePath": a.pkl, "use_bert": False, "use_finetune": False, "device": torch.device("cpu"),
    "train_mode": "regression", "custom_feature": None, "feature_T": None, "feature_A": None, "feature_V": None,
    "model_save_path": os.path.join(a.out, "self_mm-mosi.pth"), "res_save_dir": a.out, "cur_seed": 1,
})
if a.no_dropout:
    args.update({"post_text_dropout": 0.0, "post_audio_dropout": 0.0, "post_fusion_dropout": 0.0, "post_video_dropout": 0.0})
args.update(json.loads(a.config))
setup_seed(a.seed)
if a.float64:
    torch.set_default_dtype(torch.float64)

datasets = {s: MMDataset(args, mode=s) for s in ("train", "valid", "test")}
args["train_samples"] = len(datasets["train"])
if a.float64:
    for ds in datasets.values():
        for k in ("text", "audio", "vision"):
            setattr(ds, k, getattr(ds, k).astype(np.float64))


class Orders:
    """A batch_sampler replaying mmsa's per-epoch orders. The train loader's first pass is Self-MM's label-init pass
    (order irrelevant); valid passes follow the epochs; the test pass comes after the last epoch (mmsa: epoch + 1)."""

    def __init__(self, split, bs, first_is_init=False):
        self.split, self.bs, self.passes, self.first_is_init = split, bs, 0, first_is_init
        self.n = len(datasets[split])

    def __len__(self):
        return (self.n + self.bs - 1) // self.bs

    def __iter__(self):
        self.passes += 1
        if self.first_is_init:
            epoch = self.passes - 1
            order = list(range(self.n)) if epoch == 0 else orders[self.split][str(epoch)]
        elif self.split == "test":
            order = orders["test"][str(valid_sampler.passes + 1)]
        else:
            order = orders[self.split][str(self.passes)]
        for s in range(0, self.n, self.bs):
            yield order[s:s + self.bs]


bs = args["batch_size"]
valid_sampler = Orders("valid", bs)
samplers = {"train": Orders("train", bs, first_is_init=True), "valid": valid_sampler, "test": Orders("test", bs)}
dataloader = {s: DataLoader(datasets[s], batch_sampler=samplers[s], num_workers=0) for s in datasets}

model = AMIO(args)
if a.float64:
    model = model.double()


# ---- mmsa <-> MMSA parameter names ----------------------------------------------------------------------------------
MMSA_NAME = {k: mmsa_key(k) for k in model.state_dict()}


def read_weights(index_file):
    idx = json.load(open(index_file))
    blob = np.fromfile(index_file[:-5] + ".bin", dtype="<f4")
    out = {}
    for e in idx["entries"]:
        n = int(np.prod(e["shape"]))
        out[ref_key(e["key"])] = torch.from_numpy(blob[e["offset"]:e["offset"] + n].reshape(e["shape"]).copy())
        MMSA_NAME[ref_key(e["key"])] = e["key"]
    return out


def write_weights(name):
    entries, blobs, off = [], [], 0
    for k, t in model.state_dict().items():
        v = t.detach().cpu().numpy().astype("<f4").ravel()
        entries.append({"key": MMSA_NAME.get(k, k), "shape": list(t.shape), "offset": off})
        blobs.append(v)
        off += v.size
    np.concatenate(blobs).tofile(os.path.join(a.out, f"{name}.bin"))
    json.dump({"dtype": "float32", "entries": entries}, open(os.path.join(a.out, f"{name}.json"), "w"))


if a.torch_init_only:
    # setup_seed(seed) then AMIO(args), as MMSA_run -> _run builds the model (the datasets draw no torch numbers)
    write_weights("init-weights")
    print(f"wrote {a.out}/init-weights.json: MMSA's initial weights for seed {a.seed}", file=sys.stderr)
    sys.exit(0)
init = read_weights(a.init_weights or os.path.join(src, "init-weights.json"))
sd = model.state_dict()
missing = [k for k in sd if k not in init]
unexpected = [k for k in init if k not in sd]
if missing or unexpected:
    sys.exit(f"weights do not fit: missing {missing}, unexpected {unexpected}")
model.load_state_dict({k: v.to(sd[k].dtype) for k, v in init.items()})
write_weights("init-weights")

trainer = ATIO().getTrain(args)
if a.float64:
    for d in (trainer.feature_map, trainer.label_map):
        for k in d:
            d[k] = d[k].double()
    for k in trainer.center_map:
        for s in trainer.center_map[k]:
            trainer.center_map[k][s] = trainer.center_map[k][s].double()

# ---- instrumentation --------------------------------------------------------------------------------------------------
HEAD = {"fusion": "M", "text": "T", "audio": "A", "vision": "V"}
steps, epochs, grad_norms, groups_info = [], [], [], []
cur = {"epoch": 0, "step": 0, "heads": {}, "in_train": False}
dump_steps = {int(s) for s in a.dump_steps.split(",") if s}

orig_wl = trainer.weighted_loss


def weighted_loss(y_pred, y_true, indexes=None, mode="fusion"):
    loss = orig_wl(y_pred, y_true, indexes=indexes, mode=mode)
    if cur["in_train"] and indexes is not None:
        cur["heads"][HEAD[mode]] = float(loss.item())
    return loss


trainer.weighted_loss = weighted_loss

names = {}


class TracedAdam(torch.optim.Adam):
    n_steps = 0

    def __init__(self, groups, *args_, **kw):
        super().__init__(groups, *args_, **kw)
        gnames = ["bert", "bert_no_decay", "audio", "vision", "other"]
        for g, gn in zip(self.param_groups, gnames):
            groups_info.append({"name": gn, "lr": g["lr"], "weight_decay": g["weight_decay"],
                                "params": [MMSA_NAME.get(names[id(p)], names[id(p)]) for p in g["params"]]})

    def step(self, closure=None):
        TracedAdam.n_steps += 1
        k = TracedAdam.n_steps
        if k <= a.grad_steps:
            rec = {"opt_step": k, "groups": {}, "params": {}}
            for gi, g in zip(groups_info, self.param_groups):
                s = 0.0
                for p in g["params"]:
                    if p.grad is not None:
                        s += float((p.grad.double() ** 2).sum())
                        rec["params"][MMSA_NAME.get(names[id(p)], names[id(p)])] = float(p.grad.double().norm())
                rec["groups"][gi["name"]] = s ** 0.5
            grad_norms.append(rec)
        r = super().step(closure)
        if k in dump_steps:
            write_weights(f"weights-step-{k}")
        cur["stepped"] = True
        return r


trainer_mod = sys.modules[type(trainer).__module__]
trainer_mod.optim.Adam = TracedAdam  # the module does `from torch import optim` and calls optim.Adam(...)
for n, p in model.named_parameters():
    names[id(p)] = n


class Capped(Exception):
    """--max-epochs reached: leave do_train when the next epoch would start (the last checkpoint is saved by then)."""


class TracedTrainLoader:
    """Counts steps and closes each step's record (the trainer's loop body runs between two next() calls)."""

    def __init__(self, dl):
        self.dl = dl

    def __len__(self):
        return len(self.dl)

    def __iter__(self):
        init_pass = samplers["train"].passes == 0
        if a.max_epochs and cur["epoch"] >= a.max_epochs:
            raise Capped()
        if not init_pass:
            cur["epoch"] += 1
            cur["step"] = 0
            cur["in_train"] = True
        for b in self.dl:
            if not init_pass:
                self._close()
                cur["step"] += 1
                cur["heads"], cur["stepped"] = {}, False
            yield b
        if not init_pass:
            self._close()
            cur["in_train"] = False

    def _close(self):
        if cur["step"] > 0 and cur["heads"]:
            steps.append({"epoch": cur["epoch"], "step": cur["step"], "loss": sum(cur["heads"].values()),
                          "heads": dict(cur["heads"]), "stepped": cur["stepped"]})
            cur["heads"] = {}


dataloader["train"] = TracedTrainLoader(dataloader["train"])

orig_test = trainer.do_test


def write_trace(result):
    """trace.json as it stands (rewritten after every epoch, so a long run can be compared while it goes on)."""
    tmp = os.path.join(a.out, "trace.json.tmp")
    json.dump({"system": "reference", "seed": a.seed, "no_dropout": a.no_dropout, "float64": a.float64, "groups": groups_info,
               "grad_norms": grad_norms, "steps": steps, "epochs": epochs, "result": result}, open(tmp, "w"), indent=1)
    os.replace(tmp, os.path.join(a.out, "trace.json"))



def do_test(model_, dl, mode="VAL", return_sample_results=False):
    r = orig_test(model_, dl, mode=mode, return_sample_results=return_sample_results)
    if mode == "VAL":
        e = cur["epoch"]
        ep = [s for s in steps if s["epoch"] == e]
        heads = {h: float(np.mean([s["heads"].get(h, 0.0) for s in ep])) for h in "MTAV"}
        labels = {k: v.detach().cpu().numpy().astype(float).tolist() for k, v in trainer.label_map.items()}
        lf = f"labels-epoch-{e}.json"
        json.dump(labels, open(os.path.join(a.out, lf), "w"))
        epochs.append({"epoch": e, "train_loss": float(np.mean([s["loss"] for s in ep])), "heads": heads,
                       "valid_loss": r["Loss"], "valid": {k: float(v) for k, v in r.items() if isinstance(v, (int, float, np.floating))},
                       "labels": lf})
        write_weights(f"weights-epoch-{e}")
        write_trace(None)
        print(f"epoch {e}: train {epochs[-1]['train_loss']:.4f} M {heads['M']:.4f} T {heads['T']:.4f} A {heads['A']:.4f} "
              f"V {heads['V']:.4f} valid {r['Loss']}", file=sys.stderr, flush=True)
    return r


trainer.do_test = do_test
try:
    trainer.do_train(model, dataloader)
except Capped:
    pass

# best epoch as MMSA selects it, then MMSA's own reload-and-test
best, best_epoch = 1e8, 0
for ep in epochs:
    if ep["valid_loss"] <= best - 1e-6:
        best, best_epoch = ep["valid_loss"], ep["epoch"]
    ep["improved"] = best_epoch == ep["epoch"]
model.load_state_dict(torch.load(args["model_save_path"]))
res = orig_test(model, dataloader["test"], mode="TEST")
test = {k: float(v) for k, v in res.items() if isinstance(v, (int, float, np.floating))}
write_trace({"test": test, "bestEpoch": best_epoch, "epochs": len(epochs)})
print(f"test Corr {test['Corr']:.4f} MAE {test['MAE']:.4f} best epoch {best_epoch} of {len(epochs)}", file=sys.stderr)
