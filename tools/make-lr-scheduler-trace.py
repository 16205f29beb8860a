#!/usr/bin/env python3
"""Records PyTorch's learning rates epoch by epoch for ReduceLROnPlateau, StepLR and CosineAnnealingLR on two
parameter groups, with a fixed sequence of validation values, so mmsa's schedulers can be checked number by number.

Also, when MMSA_SRC names the directory holding MMSA's `MMSA` package (with MMSA_SHIMS for the stand-ins of its
import-time dependencies), the learning rate each epoch trains with under ALMT's schedule: MMSA's own get_scheduler
(trains/singleTask/ALMT.py: its GradualWarmupScheduler on torch's _LRScheduler, then torch's CosineAnnealingLR),
stepped after every epoch as its trainer does, for several max_epochs.

Run: [MMSA_SRC=... MMSA_SHIMS=...] /usr/bin/python3 tools/make-lr-scheduler-trace.py > test/fixtures/lr-schedulers/torch-trace.json
(needs torch; the numbers do not depend on the machine)."""
import json
import math
import os
import sys

import torch

# A validation curve that improves, stalls (inside and outside the 1e-4 relative threshold), then improves again.
VALUES = [1.0, 0.8, 0.7999, 0.79995, 0.81, 0.9, 0.85, 0.6, 0.6, 0.6, 0.6, 0.6, 0.59999, 0.5, 0.5, 0.5, 0.5, 0.5,
          0.5, 0.5, 0.4, 0.4, 0.4, 0.4, 0.4]
CASES = [
    {"name": "plateau_mmim", "type": "plateau", "args": {"mode": "min", "factor": 0.5, "patience": 2}},
    {"name": "plateau_mult", "type": "plateau", "args": {"mode": "min", "factor": 0.1, "patience": 1}},
    {"name": "plateau_cooldown_minlr", "type": "plateau",
     "args": {"mode": "min", "factor": 0.1, "patience": 1, "cooldown": 2, "min_lr": 1e-4, "eps": 1e-8}},
    {"name": "plateau_max_abs", "type": "plateau",
     "args": {"mode": "max", "factor": 0.5, "patience": 1, "threshold": 0.05, "threshold_mode": "abs"}},
    {"name": "step", "type": "step", "args": {"step_size": 3, "gamma": 0.5}},
    {"name": "cosine", "type": "cosine", "args": {"T_max": 6, "eta_min": 1e-5}},
]


def run(case):
    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.Adam([{"params": [params[0]], "lr": 1e-3}, {"params": [params[1]], "lr": 5e-5}])
    t = case["type"]
    if t == "plateau":
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **case["args"])
    elif t == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, **case["args"])
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, **case["args"])
    lrs = []
    for v in VALUES:
        opt.step()
        if t == "plateau":
            sched.step(v)
        else:
            sched.step()
        lrs.append([g["lr"] for g in opt.param_groups])
    return lrs


# ALMT: (max_epochs, epochs traced). 200 is MMSA's config; 20 and 5 give fractional warm-up and T_max lengths and run
# past T_max (the chainable cosine goes back up).
ALMT_CASES = [(200, 200), (20, 45), (5, 12), (7, 20)]


def run_almt(max_epochs, epochs):
    here = os.path.dirname(os.path.abspath(__file__))
    shims = os.environ.get("MMSA_SHIMS")
    sys.path[:0] = [os.path.join(here, "hf-bert"), os.path.join(here, "einops-standin")] + ([shims] if shims else []) + [os.environ["MMSA_SRC"]]
    from MMSA.trains.singleTask.ALMT import get_scheduler

    params = [torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(1))]
    opt = torch.optim.AdamW([{"params": [params[0]], "lr": 1e-3}, {"params": [params[1]], "lr": 5e-5}])
    sched = get_scheduler(opt, max_epochs)
    lrs = []
    for _ in range(epochs):
        lrs.append([g["lr"] for g in opt.param_groups])  # the rate this epoch trains with
        opt.step()
        sched.step()
    return lrs


out = {"torch": torch.__version__, "values": VALUES, "base_lrs": [1e-3, 5e-5],
       "cases": [{**c, "lrs": run(c)} for c in CASES]}
if os.environ.get("MMSA_SRC"):
    out["almt"] = [{"max_epochs": m, "epoch_lrs": run_almt(m, n)} for m, n in ALMT_CASES]
assert all(math.isfinite(x) for c in out["cases"] for row in c["lrs"] for x in row)
assert all(math.isfinite(x) for c in out.get("almt", []) for row in c["epoch_lrs"] for x in row)
print(json.dumps(out, indent=1))
