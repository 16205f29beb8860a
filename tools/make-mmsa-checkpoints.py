#!/usr/bin/env python3
"""Remakes test/fixtures/mmsa-checkpoints/: small MMSA checkpoints made by MMSA's own code, with the predictions
MMSA's own code computes from them, for `mmsa import` parity tests.

What it writes (under --out, default test/fixtures/mmsa-checkpoints):
  data/<name>.pkl        small synthetic feature files in MMSA's layout (train/valid/test dicts of numpy arrays),
                         generated here deterministically (numpy only; a planted, learnable signal)
  <case>/checkpoint.pth  the state_dict MMSA's trainer saved itself (`torch.save(model.cpu().state_dict(), ...)`,
                         trains/*/<MODEL>.py) after training the case's model for a few epochs with MMSA_run
  <case>/expected.json   MMSA's test-split predictions from that checkpoint, per sample id: the checkpoint is loaded
                         into a fresh model (models/AMIO.py), eval mode, no grad, MMSA's trainer's own do_test
  <case>/checkpoint.legacy.pth   (cases with "legacy": true) the same tensors re-saved by torch in the pre-1.6
                         non-zip format (`_use_new_zipfile_serialization=False`)
  state-dict-keys.json   name -> shape of every tensor in the state_dict of each paper model x dataset at MMSA's
                         real sizes (config/config_regression.json; feature sizes from pipelines/datasets/*.yaml),
                         made by instantiating MMSA's models without training
The cases (model, dataset config, data file, MMSA config overrides that keep the files small) are read from
<out>/cases.json; the matching mmsa pipelines are <case>/pipeline.yaml, written by hand. A case with "step_of" (TFR-Net's
tfr_net_mosi_step) trains nothing it keeps: it builds MMSA's args with a short MMSA_run, then records MMSA's own
trainer stepping from the checkpoint of the case it names (<case>/expected.json, <case>/after-epoch-<n>.pth).

Needs MMSA's source (thuiar/MMSA; `MMSA_SRC` = the directory holding the `MMSA` package, i.e. the repository's
src/) and its dependencies (torch, numpy, sklearn, pandas, easydict, tqdm). Where some of MMSA's import-time
dependencies are not installable (transformers, pynvml), `MMSA_SHIMS` may name a directory of stand-in
modules that is put first on sys.path (einops, which ALMT calls, is computed by tools/einops-standin). Self-MM runs on precomputed text features: its BertTextEncoder is replaced
in-process by a parameter-free identity (so the checkpoint holds no `Model.text_model.*` tensors), as MMSA itself
would with use_bert false if Self-MM allowed it. Cases with "bert": "hf-bert" (BERT-MAG; CENET, its
pytorch_transformers imports served by tools/hf-bert/pytorch_transformers) run MMSA's own BERT code
on Hugging Face's BertModel as tools/hf-bert/transformers computes it, loading the small checkpoint of
test/fixtures/hf-bert/small-bert for every pretrained id they ask for (BERT weights are in their checkpoints). No MMSA
file is modified or copied.

The training driver (tools/mmsa_epoch_cap.py, shared with tools/parity/record_torch_shuffles.py) follows the approach
of the reference runner used for mmsa's benchmarks (MMSA_run with data
loaders that stop training after N epochs, then a fresh model loaded from the saved state_dict).

Usage: MMSA_SRC=... [MMSA_SHIMS=...] python3 tools/make-mmsa-checkpoints.py [--out DIR] [--only CASE ...]
       [--data-only] [--keys-only]
       --keys-only --only MODEL|MODEL_DATASET ...  remakes those entries of state-dict-keys.json, keeping the others
"""
import argparse
import copy
import hashlib
import json
import os
import pickle
import resource
import shutil
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
from mmsa_epoch_cap import EpochCap, epoch_capped  # noqa: E402
DEFAULT_OUT = os.path.join(REPO, "test", "fixtures", "mmsa-checkpoints")

# ------------------------------------------------------------------------------------------------ synthetic data

# Small on purpose: the files are committed. Text features are 32-dim (not BERT's 768), sequences a few steps.
DATA = {
    "mosi": dict(variant="mosi", aligned=False, sizes=(48, 8, 16), text=(6, 32), audio=(8, 5), vision=(10, 20), seed=11),
    "mosi-aligned": dict(variant="mosi", aligned=True, sizes=(48, 8, 16), text=(6, 32), audio=(6, 5), vision=(6, 20), seed=12),
    "sims": dict(variant="sims", aligned=False, sizes=(48, 8, 16), text=(6, 32), audio=(10, 33), vision=(8, 24), seed=13),
    # MISA packs audio and vision by the number of text tokens: the BERT rows get sentences of 2-8 real tokens.
    "mosi-tokens": dict(variant="mosi", aligned=False, sizes=(48, 8, 16), text=(8, 32), audio=(10, 5), vision=(9, 20), seed=14,
                        token_lengths=True),
}


