// Profile: per-kernel wall time (wasm) over a training run of one reference model on MOSI-sized synthetic data,
// to find where an epoch goes. Run: npx tsc -p tsconfig.build.json && BENCH_MODEL=tfn node bench/kernel-profile.mjs
// Env: BENCH_MODEL (self_mm|lmf|lf_dnn|tfn|ef_lstm|mult|mfn, default tfn; ef_lstm and mfn read the aligned file, 50 steps), BENCH_EPOCHS (default 1), BENCH_TOP (default 25),
// BENCH_SEQ (text,audio,vision lengths of the unaligned file, default 50,375,500), BENCH_N_TRAIN (default 1284).
// Times nest: the patched BatchMatMul's own Transpose calls are counted under both kernels.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { parse, stringify } from 'yaml';
import { compileFile } from '../dist/compiler/compile.js';
import { packageRoot } from '../dist/paths.js';
import { setupBackend } from '../dist/runtime/backend.js';
import { runPipeline } from '../dist/runtime/run.js';

const MODEL = process.env.BENCH_MODEL ?? 'tfn';
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
const TOP = Number(process.env.BENCH_TOP ?? 25);
await setupBackend('wasm');

const stats = new Map();
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      const t0 = performance.now();
      try {
        return inner(args);
      } finally {
        const dt = performance.now() - t0;
        const shapes = Object.values(args.inputs ?? {}).map((t) => (t && t.shape ? `[${t.shape.join(',')}]` : '?')).join(' ');
        const key = `${k.kernelName} ${shapes}`;
        const s = stats.get(key) ?? { n: 0, ms: 0, name: k.kernelName };
        s.n += 1;
        s.ms += dt;
        stats.set(key, s);
      }
    },
  });
}

const root = packageRoot();
const work = mkdtempSync(join(tmpdir(), 'mmsa-bench-prof-'));
const spec = parse(readFileSync(join(root, 'pipelines', `${MODEL}_mosi.yaml`), 'utf8'));
const aligned = MODEL === 'ef_lstm' || MODEL === 'mfn';
spec.name = `prof_${MODEL}`;
spec.dataset = {
  type: 'synthetic', like: 'mosi', aligned, n_train: Number(process.env.BENCH_N_TRAIN ?? 1284), n_valid: 229, n_test: 686, seed: 1,
  seq_lens: aligned ? { text: 50 } : Object.fromEntries(['text', 'audio', 'vision'].map((m, i) => [m, Number((process.env.BENCH_SEQ ?? '50,375,500').split(',')[i])])),
};
spec.train = { ...spec.train, max_epochs: EPOCHS };
spec.seeds = [1111];
if (MODEL === 'self_mm') {
  spec.modalities = { ...(spec.modalities ?? {}), text: { feature: 'text' } };
  spec.encoders = { ...spec.encoders, text: { type: 'precomputed', select: 'cls' } };
  spec.train.optimizer.groups = spec.train.optimizer.groups.filter((g) => g.name !== 'bert');
}
const file = join(work, `prof_${MODEL}.yaml`);
writeFileSync(file, stringify(spec));
const compiled = compileFile(file);
let wall = 0;
let t0 = 0;
const it = runPipeline(compiled, { outRoot: join(work, 'runs'), backend: 'wasm', force: true });
for (;;) {
  const r = await it.next();
  if (r.done) break;
  if (r.value.kind === 'epoch.start') { stats.clear(); t0 = performance.now(); }
  if (r.value.kind === 'epoch.end') { wall = performance.now() - t0; console.log(`epoch ${r.value.epoch}: ${r.value.seconds.toFixed(2)} s`); }
  if (r.value.kind === 'run.error') console.log(r.value.message);
}
const rows = [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms);
const total = rows.reduce((s, [, v]) => s + v.ms, 0);
console.log(`${MODEL}: last epoch wall ${(wall / 1000).toFixed(2)} s, in kernels ${(total / 1000).toFixed(2)} s (rest: JS loops, data, dispatch)`);
const byName = new Map();
for (const [, v] of rows) byName.set(v.name, (byName.get(v.name) ?? 0) + v.ms);
console.log('by kernel: ' + [...byName.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, ms]) => `${k} ${(ms / 1000).toFixed(2)}s`).join(', '));
for (const [key, v] of rows.slice(0, TOP)) console.log(`${(v.ms / 1000).toFixed(3).padStart(8)} s ${String(v.n).padStart(6)}x  ${key}`);
rmSync(work, { recursive: true, force: true });
