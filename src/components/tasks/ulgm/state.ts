// Self-MM's unimodal label generation module (ULGM) state: label banks, feature memory, class centres and the
// epoch-momentum label update, in plain typed-array maths (no tfjs). Phase 7 (execute), used by the Self-MM hooks.

import { MmsaError } from '../../../errors.js';

/** MMSA's H when neither H nor a label range is known. */
export const DEFAULT_H = 3.0;

/**
 * The [lo, hi] range of the generated labels: `label_range` (the dataset's unless written), else MMSA's symmetric
 * [-H, H]. Classes split at its middle, so MOSI's [-3, 3] keeps MMSA's maths exactly.
 */
export function ulgmRange(p: { H?: number; label_range?: number[] }): [number, number] {
  if (p.label_range) return [p.label_range[0]!, p.label_range[1]!];
  const h = p.H ?? DEFAULT_H;
  return [-h, h];
}

/** Feature batch of one modality: rows as arrays, or a row-major [B, d] typed array. */
export type FeatureRows = Float32Array | Float64Array | readonly ArrayLike<number>[];

export interface UlgmOptions {
  /** Number of training samples (rows of every bank). */
  n: number;
  /** Feature size of each head's first hidden layer (Self-MM's post_*_dim): fusion plus one per modality. */
  dims: { fusion: number } & Record<string, number>;
  /** Half-width of the generated labels' range (Self-MM's `H`): labels are clamped to [center - H, center + H]. */
  H: number;
  /**
   * Middle of the label range (0 for MMSA's symmetric ranges; 12 for PHQ-8 0-24). The positive and negative classes
   * split there, and the label update works on labels measured from it, so a range [lo, hi] is Self-MM's [-H, H]
   * shifted; with 0 the arithmetic is MMSA's bit for bit. Default 0.
   */
  center?: number;
  /** Positive centre from labels > 0 (true) or >= 0 (false); the negative centre always uses labels < 0. */
  excludeZero: boolean;
  /** Unimodal modalities; default text, audio, vision. */
  modalities?: readonly string[];
  /**
   * A class with no member (e.g. no negative label at all): 'keep' leaves that centre as it was (zeros at first),
   * 'nan' sets it to NaN as torch.mean of an empty selection does in the reference. Default 'keep'.
   */
  onEmptyClass?: 'keep' | 'nan';
}

export interface UlgmSnapshot {
  version: 1;
  n: number;
  dims: Record<string, number>;
  H: number;
  /** Absent in snapshots of runs before label ranges (0). */
  center?: number;
  excludeZero: boolean;
  modalities: string[];
  labels: Record<string, number[]>;
  features: Record<string, number[]>;
  centers: Record<string, { pos: number[]; neg: number[] }>;
}

export interface EmptyClass {
  bank: string;
  side: 'pos' | 'neg';
}

const MIN = 1e-8;
const f32 = Math.fround;

// The reference runs in torch float32. Every elementary operation of the label update is rounded to float32 here
// (Math.fround after a float64 op is exact float32 arithmetic for + - * / sqrt); the sums of squares inside the L2
// norms and the centre sums accumulate in float64 (torch's CPU reductions use a wider accumulator). Against the
// reference trace this gives a max label error of 2.4e-6 (float32 everywhere: 3.1e-6; float64 everywhere: 6.0e-6);
// what remains comes from alpha = delta_s / delta_f amplifying last-bit differences when delta_f is small.

export class UlgmState {
  readonly n: number;
  readonly H: number;
  readonly center: number;
  readonly excludeZero: boolean;
  readonly modalities: readonly string[];
  /** 'fusion' followed by the modalities. */
  readonly banks: readonly string[];
  readonly dims: Readonly<Record<string, number>>;
  private readonly onEmptyClass: 'keep' | 'nan';
  private readonly label = new Map<string, Float32Array>();
  private readonly feat = new Map<string, Float32Array>();
  private readonly centerPos = new Map<string, Float32Array>();
  private readonly centerNeg = new Map<string, Float32Array>();

  constructor(opts: UlgmOptions) {
    if (!Number.isInteger(opts.n) || opts.n < 1) {
      throw new MmsaError('MSA6611', `ULGM: n must be a positive integer, got ${opts.n}`, { hint: 'pass the number of training samples' });
    }
    this.n = opts.n;
    this.H = opts.H;
    this.center = opts.center ?? 0;
    this.excludeZero = opts.excludeZero;
    this.onEmptyClass = opts.onEmptyClass ?? 'keep';
    this.modalities = [...(opts.modalities ?? ['text', 'audio', 'vision'])];
    if (this.modalities.includes('fusion')) {
      throw new MmsaError('MSA6611', "ULGM: 'fusion' is the multimodal bank and cannot be a unimodal modality", { details: { path: 'modalities' } });
    }
    this.banks = ['fusion', ...this.modalities];
    const dims: Record<string, number> = {};
    for (const b of this.banks) {
      const d = opts.dims[b];
      if (d === undefined || !Number.isInteger(d) || d < 1) {
        throw new MmsaError('MSA6611', `ULGM: dims.${b} must be a positive integer, got ${String(d)}`, {
          hint: `give the feature size of the ${b} head's first hidden layer`,
          details: { path: `dims.${b}` },
        });
      }
      dims[b] = d;
      this.label.set(b, new Float32Array(this.n));
      this.feat.set(b, new Float32Array(this.n * d));
      this.centerPos.set(b, new Float32Array(d));
      this.centerNeg.set(b, new Float32Array(d));
    }
    this.dims = dims;
  }