def make_split(rng, spec, n, start, w):
    lt, dt = spec["text"]
    la, da = spec["audio"]
    lv, dv = spec["vision"]
    text = rng.normal(0, 1, (n, lt, dt)).astype(np.float32)
    z = text[:, 0, :] @ w["t"]
    if spec["aligned"]:
        alen = np.full(n, la, dtype=np.int64)
        vlen = np.full(n, lv, dtype=np.int64)
    else:
        alen = rng.randint(2, la + 1, n).astype(np.int64)
        vlen = rng.randint(2, lv + 1, n).astype(np.int64)
    audio = np.zeros((n, la, da), np.float32)
    vision = np.zeros((n, lv, dv), np.float32)
    for i in range(n):
        audio[i, : alen[i]] = rng.normal(0, 1, (alen[i], da))
        vision[i, : vlen[i]] = rng.normal(0, 1, (vlen[i], dv))
    za = audio.sum(1) / alen[:, None] @ w["a"]
    zv = vision.sum(1) / vlen[:, None] @ w["v"]
    noise = rng.normal(0, 0.3, n)
    sims = spec["variant"] == "sims"
    hi, step = (1.0, 0.2) if sims else (3.0, 0.2)

    def label(s):
        s = np.clip(s * hi / 1.5, -hi, hi)
        return (np.round(s / step) * step).astype(np.float32)

    m = label(np.tanh(z) * 1.2 + 0.4 * np.tanh(za) + 0.4 * np.tanh(zv) + noise)
    ids = [f"v{start + i // 3:03d}$_${i % 3}" for i in range(n)]
    ann = ["Negative" if x < 0 else "Positive" if x > 0 else "Neutral" for x in m]
    ids_tok = rng.randint(1000, 2000, (n, lt)).astype(np.int64)
    ids_tok[:, 0] = 101
    bert = np.stack([ids_tok, np.ones((n, lt), np.int64), np.zeros((n, lt), np.int64)], axis=1)
    out = {
        "raw_text": [f"sample {start + i}" for i in range(n)],
        "audio": audio,
        "vision": vision,
        "id": ids,
        "text": text,
        "text_bert": bert,
        "audio_lengths": alen,
        "vision_lengths": vlen,
        "annotations": ann,
        "classification_labels": (np.sign(m) + 1).astype(np.float32),
        "regression_labels": m,
    }
    if sims:
        out["regression_labels_T"] = label(np.tanh(z) * 1.5 + noise)
        out["regression_labels_A"] = label(np.tanh(za) * 1.5 + noise)
        out["regression_labels_V"] = label(np.tanh(zv) * 1.5 + noise)
    return out


def make_data(name, path):
    spec = DATA[name]
    rng = np.random.RandomState(spec["seed"])
    w = {
        "t": rng.normal(0, 1 / np.sqrt(spec["text"][1]), spec["text"][1]),
        "a": rng.normal(0, 1 / np.sqrt(spec["audio"][1]), spec["audio"][1]),
        "v": rng.normal(0, 1 / np.sqrt(spec["vision"][1]), spec["vision"][1]),
    }
    splits, start = {}, 0
    for split, n in zip(("train", "valid", "test"), spec["sizes"]):
        splits[split] = make_split(rng, spec, n, start, w)
        start += n
    if spec.get("token_lengths"):
        # Padding after each sentence's real tokens (ids and mask 0), drawn from a generator of its own so the other
        # arrays are those of the same spec without it.
        lrng = np.random.RandomState(spec["seed"] + 1000)
        for part in splits.values():
            bert = part["text_bert"]
            for i, n_tok in enumerate(lrng.randint(2, bert.shape[2] + 1, bert.shape[0])):
                bert[i, :2, n_tok:] = 0
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump(splits, f, protocol=4)
    print(f"data {name}: {path} ({os.path.getsize(path)} bytes)")


# ------------------------------------------------------------------------------------------------ MMSA import

def import_mmsa(hf_bert=False):
    src = os.environ.get("MMSA_SRC")
    if not src or not os.path.isdir(os.path.join(src, "MMSA")):
        sys.exit("MMSA_SRC must name the directory holding MMSA's `MMSA` package (the src/ of thuiar/MMSA)")
    shims = os.environ.get("MMSA_SHIMS")
    # Models that run BERT inside (BERT_MAG): Hugging Face's BertModel from tools/hf-bert, on the small checkpoint.
    standin = [os.path.join(HERE, "hf-bert")] if hf_bert else []
    # ALMT's rearrange/repeat: einops is not packaged for Debian; tools/einops-standin computes the patterns it uses.
    standin.append(os.path.join(HERE, "einops-standin"))
    sys.path[:0] = standin + ([shims] if shims else []) + [src]
    import torch

    # MMSA_run calls torch.cuda.set_device unconditionally; on a CPU-only machine that must be a no-op.
    orig = torch.cuda.set_device
    torch.cuda.set_device = lambda dev: None if torch.device(dev).type != "cuda" else orig(dev)
    import torch.nn as nn
    import MMSA.run as mrun
    from MMSA.models.subNets.BertTextEncoder import BertTextEncoder

    # Precomputed text features: no BERT module at all (no Model.text_model.* tensors), forward is the identity.
    def bte_init(self, use_finetune=False, transformers="bert", pretrained="bert-base-uncased"):
        nn.Module.__init__(self)
        self.use_finetune = use_finetune

    if not hf_bert:
        BertTextEncoder.__init__ = bte_init
        BertTextEncoder.forward = lambda self, text: text
    return torch, mrun


# ------------------------------------------------------------------------------------------------ one case


def on_cpu(net):
    """MCTN's Seq2Seq modules keep device "cuda" as a plain attribute (models/singleTask/MCTN.py) and allocate their
    outputs there; on a CPU-only machine they must allocate on the CPU. Patched on the built model, not in MMSA."""
    for mod in net.modules():
        if getattr(mod, "device", None) == "cuda":
            mod.device = "cpu"
    return net


def test_predictions_by_id(torch, loader, forward):
    """The test predictions keyed by sample id (MMSA's test loader shuffles: batches are matched by their ids);
    `forward(batch)` returns the model's prediction tensor for a batch."""
    by_id = {}
    with torch.no_grad():
        for b in loader:
            p = forward(b).reshape(-1).numpy().astype(np.float64)
            by_id.update(zip(b["id"], (float(x) for x in p)))
    return by_id


def prediction_of(out, model):
    # Most models return a dict with "M"; MCTN returns (loss, prediction), CENET a tuple whose first item is the
    # prediction, TFR-Net (prediction, gen_loss), ALMT the prediction tensor itself.
    if isinstance(out, dict):
        return out["M"]
    if model == "almt":
        return out
    return out[1] if model == "mctn" else out[0]


