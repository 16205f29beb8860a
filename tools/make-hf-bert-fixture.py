#!/usr/bin/env python3
"""Writes test/fixtures/hf-bert/: a small randomly initialised BERT in Hugging Face's layout and what the Hugging
Face-layout PyTorch stand-in (tools/hf-bert/transformers) computes with it, for mmsa's `bert` encoder parity test.

  small-bert/config.json        BertConfig (hidden 128, 2 layers, 4 heads, FFN 256, vocab 2048, 64 positions)
  small-bert/pytorch_model.bin  torch.save of BertModel's state_dict (names as BertModel.save_pretrained writes them):
                                BERT's init (normal(0, 0.02), padding row 0) after torch.manual_seed(--seed), then
                                biases and LayerNorm weights/biases drawn too (normal(0, 0.02), 1 + normal(0, 0.1)) so
                                that a parity check also sees them
  small-bert/vocab.txt          placeholder word pieces ([PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103)
  standin-outputs.json          ids / mask / token types of a few padded rows and the stand-in's eval-mode outputs:
                                last_hidden_state, pooler_output, every hidden state (output_hidden_states=True)

Run with Debian's python3-torch: /usr/bin/python3 tools/make-hf-bert-fixture.py [--out DIR] [--seed 19]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(HERE, "hf-bert"))
from transformers import BertConfig, BertModel  # noqa: E402  (the stand-in)

CONFIG = dict(vocab_size=2048, hidden_size=128, num_hidden_layers=2, num_attention_heads=4, intermediate_size=256,
              max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu", hidden_dropout_prob=0.1,
              attention_probs_dropout_prob=0.1, layer_norm_eps=1e-12, initializer_range=0.02, pad_token_id=0)


def r8(t):
    # 8 decimals: far below the 1e-5 the parity test allows, and a third of the file size of full doubles.
    return np.round(t.numpy().astype(np.float64), 8).tolist()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "test", "fixtures", "hf-bert"))
    ap.add_argument("--seed", type=int, default=19)
    a = ap.parse_args()
    d = os.path.join(a.out, "small-bert")
    os.makedirs(d, exist_ok=True)
    torch.manual_seed(a.seed)
    model = BertModel(BertConfig(**CONFIG))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight"):
                p.add_(torch.randn_like(p) * 0.1)
            elif name.endswith(".bias"):
                p.normal_(0.0, 0.02)
    torch.save(model.state_dict(), os.path.join(d, "pytorch_model.bin"))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump({"architectures": ["BertModel"], "model_type": "bert", **CONFIG}, f, indent=2)
        f.write("\n")
    special = {0: "[PAD]", 100: "[UNK]", 101: "[CLS]", 102: "[SEP]", 103: "[MASK]"}
    with open(os.path.join(d, "vocab.txt"), "w") as f:
        f.write("".join(special.get(i, f"[unused{i}]") + "\n" for i in range(CONFIG["vocab_size"])))

    # Reload through from_pretrained (the path MMSA's models take) and record eval-mode outputs on padded rows.
    m = BertModel.from_pretrained(d)
    assert len(m.loaded_keys) == len(model.state_dict()), "every tensor must load back"
    rng = np.random.RandomState(a.seed)
    B, L = 4, 12
    lens = [12, 9, 5, 1]
    ids = rng.randint(1000, 2000, (B, L))
    ids[:, 0] = 101
    mask = np.zeros((B, L), np.int64)
    types = np.zeros((B, L), np.int64)
    for i, n in enumerate(lens):
        mask[i, :n] = 1
        ids[i, n:] = 0
        if n > 1:
            ids[i, n - 1] = 102
        types[i, n // 2:n] = 1 if i % 2 == 0 else 0
    with torch.no_grad():
        out = m(input_ids=torch.tensor(ids), attention_mask=torch.tensor(mask, dtype=torch.float32),
                token_type_ids=torch.tensor(types), output_hidden_states=True)
    res = {
        "config": CONFIG, "seed": a.seed, "torch": torch.__version__,
        "input_ids": ids.tolist(), "attention_mask": mask.tolist(), "token_type_ids": types.tolist(),
        "last_hidden_state": r8(out.last_hidden_state),
        "pooler_output": r8(out.pooler_output),
        "hidden_states": [r8(h) for h in out.hidden_states],
    }
    with open(os.path.join(a.out, "standin-outputs.json"), "w") as f:
        json.dump(res, f)
        f.write("\n")
    print(f"wrote {d} ({os.path.getsize(os.path.join(d, 'pytorch_model.bin'))} bytes) and standin-outputs.json")


if __name__ == "__main__":
    main()
