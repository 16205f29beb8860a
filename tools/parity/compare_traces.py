#!/usr/bin/env python3
"""Self-MM parity tooling: compares two trajectories (trace.json + weights/labels files written by mmsa-trace.mjs and
ref_trace.py) step by step and reports where they first part: optimizer groups (lr, weight decay, members), gradient
norms per group for the first optimizer steps, per-step losses per head, per-epoch validation loss, label banks and
weights. Needs numpy only.

usage: compare_traces.py DIR_A DIR_B [--tol 1e-4]
"""
import argparse
import json
import os

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("a")
ap.add_argument("b")
ap.add_argument("--tol", type=float, default=1e-4, help="relative difference that counts as parting")
args = ap.parse_args()

A = json.load(open(os.path.join(args.a, "trace.json")))
B = json.load(open(os.path.join(args.b, "trace.json")))
na, nb = A["system"], B["system"]


def rel(x, y):
    return abs(x - y) / max(1e-12, abs(x), abs(y))


print(f"== optimizer groups ({na} | {nb})")
ga = {g["name"]: g for g in A["groups"] if g["params"]}
gb = {g["name"]: g for g in B["groups"] if g["params"]}
for name in sorted(set(ga) | set(gb)):
    x, y = ga.get(name), gb.get(name)
    if not x or not y:
        print(f"  {name}: only in {na if x else nb} ({len((x or y)['params'])} params)")
        continue
    same = sorted(x["params"]) == sorted(y["params"])
    print(f"  {name}: lr {x['lr']} | {y['lr']}, weight decay {x['weight_decay']} | {y['weight_decay']}, "
          f"{len(x['params'])} | {len(y['params'])} params, {'same members' if same else 'DIFFERENT members'}")
    if not same:
        print(f"    only {na}: {sorted(set(x['params']) - set(y['params']))}")
        print(f"    only {nb}: {sorted(set(y['params']) - set(x['params']))}")
empty = [g["name"] for g in B["groups"] + A["groups"] if not g["params"]]
if empty:
    print(f"  empty groups: {sorted(set(empty))}")

print("== gradient norms per group, first optimizer steps (accumulated gradient as stepped)")
first_grad = None
for ra, rb in zip(A["grad_norms"], B["grad_norms"]):
    cells = []
    for g in sorted(set(ra["groups"]) & set(rb["groups"])):
        x, y = ra["groups"][g], rb["groups"][g]
        cells.append(f"{g} {x:.6g}|{y:.6g}")
        if first_grad is None and rel(x, y) > args.tol:
            first_grad = (ra["opt_step"], g, x, y)
    print(f"  step {ra['opt_step']}: " + "  ".join(cells))
print(f"  first parting: {first_grad}" if first_grad else "  no parting beyond tol")

print("== per-step losses per head")
sa = {(s["epoch"], s["step"]): s for s in A["steps"]}
sb = {(s["epoch"], s["step"]): s for s in B["steps"]}
first = None
worst_by_epoch = {}
for k in sorted(set(sa) & set(sb)):
    for h in "MTAV":
        x, y = sa[k]["heads"].get(h, 0.0), sb[k]["heads"].get(h, 0.0)
        r = rel(x, y) if max(abs(x), abs(y)) > 1e-7 else 0.0
        w = worst_by_epoch.setdefault(k[0], [0.0, None])
        if r > w[0]:
            w[0], w[1] = r, (k[1], h, x, y)
        if first is None and r > args.tol:
            first = (k, h, x, y)
    if sa[k].get("stepped") != sb[k].get("stepped"):
        print(f"  optimizer step at {k}: {na} {sa[k].get('stepped')} | {nb} {sb[k].get('stepped')}")
for e, (r, where) in sorted(worst_by_epoch.items()):
    print(f"  epoch {e}: max relative head-loss difference {r:.2e} at (step, head, {na}, {nb}) {where}")
print(f"  first parting (> {args.tol}): epoch/step {first[0]}, head {first[1]}: {first[2]:.7g} | {first[3]:.7g}" if first else "  no parting beyond tol")

print("== per epoch: train loss per head, validation loss, label banks, weights")


def load_weights(d, name):
    f = os.path.join(d, name + ".json")
    if not os.path.exists(f):
        return None
    idx = json.load(open(f))
    blob = np.fromfile(f[:-5] + ".bin", dtype="<f4")
    return {e["key"]: blob[e["offset"]:e["offset"] + int(np.prod(e["shape"]))] for e in idx["entries"]}


ea = {e["epoch"]: e for e in A["epochs"]}
eb = {e["epoch"]: e for e in B["epochs"]}
for e in sorted(set(ea) & set(eb)):
    x, y = ea[e], eb[e]
    heads = " ".join(f"{h} {x['heads'].get(h, 0):.5f}|{y['heads'].get(h, 0):.5f}" for h in "MTAV")
    line = f"  epoch {e}: {heads}  valid {x['valid_loss']}|{y['valid_loss']}"
    if x.get("labels") and y.get("labels"):
        la = json.load(open(os.path.join(args.a, x["labels"])))
        lb = json.load(open(os.path.join(args.b, y["labels"])))
        diffs = []
        for bank in ("text", "audio", "vision"):
            if bank in la and bank in lb:
                d = np.abs(np.asarray(la[bank], dtype=float) - np.asarray(lb[bank], dtype=float))
                diffs.append(f"{bank[0]} {d.max():.1e}")
        line += "  labels max|d| " + " ".join(diffs)
    wa, wb = load_weights(args.a, f"weights-epoch-{e}"), load_weights(args.b, f"weights-epoch-{e}")
    if wa and wb:
        worst = max(((float(np.abs(wa[k] - wb[k]).max()), k) for k in wa if k in wb), default=(0.0, ""))
        line += f"  weights max|d| {worst[0]:.1e} ({worst[1]})"
    print(line)

for k in ("result",):
    ra, rb = A.get(k) or {}, B.get(k) or {}
    if ra and rb:
        print(f"== test: Corr {ra['test']['Corr']:.4f}|{rb['test']['Corr']:.4f}  MAE {ra['test']['MAE']:.4f}|{rb['test']['MAE']:.4f}"
              f"  best epoch {ra['bestEpoch']}|{rb['bestEpoch']} of {ra['epochs']}|{rb['epochs']}")
