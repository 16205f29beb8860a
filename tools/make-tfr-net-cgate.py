#!/usr/bin/env python3
"""Writes test/fixtures/tfr-net/c-gate.json: TFR-Net's gated fusion encoders as MMSA's own code computes them
(models/missingTask/TFR_NET/fusion.py C_GATE, eval mode) with torch's default initialisation under a fixed seed, for
the parity test of the `c_gate` fusion.

Two sequences ("text" [B, 6, 9] and "audio" [B, 7, 9]), each with a real-position mask (one row unpadded, the others
with padding after 2-6 steps); C_GATE(9, hidden, 2 layers) per sequence. Records the inputs, the state_dict of each
encoder (names as GATE_F saves them under `text_encoder.` / `audio_encoder.`) and each encoder's output [B, hidden].

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
SEQS = [("text", 6, 6), ("audio", 7, 4)]  # name, steps, hidden
B, D = 4, 9


def main():
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    shims = os.environ.get("MMSA_SHIMS")
    sys.path[:0] = [os.path.join(HERE, "hf-bert")] + ([shims] if shims else []) + [src]
    import torch
    from MMSA.models.missingTask.TFR_NET.fusion import C_GATE

    torch.manual_seed(19)
    rng = np.random.RandomState(19)
    out = {"B": B, "D": D, "seqs": []}
    for name, t, h in SEQS:
        lengths = [t] + list(rng.randint(2, t, B - 1))
        mask = (np.arange(t)[None, :] < np.array(lengths)[:, None]).astype(np.float32)
        x = rng.normal(0, 1, (B, t, D)).astype(np.float32)
        enc = C_GATE(D, h, 2, 0.2).eval()
        with torch.no_grad():
            y = enc(torch.tensor(x), torch.tensor(mask))
        state = {f"{name}_encoder.{k}": {"shape": list(v.shape), "values": v.numpy().ravel().tolist()} for k, v in enc.state_dict().items()}
        out["seqs"].append({"name": name, "steps": t, "hidden": h, "x": x.ravel().tolist(), "mask": mask.ravel().tolist(),
                            "state": state, "y": y.numpy().ravel().tolist()})
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
