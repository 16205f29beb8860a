// Independent plain-JS (float64) reference maths for the nn tests: PyTorch formulas written out by hand.
// Test helper only (no tfjs imports).

export type Mat = number[][];

export function randn(seed: number, n: number): number[] {
  // small LCG + Box-Muller, deliberately unrelated to the runtime's Rng
  let s = seed >>> 0 || 1;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u()));
  return out;
}

export function reshape2(flat: ArrayLike<number>, rows: number, cols: number): Mat {
  const m: Mat = [];
  for (let r = 0; r < rows; r++) m.push(Array.from({ length: cols }, (_, c) => flat[r * cols + c]!));
  return m;
}

export function reshape3(flat: ArrayLike<number>, a: number, b: number, c: number): Mat[] {
  const out: Mat[] = [];
  for (let i = 0; i < a; i++) out.push(reshape2(Array.from(flat).slice(i * b * c, (i + 1) * b * c), b, c));
  return out;
}

/** y = x W^T + b, W in PyTorch layout [out][in]. */
export function linearRef(x: Mat, w: Mat, b?: number[]): Mat {
  return x.map((row) => w.map((wr, o) => wr.reduce((s, wv, i) => s + wv * row[i]!, b ? b[o]! : 0)));
}

export const sig = (v: number) => 1 / (1 + Math.exp(-v));
export const relu = (m: Mat): Mat => m.map((r) => r.map((v) => Math.max(0, v)));

/** One LSTM direction over x [B][T][D] with lengths; returns outputs [B][T][H] (0 past len) and h, c. */
export function lstmRef(
  x: Mat[],
  wih: Mat,
  whh: Mat,
  bih: number[],
  bhh: number[],
  lengths: number[],
  reverse = false,
): { out: Mat[]; h: Mat; c: Mat } {
  const H = whh[0]!.length;
  const B = x.length;
  const T = x[0]!.length;
  const out: Mat[] = x.map(() => Array.from({ length: T }, () => new Array(H).fill(0)));
  const hs: Mat = [];
  const cs: Mat = [];
  for (let b = 0; b < B; b++) {
    let h = new Array(H).fill(0);
    let c = new Array(H).fill(0);
    const L = lengths[b]!;
    for (let k = 0; k < L; k++) {
      const t = reverse ? L - 1 - k : k;
      const g = wih.map((wr, j) => wr.reduce((s, v, i) => s + v * x[b]![t]![i]!, bih[j]! + bhh[j]!) + whh[j]!.reduce((s, v, q) => s + v * h[q]!, 0));
      const nc = new Array(H);
      const nh = new Array(H);
      for (let q = 0; q < H; q++) {
        const i = sig(g[q]!), f = sig(g[H + q]!), gg = Math.tanh(g[2 * H + q]!), o = sig(g[3 * H + q]!);
        nc[q] = f * c[q]! + i * gg;
        nh[q] = o * Math.tanh(nc[q]);
      }
      h = nh;
      c = nc;
      out[b]![t] = [...h];
    }
    hs.push(h);
    cs.push(c);
  }
  return { out, h: hs, c: cs };
}

export function gruRef(x: Mat[], wih: Mat, whh: Mat, bih: number[], bhh: number[], lengths: number[], reverse = false): { out: Mat[]; h: Mat } {
  const H = whh[0]!.length;
  const T = x[0]!.length;
  const out: Mat[] = x.map(() => Array.from({ length: T }, () => new Array(H).fill(0)));
  const hs: Mat = [];
  x.forEach((seq, b) => {
    let h = new Array(H).fill(0);
    const L = lengths[b]!;
    for (let k = 0; k < L; k++) {
      const t = reverse ? L - 1 - k : k;
      const gx = wih.map((wr, j) => wr.reduce((s, v, i) => s + v * seq[t]![i]!, bih[j]!));
      const gh = whh.map((wr, j) => wr.reduce((s, v, q) => s + v * h[q]!, bhh[j]!));
      const nh = new Array(H);
      for (let q = 0; q < H; q++) {
        const r = sig(gx[q]! + gh[q]!);
        const z = sig(gx[H + q]! + gh[H + q]!);
        const n = Math.tanh(gx[2 * H + q]! + r * gh[2 * H + q]!);
        nh[q] = (1 - z) * n + z * h[q]!;
      }
      h = nh;
      out[b]![t] = [...h];
    }
    hs.push(h);
  });
  return { out, h: hs };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

export const flat = (m: unknown): number[] => (Array.isArray(m) ? m.flatMap((v) => flat(v)) : [m as number]);

/** What the reference maths reads from a parameter store: a tensor's values and 2-D shape (ParamStore fits). */
interface StoreLike {
  get(key: string): { dataSync(): ArrayLike<number>; shape: number[] };
}

/** A stored 2-D parameter as a matrix. */
export function storeMat(store: StoreLike, key: string): Mat {
  const v = store.get(key);
  return reshape2(v.dataSync(), v.shape[0]!, v.shape[1]!);
}

/** A stored parameter as a flat array. */
export function storeVec(store: StoreLike, key: string): number[] {
  return Array.from(store.get(key).dataSync());
}

/** The stored Linear `<path>.weight` / `<path>.bias` applied to `x` in plain JS. */
export function storeLinear(store: StoreLike, path: string, x: Mat): Mat {
  return linearRef(x, storeMat(store, `${path}.weight`), storeVec(store, `${path}.bias`));
}
