#!/usr/bin/env python3
"""Writes test/fixtures/missing-masks/masks.json: the missing-modality inputs MMSA's own loader builds
(data_loader.py, MMDataset with `data_missing`, as TFR-Net's config sets it) on a small synthetic file, for the test
that mmsa's loader option `missing: {rate, seed}` gives the same masks bit for bit.

Input: test/fixtures/mmsa-checkpoints/data/mosi-tokens.pkl (written by tools/make-mmsa-checkpoints.py; BERT rows of
2-8 real tokens, so the [CLS]/last-token rule meets padded and unpadded rows). Per split it records text_m's ids,
text_missing_mask, audio_m (SHA-256 of its float32 bytes), audio_mask, audio_missing_mask, vision_m, vision_mask,
vision_missing_mask, for each
setting in SETTINGS (missing_rate and missing_seed per modality, in MMSA's text, audio, vision order).

Needs MMSA's source (`MMSA_SRC` = the directory holding the `MMSA` package) and numpy, torch, easydict.
Usage: MMSA_SRC=... [MMSA_SHIMS=...] python3 tools/make-missing-masks.py
"""
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
DATA = os.path.join(REPO, "test", "fixtures", "mmsa-checkpoints", "data", "mosi-tokens.pkl")
OUT = os.path.join(REPO, "test", "fixtures", "missing-masks", "masks.json")

SETTINGS = [
    {"missing_rate": [0.3, 0.4, 0.5], "missing_seed": [1111, 7, 42]},
    {"missing_rate": [0.8, 0.1, 0.0], "missing_seed": [1112, 1112, 1112]},
]


def sha(a):
    """SHA-256 of the float32 little-endian C-order bytes (the masked frames, compared bit for bit)."""
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def main():
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    # MMSA/__init__ imports every model; the stand-ins serve its import-time dependencies (`MMSA_SHIMS`, and
    # tools/hf-bert for transformers), none of which the loader uses.
    shims = os.environ.get("MMSA_SHIMS")
    sys.path[:0] = [os.path.join(HERE, "hf-bert")] + ([shims] if shims else []) + [src]
    from easydict import EasyDict
    from MMSA.data_loader import MMDataset

    out = {"file": "mmsa-checkpoints/data/mosi-tokens.pkl", "settings": []}
    for s in SETTINGS:
        entry = dict(s, splits={})
        for split in ("train", "valid", "test"):
            args = EasyDict(dataset_name="mosi", custom_feature=None, featurePath=DATA, feature_T="", feature_A="",
                            feature_V="", use_bert=True, need_data_aligned=False, need_normalized=False,
                            feature_dims=[0, 0, 0], data_missing=True, missing_rate=list(s["missing_rate"]),
                            missing_seed=list(s["missing_seed"]))
            d = MMDataset(args, mode=split)
            entry["splits"][split] = {
                "text_m": d.text_m[:, 0, :].astype(np.int64).tolist(),
                "text_missing_mask": d.text_missing_mask.astype(np.int64).tolist(),
                "audio_m_sha256": sha(d.audio_m),
                "audio_mask": d.audio_mask.astype(np.int64).tolist(),
                "audio_missing_mask": d.audio_missing_mask.astype(np.int64).tolist(),
                "vision_m_sha256": sha(d.vision_m),
                "vision_mask": d.vision_mask.astype(np.int64).tolist(),
                "vision_missing_mask": d.vision_missing_mask.astype(np.int64).tolist(),
            }
        out["settings"].append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
