// `mmsa evaluate RUN_DIR --missing text=0.3,audio=0.5 --noise vision=0.1 [--seeds ...]`: the options and the
// conditions they make (a rate may be a range a:b:step, giving a curve). Phase: CLI over phase 7 (scoring).

import type { Perturbation, PerturbKind } from '../runtime/data/perturb.js';

/** One evaluated condition: its perturbations and which of them the x axis (the rate) belongs to. */
export interface Condition {
  perturbations: Perturbation[];
  /** `missing text`, ... : the pairs whose rate is the x value. Empty for the clean evaluation. */
  axis: string[];
  /** The x value (the axis pairs' rate); 0 for the clean evaluation. */
  rate: number;
  /** Pairs held at a fixed rate while the axis pairs vary, e.g. {'noise vision': 0.1}. */
  fixed: Record<string, number>;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

/** `0.3` or `0:0.5:0.1` (inclusive); an Error names the problem. */
export function parseRate(text: string, kind: PerturbKind): number[] | Error {
  const parts = text.split(':').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((x) => !Number.isFinite(x))) return new Error(`'${text}' is not a rate (a number, or a range start:stop:step)`);
  let rates: number[];
  if (nums.length === 1) rates = nums;
  else if (nums.length === 3) {
    const [a, b, step] = nums as [number, number, number];
    if (!(step > 0) || b < a) return new Error(`range '${text}' needs start <= stop and a positive step`);
    const k = Math.floor((b - a) / step + 1e-9);
    if (k > 100) return new Error(`range '${text}' has ${k + 1} points (at most 101)`);
    rates = Array.from({ length: k + 1 }, (_, i) => round(a + i * step));
  } else return new Error(`'${text}' is not a rate (a number, or a range start:stop:step)`);
  const bad = rates.find((r) => r < 0 || (kind === 'missing' && r > 1));
  if (bad !== undefined) return new Error(`rate ${bad} is out of range (${kind === 'missing' ? 'a missing rate is between 0 and 1' : 'a noise rate is at least 0'})`);
  return rates;
}

interface Pair {
  kind: PerturbKind;
  modality: string;
  rates: number[];
  ranged: boolean;
}

function parseSpec(kind: PerturbKind, values: unknown): Pair[] | Error {
  const list = values === undefined ? [] : Array.isArray(values) ? (values as string[]) : [String(values)];
  const pairs = new Map<string, Pair>();
  for (const v of list) {
    for (const item of v.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
      const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(item);
      if (!m) return new Error(`--${kind} expects MODALITY=RATE[,MODALITY=RATE...] (e.g. --${kind} text=0.3,audio=0.5 or audio=0:0.9:0.1), got '${item}'`);
      const rates = parseRate(m[2]!, kind);
      if (rates instanceof Error) return new Error(`--${kind} ${item}: ${rates.message}`);
      pairs.set(m[1]!, { kind, modality: m[1]!, rates, ranged: m[2]!.includes(':') });
    }
  }
  return [...pairs.values()];
}

const pairName = (p: { kind: string; modality: string }) => `${p.kind} ${p.modality}`;

/**
 * The conditions of `--missing` / `--noise`: ranged pairs sweep together (point k takes each range's k-th rate) and
 * form the x axis, single rates stay fixed. Without ranges, the pairs at the first pair's rate are the axis and the
 * others are fixed (`--missing text=0.3,audio=0.3 --noise vision=0.1`: series "missing text + missing audio,
 * noise vision=0.1" at x = 0.3).
 */
export function parseConditions(o: { missing?: unknown; noise?: unknown }): Condition[] | Error | undefined {
  const missing = parseSpec('missing', o.missing);
  if (missing instanceof Error) return missing;
  const noise = parseSpec('noise', o.noise);
  if (noise instanceof Error) return noise;
  const pairs = [...missing, ...noise];
  if (pairs.length === 0) return undefined;
  const ranged = pairs.filter((p) => p.ranged);
  let axis: Pair[];
  let points: number;
  if (ranged.length > 0) {
    points = ranged[0]!.rates.length;
    const off = ranged.find((p) => p.rates.length !== points);
    if (off) return new Error(`ranges sweep together and need the same number of points: ${pairName(ranged[0]!)} has ${points}, ${pairName(off)} has ${off.rates.length}`);
    axis = ranged;
  } else {
    points = 1;
    const r0 = pairs[0]!.rates[0]!;
    axis = pairs.filter((p) => p.rates[0] === r0);
  }
  const fixedPairs = pairs.filter((p) => !axis.includes(p));
  const fixed = Object.fromEntries(fixedPairs.map((p) => [pairName(p), p.rates[0]!]));
  const conds: Condition[] = [];
  for (let k = 0; k < points; k++) {
    const perturbations: Perturbation[] = [
      ...axis.map((p) => ({ kind: p.kind, modality: p.modality, rate: p.rates[k]! })),
      ...fixedPairs.map((p) => ({ kind: p.kind, modality: p.modality, rate: p.rates[0]! })),
    ];
    // The axis value: ranged pairs share the point index, not necessarily the value; the first one's rate is shown.
    conds.push({ perturbations, axis: axis.map(pairName), rate: axis[0]!.rates[k]!, fixed });
  }
  return conds;
}
