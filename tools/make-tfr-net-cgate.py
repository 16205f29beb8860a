#!/usr/bin/env python3
"""Writes test/fixtures/tfr-net/c-gate.json: TFR-Net's gated fusion as MMSA's own code computes it
(models/missingTask/TFR_NET/fusion.py GATE_F, eval mode) with torch's default initialisation under a fixed seed, for
the parity tests of the `c_gate` fusion and of the regression head with `batch_norm` and `leaky_relu`.

Three sequences (text [B, 6, 9], audio [B, 7, 9], vision [B, 5, 9]), each with a real-position mask (one row
unpadded, the others with padding after 2 or more steps); GATE_F with 2 GRU layers and a classifier of 8 hidden
units (its BatchNorm's running statistics set to random values, as after training). Records the inputs, GATE_F's
state_dict, each encoder's output [B, hidden] and the classifier's prediction [B, 1].

Needs MMSA's source (`MMSA_SRC`) and torch, numpy; `MMSA_SHIMS` as for tools/make-mmsa-checkpoints.py.
Usage: MMSA_SRC=... [MMSA_SHIMS=...] python3 tools/make-tfr-net-cgate.py
"""
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "test", "fixtures", "tfr-net", "c-gate.json")
SEQS = [("text", 6, 6), ("audio", 7, 4), ("vision", 5, 5)]  # name, steps, hidden
B, D = 4, 9


def main():
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    shims = os.environ.get("MMSA_SHIMS")
    sys.path[:0] = [os.path.join(HERE, "hf-bert")] + ([shims] if shims else []) + [src]
    import torch
    
    from easydict import EasyDict
    from MMSA.models.missingTask.TFR_NET.fusion import GATE_F

    torch.manual_seed(19)
    rng = np.random.RandomState(19)
    args = EasyDict(fusion_t_in=D, fusion_a_in=D, fusion_v_in=D, fusion_t_hid=SEQS[0][2], fusion_a_hid=SEQS[1][2],
                    fusion_v_hid=SEQS[2][2], fusion_gru_layers=2, fusion_drop=0.2, cls_hidden_dim=8, cls_dropout=0.1)
    gate = GATE_F(args)
    norm = gate.classifier.linear_trans_norm
    n = norm.running_mean.shape[0]
    norm.running_mean.copy_(torch.tensor(rng.normal(0, 0.3, n), dtype=torch.float32))
    norm.running_var.copy_(torch.tensor(rng.uniform(0.5, 2, n), dtype=torch.float32))
    gate.eval()
    out = {"B": B, "D": D, "seqs": []}
    xs = []
    for name, t, h in SEQS:
        lengths = [t] + list(rng.randint(2, t, B - 1))
        mask = (np.arange(t)[None, :] < np.array(lengths)[:, None]).astype(np.float32)
        x = rng.normal(0, 1, (B, t, D)).astype(np.float32)
        xs.append((torch.tensor(x), torch.tensor(mask)))
        with torch.no_grad():
            y = getattr(gate, f"{name}_encoder")(torch.tensor(x), torch.tensor(mask))
        out["seqs"].append({"name": name, "steps": t, "hidden": h, "x": x.ravel().tolist(), "mask": mask.ravel().tolist(),
                            "y": y.numpy().ravel().tolist()})
    with torch.no_grad():
        pred = gate(*xs)
    out["state"] = {k: {"shape": list(v.shape), "values": v.numpy().ravel().tolist()} for k, v in gate.state_dict().items()}
    out["prediction"] = pred.numpy().ravel().tolist()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
