// Benchmark: mmsa's native kernels against what the wasm backend does without them, side by side in one process:
// the matMul shapes that dominate the reference models' epochs (XNNPACK behind the transposing wrapper vs the native
// GEMM at 1 and 2 threads), the fused LSTM recurrence (per-step backend products vs native) and TFN's Adam step.
// Run: npm run bench -- native   (needs the native library: node scripts/build-native.mjs --strict)
import * as tf from '@tensorflow/tfjs';
import { activeNativeKernels, setNativeMatMul, setupBackend } from '../dist/runtime/backend.js';
import { lstmRecurrence, setDefaultRecurrentMatMul } from '../dist/runtime/nn/lstm-fused.js';
import { Adam } from '../dist/runtime/train/optim/adam.js';

const info = await setupBackend('wasm', { native: 'on' });
const native = activeNativeKernels();
console.log(`native kernels: ${info.details.native.isa}, up to ${native.threads} threads; wasm SIMD ${info.details.simd}`);

/** Median ms of fn over reps after one warm-up; the three variants interleave so load hits them alike. */
function timeSideBySide(variants, reps) {
  const times = variants.map(() => []);
  // tidy returns fn's result undisposed: dispose it, or every repetition keeps its output.
  const once = (v) => tf.dispose(tf.tidy(v.fn));
  for (const v of variants) v.set(), once(v);
  for (let r = 0; r < reps; r++) {
    variants.forEach((v, i) => {
      v.set();
      const t0 = performance.now();
      once(v);
      times[i].push(performance.now() - t0);
    });
  }
  setNativeMatMul(native.mod, native.threads);
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}
const variants = (fn) => [
  { name: 'xnnpack', set: () => setNativeMatMul(undefined), fn },
  { name: 'native 1t', set: () => setNativeMatMul(native.mod, 1), fn },
  { name: `native ${native.threads}t`, set: () => setNativeMatMul(native.mod, native.threads), fn },
];

const SHAPES = [
  // [label, a shape, b shape, transposeA, transposeB]
  ['text LSTM input projection (LMF, B 64)', [3200, 768], [512, 768], false, true],
  ['its weight gradient', [3200, 512], [3200, 768], true, false],
  ['recurrent weight gradient', [3200, 512], [3200, 128], true, false],
  ['per-step recurrent product', [64, 128], [512, 128], false, true],
  ['TFN Linear(140481 -> 64), B 32', [32, 140481], [64, 140481], false, true],
  ['  its input gradient', [32, 64], [64, 140481], false, false],
  ['  its weight gradient', [32, 64], [32, 140481], true, false],
  ['TFN outer product (batched, K = 1)', [32, 4257, 1], [32, 1, 33], false, false],
];
console.log('\nmatMul                                        shape                       xnnpack ms  native 1t  native 2t  speed-up (2t)');
for (const [label, sa, sb, ta, tb] of SHAPES) {
  const a = tf.randomNormal(sa);
  const b = tf.randomNormal(sb);
  const flops = 2 * (ta ? sa.at(-2) : sa.at(-1)) * (ta ? sa.at(-1) : sa.at(-2)) * (tb ? sb.at(-2) : sb.at(-1)) * (sa.length === 3 ? sa[0] : 1);
  const big = flops > 1e8;
  const [x, n1, n2] = timeSideBySide(variants(() => tf.matMul(a, b, ta, tb)), big ? 7 : 41);
  const shape = `${sa.join('x')}${ta ? '^T' : ''} * ${sb.join('x')}${tb ? '^T' : ''}`;
  console.log(`${label.padEnd(45)} ${shape.padEnd(27)} ${x.toFixed(2).padStart(10)} ${n1.toFixed(2).padStart(10)} ${n2.toFixed(2).padStart(10)} ${(x / n2).toFixed(1).padStart(10)}x   (${(flops / n2 / 1e6).toFixed(0)} GFLOP/s)`);
  tf.dispose([a, b]);
}

// Fused LSTM recurrence, forward + backward, text-LSTM sized (B 64, T 50, H 128).
{
  const [B, T, H] = [64, 50, 128];
  const xp = tf.randomNormal([B, T, 4 * H]);
  const whh = tf.variable(tf.mul(tf.randomNormal([4 * H, H]), 0.1));
  const lens = Int32Array.from({ length: B }, (_, i) => 10 + (i % 41));
  const step = () => tf.variableGrads(() => tf.sum(lstmRecurrence(xp, whh, lens, false)), [whh]).grads[whh.name];
  const rows = [];
  for (const mode of ['tf', 'native']) {
    setDefaultRecurrentMatMul(mode);
    tf.dispose(tf.tidy(step));
    const t = [];
    for (let r = 0; r < 9; r++) {
      const t0 = performance.now();
      tf.dispose(tf.tidy(step));
      t.push(performance.now() - t0);
    }
    rows.push(t.sort((p, q) => p - q)[4]);
  }
  setDefaultRecurrentMatMul('auto');
  console.log(`\nLSTM recurrence fwd+bwd (B ${B}, T ${T}, H ${H}): per-step backend products ${rows[0].toFixed(1)} ms, native ${rows[1].toFixed(1)} ms (${(rows[0] / rows[1]).toFixed(1)}x)`);
  tf.dispose([xp, whh]);
}

// Adam step over TFN's 9M-parameter Linear weight (plus decay), tensor ops vs the fused native pass.
{
  const p = tf.variable(tf.randomNormal([64, 140481]));
  const g = tf.mul(tf.randomNormal([64, 140481]), 0.01);
  const res = [];
  for (const on of [false, true]) {
    setNativeMatMul(on ? native.mod : undefined);
    const opt = new Adam([{ params: [p], lr: 1e-3, weightDecay: 1e-2 }]);
    opt.step({ [p.name]: g });
    const t = [];
    for (let r = 0; r < 9; r++) {
      const t0 = performance.now();
      opt.step({ [p.name]: g });
      t.push(performance.now() - t0);
    }
    res.push(t.sort((x, y) => x - y)[4]);
    opt.dispose();
  }
  setNativeMatMul(native.mod, native.threads);
  tf.dispose([p, g]);
  console.log(`Adam step, 9.0M parameters (TFN's fusion Linear): tensor ops ${res[0].toFixed(1)} ms, fused native ${res[1].toFixed(1)} ms (${(res[0] / res[1]).toFixed(1)}x); same bits (test/runtime/train/optim/adam.test.ts)`);
}
