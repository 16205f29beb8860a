// Benchmark: interview-level inputs (10^4 frames per session, B=16): window pooling alone, the multi-scale dilated
// TCN and an LSTM each after 100-frame windows and at the full frame rate, forward + backward, with the backend's
// peak bytes of one step. Side by side with the same maths in PyTorch (bench/depression_ref.py, CPU, 1 and 2 threads)
// when /usr/bin/python3 has torch. Run: npm run bench -- depression. Env: BENCH_STEPS (default 3), BENCH_FRAMES.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setupBackend } from '../dist/runtime/backend.js';
import { getComponent } from '../dist/components/catalog.js';
import { getLowering } from '../dist/runtime/lower/registry.js';
import { ParamStore, Rng, evalCtx } from '../dist/runtime/nn/index.js';
import { WASM_HEAP_LIMIT } from '../dist/runtime/memory/plan-memory.js';

const here = dirname(fileURLToPath(import.meta.url));
const B = 16;
const T = Number(process.env.BENCH_FRAMES ?? 10000);
const D = 49; // OpenFace-like vision
const STEPS = Number(process.env.BENCH_STEPS ?? 3);

const tcn = { type: 'dilated_tcn', channels: 64, kernel: 3, dilations: [1, 2, 4, 8], blocks: 2, dropout: 0, pool: 'mean', out: null };
const lstm = { type: 'lstm', hidden: 32, layers: 1, dropout: 0, bidirectional: false, out: null, packed: true };
const pooled = (encoder) => ({ type: 'window_pool', window: 100, op: 'mean', encoder });
const CASES = [
  ['window_pool 100 (mean), forward', pooled(null), false],
  ['window_pool 100 -> dilated_tcn', pooled(tcn), true],
  ['dilated_tcn at full rate', tcn, true],
  ['window_pool 100 -> lstm 32', pooled(lstm), true],
  ['lstm 32 at full rate (packed)', lstm, true],
];

/** One encoder node through its own shape rule and lowering, as the compiler and the lowering driver build it. */
function lower(params) {
  const def = getComponent('encoder', params.type);
  const input = { id: 'modalities.vision', name: 'vision', type: { kind: 'sequence', shape: ['B', T, D], dtype: 'float32', lengths: 'vision_lengths' }, span: { file: 'bench', start: 0, end: 0 } };
  const res = def.infer({ node: 'encoders.vision', params, inputs: [input], span: input.span, spanOf: () => input.span, report: (c) => { throw new Error(c); } });
  const inNode = { id: input.id, kind: 'input', name: 'vision', type: 'vision', inputs: [], output: input.type, params: [], summary: '', config: {}, span: input.span };
  const node = { id: 'encoders.vision', kind: 'encoder', name: 'vision', type: params.type, inputs: [input.id], output: res.output, params: res.params, summary: def.summary(params), config: params, span: input.span };
  const store = new ParamStore({ seed: 1111 });
  const lowered = getLowering('encoder', params.type).lowerNode(node, { store, ir: undefined, inputs: [inNode] });
  const ir = { nodes: [inNode, node] };
  const planned = def.stepMemory ? def.stepMemory(node, { ir, batch: B, mode: 'keep', frozen: false }).saved : 16 * 4 * B * (T * D);
  return { store, lowered, planned };
}

const ms = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const info = await setupBackend('wasm');
  const r = new Rng(7);
  const lengths = Int32Array.from({ length: B }, () => Math.round(T * (0.5 + 0.5 * r.nextFloat())));
  const x = tf.tensor3d(Float32Array.from({ length: B * T * D }, () => r.normal()), [B, T, D]);
  console.log(`B=${B}, ${T} frames x ${D} dims (lengths ${Math.min(...lengths)}-${Math.max(...lengths)}), ${STEPS} steps, median; backend wasm${info.details.native?.active ? ` + native ${info.details.native.isa} x${info.details.native.threads}` : ' (no native kernels)'}`);
  const ours = {};
  const skipped = [];
  for (const [label, params, backward] of CASES) {
    const { store, lowered, planned } = lower(params);
    // What the memory plan says one training step holds: a case beyond the wasm heap would abort the process.
    if (planned > 0.8 * WASM_HEAP_LIMIT) {
      console.log(`  ${label.padEnd(34)} not run: the memory plan puts one step at ${(planned / 2 ** 30).toFixed(1)} GiB, beyond the wasm heap`);
      skipped.push(label);
      store.dispose();
      continue;
    }
    const vars = store.trainableVariables();
    const once = () => {
      if (!backward) return tf.tidy(() => lowered.apply([{ tensor: x, lengths }], evalCtx()).tensor.dataSync());
      const { value, grads } = tf.variableGrads(() => tf.sum(lowered.apply([{ tensor: x, lengths }], evalCtx()).tensor), vars);
      value.dataSync();
      value.dispose();
      for (const g of Object.values(grads)) g.dispose();
    };
    once(); // warm-up
    const prof = await tf.profile(() => { once(); });
    const times = [];
    for (let i = 0; i < STEPS; i++) {
      const t0 = performance.now();
      once();
      times.push(performance.now() - t0);
    }
    ours[label] = ms(times);
    console.log(`  ${label.padEnd(34)} ${ms(times).toFixed(0).padStart(7)} ms/step  peak ${(prof.peakBytes / 2 ** 20).toFixed(0).padStart(6)} MiB (plan ${(planned / 2 ** 20).toFixed(0)} MiB)`);
    store.dispose();
  }
  const ref = spawnSync('/usr/bin/python3', [join(here, 'depression_ref.py'), String(B), String(T), String(D), String(STEPS), JSON.stringify(skipped)], { encoding: 'utf8' });
  if (ref.status !== 0) {
    console.log(`reference (PyTorch) not run: ${(ref.stderr || ref.error?.message || '').trim().split('\n').pop()}`);
    return;
  }
  const rows = JSON.parse(ref.stdout);
  console.log('PyTorch (CPU), same shapes and maths; ratio = ours / torch (below 1: ours faster)');
  for (const [label] of CASES) {
    const t = rows[label];
    if (!t || ours[label] === undefined) continue;
    console.log(`  ${label.padEnd(34)} torch 1 thread ${t[0].toFixed(0).padStart(6)} ms (x${(ours[label] / t[0]).toFixed(2)}), 2 threads ${t[1].toFixed(0).padStart(6)} ms (x${(ours[label] / t[1]).toFixed(2)})`);
  }
}

await main();
