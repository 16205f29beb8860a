// PyTorch's default parameter initialisers over the runtime's seeded PRNG (re-exported here with deriveSeed).
// Phase 6 (lower) creates parameters with these.

export { Rng, deriveSeed } from '../random.js';
import type { Rng } from '../random.js';

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
