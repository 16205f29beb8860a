// Micro-benchmark: one packed LSTM layer (vision-sized: B=16, T=500, D=20, H=32) forward+backward, fused vs op-by-op,
// on wasm (patched). Run: npx tsc -p tsconfig.build.json && node bench/nn-lstm.mjs
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/runtime/backend.js';
import { ParamStore, Rng, createLstm, evalCtx } from '../dist/runtime/nn/index.js';

const B = 16, T = 500, D = 20, H = 32, REPS = Number(process.env.BENCH_STEPS ?? 3);
await setupBackend(process.env.BENCH_BACKEND ?? 'wasm');
const r = new Rng(1);
const x = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => r.normal()), [B, T, D]);
const lengths = Array.from({ length: B }, () => Math.round(T * (0.4 + 0.6 * r.nextFloat())));
for (const impl of ['fused', 'ops']) {
  const store = new ParamStore({ seed: 1 });
  const lstm = createLstm(store, 'rnn', { inputSize: D, hiddenSize: H, impl });
  const once = () => {
    const { value, grads } = tf.variableGrads(() => tf.sum(lstm.apply(x, evalCtx(), { lengths }).last), store.trainableVariables());
    tf.dispose([value, ...Object.values(grads)]);
  };
  once();
  const t0 = performance.now();
  for (let i = 0; i < REPS; i++) once();
  const fb = (performance.now() - t0) / REPS;
  const t1 = performance.now();
  for (let i = 0; i < REPS; i++) tf.tidy(() => lstm.apply(x, evalCtx(), { lengths }).last.dataSync());
  const f = (performance.now() - t1) / REPS;
  console.log(`${impl.padEnd(6)} forward ${f.toFixed(1).padStart(7)} ms   forward+backward ${fb.toFixed(1).padStart(7)} ms`);
  store.dispose();
}