def mctn_time_major(torch, net, loader, order):
    """What MCTN computes when its modules get the time-major tensors they were written for (mmsa's default): the
    same trained modules, the sequences transposed to (time, batch, features) before every LSTM, the regression's
    attention pooled over time. The prediction reads only the two encoders and the regression, so the decoders (and
    the target modalities) play no part in it."""
    import torch.nn.functional as F

    preds = []
    with torch.no_grad():
        for b in loader:
            text, audio, vision = b["text"], b["audio"], b["vision"]
            maxn = max(text.shape[2], audio.shape[2], vision.shape[2])
            text = F.pad(text, (0, maxn - text.shape[2]))[:, : net.max_seq_len]
            join, _ = net.encoder1(text.transpose(0, 1), None)          # (L, B, H)
            join, _ = net.encoder2(join, None)                          # (L, B, H)
            acts, _ = net.regression.rnn(join)                          # (L, B, H)
            acts = acts.transpose(0, 1)                                 # (B, L, H)
            att = torch.softmax(torch.tanh(net.regression.linear(acts)).squeeze(2), dim=1)
            rep = (acts * att.unsqueeze(2)).sum(1)
            preds.append(net.regression.linear2(rep).reshape(-1).numpy().astype(np.float64))
    p = np.concatenate(preds)
    return [float(p[k]) for k in order]


def cenet_without_ce(torch, model, loader, ids):
    """CENET's test predictions from the same checkpoint with its cross-modal enhancement skipped (CE returns the
    text hidden states unchanged): how far they are from the real ones says how much the parity check sees of CE."""
    ce = model.Model.bert.encoder.CE
    forward = ce.forward
    ce.forward = lambda text_embedding, **kw: text_embedding
    try:
        by_id = test_predictions_by_id(torch, loader, lambda b: model(b["text"], b["audio"], b["vision"])[0])
    finally:
        ce.forward = forward
    return [by_id[i] for i in ids]


def without_dropout(build, state, float_dropouts=False):
    """A model from `build()` with the checkpoint's weights and every nn.Dropout at p 0, so that training steps are
    deterministic; `float_dropouts` also zeroes the plain-float probabilities that MMSA's
    models/subNets/transformers_encoder modules pass to F.dropout."""
    import torch.nn as nn

    model = build()
    model.load_state_dict(state)
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.p = 0.0
        if float_dropouts:
            for attr in ("dropout", "attn_dropout", "relu_dropout", "res_dropout"):
                if isinstance(getattr(m, attr, None), float):
                    setattr(m, attr, 0.0)
    return model


class Passes:
    """`batches` as a train loader that do_train may iterate `n` times (calling `on_pass` before each); the next
    iteration stops do_train by raising EpochCap."""

    def __init__(self, batches, n, on_pass=None):
        self.batches, self.n, self.on_pass, self.done = batches, n, on_pass, 0

    def __len__(self):
        return len(self.batches)

    def __iter__(self):
        if self.done >= self.n:
            raise EpochCap()
        self.done += 1
        if self.on_pass:
            self.on_pass()
        yield from self.batches


def cenet_two_steps(torch, build, state, trainer, loaders, batch_size):
    """CENET from the checkpoint after two optimizer steps of MMSA's own trainer (do_train: its parameter groups,
    L1 loss, clip_grad_norm_ 2, Adam) on the training split's first two batches in file order, with every dropout at
    p 0 so that the steps are deterministic; then its test predictions per sample id (eval mode). Two steps, since
    Adam's first step moves every parameter by about lr whatever its gradient's scale (the clipping shows from the
    second on)."""
    model = without_dropout(build, state)
    it = iter(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=batch_size, shuffle=False))
    batches = [next(it), next(it)]

    class TwoBatches:
        def __len__(self):
            return 2

        def __iter__(self):
            yield from batches
            raise EpochCap()

    try:
        trainer.do_train(model, {"train": TwoBatches(), "valid": loaders["valid"], "test": loaders["test"]})
    except EpochCap:
        pass
    model.eval()
    by_id = test_predictions_by_id(torch, loaders["test"], lambda b: model(b["text"], b["audio"], b["vision"])[0])
    return {"batch_ids": [list(b["id"]) for b in batches], "by_id": by_id}


def mmim_first_epoch(torch, build, state, trainer, loaders, batch_size):
    """MMIM from the checkpoint after one epoch of MMSA's own trainer (do_train: stage 1 train_mmilb, -lld,
    optimizer_mmilb; stage 2 train_others, L1 + alpha nce - beta lld - beta H with the memory of the previous batch,
    optimizer_main; clip_grad_norm_ over every parameter in both) on the training split in file order, with every
    dropout at p 0 so that the steps are deterministic. do_train's xavier_normal_ re-initialisation is skipped so that
    the epoch starts from the checkpoint (a no-op xavier_normal_ while do_train runs). Records each stage's epoch loss
    (sum of loss x batch size / train_samples, as do_train logs them) and the test predictions per sample id after."""
    import torch.nn as nn

    model = without_dropout(build, state)
    batches = list(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=batch_size, shuffle=False))

    losses = {}
    mmilb, others = trainer.train_mmilb, trainer.train_others

    def rec_mmilb(dl):
        losses["mmilb"] = mmilb(dl)
        return losses["mmilb"]

    def rec_others(dl):
        out = others(dl)
        losses["main"] = out[0]
        return out

    trainer.train_mmilb, trainer.train_others = rec_mmilb, rec_others
    xavier = nn.init.xavier_normal_
    nn.init.xavier_normal_ = lambda t, gain=1.0: t
    try:
        # Two passes (stage 1, stage 2) over the batches, then the next epoch's first pass stops do_train.
        trainer.do_train(model, {"train": Passes(batches, 2), "valid": loaders["valid"], "test": loaders["test"]})
    except EpochCap:
        pass
    finally:
        nn.init.xavier_normal_ = xavier
    model.eval()
    by_id = test_predictions_by_id(
        torch, loaders["test"], lambda b: model(b["text"], (b["audio"], b["audio_lengths"]), (b["vision"], b["vision_lengths"]))["M"])
    return {"batch_ids": [list(b["id"]) for b in batches], "by_id": by_id, "losses": losses}