  /** Label-init pass: every bank (fusion and unimodal) takes the human multimodal label y_M. */
  initLabels(indexes: ArrayLike<number>, labelsM: ArrayLike<number>): void {
    this.checkIndexes(indexes, 'initLabels');
    if (labelsM.length !== indexes.length) {
      throw new MmsaError('MSA6612', `ULGM initLabels: ${indexes.length} indexes but ${labelsM.length} labels`, { details: { path: 'labelsM' } });
    }
    for (const b of this.banks) {
      const bank = this.label.get(b)!;
      for (let i = 0; i < indexes.length; i++) bank[indexes[i]!] = labelsM[i]!;
    }
  }

  /** The label bank of 'fusion' or a modality (live view; copy before mutating). */
  labels(bank: string): Float32Array {
    const l = this.label.get(bank);
    if (l === undefined) throw this.unknownBank(bank);
    return l;
  }

  /** Current labels of the batch for every bank (fusion = y_M, modalities = generated labels). */
  targets(indexes: ArrayLike<number>): Record<string, Float32Array> {
    this.checkIndexes(indexes, 'targets');
    const out: Record<string, Float32Array> = {};
    for (const b of this.banks) {
      const bank = this.label.get(b)!;
      out[b] = Float32Array.from({ length: indexes.length }, (_, i) => bank[indexes[i]!]!);
    }
    return out;
  }

  /** Per-modality weights of the unimodal L1 losses: tanh(|y_s - y_f|) for each sample of the batch. */
  lossWeights(indexes: ArrayLike<number>): Record<string, Float32Array> {
    this.checkIndexes(indexes, 'lossWeights');
    const yf = this.label.get('fusion')!;
    const out: Record<string, Float32Array> = {};
    for (const m of this.modalities) {
      const ys = this.label.get(m)!;
      out[m] = Float32Array.from({ length: indexes.length }, (_, i) => Math.tanh(Math.abs(f32(ys[indexes[i]!]! - yf[indexes[i]!]!))));
    }
    return out;
  }

  /**
   * Generate new unimodal labels for the batch from its (detached) features and the centres as they stand.
   * Epoch 1 is a no-op: the reference starts label generation at epoch 2.
   */
  updateLabels(indexes: ArrayLike<number>, features: Record<string, FeatureRows>, epoch: number): void {
    if (epoch <= 1) return;
    this.checkIndexes(indexes, 'updateLabels');
    const B = indexes.length;
    const rows = this.featureRows(features, B, 'updateLabels');
    const yf = this.label.get('fusion')!;
    const deltaF = this.relativeDistance('fusion', rows.get('fusion')!, B);
    // the momentum weights are Python floats that torch applies as float32 scalars
    const keep = f32((epoch - 1) / (epoch + 1));
    const take = f32(2 / (epoch + 1));
    const half = 0.5;
    const H = f32(this.H);
    const c = this.center;
    for (const m of this.modalities) {
      const deltaS = this.relativeDistance(m, rows.get(m)!, B);
      const ys = this.label.get(m)!;
      for (let i = 0; i < B; i++) {
        const idx = indexes[i]!;
        // Measured from the middle of the range (skipped at 0, which keeps MMSA's arithmetic unchanged).
        const y = c === 0 ? yf[idx]! : f32(yf[idx]! - c);
        const ds = deltaS[i]!;
        const df = deltaF[i]!;
        const alpha = f32(ds / f32(df + MIN));
        let yNew = f32(f32(f32(half * alpha) * y) + f32(half * f32(f32(y + ds) - df)));
        yNew = yNew < -H ? -H : yNew > H ? H : yNew; // torch.clamp keeps NaN
        if (c !== 0) yNew = f32(yNew + c);
        ys[idx] = f32(f32(keep * ys[idx]!) + f32(take * yNew));
      }
    }
  }

