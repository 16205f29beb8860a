// Benchmark: one whole fine-tuning epoch of the paper's Self-MM (pipelines/self_mm_mosi.yaml: bert-base fine-tuned,
// batch 16 x 50 tokens, 4 batches per optimizer step; BENCH_DATASET=sims: self_mm_sims.yaml, bert-base-chinese's
// 21128 words, batch 32 x 39) on MOSI- (SIMS-) sized synthetic data, with a randomly initialised checkpoint of the real
// architecture in Hugging Face layout (cached in the OS temp dir). Prints seconds per epoch, per batch and the peak RSS,
// next to MMSA's reference seconds per batch: the reference runner (run_mmsa_baseline.py --text tinybert
// --bert-layers 12, fine-tuning; it runs MMSA's own SELF_MM trainer with a 12-layer BERT of the same shapes) on a file
// of BENCH_REF_BATCHES batches written by src/runtime/data/synth-mmsa.ts. The reference keeps every batch's autograd
// graph (SELF_MM.py stores outputs[m].cpu() per batch), so it cannot run a whole epoch in bounded memory: it is timed
// over a few batches and always under `prlimit --as` (BENCH_REF_CAP bytes).
//
// Run: npm run bench -- bert
// Env: BENCH_DATASET (mosi|sims), BENCH_THREADS (native kernels' threads, default all), BENCH_EPOCHS (default 1),
// MMSA_REFERENCE_RUNNER (path of run_mmsa_baseline.py; the reference runs only when it is set), MMSA_SRC (MMSA's src/,
// which the runner imports), BENCH_PYTHON (python with torch, default python3), BENCH_REF_BATCHES (default 6),
// BENCH_REF_THREADS (torch threads, a comma-separated list runs it once per entry; default the runner's default),
// BENCH_REF_CAP (default 9000000000).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import { compileFile } from '../dist/compiler/compile.js';
import { packageRoot } from '../dist/paths.js';
import { writeRandomBertCheckpoint } from '../dist/runtime/bert/random-checkpoint.js';
import { writeSynthMmsa } from '../dist/runtime/data/synth-mmsa.js';
import { runPipeline } from '../dist/runtime/run.js';

const DATASET = process.env.BENCH_DATASET ?? 'mosi';
const SETUPS = {
  mosi: { pipeline: 'self_mm_mosi', model: 'bert-base-uncased', vocab: 30522, sizes: [1284, 229, 686], seq: { text: 50, audio: 375, vision: 500 } },
  sims: { pipeline: 'self_mm_sims', model: 'bert-base-chinese', vocab: 21128, sizes: [1368, 456, 457], seq: { text: 39, audio: 400, vision: 55 } },
};
const setup = SETUPS[DATASET];
if (!setup) throw new Error(`BENCH_DATASET must be one of ${Object.keys(SETUPS).join(', ')}`);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
const THREADS = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
const REF_BATCHES = Number(process.env.BENCH_REF_BATCHES ?? 6);
const REF_CAP = process.env.BENCH_REF_CAP ?? '9000000000';
const root = packageRoot();
const runner = process.env.MMSA_REFERENCE_RUNNER;
const python = process.env.BENCH_PYTHON ?? 'python3';

/** Busy cores of other processes between two snapshots (from /proc/stat minus this process's CPU time). */
function loadMeter() {
  const snap = () => {
    let busy = 0;
    try {
      const v = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
      busy = (v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - v[4]) / 100;
    } catch {
      busy = NaN;
    }
    const u = process.cpuUsage();
    return { t: performance.now() / 1000, busy, own: (u.user + u.system) / 1e6 };
  };
  const a = snap();
  return () => {
    const b = snap();
    return Math.max(0, (b.busy - a.busy - (b.own - a.own)) / (b.t - a.t));
  };
}

/** A random checkpoint of the model's architecture, written once into the OS temp dir. */
function checkpointDir() {
  const dir = join(tmpdir(), 'mmsa-bench', `${setup.model}-random`);
  if (!existsSync(join(dir, 'model.safetensors'))) {
    process.stderr.write(`writing a random ${setup.model}-shaped checkpoint to ${dir} (once; cached) ...\n`);
    const tmp = `${dir}.tmp-${process.pid}`;
    writeRandomBertCheckpoint(tmp, { vocab_size: setup.vocab }, 1);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dirname(dir), { recursive: true });
    renameSync(tmp, dir);
  }
  return dir;
}

