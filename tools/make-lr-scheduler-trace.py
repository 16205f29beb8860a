#!/usr/bin/env python3
"""Records PyTorch's learning rates epoch by epoch for ReduceLROnPlateau, StepLR and CosineAnnealingLR on two
parameter groups, with a fixed sequence of validation values, so mmsa's schedulers can be checked number by number.

Run: /usr/bin/python3 tools/make-lr-scheduler-trace.py > test/fixtures/lr-schedulers/torch-trace.json
(needs torch; the numbers do not depend on the machine)."""
import json
import math

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


out = {"torch": torch.__version__, "values": VALUES, "base_lrs": [1e-3, 5e-5],
       "cases": [{**c, "lrs": run(c)} for c in CASES]}
assert all(math.isfinite(x) for c in out["cases"] for row in c["lrs"] for x in row)
print(json.dumps(out, indent=1))