def tetfn_ulgm_steps(torch, build, state, trainer, loaders, batch_size, epochs=3, n_batches=2):
    """TETFN from the checkpoint after `epochs` epochs of MMSA's own trainer (trains/multiTask/TETFN.py do_train: its
    five Adam groups, weighted L1 losses, ULGM label banks, feature memory and centres) over the training split's
    first `n_batches` batches in file order, with every dropout at p 0 so that the steps are deterministic; then the
    M, T, A and V test predictions per sample id (eval mode, file order). The banks are initialised from the whole
    split (MMSA's first pass over its loader); labels are generated from epoch 2, so the unimodal losses, zero while
    the banks hold the multimodal label, shape the steps of epoch 3."""
    model = without_dropout(build, state, float_dropouts=True)
    every = list(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=batch_size, shuffle=False))
    batches = every[:n_batches]
    passes = [0]

    class Steps:
        def __len__(self):
            return n_batches

        def __iter__(self):
            passes[0] += 1
            if passes[0] == 1:
                yield from every  # do_train's init_labels pass
                return
            if passes[0] > epochs + 1:
                raise EpochCap()
            yield from batches

    try:
        trainer.do_train(model, {"train": Steps(), "valid": loaders["valid"], "test": loaders["test"]})
    except EpochCap:
        pass
    model.eval()
    by_id = {k: {} for k in "MTAV"}
    with torch.no_grad():
        for b in torch.utils.data.DataLoader(loaders["test"].dataset, batch_size=batch_size, shuffle=False):
            out = model(b["text"], (b["audio"], 0), (b["vision"], 0))
            for k in "MTAV":
                by_id[k].update(zip(b["id"], (float(x) for x in out[k].reshape(-1).numpy().astype(np.float64))))
    return {"epochs": epochs, "batch_ids": [list(b["id"]) for b in batches], "by_id": by_id}


def epochs_in_file_order(torch, build, state, trainer, loaders, batch_size, epochs, predict):
    """A model from the checkpoint after `epochs` epochs of MMSA's own trainer (its do_train: loss, optimizer,
    schedule and clipping as MMSA has them) on the whole training split in file order, in batches of `batch_size` (the
    last one partial, as MMSA's DataLoader keeps it), with every dropout at p 0 so that the steps are deterministic.
    Records every batch's loss (the criterion's value do_train steps on), the parameters after the last step and the
    test predictions per sample id (eval mode; `predict(model, batch)` gives the M output)."""
    model = without_dropout(build, state)
    batches = list(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=batch_size, shuffle=False))
    losses = []
    criterion = trainer.criterion

    def recording(outputs, labels):
        loss = criterion(outputs, labels)
        if model.training:
            losses[-1].append(float(loss.item()))
        return loss

    trainer.criterion = recording
    try:
        trainer.do_train(model, {"train": Passes(batches, epochs, lambda: losses.append([])), "valid": loaders["valid"],
                                 "test": loaders["test"]})
    except EpochCap:
        pass
    model.eval()
    by_id = test_predictions_by_id(torch, loaders["test"], lambda b: predict(model, b))
    after = {k: v.detach().clone() for k, v in model.state_dict().items()}
    return {"batch_size": batch_size, "epochs": epochs, "batch_ids": [list(b["id"]) for b in batches],
            "losses": losses, "by_id": by_id, "state": after}


def file_order_record(ep, ids):
    """What expected.json keeps of `epochs_in_file_order` (MFN's two_epochs, ALMT's three_epochs): the test
    predictions in the order of the fixture's `ids`, the parameters left out."""
    return {"batch_size": ep["batch_size"], "epochs": ep["epochs"], "batch_ids": ep["batch_ids"],
            "losses": ep["losses"], "preds": [ep["by_id"][i] for i in ids]}


# Dropout probabilities for mfn_dropout_moments, distinct per network so that a p in the wrong place shows.
MFN_DROPOUTS = {"att1_dropout": 0.1, "att2_dropout": 0.3, "gamma1_dropout": 0.7, "gamma2_dropout": 0.5}


def mfn_dropout_moments(torch, build, state, loaders, n_samples=20, draws=200):
    """MFN's training-mode forward with one of MMSA's nn.Dropout modules at a time on (its MFN_DROPOUTS p, every other
    one at 0), on the first `n_samples` training samples (file order), `draws` times with fresh masks
    (torch.manual_seed(0) per network): the mean and standard deviation over the draws of each sample's last memory
    mem_T (the tail of MFN's output `L`), which every fusion dropout moves. Tests compare mmsa's dropout (its
    placement and 1/(1-p) scaling) with these."""
    model = build()
    model.load_state_dict(state)
    model.train()
    b = next(iter(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=n_samples, shuffle=False)))
    mem = model.Model.mem_dim
    out = {"draws": draws, "ids": list(b["id"]), "networks": {}}
    for name, p in MFN_DROPOUTS.items():
        for other in MFN_DROPOUTS:
            getattr(model.Model, other).p = p if other == name else 0.0
        torch.manual_seed(0)
        with torch.no_grad():
            y = torch.stack([model(b["text"], b["audio"], b["vision"])["L"][:, -mem:] for _ in range(draws)]).double()
        out["networks"][name] = {"p": p, "mean": y.mean(0).tolist(), "std": y.std(0, unbiased=True).tolist()}
    return out


def misa_batch_losses(torch, model, trainer, train, args, n=16):
    """MISA's training loss terms on the train split's first n samples in file order, from the checkpoint's weights, in
    eval mode (no dropout: nothing random is left), computed by MMSA's own trainer (trains/singleTask/MISA.py): its
    criterion, get_diff_loss, get_cmd_loss and get_recon_loss, combined as its do_train combines them."""
    batch = torch.utils.data.default_collate([train.dataset[i] for i in range(n)])
    model.eval()
    with torch.no_grad():
        out = model(batch["text"], batch["audio"], batch["vision"])["M"]
        main = trainer.criterion(out, batch["labels"]["M"].view(-1, 1))
        diff, cmd, recon = trainer.get_diff_loss(), trainer.get_cmd_loss(), trainer.get_recon_loss()
        loss = main + args.diff_weight * diff + args.sim_weight * cmd + args.recon_weight * recon
    terms = {"main": float(main), "diff": float(diff), "cmd": float(cmd), "recon": float(recon), "loss": float(loss)}
    print("MISA train-batch loss terms (MMSA's trainer):", json.dumps(terms))
    return {"indexes": list(range(n)), "ids": list(batch["id"]), **terms,
            "weights": {"diff_weight": args.diff_weight, "sim_weight": args.sim_weight, "recon_weight": args.recon_weight}}


