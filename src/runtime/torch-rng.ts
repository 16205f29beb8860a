// PyTorch's CPU random stream for parameter initialisation (`train.init_rng: torch`): mt19937 seeded as
// torch.manual_seed(seed), and the float32 arithmetic of torch's uniform_. Phase 6 (lower).

import { Rng } from './random.js';

const N = 624;
const M = 397;

/**
 * One mt19937 stream, drawn in order: with every parameter initialised from it in the reference module's creation
 * order, a seed gives the reference's initial weights bit for bit. Only uniform draws (nn.Linear, nn.LSTM/GRU,
 * xavier_uniform_) follow torch; anything else throws, because torch's normal_ and bernoulli_ take other paths.
 */
export class TorchRng extends Rng {
  private readonly mt = new Uint32Array(N);
  private mti = N;

  constructor(seed: number) {
    super(seed);
    // mt19937::init_with_uint32 (torch.manual_seed keeps the low 32 bits of the seed)
    this.mt[0] = seed >>> 0;
    for (let j = 1; j < N; j++) {
      const p = this.mt[j - 1]! ^ (this.mt[j - 1]! >>> 30);
      this.mt[j] = (Math.imul(1812433253, p) + j) >>> 0;
    }
  }

  /** The next 32-bit output of mt19937 (CPUGeneratorImpl::random()). */
  override nextU32(): number {
    const s = this.mt;
    if (this.mti >= N) {
      for (let k = 0; k < N; k++) {
        const y = (s[k]! & 0x80000000) | (s[(k + 1) % N]! & 0x7fffffff);
        s[k] = (s[(k + M) % N]! ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
      }
      this.mti = 0;
    }
    let y = s[this.mti++]!;
    y ^= y >>> 11;
    y = (y ^ ((y << 7) & 0x9d2c5680)) >>> 0;
    y = (y ^ ((y << 15) & 0xefc60000)) >>> 0;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** torch.rand's float32 value: the low 24 bits of one draw over 2^24. */
  override nextFloat(): number {
    return (this.nextU32() & 0xffffff) / 16777216;
  }

  /**
   * Tensor.uniform_(lo, hi) on a float32 tensor: the bounds are cast to float32, the 24-bit fraction is scaled in
   * double and the result rounded to float32 once.
   */
  override uniform(lo: number, hi: number): number {
    const from = Math.fround(lo);
    const to = Math.fround(hi);
    return Math.fround(this.nextFloat() * (to - from) + from);
  }

  override normal(): number {
    throw new TorchRngUnsupported('normal');
  }

  override int(): number {
    throw new TorchRngUnsupported('integer');
  }

  override fillMask(): void {
    throw new TorchRngUnsupported('dropout mask');
  }
}

/** A draw TorchRng does not reproduce; the lowering turns it into a diagnostic naming the parameter. */
export class TorchRngUnsupported extends Error {
  constructor(readonly draw: string) {
    super(`torch's ${draw} draws are not reproduced (only uniform initialisers are)`);
  }
}
