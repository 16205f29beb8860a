#!/usr/bin/env python3
"""Remakes the TFR-Net fixtures from MMSA's own code (read for facts, never copied or modified):

  test/fixtures/missing-masks/masks.json  the missing-modality inputs MMSA's loader builds (data_loader.py MMDataset
      with `data_missing`, as TFR-Net's config sets it) on test/fixtures/mmsa-checkpoints/data/mosi-tokens.pkl (BERT
      rows of 2-8 real tokens, so the [CLS]/last-token rule meets padded and unpadded rows), for two settings of
      missing_rate / missing_seed (text, audio, vision order): per split text_m's ids, text_missing_mask,
      audio_mask, audio_missing_mask, vision_mask, vision_missing_mask, and the SHA-256 of audio_m's and vision_m's
      float32 bytes (compared bit for bit).
  test/fixtures/tfr-net/recloss.json  TFR-Net's reconstruction loss (models/missingTask/TFR_NET/model.py RECLoss)
      on three random [B, T, D] pairs with real-position and missing masks: every pair's loss for recloss_type
      SmoothL1Loss, MSELoss and combine (weight_sim_loss 5), the sum weighted by weight_gen_loss [5, 2, 20] as
      TFR_NET.forward forms it, and its gradient with respect to the first prediction.
  test/fixtures/tfr-net/c-gate.json  TFR-Net's gated fusion (models/missingTask/TFR_NET/fusion.py GATE_F, eval
      mode, torch's default initialisation under seed 19, its classifier's BatchNorm running statistics set at
      random as after training) on three sequences with masks (one row unpadded): inputs, GATE_F's state_dict, each
      C_GATE's output and the classifier's prediction.
  test/fixtures/tfr-net/cm-attn.json  TFR-Net's cross-modal alignment (models/missingTask/TFR_NET/alignment.py CM_ATTN,
      eval mode, attn_mask on, torch's default initialisation under seed 20) on text, audio and vision of different
      widths and lengths (audio and vision rows with zero padding and zeroed frames): inputs, CM_ATTN's state_dict and
      its six outputs (the three [B, T, 3d] sequences and the three `trans_x_final` outputs).

Needs MMSA's source (`MMSA_SRC` = the directory holding the `MMSA` package, i.e. the src/ of thuiar/MMSA) and torch,
numpy, easydict. MMSA/__init__ imports every model: `MMSA_SHIMS` (as for tools/make-mmsa-checkpoints.py) and
tools/hf-bert serve import-time dependencies none of these parts use.
Usage: MMSA_SRC=... [MMSA_SHIMS=...] python3 tools/make-tfr-net-fixtures.py
"""
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
FIXTURES = os.path.join(REPO, "test", "fixtures")
DATA = os.path.join(FIXTURES, "mmsa-checkpoints", "data", "mosi-tokens.pkl")

MISSING_SETTINGS = [
    {"missing_rate": [0.3, 0.4, 0.5], "missing_seed": [1111, 7, 42]},
    {"missing_rate": [0.8, 0.1, 0.0], "missing_seed": [1112, 1112, 1112]},
]
RECLOSS_SHAPES = [(4, 6, 8), (4, 7, 5), (4, 5, 3)]
WEIGHT_GEN_LOSS = [5, 2, 20]
CGATE_SEQS = [("text", 6, 6), ("audio", 7, 4), ("vision", 5, 5)]  # name, steps, hidden
CGATE_B, CGATE_D = 4, 9
# CM_ATTN: name, steps, feature size, Conv1d kernel; d, heads, nlevels, num_temporal_head (divides every length).
CMATTN_SEQS = [("text", 6, 12, 1), ("audio", 8, 5, 5), ("vision", 4, 7, 3)]
CMATTN_B, CMATTN_D, CMATTN_HEADS, CMATTN_LEVELS, CMATTN_TEMPORAL_HEADS = 5, 6, 2, 2, 2


def sha(a):
    """SHA-256 of the float32 little-endian C-order bytes."""
    return hashlib.sha256(np.ascontiguousarray(a, dtype="<f4").tobytes()).hexdigest()


def tensor_json(v):
    return {"shape": list(v.shape), "values": v.numpy().ravel().tolist()}