def mfm_loss_terms(torch, model, loader):
    """MFM's loss terms on the first test batch (file order, eval mode so no dropout), as MMSA's trainer forms them
    (trains/singleTask/MFM.py): L1 of the prediction, the weighted reconstruction MSEs and the MMD sum (before lda_mmd),
    with the Gaussian samples MMSA's loss_MMD drew (torch.randn, recorded) so the MMD can be recomputed exactly."""
    import torch.nn.functional as F

    draws = []
    orig = torch.randn

    def recording(*a, **k):
        g = orig(*a, **k)
        draws.append(g.detach().clone())
        return g

    b = next(iter(torch.utils.data.DataLoader(loader.dataset, batch_size=len(loader.dataset), shuffle=False)))
    torch.randn = recording
    try:
        with torch.no_grad():
            pred, gen, mmd, _ = model(b["text"], b["audio"], b["vision"])
    finally:
        torch.randn = orig
    labels = b["labels"]["M"].reshape(-1)
    disc = F.l1_loss(pred.squeeze(1), labels)
    return {"ids": list(b["id"]), "disc_loss": float(disc), "gen_loss": float(gen), "mmd_loss": float(mmd),
            "gaussians": [g.numpy().astype(np.float64).tolist() for g in draws]}


# Dropout probabilities of MMSA's TFR-Net config keys (read while the model is built, or by CM_ATTN's forward for
# text_dropout); tfr_net_step zeroes them on its copy of args.
TFR_NET_DROPOUT_KEYS = ("text_dropout", "attn_dropout", "attn_dropout_a", "attn_dropout_v", "relu_dropout", "embed_dropout",
                        "res_dropout", "fusion_drop", "cls_dropout")


def grad_fingerprint(g):
    """Three numbers that move with any change of a gradient tensor: its sum, its L2 norm and its dot product with
    the fixed weights r_i = ((i * 40503) mod 65536) / 65536 - 0.5 over the flattened (row-major) elements, which a
    test recomputes exactly."""
    v = g.detach().reshape(-1).double().numpy()
    r = ((np.arange(v.size, dtype=np.int64) * 40503) % 65536) / 65536.0 - 0.5
    return [float(v.sum()), float(np.sqrt((v * v).sum())), float((v * r).sum())]


def tfr_net_step(torch, build, args0, state, trainer_of, loaders, batch_size, case_dir, epochs=2):
    """TFR-Net's training step as MMSA's own trainer (trains/missingTask/TFR_NET.py do_train) takes it, from the
    checkpoint, on the training split's first batch in file order (masked by MMSA's loader, data_loader.py
    generate_m), once in epoch 1 and once in epoch 2 (one batch per epoch, so each epoch makes exactly one
    optimizer.step(): update_epochs' zero_grad opens every epoch). Every dropout at p 0 (the config's dropout keys set
    to 0 before the model is built, every nn.Dropout and float dropout attribute zeroed after) while the model stays
    in training mode, as do_train leaves it: GATE_F's BatchNorm1d normalises with the batch's statistics and updates
    its running ones. Records, per epoch: the L1 of the prediction (do_train's criterion), each generator's RECLoss
    value (text, audio, vision: unweighted, computed in both epochs), their weight_gen_loss sum (the model's
    gen_loss), the loss do_train backpropagates (pred_loss, plus gen_loss from epoch 2), a fingerprint of every
    gradient the optimizer steps on (after clip_grad_value_), and the parameters and buffers after the step outside
    BERT (after-epoch-<n>.pth; BERT's move by at most 2 x learning_rate_bert per step, which its gradient fingerprints
    check instead)."""
    import torch.nn as nn

    args = copy.deepcopy(args0)
    for k in TFR_NET_DROPOUT_KEYS:
        args[k] = 0.0
    model = without_dropout(lambda: build(args), state, float_dropouts=True)
    trainer = trainer_of()
    batch = next(iter(torch.utils.data.DataLoader(loaders["train"].dataset, batch_size=batch_size, shuffle=False)))
    names = {id(p): n for n, p in model.named_parameters()}
    rec = {"epochs": []}
    cur = {}

    gen = model.Model.gen_loss
    gen_forward = gen.forward

    def recording_gen(pred, target, mask):
        v = gen_forward(pred, target, mask)
        if model.training:
            cur.setdefault("gen_terms", []).append(float(v.item()))
        return v

    gen.forward = recording_gen
    criterion = trainer.criterion

    def recording_criterion(outputs, labels):
        loss = criterion(outputs, labels)
        if model.training:
            cur["pred_loss"] = float(loss.item())
        return loss

    trainer.criterion = recording_criterion

    def record_forward(m, i, o):
        if m.training:
            cur["gen_loss"] = float(o[1].item())

    model.register_forward_hook(record_forward)
    adam = torch.optim.Adam

    class RecordingAdam(adam):
        def step(self, *a, **k):
            grads = {}
            for g in self.param_groups:
                for p in g["params"]:
                    if p.grad is not None:
                        grads[names[id(p)]] = grad_fingerprint(p.grad)
            out = super().step(*a, **k)
            n = len(rec["epochs"]) + 1
            e = {"epoch": n, "pred_loss": cur["pred_loss"], "gen_terms": dict(zip(["text", "audio", "vision"], cur["gen_terms"])),
                 "gen_loss": cur["gen_loss"], "loss": cur["pred_loss"] + (cur["gen_loss"] if n > 1 else 0.0),
                 "lrs": [g["lr"] for g in self.param_groups], "grads": grads}
            rec["epochs"].append(e)
            after = {k: v.detach().clone() for k, v in model.state_dict().items() if "text_model" not in k}
            torch.save(after, os.path.join(case_dir, f"after-epoch-{n}.pth"))
            cur.clear()
            return out

    torch.optim.Adam = RecordingAdam
    try:
        trainer.do_train(model, {"train": Passes([batch], epochs), "valid": loaders["valid"], "test": loaders["test"]})
    except EpochCap:
        pass
    finally:
        torch.optim.Adam = adam
    assert [e["epoch"] for e in rec["epochs"]] == list(range(1, epochs + 1)), rec["epochs"]
    rec.update({
        "batch_ids": list(batch["id"]), "batch_indexes": [int(i) for i in batch["index"]],
        "missing_masks": {m: batch[f"{m}_missing_mask"].int().tolist() for m in ("text", "audio", "vision")},
        "weight_gen_loss": list(args0["weight_gen_loss"]), "weight_sim_loss": args0["weight_sim_loss"],
        "grad_clip": args0["grad_clip"], "update_epochs": args0["update_epochs"],
        "zeroed_dropouts": {k: args0[k] for k in TFR_NET_DROPOUT_KEYS},
    })
    return rec



