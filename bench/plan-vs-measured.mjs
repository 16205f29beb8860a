// Benchmark: the memory plan against a measured run. Trains a few batches of a shipped paper config (bert-base-shaped
// random checkpoint in Hugging Face layout, as bench/bert.mjs makes it; MOSI-shaped synthetic data at the dataset's real
// sequence lengths) on the wasm backend, then prints the plan's heap and process budget next to the measured heap and
// peak RSS, with their ratios and the other processes' load.
//
// Run: npm run bench -- plan-vs-measured
// Env: BENCH_PIPELINES (comma-separated paper configs, default almt_mosi,almt_mosei,cenet_mosi; any paper config, with
// BERT's checkpoint only where it has a BERT encoder, e.g. mult_mosi), BENCH_SEQ_LENS (audio,vision frames instead of
// the dataset's real lengths, e.g. 100,120 as MulT's accuracy runs), BENCH_BATCHES (training
// batches, default 3), BENCH_BATCH_SIZE (override train.batch_size), BENCH_ACTIVATIONS (keep|recompute|auto, default
// auto: the plan's choice), BENCH_MICRO_BATCHES (train.micro_batches, default the config's: auto), BENCH_EVAL_ONLY=1
// (no training: one evaluation pass over one batch of the valid split, as `mmsa predict` and `mmsa import` run it, in
// the plan's chunks; its plan figure is the evaluation estimate, and the peak live tensor bytes are measured too). Each
// config runs in its own process, so every heap and RSS is its own.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const LENGTHS = {
  mosi: { text: 50, audio: 375, vision: 500 },
  mosei: { text: 50, audio: 500, vision: 500 },
  simsv2: { text: 50, audio: 925, vision: 232 },
};

/** Busy cores of other processes between two snapshots (from /proc/stat minus this process's CPU time). */
function loadMeter() {
  const snap = () => {
    const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const u = process.cpuUsage();
    return { t: performance.now() / 1000, busy: (v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - v[4]) / 100, own: (u.user + u.system) / 1e6 };
  };
  const a = snap();
  return () => {
    const b = snap();
    return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.t - a.t));
  };
}

