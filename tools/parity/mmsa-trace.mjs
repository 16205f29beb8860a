// Self-MM parity tooling, mmsa side: trains the bench's Self-MM (precomputed [CLS] text) on one MMSA-layout pickle and
// records its trajectory (per-step losses per head, gradient norms per optimizer group, per-epoch label banks, weights).
// Also writes what the reference side needs to start from the same point: the initial weights and the batch orders.
// Run: npx tsc -p tsconfig.build.json && node tools/parity/mmsa-trace.mjs --pkl FILE --out DIR [options] (README.md)

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { parse, stringify } from 'yaml';
import { compileFile } from '../../dist/compiler/compile.js';
import { packageRoot } from '../../dist/paths.js';
import { setupBackend } from '../../dist/runtime/backend.js';
import { loadDataset } from '../../dist/runtime/data/load-dataset.js';
import { epochOrder, gatherBatch } from '../../dist/runtime/data/batching.js';
import { deriveSeed } from '../../dist/runtime/random.js';
import { lowerPipeline } from '../../dist/runtime/lower/lower-pipeline.js';
import { runSchedule } from '../../dist/runtime/train/executor.js';

const { values: a } = parseArgs({
  options: {
    pkl: { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string', default: '1111' },
    'max-epochs': { type: 'string', default: '0' },
    // Orders for this many epochs are written (the run must stop before: early stop or --max-epochs).
    'order-epochs': { type: 'string', default: '80' },
    'no-dropout': { type: 'boolean', default: false },
    // Read batch orders from this file instead of writing mmsa's own (e.g. orders the reference side wrote).
    orders: { type: 'string' },
    // Start from these weights (weights.json + .bin written by either side) instead of mmsa's own initialisation.
    'init-weights': { type: 'string' },
    // Extra spec overrides as JSON merged into `train` (e.g. '{"grad_accum_mode":"corrected"}').
    train: { type: 'string', default: '{}' },
    // Extra spec overrides as JSON merged into `tasks.ulgm`.
    ulgm: { type: 'string', default: '{}' },
    'grad-steps': { type: 'string', default: '12' },
    'dump-steps': { type: 'string', default: '1,2,4' },
    // Write init-weights and orders, then stop (no training).
    'init-only': { type: 'boolean', default: false },
  },
});
if (!a.pkl || !a.out) {
  console.error('usage: node tools/parity/mmsa-trace.mjs --pkl FILE.pkl --out DIR [--seed N] [--max-epochs N] [--no-dropout] [--orders FILE] [--init-weights FILE]');
  process.exit(2);
}
const seed = Number(a.seed);
const out = resolve(a.out);
mkdirSync(out, { recursive: true });
const maxEpochs = Number(a['max-epochs']) || null;

// The spec bench/train.mjs trains: pipelines/self_mm_mosi.yaml with the text encoder swapped for precomputed [CLS]
// features and the (then empty) BERT optimizer group removed.
function buildSpec() {
  const spec = parse(readFileSync(join(packageRoot(), 'pipelines', 'self_mm_mosi.yaml'), 'utf8'));
  spec.name = 'parity_self_mm';
  // a data root laid out as MMSA's (<root>/MOSI/Processed/unaligned_50.pkl) that links to the given file
  const root = mkdtempSync(join(tmpdir(), 'mmsa-parity-'));
  mkdirSync(join(root, 'MOSI', 'Processed'), { recursive: true });
  symlinkSync(resolve(a.pkl), join(root, 'MOSI', 'Processed', 'unaligned_50.pkl'));
  spec.dataset = { name: 'mosi', file: 'unaligned_50', root };
  spec.train = { ...spec.train, max_epochs: maxEpochs, ...JSON.parse(a.train) };
  spec.seeds = [seed];
  spec.modalities = { ...(spec.modalities ?? {}), text: { feature: 'text' } };
  spec.encoders = { ...spec.encoders, text: { type: 'precomputed', select: 'cls' } };
  spec.train.optimizer.groups = spec.train.optimizer.groups.filter((g) => g.name !== 'bert');
  if (a['no-dropout']) for (const h of Object.values(spec.heads)) h.dropout = 0;
  spec.tasks.ulgm = { ...spec.tasks.ulgm, ...JSON.parse(a.ulgm) };
  return { spec, root };
}

const { spec, root } = buildSpec();
const specFile = join(root, 'spec.yaml');
writeFileSync(specFile, stringify(spec));
const compiled = compileFile(specFile);
const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
if (errors.length > 0 || !compiled.ir) {
  console.error(errors.map((d) => `${d.code} ${d.message}`).join('\n'));
  process.exit(1);
}
const ir = compiled.ir;
await setupBackend('wasm', {});
const data = await loadDataset(ir);
const pipeline = lowerPipeline(ir, { seed, trainSize: data.train.n, outDir: out });
const store = pipeline.model.store;

// ---- weights: float32 little-endian blob + index of keys/shapes/offsets -----------------------------------------------
function writeWeights(name, state) {
  const index = [];
  let offset = 0;
  for (const [key, v] of state) {
    index.push({ key, shape: v.shape, offset });
    offset += v.values.length;
  }
  const blob = new Float32Array(offset);
  for (const [i, [, v]] of [...state].entries()) blob.set(v.values, index[i].offset);
  writeFileSync(join(out, `${name}.bin`), Buffer.from(blob.buffer));
  writeFileSync(join(out, `${name}.json`), JSON.stringify({ dtype: 'float32', entries: index }));
}
function readWeights(file) {
  const idx = JSON.parse(readFileSync(file, 'utf8'));
  const buf = readFileSync(file.replace(/\.json$/, '.bin'));
  const blob = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
  const m = new Map();
  for (const e of idx.entries) {
    const n = e.shape.reduce((x, y) => x * y, 1);
    m.set(e.key, { shape: e.shape, values: blob.slice(e.offset, e.offset + n) });
  }
  return m;
}
if (a['init-weights']) store.loadStateDict(readWeights(resolve(a['init-weights'])));
writeWeights('init-weights', store.stateDict());

// ---- batch orders ---------------------------------------------------------------------------------------------------
// mmsa's own: the executor's seeded per-epoch shuffles (train stream 1, valid 2, test 3; the test pass runs at epoch
// epochs + 1). Written for every epoch so the reference can replay them.
let orders;
if (a.orders) {
  orders = JSON.parse(readFileSync(resolve(a.orders), 'utf8'));
} else {
  const E = Number(a['order-epochs']);
  // the executor shuffles with deriveSeed(seed, stream) and epochOrder mixes the epoch in
  const mk = (split, stream) => {
    const o = {};
    for (let e = 1; e <= E + 1; e++) o[e] = Array.from(epochOrder(data[split].n, true, deriveSeed(seed, stream), e));
    return o;
  };
  orders = { batch_size: ir.schedule.batchSize, train: mk('train', 1), valid: mk('valid', 2), test: mk('test', 3) };
}
writeFileSync(join(out, 'orders.json'), JSON.stringify(orders));
if (a['init-only']) {
  rmSync(root, { recursive: true, force: true });
  process.exit(0);
}
const batcher = (split, opts) => {
  const o = orders[split.name]?.[String(opts.epoch)];
  if (!o) throw new Error(`no ${split.name} order for epoch ${opts.epoch} (write more with --order-epochs)`);
  const bs = Math.floor(opts.batchSize);
  const order = Int32Array.from(o);
  return (function* () {
    for (let s = 0; s < order.length; s += bs) yield gatherBatch(split, order.subarray(s, Math.min(order.length, s + bs)));
  })();
};

// ---- optimizer instrumentation: what each group holds, its lr / weight decay, gradient norms per group -------------
const opt = pipeline.optimizer;
const keyOf = (v) => store.byVariableName(v.name)?.key ?? v.name;
const groups = opt.groups.map((g) => ({ name: g.name, lr: g.lr, weight_decay: g.weightDecay, trainable: g.trainable, params: g.params.map(keyOf) }));
const gradSteps = Number(a['grad-steps']);
const dumpSteps = new Set(a['dump-steps'].split(',').filter(Boolean).map(Number));
const gradNorms = [];
let optSteps = 0;
const origStep = opt.step.bind(opt);
opt.step = (grads) => {
  optSteps += 1;
  if (optSteps <= gradSteps) {
    const rec = { opt_step: optSteps, groups: {} };
    for (const g of opt.groups) {
      let s = 0;
      for (const p of g.params) {
        const gr = grads[p.name];
        if (gr) s += tf.tidy(() => tf.sum(tf.square(gr)).dataSync()[0]);
      }
      rec.groups[g.name] = Math.sqrt(s);
    }
    rec.params = {};
    for (const [n, gr] of Object.entries(grads)) rec.params[keyOf({ name: n })] = Math.sqrt(tf.tidy(() => tf.sum(tf.square(gr)).dataSync()[0]));
    gradNorms.push(rec);
  }
  origStep(grads);
  if (dumpSteps.has(optSteps)) writeWeights(`weights-step-${optSteps}`, store.stateDict());
};

// ---- run ------------------------------------------------------------------------------------------------------------
const ulgm = pipeline.tasks.find((t) => t.type === 'ulgm');
const steps = [];
const epochs = [];
let result;
const it = runSchedule(ir, pipeline, data, { runId: `parity-${seed}`, seed, batches: batcher, runDir: out });
for (let r = await it.next(); !r.done; r = await it.next()) {
  const e = r.value;
  if (e.kind === 'step.end') {
    steps.push({ epoch: e.epoch, step: e.step, loss: e.loss, heads: e.headLosses, stepped: e.optimizerStep });
  } else if (e.kind === 'epoch.end') {
    const snap = ulgm?.snapshot();
    const labelsFile = `labels-epoch-${e.epoch}.json`;
    if (snap) writeFileSync(join(out, labelsFile), JSON.stringify(snap.labels));
    epochs.push({
      epoch: e.epoch,
      train_loss: e.trainLoss,
      heads: e.headLosses,
      valid_loss: e.valid.loss,
      valid: e.valid.metrics,
      improved: e.improved,
      labels: snap ? labelsFile : null,
      opt_steps: e.optimizerSteps,
    });
    writeWeights(`weights-epoch-${e.epoch}`, store.stateDict());
    console.error(`epoch ${e.epoch}: train ${e.trainLoss.toFixed(4)} M ${e.headLosses.M?.toFixed(4)} T ${e.headLosses.T?.toFixed(4)} A ${e.headLosses.A?.toFixed(4)} V ${e.headLosses.V?.toFixed(4)} valid ${e.valid.loss}${e.improved ? ' *' : ''}`);
  } else if (e.kind === 'run.end' && e.result) {
    result = e.result;
  }
}
writeFileSync(join(out, 'trace.json'), JSON.stringify({ system: 'mmsa', seed, no_dropout: a['no-dropout'], groups, grad_norms: gradNorms, steps, epochs, result }, null, 1));
console.error(`test Corr ${result?.test.Corr.toFixed(4)} MAE ${result?.test.MAE.toFixed(4)} best epoch ${result?.bestEpoch} of ${result?.epochs}`);
rmSync(root, { recursive: true, force: true });
