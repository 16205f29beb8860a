// Micro-benchmark: the LSTM shapes of the five reference models (text LSTM of TFN/LMF/LF-DNN, EF-LSTM's 4 layers,
// Self-MM's packed audio/vision LSTMs): forward (eval), forward+backward, ms per time step, per implementation,
// plus the pieces (input projection matMul, a per-step recurrent matMul in wasm).
// Run: npx tsc -p tsconfig.build.json && node bench/lstm-shapes.mjs
// Env: BENCH_REPS (default 3), BENCH_IMPLS ('fused|fused-js|fused-tf|ops', default all), BENCH_ONLY='tfn-text|...'.
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/runtime/backend.js';
import { ParamStore, Rng, createLstm, evalCtx, setDefaultRecurrentMatMul } from '../dist/runtime/nn/index.js';

const REPS = Number(process.env.BENCH_REPS ?? 3);
// 'fused' = createLstm's fused recurrence with the automatic choice; 'fused-js' / 'fused-tf' force the per-step matMul.
const IMPLS = (process.env.BENCH_IMPLS ?? 'fused|fused-js|fused-tf|ops').split('|');
const only = process.env.BENCH_ONLY?.split('|');
await setupBackend(process.env.BENCH_BACKEND ?? 'wasm');

const SHAPES = [
  { label: 'tfn-text', B: 32, T: 50, D: 768, H: 128, layers: 1 },
  { label: 'lmf-text', B: 64, T: 50, D: 768, H: 128, layers: 1 },
  { label: 'lfdnn-text', B: 128, T: 50, D: 768, H: 128, layers: 1 },
  { label: 'ef-lstm', B: 32, T: 50, D: 793, H: 128, layers: 4 },
  { label: 'selfmm-audio', B: 16, T: 375, D: 5, H: 16, layers: 1, packed: true },
  { label: 'selfmm-vision', B: 16, T: 500, D: 20, H: 32, layers: 1, packed: true },
].filter((s) => !only || only.includes(s.label));

/** Best of REPS after a warm-up: the minimum is the figure least disturbed by other processes on the machine. */
function time(fn) {
  fn();
  let best = Infinity;
  for (let i = 0; i < REPS; i++) {
    const t0 = performance.now();
    fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

const fmt = (x) => x.toFixed(1).padStart(8);
console.log(`LSTM shapes, backend ${tf.getBackend()}, best of ${REPS} reps after 1 warm-up (ms)`);
console.log('shape          impl      forward  fwd+bwd  fwd/step  f+b/step');
for (const s of SHAPES) {
  const r = new Rng(1);
  const x = tf.tensor3d(Float32Array.from({ length: s.B * s.T * s.D }, () => r.normal()), [s.B, s.T, s.D]);
  const lengths = s.packed ? Array.from({ length: s.B }, () => Math.max(1, Math.round(s.T * (0.4 + 0.6 * r.nextFloat())))) : undefined;
  const opts = lengths ? { lengths } : {};
  for (const impl of IMPLS) {
    const store = new ParamStore({ seed: 1 });
    setDefaultRecurrentMatMul(impl === 'fused-js' ? 'js' : impl === 'fused-tf' ? 'tf' : 'auto');
    const lstm = createLstm(store, 'rnn', { inputSize: s.D, hiddenSize: s.H, numLayers: s.layers, impl: impl === 'ops' ? 'ops' : 'fused' });
    // Never return a TypedArray from tf.tidy: tidy walks it element by element looking for tensors.
    const fwd = time(() => {
      const last = tf.tidy(() => lstm.apply(x, evalCtx(), opts).last);
      last.dataSync();
      last.dispose();
    });
    const fb = time(() => {
      const { value, grads } = tf.variableGrads(() => tf.sum(lstm.apply(x, evalCtx(), opts).last), store.trainableVariables());
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const steps = s.T * s.layers;
    console.log(`${s.label.padEnd(14)} ${impl.padEnd(8)} ${fmt(fwd)} ${fmt(fb)} ${(fwd / steps).toFixed(3).padStart(9)} ${(fb / steps).toFixed(3).padStart(9)}`);
    store.dispose();
  }
  setDefaultRecurrentMatMul('auto');
  // The pieces: one big input projection, and one recurrent step's h W_hh^T through wasm incl. upload/readback.
  const w = tf.randomNormal([4 * s.H, s.D]);
  const proj = time(() => tf.tidy(() => {
    tf.matMul(tf.reshape(x, [s.B * s.T, s.D]), w, false, true).dataSync();
  }));
  const whhT = tf.randomNormal([s.H, 4 * s.H]);
  const h = new Float32Array(s.B * s.H).fill(0.1);
  const step = time(() => {
    for (let i = 0; i < 20; i++) {
      tf.tidy(() => {
        tf.matMul(tf.tensor2d(h, [s.B, s.H]), whhT).dataSync();
      });
    }
  }) / 20;
  console.log(`${''.padEnd(14)} pieces   input projection ${proj.toFixed(2)} ms, wasm step matMul (upload+matMul+read) ${step.toFixed(3)} ms`);
  tf.dispose([x, w, whhT]);
}
