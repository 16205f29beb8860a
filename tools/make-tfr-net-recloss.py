#!/usr/bin/env python3
"""Writes test/fixtures/tfr-net/recloss.json: TFR-Net's reconstruction loss as MMSA's own code computes it
(models/missingTask/TFR_NET/model.py RECLoss and CMD) on small random tensors, for the test of the `recon` task's
TFR-Net options (masks, loss: smooth_l1, cmd_weight, pair_weights).

Three pairs shaped like TFR-Net's text, audio and vision reconstructions ([B, T, D]), each with a real-position mask
(from lengths) and a missing mask (a random subset of the real positions). Records the inputs, every pair's RECLoss
for recloss_type SmoothL1Loss, MSELoss and combine (weight_sim_loss 5), the weighted sum with weight_gen_loss
[5, 2, 20] as TFR_NET.forward forms it, and the gradient of that sum with respect to the first prediction.

Needs MMSA's source (`MMSA_SRC`) and torch, numpy, easydict; `MMSA_SHIMS` as for tools/make-mmsa-checkpoints.py.
Usage: MMSA_SRC=... [MMSA_SHIMS=...] python3 tools/make-tfr-net-recloss.py
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "test", "fixtures", "tfr-net", "recloss.json")
SHAPES = [(4, 6, 8), (4, 7, 5), (4, 5, 3)]
WEIGHTS = [5, 2, 20]


def main():
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    shims = os.environ.get("MMSA_SHIMS")
    sys.path[:0] = [os.path.join(HERE, "hf-bert")] + ([shims] if shims else []) + [src]
    import torch
    from easydict import EasyDict
    from MMSA.models.missingTask.TFR_NET.model import RECLoss

    rng = np.random.RandomState(19)
    pairs = []
    for b, t, d in SHAPES:
        lengths = rng.randint(2, t + 1, b)
        mask = (np.arange(t)[None, :] < lengths[:, None]).astype(np.float32)
        missing = (mask * (rng.uniform(size=(b, t)) > 0.5)).astype(np.float32)
        pred = rng.normal(0, 1.5, (b, t, d)).astype(np.float32)
        target = rng.normal(0, 1, (b, t, d)).astype(np.float32)
        pairs.append(dict(pred=pred, target=target, mask=mask, missing_mask=missing))

    out = {"shapes": SHAPES, "weight_gen_loss": WEIGHTS, "weight_sim_loss": 5, "pairs": [], "losses": {}}
    for p in pairs:
        out["pairs"].append({k: v.ravel().tolist() for k, v in p.items()})
    for kind in ("SmoothL1Loss", "MSELoss", "combine"):
        rec = RECLoss(EasyDict(device="cpu", recloss_type=kind, weight_sim_loss=5))
        per_pair, total = [], 0
        preds = [torch.tensor(p["pred"], requires_grad=True) for p in pairs]
        for i, p in enumerate(pairs):
            m = torch.tensor(p["mask"]) - torch.tensor(p["missing_mask"])
            loss = rec(preds[i], torch.tensor(p["target"]), m)
            per_pair.append(float(loss))
            total = total + WEIGHTS[i] * loss
        total.backward()
        out["losses"][kind] = {"per_pair": per_pair, "total": float(total), "grad_pred0": preds[0].grad.numpy().ravel().tolist()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
