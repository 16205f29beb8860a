// Seeded PRNG, per-layer seed derivation and PyTorch's default parameter initialisers, all in plain JS.
// Phase 6 (lower) creates parameters with these; phase 7 (execute) uses Rng for dropout masks and shuffling.

/**
 * PRNG: xoshiro128** (Blackman & Vigna), 32-bit state words, seeded through splitmix32 so that any 32-bit seed
 * (including 0) gives a well-mixed state. Fast in JS (only 32-bit integer ops via Math.imul / >>> 0), period 2^128-1.
 * Everything random in the runtime (init, dropout masks) draws from instances of this class, so a run is
 * reproducible bit for bit from its seed on any machine.
 */
export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  private spare: number | undefined;

  constructor(seed: number) {
    let x = seed >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** Uniform unsigned 32-bit integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.nextFloat();
  }

  /** Standard normal (Box-Muller; the second value of each pair is kept for the next call). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = this.nextFloat();
    while (u === 0) u = this.nextFloat();
    const v = this.nextFloat();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }

  /**
   * out[i] = (nextFloat() < p ? 0 : keep) for every i, drawing exactly the numbers that loop would draw (u / 2^32 < p
   * is the same test as u < p * 2^32, both exact in doubles). The state lives in locals here: dropout masks of
   * millions of entries (TFN's 140k-wide fusion) were the hot spot.
   */
  fillMask(out: Float32Array, p: number, keep: number): void {
    // Compared in signed int32 space (u - 2^31 against p * 2^32 - 2^31) and written through a 2-entry table: with
    // p = 0.5 a branch is mispredicted half the time, which made this loop 3x slower.
    const thr = p * 4294967296 - 2147483648;
    const table = new Float32Array([0, keep]);
    let s0 = this.s0 | 0;
    let s1 = this.s1 | 0;
    let s2 = this.s2 | 0;
    let s3 = this.s3 | 0;
    const n = out.length;
    for (let i = 0; i < n; i++) {
      const a = Math.imul(s1, 5);
      const r = Math.imul((a << 7) | (a >>> 25), 9) ^ -2147483648;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      out[i] = table[+(r >= thr)]!;
    }
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
  }

  /** A fresh 32-bit seed for a child generator (e.g. one per dropout call). */
  fork(): number {
    return this.nextU32();
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * Seed for one layer: FNV-1a (32-bit) of the UTF-8 layer path, mixed with the run seed by a murmur3 finaliser.
 * A layer's initial weights therefore depend only on the run seed and its own name, not on creation order.
 */
export function deriveSeed(runSeed: number, layerPath: string): number {
  let h = 0x811c9dc5;
  const bytes = new TextEncoder().encode(layerPath);
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  let z = (h ^ Math.imul(runSeed >>> 0, 0x9e3779b1)) >>> 0;
  z = (z + Math.imul((runSeed / 4294967296) >>> 0, 0x85ebca77)) >>> 0; // seeds above 2^32 still matter
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** Fills a Float32Array for a parameter of the given shape. */
export type Initializer = (shape: readonly number[], rng: Rng) => Float32Array;

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** PyTorch `_calculate_fan_in_and_fan_out`: dim 1 = inputs, dim 0 = outputs, trailing dims = receptive field. */
export function computeFans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) throw new Error(`fan in/out needs a tensor with at least 2 dims, got shape [${shape.join(', ')}]`);
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

export function uniformInit(lo: number, hi: number): Initializer {
  return (shape, rng) => {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = rng.uniform(lo, hi);
    return out;
  };
}

export function normalInit(mean = 0, std = 1): Initializer {
  return (shape, rng) => {
    const out = new Float32Array(sizeOf(shape));
    for (let i = 0; i < out.length; i++) out[i] = mean + std * rng.normal();
    return out;
  };
}

export function constantInit(value: number): Initializer {
  return (shape) => new Float32Array(sizeOf(shape)).fill(value);
}

export const zerosInit: Initializer = constantInit(0);
export const onesInit: Initializer = constantInit(1);

/** nn.Linear / Conv default for weight *and* bias: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
export function linearInit(fanIn: number): Initializer {
  const b = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
  return uniformInit(-b, b);
}

/** nn.LSTM / nn.GRU / LSTMCell default: every weight and both biases U(-1/sqrt(H), 1/sqrt(H)). */
export function rnnInit(hiddenSize: number): Initializer {
  const b = 1 / Math.sqrt(hiddenSize);
  return uniformInit(-b, b);
}

/** torch.nn.init.xavier_uniform_: U(-a, a), a = gain*sqrt(6/(fan_in+fan_out)). */
export function xavierUniformInit(gain = 1): Initializer {
  return (shape, rng) => {
    const { fanIn, fanOut } = computeFans(shape);
    const a = gain * Math.sqrt(6 / (fanIn + fanOut));
    return uniformInit(-a, a)(shape, rng);
  };
}

/** torch.nn.init.xavier_normal_: N(0, std^2), std = gain*sqrt(2/(fan_in+fan_out)). */
export function xavierNormalInit(gain = 1): Initializer {
  return (shape, rng) => {
    const { fanIn, fanOut } = computeFans(shape);
    return normalInit(0, gain * Math.sqrt(2 / (fanIn + fanOut)))(shape, rng);
  };
}