def run_case(out, case):
    hf_bert = case.get("bert") == "hf-bert"
    if hf_bert:
        # Every pretrained id MMSA asks for resolves to the small HF-layout checkpoint (tools/make-hf-bert-fixture.py).
        os.environ["MMSA_HF_BERT_DIR"] = os.path.join(REPO, "test", "fixtures", "hf-bert", "small-bert")
    torch, mrun = import_mmsa(hf_bert)
    if hf_bert:
        # MMSA sizes MAG, CE, MISA's project_t, MMIM's, ALMT's and TETFN's text Linears for a hidden-768 BERT: with the
        # small BERT, from its hidden size.
        from mmsa_small_bert import patch_small_bert_widths

        patch_small_bert_widths(case["model"])
    if case["model"] == "almt" and hf_bert:
        # The learning rate of every optimizer step of MMSA's own trainer (its AdamW under its warm-up + cosine); the
        # trainer reads torch.optim.AdamW when training starts (this process runs this one case only).
        adamw = torch.optim.AdamW

        class RecordingAdamW(adamw):
            def step(self, *a, **k):
                step_lrs.append(self.param_groups[0]["lr"])
                return super().step(*a, **k)

        torch.optim.AdamW = RecordingAdamW
    step_lrs = []
    if case.get("initializer_range") is not None:
        # The modules CENET adds to BERT (CE, the classifier) start as init_weights draws them, normal(0,
        # config.initializer_range); the small checkpoint's 0.02 leaves CE's shift and the spread of the predictions
        # far below the parity tolerance after a few epochs. The case sets the config value MMSA reads instead (the
        # pretrained BERT tensors are loaded over their init, so only CE and the classifier change).
        import pytorch_transformers

        from_pretrained = pytorch_transformers.BertConfig.from_pretrained.__func__

        def with_range(klass, name, **kw):
            c = from_pretrained(klass, name, **kw)
            c.initializer_range = case["initializer_range"]
            return c

        pytorch_transformers.BertConfig.from_pretrained = classmethod(with_range)
    pkl = os.path.join(out, "data", f"{case['data']}.pkl")
    with open(pkl, "rb") as f:
        n_train = len(pickle.load(f)["train"]["regression_labels"])
    overrides = dict(featurePath=pkl, train_samples=n_train)
    if case["model"] == "self_mm":
        overrides.update(use_bert=False, use_finetune=False)
    overrides.update(case.get("mmsa_config", {}))
    epochs = case.get("epochs", 3)
    captured = {}
    orig_loader, orig_atio, orig_amio = mrun.MMDataLoader, mrun.ATIO, mrun.AMIO

    def amio(args):
        # Models rewrite fields of args while they are built (EF-LSTM's seq_lens): keep the first copy.
        captured.setdefault("args0", copy.deepcopy(args))
        return on_cpu(orig_amio(args))

    work = tempfile.mkdtemp(prefix="mmsa-ckpt-")
    try:
        # MMSA's own training loop for `epochs` epochs (tools/mmsa_epoch_cap.py), its args kept as do_train sees them.
        with epoch_capped(mrun, epochs, on_train=lambda a: captured.__setitem__("args", a), amio=amio):
            mrun.MMSA_run(case["model"], case["dataset"], config=overrides, seeds=[case.get("seed", 1111)], gpu_ids=[0],
                          num_workers=0, verbose_level=0, model_save_dir=work, res_save_dir=os.path.join(work, "res"),
                          log_dir=os.path.join(work, "log"))
        args = captured["args"]
        # The rates of MMSA_run's own steps (ALMT): the file-order epochs below step the same recording AdamW again.
        main_step_lrs = list(step_lrs)
        case_dir = os.path.join(out, case["name"])
        os.makedirs(case_dir, exist_ok=True)
        if case.get("step_of"):
            # A training-step case: the training above only made MMSA's args; the step starts from the committed
            # checkpoint of the case it names.
            ckpt = os.path.join(out, case["step_of"], "checkpoint.pth")
            with open(ckpt, "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            rec = tfr_net_step(torch, lambda a: on_cpu(orig_amio(a)), captured["args0"], torch.load(ckpt, map_location="cpu"),
                               lambda: orig_atio().getTrain(args), orig_loader(args, 0), args["batch_size"], case_dir)
            expected = {"case": case["name"], "model": case["model"], "dataset": case["dataset"], "step_of": case["step_of"],
                        "checkpoint_sha256": sha, "data": f"data/{case['data']}.pkl", "torch": torch.__version__, **rec}
            with open(os.path.join(case_dir, "expected.json"), "w") as f:
                json.dump(expected, f, indent=1)
                f.write("\n")
            print(f"{case['name']}: losses per epoch", [(e["pred_loss"], e["gen_terms"], e["loss"]) for e in rec["epochs"]])
            return
        ckpt = os.path.join(case_dir, "checkpoint.pth")
        shutil.copyfile(str(args["model_save_path"]), ckpt)

        # A fresh model from MMSA's own constructor with the run's args (each replay below starts from its own).
        def fresh():
            return on_cpu(orig_amio(copy.deepcopy(captured["args0"])))

        model = fresh()
        state = torch.load(ckpt, map_location="cpu")
        model.load_state_dict(state)
        model.eval()
        preds, ids, labels = [], [], []
        model.register_forward_hook(lambda m, i, o: preds.append(prediction_of(o, case["model"]).detach().reshape(-1).numpy().astype(np.float64)))
        # Multi-task models with unimodal heads (TETFN): their T/A/V predictions too.
        unimodal = {"T": [], "A": [], "V": []} if case["model"] == "tetfn" else {}
        if unimodal:
            def record_unimodal(m, i, o):
                for k in unimodal:
                    unimodal[k].append(o[k].detach().reshape(-1).numpy().astype(np.float64))

            model.register_forward_hook(record_unimodal)
        test = orig_loader(args, 0)["test"]
        if case["model"] == "tetfn":
            # TETFN's upper text-enhanced encoders number the positions of their keys and values by the order torch's
            # masked_scatter_ writes them in the time-major memory (position_embedding.py make_positions): a step's
            # position depends on its row in the batch and the batch size. The test split is evaluated in file order,
            # which `mmsa predict` reproduces with the same batch size.
            test = torch.utils.data.DataLoader(test.dataset, batch_size=args["batch_size"], shuffle=False)
        if case["model"] == "mctn":
            # MCTN's LSTMs run along the batch axis (its quirk), so a prediction depends on the batch it is in: the
            # test split is evaluated in file order, which `mmsa predict` reproduces with the same batch size.
            test = torch.utils.data.DataLoader(test.dataset, batch_size=args["batch_size"], shuffle=False)

        class Recording:
            def __len__(self):
                return len(test)

            def __iter__(self):
                for b in test:
                    ids.extend(b["id"])
                    labels.extend(b["labels"]["M"].reshape(-1).tolist())
                    yield b

        trainer = orig_atio().getTrain(args)
        trainer.model = model  # MCTN's do_test reads the model do_train stored on the trainer
        trainer.do_test(model, Recording(), mode="TEST")
        p = np.concatenate(preds)
        assert len(p) == len(ids), (len(p), len(ids))
        order = sorted(range(len(ids)), key=lambda k: ids[k])
        if case["model"] == "graph_mfn":
            # Graph-MFN's Dynamic Fusion Graph keeps its node networks in a plain dict: they are no registered
            # sub-modules, so the state_dict (and MMSA's checkpoint) never holds them. Export the ones the predictions
            # above used, under the names they would have as sub-modules.
            nets = {}
            for key, seq in model.Model.graph_mfn.networks.items():
                for k, v in seq.state_dict().items():
                    nets[f"Model.graph_mfn.networks.{'_'.join(str(i) for i in key)}.{k}"] = v.detach().clone()
            torch.save(nets, os.path.join(case_dir, "node-networks.pth"))
        if case.get("legacy"):
            torch.save(state, os.path.join(case_dir, "checkpoint.legacy.pth"), _use_new_zipfile_serialization=False)
        with open(ckpt, "rb") as f:
            sha = hashlib.sha256(f.read()).hexdigest()
        expected = {
            "case": case["name"], "model": case["model"], "dataset": case["dataset"], "data": f"data/{case['data']}.pkl",
            "seed": case.get("seed", 1111), "epochs": epochs, "mmsa_config": case.get("mmsa_config", {}),
            "torch": torch.__version__, "checkpoint_sha256": sha,
            "state_dict": {k: list(v.shape) for k, v in state.items()},
            "ids": [ids[k] for k in order], "preds": [float(p[k]) for k in order], "labels": [labels[k] for k in order],
        }
        for k, v in unimodal.items():
            pk = np.concatenate(v)
            expected[f"preds_{k}"] = [float(pk[j]) for j in order]
        if case["model"] == "cenet":
            expected["preds_without_ce"] = cenet_without_ce(torch, model, test, expected["ids"])
            step = cenet_two_steps(torch, fresh, state, orig_atio().getTrain(args), orig_loader(args, 0), args["batch_size"])
            expected["two_steps"] = {"batch_ids": step["batch_ids"], "preds": [step["by_id"][i] for i in expected["ids"]]}
        if case["model"] == "mmim":
            ep = mmim_first_epoch(torch, fresh, state, orig_atio().getTrain(args), orig_loader(args, 0), args["batch_size"])
            expected["first_epoch"] = {"batch_ids": ep["batch_ids"], "losses": ep["losses"],
                                       "preds": [ep["by_id"][i] for i in expected["ids"]]}
        if case["model"] == "tetfn":
            steps = tetfn_ulgm_steps(torch, fresh, state, orig_atio().getTrain(args), orig_loader(args, 0), args["batch_size"])
            expected["ulgm_steps"] = {"epochs": steps["epochs"], "batch_ids": steps["batch_ids"],
                                      **{f"preds_{k}": [steps["by_id"][k][i] for i in expected["ids"]] for k in "MTAV"}}
        if case["model"] == "mfn":
            ep = epochs_in_file_order(torch, fresh, state, orig_atio().getTrain(args), orig_loader(args, 0), 20, 2,
                                      lambda m, b: m(b["text"], b["audio"], b["vision"])["M"])
            torch.save(ep["state"], os.path.join(case_dir, "after-two-epochs.pth"))
            expected["two_epochs"] = file_order_record(ep, expected["ids"])
            expected["dropout_moments"] = mfn_dropout_moments(torch, fresh, state, orig_loader(args, 0))
        if case["model"] == "almt":
            # Three epochs of MMSA's ALMT trainer (AdamW, the warm-up + cosine stepped after each validation: rates 0,
            # then half and all of the learning rate at the fixture's max_epochs 20) in file order, dropout off (BERT's
            # too); its step_lrs were recorded above, before these steps.
            ep = epochs_in_file_order(torch, fresh, state, orig_atio().getTrain(args), orig_loader(args, 0),
                                      args["batch_size"], 3, lambda m, b: m(b["text"], b["audio"], b["vision"]))
            expected["three_epochs"] = file_order_record(ep, expected["ids"])
        if case["model"] == "misa":
            expected["train_batch"] = misa_batch_losses(torch, model, trainer, orig_loader(args, 0)["train"], args)
        if case["model"] in ("mctn", "tetfn"):
            expected["batch_size"] = args["batch_size"]
        if case["model"] == "mctn":
            expected["preds_time_major"] = mctn_time_major(torch, model.Model, test, order)
        if case["model"] == "mfm":
            expected["loss_terms"] = mfm_loss_terms(torch, model, test)
        if main_step_lrs:
            expected["step_lrs"] = main_step_lrs
        with open(os.path.join(case_dir, "expected.json"), "w") as f:
            json.dump(expected, f, indent=1)
            f.write("\n")
        print(f"{case['name']}: {len(ids)} test predictions, {len(state)} tensors, {os.path.getsize(ckpt)} bytes")
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ------------------------------------------------------------------------------------------------ key manifests