  /** Store the batch's features in the memory of every bank. */
  updateFeatures(indexes: ArrayLike<number>, features: Record<string, FeatureRows>): void {
    this.checkIndexes(indexes, 'updateFeatures');
    const B = indexes.length;
    const rows = this.featureRows(features, B, 'updateFeatures');
    for (const b of this.banks) {
      const d = this.dims[b]!;
      const mem = this.feat.get(b)!;
      const src = rows.get(b)!;
      for (let i = 0; i < B; i++) mem.set(src.subarray(i * d, (i + 1) * d), indexes[i]! * d);
    }
  }

  /**
   * Recompute every bank's positive and negative centre over all N rows of the memory (rows not visited yet are
   * still zero and count, as in the reference). Returns the classes that had no member.
   */
  updateCenters(): EmptyClass[] {
    const empty: EmptyClass[] = [];
    for (const b of this.banks) {
      const d = this.dims[b]!;
      const lab = this.label.get(b)!;
      const mem = this.feat.get(b)!;
      const sides: ['pos' | 'neg', (v: number) => boolean, Float32Array][] = [
        ['pos', this.excludeZero ? (v) => v > this.center : (v) => v >= this.center, this.centerPos.get(b)!],
        ['neg', (v) => v < this.center, this.centerNeg.get(b)!],
      ];
      for (const [side, member, centre] of sides) {
        const sum = new Float64Array(d);
        let count = 0;
        for (let j = 0; j < this.n; j++) {
          if (!member(lab[j]!)) continue;
          count++;
          for (let k = 0; k < d; k++) sum[k] = sum[k]! + mem[j * d + k]!;
        }
        if (count === 0) {
          empty.push({ bank: b, side });
          if (this.onEmptyClass === 'nan') centre.fill(Number.NaN);
          continue;
        }
        for (let k = 0; k < d; k++) centre[k] = sum[k]! / count;
      }
    }
    return empty;
  }

  /** The reference's per-batch order: label update (epoch > 1) with the current centres, then memory, then centres. */
  step(epoch: number, indexes: ArrayLike<number>, features: Record<string, FeatureRows>): EmptyClass[] {
    this.updateLabels(indexes, features, epoch);
    this.updateFeatures(indexes, features);
    return this.updateCenters();
  }

  /** Centres of a bank (copies). */
  centers(bank: string): { pos: Float32Array; neg: Float32Array } {
    const pos = this.centerPos.get(bank);
    if (pos === undefined) throw this.unknownBank(bank);
    return { pos: pos.slice(), neg: this.centerNeg.get(bank)!.slice() };
  }

  /** Mean |y_s - y_f| over all N samples per modality: how far the generated labels have moved from y_M. */
  drift(): Record<string, number> {
    const yf = this.label.get('fusion')!;
    const out: Record<string, number> = {};
    for (const m of this.modalities) {
      const ys = this.label.get(m)!;
      let s = 0;
      for (let j = 0; j < this.n; j++) s += Math.abs(ys[j]! - yf[j]!);
      out[m] = s / this.n;
    }
    return out;
  }

  /** Plain-JSON copy of the whole state, for checkpoints. */
  snapshot(): UlgmSnapshot {
    const labels: Record<string, number[]> = {};
    const features: Record<string, number[]> = {};
    const centers: Record<string, { pos: number[]; neg: number[] }> = {};
    for (const b of this.banks) {
      labels[b] = Array.from(this.label.get(b)!);
      features[b] = Array.from(this.feat.get(b)!);
      centers[b] = { pos: Array.from(this.centerPos.get(b)!), neg: Array.from(this.centerNeg.get(b)!) };
    }
    return {
      version: 1,
      n: this.n,
      dims: { ...this.dims },
      H: this.H,
      ...(this.center !== 0 ? { center: this.center } : {}),
      excludeZero: this.excludeZero,
      modalities: [...this.modalities],
      labels,
      features,
      centers,
    };
  }

  /** Load a snapshot taken from a state of the same shape (n, dims, modalities). */
  restore(snap: UlgmSnapshot): void {
    const bad = (path: string, detail: string): MmsaError =>
      new MmsaError('MSA6613', `ULGM checkpoint does not fit this run: ${path} ${detail}`, {
        hint: 'resume with the same dataset split and Self-MM dims, or start the run afresh',
        details: { path },
      });
    if (snap.version !== 1) throw bad('version', `is ${String(snap.version)}, expected 1`);
    if (snap.n !== this.n) throw bad('n', `is ${snap.n}, expected ${this.n}`);
    if (snap.modalities.join(',') !== this.modalities.join(',')) {
      throw bad('modalities', `are [${snap.modalities.join(', ')}], expected [${this.modalities.join(', ')}]`);
    }
    for (const b of this.banks) {
      const d = this.dims[b]!;
      const check = (arr: readonly number[] | undefined, len: number, path: string): readonly number[] => {
        if (!Array.isArray(arr) || arr.length !== len) throw bad(path, `has length ${arr?.length ?? 'none'}, expected ${len}`);
        return arr;
      };
      if (snap.dims[b] !== d) throw bad(`dims.${b}`, `is ${String(snap.dims[b])}, expected ${d}`);
      const l = check(snap.labels[b], this.n, `labels.${b}`);
      const f = check(snap.features[b], this.n * d, `features.${b}`);
      const c = snap.centers[b];
      const cp = check(c?.pos, d, `centers.${b}.pos`);
      const cn = check(c?.neg, d, `centers.${b}.neg`);
      this.label.get(b)!.set(l);
      this.feat.get(b)!.set(f);
      this.centerPos.get(b)!.set(cp);
      this.centerNeg.get(b)!.set(cn);
    }
  }

