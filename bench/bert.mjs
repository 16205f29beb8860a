// Benchmark: BERT-base-sized fine-tuning step (hidden 768, 12 heads, FFN 3072, vocab 30522, erf GELU, dropout on,
// key mask), batch 16 x 50 tokens, forward+backward with tf.variableGrads (+ Adam step), wasm backend with the
// matMul patch. Runs 1 and 3 encoder layers and extrapolates linearly to 12 (embeddings counted once), to stay
// under about a minute. Run: npx tsc -p tsconfig.build.json && node bench/bert.mjs
// Env: BENCH_STEPS (timed steps per config, default 3), BENCH_BACKEND (default wasm).
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/runtime/backend.js';
import { ParamStore, Rng, trainCtx } from '../dist/runtime/nn/index.js';
import { createBert, parseBertConfig } from '../dist/runtime/nn/bert/index.js';
import { Adam } from '../dist/runtime/train/optim/adam.js';

const B = 16;
const L = 50;
const STEPS = Number(process.env.BENCH_STEPS ?? 3);
const REF_MS_PER_BATCH = 3400; // PyTorch reference: Self-MM with 12-layer BERT fine-tuning, batch 16, this machine

function batch() {
  const r = new Rng(42);
  const ids = new Int32Array(B * L);
  const mask = new Float32Array(B * L);
  for (let b = 0; b < B; b++) {
    const len = 10 + r.int(L - 10);
    for (let t = 0; t < L; t++) {
      ids[b * L + t] = t === 0 ? 101 : t < len - 1 ? 1000 + r.int(29000) : t === len - 1 ? 102 : 0;
      mask[b * L + t] = t < len ? 1 : 0;
    }
  }
  return { ids: tf.tensor2d(ids, [B, L], 'int32'), mask: tf.tensor2d(mask, [B, L]), types: tf.zeros([B, L], 'int32'), y: tf.randomNormal([B, 1], 0, 1, 'float32', 1) };
}

async function run(layers) {
  const config = parseBertConfig({ num_hidden_layers: layers });
  const store = new ParamStore({ seed: 1 });
  const bert = createBert(store, 'bert', config);
  const headW = tf.variable(tf.randomNormal([768, 1], 0, 0.02, 'float32', 2), true, 'bench_head');
  const opt = new Adam([{ params: store.select({ prefix: 'bert' }), lr: 5e-5 }, { params: [headW], lr: 1e-3 }]);
  const data = batch();
  const times = { fwd: [], fwdBwd: [], step: [] };
  for (let s = 0; s <= STEPS; s++) {
    const ctx = trainCtx(s + 1);
    let t0 = performance.now();
    tf.tidy(() => bert.apply(data.ids, data.mask, data.types, ctx).cls.dataSync());
    const fwd = performance.now() - t0;
    t0 = performance.now();
    const { value, grads } = tf.variableGrads(() => {
      const { cls } = bert.apply(data.ids, data.mask, data.types, ctx);
      return tf.mean(tf.abs(tf.sub(tf.matMul(cls, headW), data.y)));
    }, opt.variables());
    value.dataSync();
    for (const g of Object.values(grads)) g.dataSync();
    const fb = performance.now() - t0;
    t0 = performance.now();
    opt.step(grads);
    tf.dispose(grads);
    value.dispose();
    store.get('bert.pooler.dense.bias').dataSync();
    const st = performance.now() - t0;
    if (s > 0) {
      times.fwd.push(fwd);
      times.fwdBwd.push(fb);
      times.step.push(st);
    }
  }
  opt.dispose();
  store.dispose();
  headW.dispose();
  tf.dispose(data);
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  return { fwd: med(times.fwd), fwdBwd: med(times.fwdBwd), adam: med(times.step) };
}

const backend = process.env.BENCH_BACKEND ?? 'wasm';
const info = await setupBackend(backend);
console.log(`backend ${backend} (simd ${info.details.simd ?? '-'}, threads ${info.details.threads ?? '-'}, matMul patch ${info.details.matMulPatch ?? '-'}, native kernels ${info.details.native?.active ? `${info.details.native.isa} x${info.details.native.threads} threads` : `off: ${info.details.native?.reason ?? '-'}`}); batch ${B} x ${L} tokens, ${STEPS} timed steps (median)`);
const r1 = await run(1);
const r2 = await run(3);
const fmt = (x) => x.toFixed(0).padStart(7);
console.log('layers |   fwd ms | fwd+bwd ms | adam ms');
console.log(`     1 | ${fmt(r1.fwd)}  | ${fmt(r1.fwdBwd)}    | ${fmt(r1.adam)}`);
console.log(`     3 | ${fmt(r2.fwd)}  | ${fmt(r2.fwdBwd)}    | ${fmt(r2.adam)}`);
const perLayer = { fwd: (r2.fwd - r1.fwd) / 2, fwdBwd: (r2.fwdBwd - r1.fwdBwd) / 2, adam: (r2.adam - r1.adam) / 2 };
const est = (k) => r1[k] - perLayer[k] + 12 * perLayer[k];
const fb12 = est('fwdBwd');
const step12 = fb12 + est('adam');
console.log(`per encoder layer: fwd ${perLayer.fwd.toFixed(0)} ms, fwd+bwd ${perLayer.fwdBwd.toFixed(0)} ms per batch (${(perLayer.fwdBwd / B).toFixed(1)} ms per sample)`);
console.log(`12 layers (linear extrapolation, embeddings once): fwd ${est('fwd').toFixed(0)} ms, fwd+bwd ${fb12.toFixed(0)} ms per batch = ${(fb12 / B).toFixed(0)} ms per sample; with Adam ${step12.toFixed(0)} ms per batch`);
console.log(`ratio to the PyTorch reference (${REF_MS_PER_BATCH} ms per batch of 16, whole Self-MM step): fwd+bwd ${(fb12 / REF_MS_PER_BATCH).toFixed(2)}x, fwd+bwd+Adam ${(step12 / REF_MS_PER_BATCH).toFixed(2)}x`);
console.log(`frozen BERT (forward only, no tape, dropout on as the reference): ${(est('fwd') / B).toFixed(0)} ms per sample`);