async function runMmsa(work) {
  const spec = parse(readFileSync(join(root, 'pipelines', `${setup.pipeline}.yaml`), 'utf8'));
  const [nTrain, nValid, nTest] = setup.sizes;
  spec.name = `bench_bert_${DATASET}`;
  spec.dataset = { type: 'synthetic', like: DATASET, n_train: nTrain, n_valid: nValid, n_test: nTest, seed: 1, seq_lens: setup.seq };
  spec.encoders.text.pretrained = checkpointDir();
  spec.train.max_epochs = EPOCHS;
  spec.seeds = [1111];
  const file = join(work, `${spec.name}.yaml`);
  writeFileSync(file, stringify(spec));
  const compiled = compileFile(file);
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !compiled.ir) throw new Error(`spec does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  const batch = compiled.ir.schedule.batchSize;
  const load = loadMeter();
  const stepSecs = [];
  const epochSecs = [];
  let testSecs = NaN;
  let outcome;
  let backend = '';
  const t0 = performance.now();
  let lastEval = performance.now();
  const it = runPipeline(compiled, { outRoot: join(work, 'runs'), backend: 'wasm', force: true, ...(THREADS ? { threads: THREADS } : {}) });
  for (let r = await it.next(); ; r = await it.next()) {
    if (r.done) {
      outcome = r.value;
      break;
    }
    const e = r.value;
    if (e.kind === 'run.start') backend = e.backend;
    if (e.kind === 'step.end') {
      stepSecs.push(e.examplesPerSec > 0 ? batch / e.examplesPerSec : NaN);
      process.stderr.write(`\r  epoch ${e.epoch} batch ${e.step}/${e.steps}  ${stepSecs.at(-1).toFixed(2)} s`);
    }
    if (e.kind === 'epoch.end') {
      epochSecs.push(e.seconds);
      process.stderr.write('\n');
    }
    if (e.kind === 'eval.end' && e.split === 'test') testSecs = (performance.now() - lastEval) / 1000;
    if (e.kind === 'eval.end' || e.kind === 'epoch.end') lastEval = performance.now();
    if (e.kind === 'run.error') throw new Error(`${e.code}: ${e.message}`);
  }
  const wall = (performance.now() - t0) / 1000;
  const manifest = JSON.parse(readFileSync(join(outcome.runDirs[0], 'manifest.json'), 'utf8'));
  return { batch, backend, stepSecs, epochSecs, testSecs, wall, load: load(), memory: manifest.memory, steps: stepSecs.length };
}

function runReference(work, threads) {
  if (!runner) return { skipped: 'MMSA_REFERENCE_RUNNER is not set (the path of run_mmsa_baseline.py)' };
  if (!existsSync(runner)) return { skipped: `${runner} not found (MMSA_REFERENCE_RUNNER)` };
  if (!process.env.MMSA_SRC) return { skipped: "MMSA_SRC is not set (MMSA's src/ directory, which the runner imports)" };
  const batch = DATASET === 'sims' ? 32 : 16;
  const pkl = join(work, `ref_${DATASET}.pkl`);
  // The same shapes as ours, REF_BATCHES batches of training data, one batch each for valid and test.
  if (!existsSync(pkl)) {
    writeSynthMmsa(pkl, { variant: DATASET, sizes: [REF_BATCHES * batch, batch, batch], textLen: setup.seq.text, audioLen: setup.seq.audio, visionLen: setup.seq.vision });
  }
  const out = join(work, `ref-out-${threads ?? 'default'}`);
  const args = [`--as=${REF_CAP}`, python, runner, '--model', 'self_mm', '--dataset', DATASET, '--pkl', pkl, '--text', 'tinybert', '--bert-layers', '12',
    '--max-epochs', '1', '--config', JSON.stringify({ use_finetune: true }), '--out', out,
    ...(threads ? ['--threads', String(threads)] : [])];
  process.stderr.write(`  reference: ${REF_BATCHES} batches of ${batch} under prlimit --as=${REF_CAP} ...\n`);
  const r = spawnSync('prlimit', args, { encoding: 'utf8', env: { ...process.env }, maxBuffer: 64 << 20 });
  if (r.status !== 0) return { skipped: `the reference failed (exit ${r.status ?? r.signal}): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` };
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const trainPass = s.train_pass_s[0];
  return {
    batch,
    secsPerBatch: trainPass / REF_BATCHES,
    threads: s.torch_threads_used,
    torch: s.torch,
    params: s.n_params,
    otherLoad: s.other_procs_avg_cores_train_passes[0],
  };
}

const work = mkdtempSync(join(tmpdir(), 'mmsa-bench-bert-'));
try {
  console.log(`Self-MM with bert-base fine-tuned (${setup.pipeline}.yaml, ${setup.model}-shaped random weights), ${setup.sizes.join(' / ')} samples, ${availableParallelism()} cores`);
  const refThreads = (process.env.BENCH_REF_THREADS ?? '').split(',').filter(Boolean).map(Number);
  const refs = (refThreads.length ? refThreads : [undefined]).map((t) => runReference(work, t));
  const ours = await runMmsa(work);
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const perBatch = mean(ours.stepSecs);
  const gb = (b) => `${(b / 1e9).toFixed(2)} GB`;
  const m = ours.memory;
  console.log(`mmsa: ${ours.backend}, BERT activations '${m.design.bertActivations}', optimizer state ${m.design.optimizerState}, gradient sums ${m.design.gradientSums}`);
  console.log(`  epoch (${ours.steps / EPOCHS} batches of ${ours.batch} + validation): ${ours.epochSecs.map((x) => x.toFixed(1)).join(', ')} s;  test pass ${ours.testSecs.toFixed(1)} s;  whole run ${ours.wall.toFixed(1)} s`);
  console.log(`  seconds per batch: mean ${perBatch.toFixed(3)}, median ${median(ours.stepSecs).toFixed(3)}, first ${ours.stepSecs[0].toFixed(3)}`);
  console.log(`  peak RSS ${gb(m.measured.peakRssBytes)} (plan ${gb(m.budget.processBytes)}); wasm heap ${gb(m.measured.backendBytes)} (plan ${gb(m.budget.backendBytes)}, limit 4.29 GB)`);
  console.log(`  other processes used ${ours.load.toFixed(2)} cores on average during the run`);
  for (const ref of refs) {
    if (ref.skipped) {
      console.log(`reference: not run (${ref.skipped})`);
      continue;
    }
    console.log(`reference: PyTorch ${ref.torch}, ${ref.threads} thread(s), ${(ref.params / 1e6).toFixed(1)}M trainable parameters, ${REF_BATCHES} batches of ${ref.batch}: ${ref.secsPerBatch.toFixed(3)} s per batch (other processes: ${ref.otherLoad} cores)`);
    console.log(`  ratio mmsa / reference, seconds per batch: ${(perBatch / ref.secsPerBatch).toFixed(2)}x  (goal <= 0.70x)`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
