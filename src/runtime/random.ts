// The runtime's one seeded PRNG (xoshiro128**) and seed derivation: parameter init, dropout masks, shuffles and
// synthetic data all draw from it, so a run is reproducible bit for bit from its seed on any machine. Phases 6-7.

/**
 * PRNG: xoshiro128** (Blackman & Vigna), 32-bit state words, seeded through splitmix32 so that any 32-bit seed
 * (including 0) gives a well-mixed state. Fast in JS (only 32-bit integer ops via Math.imul / >>> 0), period 2^128-1.
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

  /** Uniform in [0, 1) (same as nextFloat). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Integer in [lo, hi], both inclusive. */
  intIn(lo: number, hi: number): number {
    return lo + Math.floor(this.nextFloat() * (hi - lo + 1));
  }

  /** A fresh 32-bit seed for a child generator (e.g. one per dropout call). */
  fork(): number {
    return this.nextU32();
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** murmur3's 32-bit finaliser: spreads nearby values into unrelated ones. */
function fmix32(h: number): number {
  let z = h >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/**
 * One 32-bit seed from a run seed and stream ids: numbers (epoch, step, split id; values above 2^32 keep both halves)
 * and names (a layer path, hashed with FNV-1a over UTF-8). Order matters. A layer's initial weights therefore depend
 * only on the run seed and its own name, and each shuffle/dropout stream on (seed, stream, epoch, step).
 */
export function deriveSeed(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const p of parts) {
    if (typeof p === 'string') {
      for (const byte of new TextEncoder().encode(p)) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
      h = fmix32(h ^ 0x5bd1e995);
    } else {
      h = fmix32(h ^ (p >>> 0));
      h = fmix32(h ^ (Math.floor(p / 4294967296) >>> 0) ^ 0x27d4eb2f);
    }
  }
  return h;
}