  // δ = (d_neg − d_pos) / (d_pos + 1e-8) per row, with L2 distances to the bank's current centres.
  private relativeDistance(bank: string, rows: Float32Array, B: number): Float32Array {
    const d = this.dims[bank]!;
    const pos = this.centerPos.get(bank)!;
    const neg = this.centerNeg.get(bank)!;
    const out = new Float32Array(B);
    for (let i = 0; i < B; i++) {
      let sp = 0;
      let sn = 0;
      for (let k = 0; k < d; k++) {
        const x = rows[i * d + k]!;
        const ep = f32(x - pos[k]!);
        const en = f32(x - neg[k]!);
        sp += ep * ep;
        sn += en * en;
      }
      const dp = f32(Math.sqrt(sp));
      const dn = f32(Math.sqrt(sn));
      out[i] = f32(f32(dn - dp) / f32(dp + MIN));
    }
    return out;
  }

  private featureRows(features: Record<string, FeatureRows>, B: number, where: string): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>();
    for (const b of this.banks) {
      const d = this.dims[b]!;
      const src = features[b];
      if (src === undefined) {
        throw new MmsaError('MSA6614', `ULGM ${where}: features.${b} is missing`, {
          hint: `pass the ${b} head's first hidden layer for the batch`,
          details: { path: `features.${b}` },
        });
      }
      let flat: Float32Array;
      if (src instanceof Float32Array || src instanceof Float64Array) {
        flat = src instanceof Float32Array ? src : Float32Array.from(src);
      } else {
        flat = new Float32Array(src.length * d);
        src.forEach((row, i) => {
          if (row.length !== d) {
            throw new MmsaError('MSA6614', `ULGM ${where}: features.${b}[${i}] has ${row.length} values, expected ${d}`, {
              details: { path: `features.${b}[${i}]` },
            });
          }
          for (let k = 0; k < d; k++) flat[i * d + k] = row[k]!;
        });
      }
      if (flat.length !== B * d) {
        throw new MmsaError('MSA6614', `ULGM ${where}: features.${b} has ${flat.length} values, expected ${B} rows x ${d} = ${B * d}`, {
          details: { path: `features.${b}` },
        });
      }
      out.set(b, flat);
    }
    return out;
  }

  private checkIndexes(indexes: ArrayLike<number>, where: string): void {
    for (let i = 0; i < indexes.length; i++) {
      const v = indexes[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= this.n) {
        throw new MmsaError('MSA6612', `ULGM ${where}: indexes[${i}] = ${v} is outside 0..${this.n - 1}`, {
          hint: 'indexes are sample positions in the training split; n must be the train split size',
          details: { path: `indexes[${i}]` },
        });
      }
    }
  }

  private unknownBank(bank: string): MmsaError {
    return new MmsaError('MSA6611', `ULGM: unknown bank '${bank}'`, { hint: `banks: ${this.banks.join(', ')}` });
  }
}

/** Bins of the label histograms in task.update (the Self-MM paper's figure of y_m against y_M). */
const HIST_BINS = 24;

/**
 * Histograms of every label bank over a range fixed by the initial (multimodal) labels' span, so epochs compare bin
 * for bin; values outside are clamped into the edge bins.
 */
export function labelHistogram(state: UlgmState, bins = HIST_BINS): { lo: number; hi: number; counts: Record<string, number[]> } {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of state.labels('fusion')) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  // Symmetric around the range's middle (0 for sentiment: MOSI/MOSEI [-3, 3], SIMS [-1, 1]), which stays on an edge.
  const mid = state.center;
  const r = Number.isFinite(lo) ? Math.max(Math.abs(lo - mid), Math.abs(hi - mid), 1e-6) : 1;
  const counts: Record<string, number[]> = {};
  for (const b of state.banks) {
    const c = new Array<number>(bins).fill(0);
    for (const v of state.labels(b)) {
      if (!Number.isFinite(v)) continue;
      const i = Math.min(bins - 1, Math.max(0, Math.floor(((v - mid + r) / (2 * r)) * bins)));
      c[i] = (c[i] ?? 0) + 1;
    }
    counts[b] = c;
  }
  return { lo: mid - r, hi: mid + r, counts };
}