def write(rel, obj):
    path = os.path.join(FIXTURES, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def missing_masks():
    from easydict import EasyDict
    from MMSA.data_loader import MMDataset

    out = {"file": "mmsa-checkpoints/data/mosi-tokens.pkl", "settings": []}
    for s in MISSING_SETTINGS:
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
    write("missing-masks/masks.json", out)


def recloss(torch):
    from easydict import EasyDict
    from MMSA.models.missingTask.TFR_NET.model import RECLoss

    rng = np.random.RandomState(19)
    pairs = []
    for b, t, d in RECLOSS_SHAPES:
        lengths = rng.randint(2, t + 1, b)
        mask = (np.arange(t)[None, :] < lengths[:, None]).astype(np.float32)
        missing = (mask * (rng.uniform(size=(b, t)) > 0.5)).astype(np.float32)
        pred = rng.normal(0, 1.5, (b, t, d)).astype(np.float32)
        target = rng.normal(0, 1, (b, t, d)).astype(np.float32)
        pairs.append(dict(pred=pred, target=target, mask=mask, missing_mask=missing))

    out = {"shapes": RECLOSS_SHAPES, "weight_gen_loss": WEIGHT_GEN_LOSS, "weight_sim_loss": 5, "losses": {},
           "pairs": [{k: v.ravel().tolist() for k, v in p.items()} for p in pairs]}
    for kind in ("SmoothL1Loss", "MSELoss", "combine"):
        rec = RECLoss(EasyDict(device="cpu", recloss_type=kind, weight_sim_loss=5))
        per_pair, total = [], 0
        preds = [torch.tensor(p["pred"], requires_grad=True) for p in pairs]
        for i, p in enumerate(pairs):
            loss = rec(preds[i], torch.tensor(p["target"]), torch.tensor(p["mask"]) - torch.tensor(p["missing_mask"]))
            per_pair.append(float(loss))
            total = total + WEIGHT_GEN_LOSS[i] * loss
        total.backward()
        out["losses"][kind] = {"per_pair": per_pair, "total": float(total), "grad_pred0": preds[0].grad.numpy().ravel().tolist()}
    write("tfr-net/recloss.json", out)


def c_gate(torch):
    from easydict import EasyDict
    from MMSA.models.missingTask.TFR_NET.fusion import GATE_F

    torch.manual_seed(19)
    rng = np.random.RandomState(19)
    B, D = CGATE_B, CGATE_D
    args = EasyDict(fusion_t_in=D, fusion_a_in=D, fusion_v_in=D, fusion_t_hid=CGATE_SEQS[0][2],
                    fusion_a_hid=CGATE_SEQS[1][2], fusion_v_hid=CGATE_SEQS[2][2], fusion_gru_layers=2,
                    fusion_drop=0.2, cls_hidden_dim=8, cls_dropout=0.1)
    gate = GATE_F(args)
    norm = gate.classifier.linear_trans_norm
    n = norm.running_mean.shape[0]
    norm.running_mean.copy_(torch.tensor(rng.normal(0, 0.3, n), dtype=torch.float32))
    norm.running_var.copy_(torch.tensor(rng.uniform(0.5, 2, n), dtype=torch.float32))
    gate.eval()
    out = {"B": B, "D": D, "seqs": []}
    xs = []
    for name, t, h in CGATE_SEQS:
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
    out["state"] = {k: tensor_json(v) for k, v in gate.state_dict().items()}
    out["prediction"] = pred.numpy().ravel().tolist()
    write("tfr-net/c-gate.json", out)


def cm_attn(torch):
    from easydict import EasyDict
    from MMSA.models.missingTask.TFR_NET.alignment import CM_ATTN

    torch.manual_seed(20)
    rng = np.random.RandomState(20)
    B = CMATTN_B
    args = EasyDict(seq_lens=[t for _, t, _, _ in CMATTN_SEQS], dst_feature_dim_nheads=[CMATTN_D, CMATTN_HEADS],
                    feature_dims=[f for _, _, f, _ in CMATTN_SEQS], nlevels=CMATTN_LEVELS, attn_dropout=0.2,
                    attn_dropout_a=0.1, attn_dropout_v=0.0, relu_dropout=0.2, embed_dropout=0.2, res_dropout=0.2,
                    text_dropout=0.2, attn_mask=True, num_temporal_head=CMATTN_TEMPORAL_HEADS,
                    conv1d_kernel_size_l=CMATTN_SEQS[0][3], conv1d_kernel_size_a=CMATTN_SEQS[1][3],
                    conv1d_kernel_size_v=CMATTN_SEQS[2][3])
    # CM_ATTN reads num_temporal_head by subscript, EasyDict serves both.
    model = CM_ATTN(args)
    model.eval()
    xs = []
    for i, (name, t, f, _) in enumerate(CMATTN_SEQS):
        x = rng.normal(0, 1, (B, t, f)).astype(np.float32)
        if i > 0:
            # Zero padding at the end of some rows (position 0 after the projection) and dropped frames (zeros inside).
            lengths = [t] + list(rng.randint(2, t, B - 1))
            for b, n in enumerate(lengths):
                x[b, n:, :] = 0
            x[1, 1, :] = 0
        xs.append(x)
    with torch.no_grad():
        outs = model(*[torch.tensor(x) for x in xs])
    names = ["text_h", "audio_h", "vision_h", "text_final", "audio_final", "vision_final"]
    out = {"B": B, "d": CMATTN_D, "heads": CMATTN_HEADS, "nlevels": CMATTN_LEVELS,
           "num_temporal_head": CMATTN_TEMPORAL_HEADS,
           "seqs": [{"name": n, "steps": t, "features": f, "kernel": k, "x": xs[i].ravel().tolist()}
                    for i, (n, t, f, k) in enumerate(CMATTN_SEQS)],
           "outputs": {n: tensor_json(o) for n, o in zip(names, outs)},
           "state": {k: tensor_json(v) for k, v in model.state_dict().items()}}
    write("tfr-net/cm-attn.json", out)


def main():
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    shims = os.environ.get("MMSA_SHIMS")
    sys.path[:0] = [os.path.join(HERE, "hf-bert")] + ([shims] if shims else []) + [src]
    import torch

    missing_masks()
    recloss(torch)
    c_gate(torch)
    cm_attn(torch)


if __name__ == "__main__":
    main()