async function measure(name, work) {
  const { compileFile } = await import('../dist/compiler/compile.js');
  const { packageRoot } = await import('../dist/paths.js');
  const { writeRandomBertCheckpoint } = await import('../dist/runtime/bert/random-checkpoint.js');
  const { runPipeline } = await import('../dist/runtime/run.js');
  const root = packageRoot();
  const ckpt = join(tmpdir(), 'mmsa-bench', 'bert-base-uncased-random');
  const makeCheckpoint = () => {
    if (existsSync(join(ckpt, 'model.safetensors'))) return;
    const tmp = `${ckpt}.tmp-${process.pid}`;
    writeRandomBertCheckpoint(tmp, { vocab_size: 30522 }, 1);
    rmSync(ckpt, { recursive: true, force: true });
    mkdirSync(dirname(ckpt), { recursive: true });
    renameSync(tmp, ckpt);
  };
  const spec = parse(readFileSync(join(root, 'pipelines', `${name}.yaml`), 'utf8'));
  const like = spec.dataset.name;
  const frames = process.env.BENCH_SEQ_LENS?.split(',').map(Number);
  const lengths = frames ? { ...LENGTHS[like], audio: frames[0], vision: frames[1] } : LENGTHS[like];
  const batch = Number(process.env.BENCH_BATCH_SIZE ?? 0) || undefined;
  const micro = process.env.BENCH_MICRO_BATCHES;
  spec.train = { ...spec.train, max_epochs: 1, ...(batch ? { batch_size: batch } : {}), ...(micro ? { micro_batches: micro === 'auto' ? 'auto' : Number(micro) } : {}) };
  const file0 = join(work, `${name}.yaml`);
  writeFileSync(file0, stringify(spec));
  const ir0 = compileFile(file0, { env: {} }).ir;
  const b = ir0?.schedule.batchSize ?? 64;
  const bert = ir0?.nodes.find((n) => n.type === 'bert');
  const n = Number(process.env.BENCH_BATCHES ?? 3) * b;
  spec.name = `bench_plan_${name}`;
  spec.dataset = { type: 'synthetic', like, n_train: n, n_valid: b, n_test: b, seed: 1, seq_lens: lengths };
  if (bert) {
    makeCheckpoint();
    const key = bert.id.replace(/^encoders\./, '');
    spec.encoders = { ...spec.encoders, [key]: { ...spec.encoders?.[key], pretrained: ckpt } };
  }
  spec.seeds = [1111];
  writeFileSync(file0, stringify(spec));
  const compiled = compileFile(file0, { env: {} });
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !compiled.ir) throw new Error(`spec does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  const load = loadMeter();
  if (process.env.BENCH_EVAL_ONLY === '1') return { name, batch: compiled.ir.schedule.batchSize, samples: n, lengths, evalOnly: await measureEval(compiled.ir), load: load() };
  const activations = process.env.BENCH_ACTIVATIONS ?? 'auto';
  const it = runPipeline(compiled, { outRoot: join(work, 'runs'), backend: 'wasm', force: true, activations });
  let outcome;
  for (let r = await it.next(); ; r = await it.next()) {
    if (r.done) {
      outcome = r.value;
      break;
    }
    const e = r.value;
    if (e.kind === 'step.end') process.stderr.write(`\r  ${name} batch ${e.step}/${e.steps}`);
    if (e.kind === 'run.error') throw new Error(`${e.code}: ${e.message}`);
  }
  process.stderr.write('\n');
  const m = JSON.parse(readFileSync(join(outcome.runDirs[0], 'manifest.json'), 'utf8')).memory;
  return { name, batch: compiled.ir.schedule.batchSize, samples: n, memory: m, load: load() };
}

/**
 * One evaluation pass over the valid split (one batch) on the wasm backend, in the chunks the plan gives `mmsa predict`:
 * the wasm heap afterwards (it never shrinks, so it is the pass's peak), peak RSS, and the peak live tensor bytes.
 */
async function measureEval(ir) {
  const tf = await import('@tensorflow/tfjs');
  const { setupBackend, sampleMemory } = await import('../dist/runtime/backend.js');
  const { loadDataset } = await import('../dist/runtime/data/load-dataset.js');
  const { lowerPipeline } = await import('../dist/runtime/lower/lower-pipeline.js');
  const { evaluateSplit } = await import('../dist/runtime/train/evaluate.js');
  const { estimateMemory, planEvalMicroBatches, HEAP_USABLE_SHARE } = await import('../dist/runtime/memory/plan-memory.js');
  const { trackWasmHeap } = await import('../dist/runtime/memory/heap-tracker.js');
  await setupBackend('wasm');
  // Every tensor buffer on the heap, counted once however many tensors view it: the live bytes the plan estimates.
  const heap = trackWasmHeap(tf.backend());
  const chunks = planEvalMicroBatches(ir, 'wasm');
  // The evaluation estimate of one chunk of the count the pass runs in (not the training plan's count).
  const planLive = estimateMemory(ir, 'keep', { microBatches: chunks }).evalBackend;
  const data = await loadDataset(ir);
  const pipeline = lowerPipeline(ir, { seed: 1, trainSize: data.train.n });
  const before = sampleMemory();
  const weights = heap.live();
  heap.resetPeak();
  let error;
  try {
    evaluateSplit(ir, pipeline, data.valid, { seed: 1, epoch: 1, shuffle: false, microBatches: chunks });
  } catch (e) {
    error = String(e?.message ?? e).split('\n')[0];
  }
  const after = sampleMemory();
  return {
    chunks,
    planLive,
    planHeap: planLive / HEAP_USABLE_SHARE,
    weights,
    heapBefore: before.backendBytes,
    heap: after.backendBytes,
    peakLive: heap.peak(),
    peakRss: after.peakRssBytes,
    ...(error ? { error } : {}),
  };
}

if (process.argv[2] === '--one') {
  const work = mkdtempSync(join(tmpdir(), 'mmsa-bench-plan-'));
  try {
    console.log(JSON.stringify(await measure(process.argv[3], work)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
} else {
  const gb = (x) => `${(x / 1e9).toFixed(2)} GB`;
  for (const name of (process.env.BENCH_PIPELINES ?? 'almt_mosi,almt_mosei,cenet_mosi').split(',')) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    const line = (r.stdout ?? '').trim().split('\n').at(-1);
    if (r.status !== 0 || !line?.startsWith('{')) {
      console.log(`${name}: failed (exit ${r.status ?? r.signal}) ${(r.stdout ?? '').trim().split('\n').slice(-3).join(' | ')}`);
      continue;
    }
    const { batch, samples, memory: m, load, lengths, evalOnly: v } = JSON.parse(line);
    if (v) {
      console.log(`${name}: evaluation only, batch ${batch}${lengths ? ` (audio ${lengths.audio}, vision ${lengths.vision} frames)` : ''}${v.chunks > 1 ? ` in ${v.chunks} micro-batches` : ''}, other processes ${load.toFixed(2)} cores${v.error ? `: FAILED (${v.error})` : ''}`);
      console.log(`  peak live tensor bytes: measured ${gb(v.peakLive)} (${gb(v.weights)} of them weights), plan ${gb(v.planLive)} (plan / measured ${(v.planLive / v.peakLive).toFixed(2)})`);
      console.log(`  wasm heap: measured ${gb(v.heap)} (${gb(v.heapBefore)} before the pass), plan ${gb(v.planHeap)} (plan / measured ${(v.planHeap / v.heap).toFixed(2)}); peak RSS ${gb(v.peakRss)}`);
      continue;
    }
    const chunks = m.design.microBatches ?? 1;
    console.log(`${name}: batch ${batch}${chunks > 1 ? ` in ${chunks} micro-batches` : ''}, ${samples / batch} training batches, activations '${m.design.bertActivations}', other processes ${load.toFixed(2)} cores`);
    console.log(`  wasm heap: measured ${gb(m.measured.backendBytes)}, plan ${gb(m.budget.backendBytes)} (plan / measured ${(m.budget.backendBytes / m.measured.backendBytes).toFixed(2)}; live-bytes estimate ${gb(Math.max(m.estimate.backend.total, m.estimate.evalBackend))})`);
    console.log(`  peak RSS: measured ${gb(m.measured.peakRssBytes)}, plan ${gb(m.budget.processBytes)} (plan / measured ${(m.budget.processBytes / m.measured.peakRssBytes).toFixed(2)})`);
  }
}