ALL = ["mosi", "mosei", "sims", "simsv2"]
# Each model with the dataset configs MMSA ships for it (config/config_regression.json; pairs missing there, such as
# MFM on SIMSv2, are skipped below).
MODELS = {"self_mm": ALL, "tfn": ALL, "lmf": ALL, "lf_dnn": ALL, "ef_lstm": ALL, "mfn": ALL, "graph_mfn": ALL, "mfm": ALL,
          "mlf_dnn": ["sims", "simsv2"], "mtfn": ["sims", "simsv2"], "mlmf": ["sims", "simsv2"], "mctn": ["mosi"], "mult": ALL,
          "misa": ALL, "almt": ["mosi", "mosei", "sims"], "mmim": ["mosi", "mosei", "sims"], "tetfn": ALL,
          # TFR-Net on SIMS cannot be built by MMSA: num_temporal_head 25 divides neither 39 tokens nor 55 frames
          "tfr_net": ["mosi", "mosei"]}


def selected_keys(only):
    """The (model, dataset) pairs of MODELS that --only names, by model (`mmim`) or by entry (`mmim_mosi`); all of
    them without --only."""
    pairs = [(m, d) for m, ds in MODELS.items() for d in ds]
    if not only:
        return pairs
    unknown = [o for o in only if o not in MODELS and o not in {f"{m}_{d}" for m, d in pairs}]
    if unknown:
        sys.exit(f"--only {' '.join(unknown)}: no such model or model_dataset among the key manifests "
                 f"({', '.join(MODELS)})")
    return [(m, d) for m, d in pairs if m in only or f"{m}_{d}" in only]


