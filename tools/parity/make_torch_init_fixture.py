#!/usr/bin/env python3
"""Writes test/fixtures/torch-init/self_mm_tiny.json: the initial weights MMSA's own SELF_MM model (models/multiTask/
SELF_MM.py) gets after torch.manual_seed(seed), for the tiny Self-MM of test/runtime/lower/torch-init.test.ts (text
12 -> precomputed [CLS], audio LSTM 5 -> 4 -> 4, vision LSTM 7 -> 5 -> 4, heads 6/4/6/6). Keys are mmsa's names.
Needs MMSA_SRC and MMSA_SHIMS as tools/parity/README.md says (MMSA_SHIM_BERT_LAYERS=0: a text encoder without
parameters, as the precomputed [CLS] bypass).

usage: make_torch_init_fixture.py OUT.json [--seed 1111]
"""
import argparse
import json
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--seed", type=int, default=1111)
a = ap.parse_args()
os.environ.setdefault("MMSA_SHIM_BERT_LAYERS", "0")
sys.path[:0] = [os.environ["MMSA_SHIMS"], os.environ["MMSA_SRC"]]

import torch  # noqa: E402
from easydict import EasyDict  # noqa: E402
from MMSA.models.multiTask.SELF_MM import SELF_MM  # noqa: E402

from mmsa_names import mmsa_key  # noqa: E402  (beside this file)

args = EasyDict({
    "need_data_aligned": False, "use_finetune": False, "transformers": "bert", "pretrained": "bert-base-uncased",
    "feature_dims": [12, 5, 7], "a_lstm_hidden_size": 4, "audio_out": 4, "a_lstm_layers": 1, "a_lstm_dropout": 0.0,
    "v_lstm_hidden_size": 5, "video_out": 4, "v_lstm_layers": 1, "v_lstm_dropout": 0.0, "text_out": 12,
    "post_fusion_dim": 6, "post_text_dim": 4, "post_audio_dim": 6, "post_video_dim": 6,
    "post_fusion_dropout": 0.1, "post_text_dropout": 0.1, "post_audio_dropout": 0.0, "post_video_dropout": 0.0,
})
torch.manual_seed(a.seed)
model = SELF_MM(args)


weights = {mmsa_key(k, prefix=""): {"shape": list(v.shape), "values": [float(x) for x in v.reshape(-1).tolist()]}
           for k, v in model.state_dict().items()}
json.dump({"made_by": "tools/parity/make_torch_init_fixture.py", "torch": torch.__version__, "seed": a.seed,
           "weights": weights}, open(a.out, "w"))
print(f"wrote {a.out}: {len(weights)} tensors")
