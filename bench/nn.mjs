// Benchmark: forward+backward(+Adam) of a Self-MM-like step without BERT (models/multiTask/SELF_MM.py), B=16:
// text = precomputed 768-d [CLS], audio B x 375 x 5 packed LSTM(16), vision B x 500 x 20 packed LSTM(32), 4 MLP heads, L1.
// Backends: wasm with / without the matMul patch, cpu; LSTM op-by-op vs fused. Run: npx tsc -p tsconfig.build.json && node bench/nn.mjs
// Env: BENCH_STEPS (default 5), BENCH_ONLY='label|label' to run a subset.
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/runtime/backend.js';
import { ParamStore, Rng, createAuViSubNet, createMlpHead, trainCtx } from '../dist/runtime/nn/index.js';
import { Adam, disposeGrads } from '../dist/runtime/train/optim/adam.js';

const B = 16;
const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const only = process.env.BENCH_ONLY?.split('|');

function makeBatch(seed) {
  const r = new Rng(seed);
  const fill = (n) => Float32Array.from({ length: n }, () => r.normal());
  const lens = (T) => Array.from({ length: B }, () => Math.max(1, Math.round(T * (0.4 + 0.6 * r.nextFloat()))));
  return {
    text: tf.tensor2d(fill(B * 768), [B, 768]),
    audio: tf.tensor3d(fill(B * 375 * 5), [B, 375, 5]),
    audioLen: lens(375),
    vision: tf.tensor3d(fill(B * 500 * 20), [B, 500, 20]),
    visionLen: lens(500),
    y: tf.tensor2d(fill(B), [B, 1]),
  };
}

function buildModel(impl) {
  const store = new ParamStore({ seed: 1111 });
  const audio = createAuViSubNet(store, 'audio_model', 5, 16, 16, { impl });
  const video = createAuViSubNet(store, 'video_model', 20, 32, 32, { impl });
  const heads = {
    M: createMlpHead(store, 'post_fusion', 768 + 16 + 32, 128, 0.0),
    T: createMlpHead(store, 'post_text', 768, 32, 0.1),
    A: createMlpHead(store, 'post_audio', 16, 16, 0.1),
    V: createMlpHead(store, 'post_video', 32, 32, 0.0),
  };
  const opt = new Adam([
    { name: 'audio', params: store.select({ prefix: 'audio_model' }), lr: 5e-3, weightDecay: 1e-3 },
    { name: 'video', params: store.select({ prefix: 'video_model' }), lr: 5e-3, weightDecay: 1e-3 },
    { name: 'other', params: store.select({ exclude: { prefix: ['audio_model', 'video_model'] } }), lr: 1e-3, weightDecay: 1e-3 },
  ]);
  return { store, audio, video, heads, opt };
}

function step(model, batch, seed) {
  const ctx = trainCtx(seed);
  const { value, grads } = tf.variableGrads(() => {
    const a = model.audio.apply(batch.audio, ctx, batch.audioLen);
    const v = model.video.apply(batch.vision, ctx, batch.visionLen);
    const f = tf.concat([batch.text, a, v], 1);
    const outs = [model.heads.M.apply(f, ctx), model.heads.T.apply(batch.text, ctx), model.heads.A.apply(a, ctx), model.heads.V.apply(v, ctx)];
    return tf.addN(outs.map((o) => tf.mean(tf.abs(tf.sub(o.output, batch.y)))));
  }, model.store.trainableVariables());
  model.opt.step(grads);
  const loss = value.dataSync()[0];
  value.dispose();
  disposeGrads(grads);
  return loss;
}

async function bench(label, backend, matMulPatch, impl) {
  if (only && !only.includes(label)) return undefined;
  await setupBackend(backend, { matMulPatch });
  const batch = makeBatch(7);
  const model = buildModel(impl);
  const loss0 = step(model, batch, 0); // warm-up
  const t0 = performance.now();
  let loss = loss0;
  for (let i = 1; i <= STEPS; i++) loss = step(model, batch, i);
  const ms = (performance.now() - t0) / STEPS;
  const fwd0 = performance.now();
  tf.tidy(() => {
    const ctx = { training: false, rng: new Rng(0) };
    const a = model.audio.apply(batch.audio, ctx, batch.audioLen);
    const v = model.video.apply(batch.vision, ctx, batch.visionLen);
    model.heads.M.apply(tf.concat([batch.text, a, v], 1), ctx).output.dataSync();
  });
  const fwdMs = performance.now() - fwd0;
  const tensors = tf.memory().numTensors;
  model.opt.dispose();
  model.store.dispose();
  tf.dispose(Object.values(batch).filter((x) => x instanceof tf.Tensor));
  console.log(`${label.padEnd(26)} ${ms.toFixed(1).padStart(8)} ms/step  fwd(eval) ${fwdMs.toFixed(1).padStart(7)} ms  loss ${loss0.toFixed(4)} -> ${loss.toFixed(4)}  live tensors ${tensors}`);
  return ms;
}

console.log(`Self-MM-like step without BERT, B=${B}, ${STEPS} timed steps after 1 warm-up (forward + backward + Adam)`);
const r = {};
r.wasmFused = await bench('wasm patched, fused LSTM', 'wasm', true, 'fused');
r.wasmOps = await bench('wasm patched, ops LSTM', 'wasm', true, 'ops');
r.wasmUnpatched = await bench('wasm unpatched, ops LSTM', 'wasm', false, 'ops');
r.wasmUnpatchedFused = await bench('wasm unpatched, fused', 'wasm', false, 'fused');
r.cpuOps = await bench('cpu, ops LSTM', 'cpu', true, 'ops');
r.cpuFused = await bench('cpu, fused LSTM', 'cpu', true, 'fused');
const ratio = (a, b) => (a && b ? (b / a).toFixed(2) + 'x' : 'n/a');
console.log(`speedup patched vs unpatched (ops LSTM):   ${ratio(r.wasmOps, r.wasmUnpatched)}`);
console.log(`speedup fused vs ops LSTM (wasm patched):  ${ratio(r.wasmFused, r.wasmOps)}`);
console.log(`speedup wasm patched+fused vs cpu ops:     ${ratio(r.wasmFused, r.cpuOps)}`);