def merge_keys(existing, made, only):
    """The manifest after remaking `made`: with --only, every other entry of the existing file is kept as it was."""
    table = dict(existing) if only else {}
    table.update(made)
    return table


def dataset_facts(name, aligned):
    """Feature sizes and sequence lengths of the file mmsa's paper configs read (pipelines/datasets/*.yaml)."""
    import yaml  # python3-yaml

    with open(os.path.join(REPO, "pipelines", "datasets", f"{name}.dataset.yaml")) as f:
        m = yaml.safe_load(f)
    files = m["files"]
    key = "aligned" if aligned and "aligned" in files else m["default_file"]
    feats = files[key]["features"]
    t, a, v = feats["text"]["shape"], feats["audio"]["shape"], feats["vision"]["shape"]
    return [t[1], a[1], v[1]], [t[0], a[0], v[0]]


def make_keys(out, only=None):
    torch, mrun = import_mmsa()
    from MMSA.config import get_config_regression

    made = {}
    import json as _json  # noqa: E401
    with open(os.path.join(os.path.dirname(mrun.__file__), "config", "config_regression.json")) as f:
        known = _json.load(f)
    for model, ds in selected_keys(only):
        if ds not in known[model]["datasetParams"]:
            continue  # MMSA has no config for this pair (MFM on SIMSv2)
        args = get_config_regression(model, ds)
        dims, lens = dataset_facts(ds, args["need_data_aligned"])
        args.update(feature_dims=dims, seq_lens=lens, train_mode="regression", device=torch.device("cpu"))
        if model == "self_mm":
            args.update(use_bert=False)
        # MISA, MMIM, TETFN, ALMT and TFR-Net build a BertTextEncoder; here it is the parameter-free stand-in (no
        # Model.bertmodel.* / Model.text_model.* tensors)
        net = on_cpu(mrun.AMIO(args))
        made[f"{model}_{ds}"] = {k: list(v.shape) for k, v in net.state_dict().items()}
        del net
    made["_note"] = ("The BertTextEncoder of Self-MM, MISA, MMIM, TETFN, ALMT and TFR-Net (Model.text_model.model.*, "
                     "Model.bertmodel.model.*, a transformers BertModel) is not instantiated here: its names are Hugging "
                     "Face's BertModel state_dict names.")
    path = os.path.join(out, "state-dict-keys.json")
    existing = {}
    if only and os.path.exists(path):
        with open(path) as f:
            existing = json.load(f)
    with open(path, "w") as f:
        json.dump(merge_keys(existing, made, only), f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"keys: {path} ({len(made) - 1} entries made)")


# ------------------------------------------------------------------------------------------------ driver


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", nargs="*", help="case names (default: all of cases.json); with --keys-only, models or "
                    "model_dataset entries of state-dict-keys.json")
    ap.add_argument("--data-only", action="store_true")
    ap.add_argument("--keys-only", action="store_true")
    ap.add_argument("--run-case", help=argparse.SUPPRESS)
    ap.add_argument("--make-keys", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    with open(os.path.join(a.out, "cases.json")) as f:
        cases = json.load(f)["cases"]
    if a.run_case:
        run_case(a.out, next(c for c in cases if c["name"] == a.run_case))
        return
    if a.make_keys:
        make_keys(a.out, a.only)
        return

    def child(flag, *values):
        # One process per case: MMSA keeps global state (loggers, patched classes); the memory cap keeps a runaway
        # reference run from taking the machine.
        cmd = [sys.executable, os.path.abspath(__file__), "--out", a.out, flag, *values]
        cap = 6 * 1024 ** 3
        subprocess.run(cmd, check=True, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (cap, cap)))

    if not a.keys_only:
        for name in DATA:
            make_data(name, os.path.join(a.out, "data", f"{name}.pkl"))
        if not a.data_only:
            for c in cases:
                if not a.only or c["name"] in a.only:
                    child("--run-case", c["name"])
    # The key manifests: all of them on a full run; with --keys-only --only, the named models' (or model_dataset
    # entries') only, the rest of the file kept.
    if a.keys_only and a.only:
        child("--make-keys", "--only", *a.only)
    elif not a.data_only and not a.only:
        child("--make-keys")


if __name__ == "__main__":
    main()
