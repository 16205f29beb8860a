// Benchmark: one whole fine-tuning epoch of a BERT-based model's paper config, pipelines/<BENCH_MODEL>_mosi.yaml.
// The default, Self-MM (pipelines/self_mm_mosi.yaml: bert-base fine-tuned, batch 16 x 50 tokens, 4 batches per
// optimizer step; BENCH_DATASET=sims: self_mm_sims.yaml, bert-base-chinese's 21128 words, batch 32 x 39) on MOSI- (SIMS-) sized synthetic data, with a randomly initialised checkpoint of the real
// architecture in Hugging Face layout (cached in the OS temp dir). Prints seconds per epoch, per batch and the peak RSS,
// next to MMSA's reference seconds per batch: the reference runner (run_mmsa_baseline.py --text tinybert
// --bert-layers 12, fine-tuning; it runs MMSA's own SELF_MM trainer with a 12-layer BERT of the same shapes) on a file
// of BENCH_REF_BATCHES batches written by src/runtime/data/synth-mmsa.ts, always under `prlimit --as` (BENCH_REF_CAP
// bytes). Its default is 6 batches for Self-MM, whose reference epoch takes hours on this machine.
// BENCH_MODEL=bert_mag|cenet|misa|tetfn|mmim|almt runs that model's pipelines/<model>_mosi.yaml the same way (its own
// batch size; BERT-MAG and TETFN, whose configs read aligned_50, on the word-aligned file, audio and vision 50 steps). Its reference is MMSA's own trainer on the
// project's Hugging Face-layout BertModel stand-in (tools/run-mmsa-small-bert.py, with MMSA_HF_BERT_DIR naming the SAME
// random checkpoint), under `prlimit --as` as well, timed by default over the whole epoch on a MOSI-sized file
// (BENCH_REF_BATCHES=<n>: over n batches; a bert-base reference epoch takes hours on a saturated 2-core machine). The
// reference's peak RSS is the maximum resident set `/usr/bin/time` reports for it.
//
// mmsa's side runs in a child process of this one (this file with --mmsa-child; its figures come back as a JSON file):
// it has exited, its memory with it, before the reference starts, and its peak RSS is its own. A paper batch the
// memory plan refuses (MSA6901 / MSA6902: CENET's and ALMT's 64 on MOSI) is reported and run at the plan's suggested
// batch and accumulation instead; the reference then runs at the same batch size.
//
// Run: npm run bench -- bert
// Env: BENCH_MODEL (self_mm|bert_mag|cenet|misa|tetfn|mmim|almt; default self_mm), BENCH_DATASET (mosi|sims; sims
// for Self-MM only), BENCH_THREADS (native kernels' threads, default all), BENCH_EPOCHS (default 1),
// BENCH_BATCHES (n: mmsa trains n batches and validates and tests one each, not the whole epoch; a quick check),
// MMSA_REFERENCE_RUNNER (path of run_mmsa_baseline.py; the reference runs only when it is set), MMSA_SRC (MMSA's src/,
// which the runner imports), BENCH_PYTHON (python with torch, default python3), BENCH_REF_BATCHES (default
// BENCH_BATCHES when that is set, else 6 for Self-MM and the whole epoch for the others),
// BENCH_REF_THREADS (torch threads, a comma-separated list runs it once per entry; default the runner's default),
// BENCH_REF_CAP (default 8000000000), BENCH_REF_PATCH (comma-separated in-process patches of tools/run-mmsa-reference.py
// for the reference, e.g. detached_cpu: MISA's, MMIM's, BERT-MAG's and TETFN's trainers keep every batch's graph and their 12-layer
// epochs do not fit as shipped; not for Self-MM, whose reference is the bare runner), BENCH_SIZES (train,valid,test
// samples; default the dataset's, smaller for a quick check).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { compileFile } from '../dist/compiler/compile.js';
import { packageRoot } from '../dist/paths.js';
import { writeRandomBertCheckpoint } from '../dist/runtime/bert/random-checkpoint.js';
import { writeSynthMmsa } from '../dist/runtime/data/synth-mmsa.js';
import { loadMeter, referenceSetup, runReference as runReferenceRun } from './reference.mjs';

const MODEL = process.env.BENCH_MODEL ?? 'self_mm';
const MODELS = ['self_mm', 'bert_mag', 'cenet', 'misa', 'tetfn', 'mmim', 'almt'];
if (!MODELS.includes(MODEL)) throw new Error(`BENCH_MODEL must be one of ${MODELS.join(', ')}`);
const DATASET = process.env.BENCH_DATASET ?? 'mosi';
if (MODEL !== 'self_mm' && DATASET !== 'mosi') throw new Error('BENCH_DATASET=sims is measured for Self-MM only');
// Word-aligned data where the paper config reads MOSI's aligned_50 (MMSA's need_data_aligned: BERT-MAG, TETFN).
const ALIGNED = parse(readFileSync(join(packageRoot(), 'pipelines', `${MODEL}_${DATASET}.yaml`), 'utf8'))?.dataset?.file === 'aligned_50';
const SETUPS = {
  mosi: { pipeline: 'self_mm_mosi', model: 'bert-base-uncased', vocab: 30522, sizes: [1284, 229, 686], seq: { text: 50, audio: 375, vision: 500 } },
  sims: { pipeline: 'self_mm_sims', model: 'bert-base-chinese', vocab: 21128, sizes: [1368, 456, 457], seq: { text: 39, audio: 400, vision: 55 } },
};
const setup = SETUPS[DATASET];
if (!setup) throw new Error(`BENCH_DATASET must be one of ${Object.keys(SETUPS).join(', ')}`);
setup.pipeline = `${MODEL}_${DATASET}`;
// MOSI's aligned_50.pkl: audio and vision are word-aligned to the 50 text tokens.
if (ALIGNED) setup.seq = { text: setup.seq.text, audio: setup.seq.text, vision: setup.seq.text };
if (process.env.BENCH_SIZES) setup.sizes = process.env.BENCH_SIZES.split(',').map(Number);
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 1);
// mmsa's training batches when set (one batch each for validation and test): a check of the bench, not an epoch.
const BATCHES = Number(process.env.BENCH_BATCHES ?? 0);
const THREADS = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
// Self-MM's reference epoch takes hours here: a few batches; the others run their whole epoch (0 = the epoch).
const REF_BATCHES = Number(process.env.BENCH_REF_BATCHES ?? (BATCHES > 0 ? BATCHES : MODEL === 'self_mm' ? 6 : 0));
const root = packageRoot();

const plural = (n, what) => `${n} ${what}${n === 1 ? '' : 'es'}`;
const batches = (n) => plural(n, 'batch');

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

/**
 * The model's paper config on synthetic data of the dataset's sizes (or `sizes`), the random checkpoint as its BERT,
 * `train` keys (a batch size the memory plan suggested) over the paper's.
 */
function compileBench(work, { train = {}, sizes = setup.sizes } = {}) {
  const spec = parse(readFileSync(join(root, 'pipelines', `${setup.pipeline}.yaml`), 'utf8'));
  const [nTrain, nValid, nTest] = sizes;
  spec.name = `bench_bert_${MODEL}_${DATASET}`;
  spec.dataset = { type: 'synthetic', like: DATASET, n_train: nTrain, n_valid: nValid, n_test: nTest, seed: 1, seq_lens: setup.seq, ...(ALIGNED ? { aligned: true } : {}) };
  // Every encoder that names a pretrained BERT reads the random checkpoint (TETFN's is `encoders.bert`, the others'
  // `encoders.text`).
  const berts = Object.values(spec.encoders).filter((e) => e && typeof e === 'object' && 'pretrained' in e);
  if (berts.length === 0) throw new Error(`${setup.pipeline}.yaml names no pretrained encoder`);
  for (const e of berts) e.pretrained = checkpointDir();
  spec.train = { ...spec.train, max_epochs: EPOCHS, ...train };
  spec.seeds = [1111];
  const file = join(work, `${spec.name}.yaml`);
  writeFileSync(file, stringify(spec));
  const compiled = compileFile(file);
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !compiled.ir) throw new Error(`spec does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join('; ')}`);
  return compiled;
}

/**
 * The setting mmsa runs at: the paper's batch and accumulation, or, where the memory plan refuses them before
 * training (as `mmsa run` would, with MSA6901 / MSA6902), the batch and accumulation its error suggests first.
 */
async function settleSetting(work) {
  const { checkMemoryPlan, memoryLimits, planFittingBatch, planMemory } = await import('../dist/runtime/memory/plan-memory.js');
  const paperCompiled = compileBench(work);
  const s = paperCompiled.ir.schedule;
  const paper = { batch: s.batchSize, steps: s.gradAccumSteps };
  const limits = memoryLimits('wasm');
  const plan = planMemory(paperCompiled.ir, limits);
  if (plan.fits) return { paper, batch: paper.batch, steps: paper.steps, train: {} };
  let refused = 'the memory plan does not fit';
  try {
    checkMemoryPlan(paperCompiled.ir, plan, paperCompiled.host);
  } catch (err) {
    refused = `${err.code}: ${err.message}`;
  }
  const fit = planFittingBatch(paperCompiled.ir, limits);
  if (!fit) throw new Error(`the memory plan refuses the paper's batch ${paper.batch} and suggests no smaller batch that fits now (${refused})`);
  const train = { batch_size: fit.batch, ...(s.gradAccumMode === 'step_every_batch' ? {} : { grad_accum_steps: fit.steps }) };
  return { paper, batch: fit.batch, steps: fit.steps, train, refused };
}

async function runMmsa(work, setting) {
  const { runPipeline } = await import('../dist/runtime/run.js');
  const sizes = BATCHES > 0 ? [BATCHES * setting.batch, setting.batch, setting.batch] : setup.sizes;
  const compiled = compileBench(work, { train: setting.train, sizes });
  const batch = compiled.ir.schedule.batchSize;
  const load = loadMeter();
  const stepSecs = [];
  const epochSecs = [];
  // CPU seconds of this process over the training batches: on a saturated shared machine wall time measures the
  // share the scheduler gave, CPU time the work done.
  let trainCpu = 0;
  let cpuAt = 0;
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
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
    if (e.kind === 'epoch.start') cpuAt = cpuNow();
    if (e.kind === 'step.end') {
      const c = cpuNow();
      trainCpu += c - cpuAt;
      cpuAt = c;
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
  return { batch, backend, stepSecs, epochSecs, testSecs, wall, load: load(), memory: manifest.memory, steps: stepSecs.length, cpuPerBatch: trainCpu / stepSecs.length };
}

/** The child process: mmsa's side alone, its figures (and its own peak RSS) written as JSON to `resultFile`. */
async function mainChild(work, resultFile) {
  let result = {};
  try {
    const setting = await settleSetting(work);
    result = { setting };
    result = { setting, ...(await runMmsa(work, setting)) };
  } catch (err) {
    result.failed = err instanceof Error ? err.message : String(err);
  }
  result.ownPeakRssBytes = process.resourceUsage().maxRSS * 1024;
  writeFileSync(resultFile, JSON.stringify(result));
}

/** Runs mmsa's side in a child process and reads back its figures; it has exited (memory freed) when this returns. */
function runMmsaChild(work) {
  const resultFile = join(work, 'mmsa-result.json');
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--mmsa-child', work, resultFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(resultFile)) return { failed: `the mmsa child process exited with ${r.status ?? r.signal} and wrote no result` };
  const result = JSON.parse(readFileSync(resultFile, 'utf8'));
  // JSON has no NaN: a batch without a rate comes back as null.
  if (result.stepSecs) result.stepSecs = result.stepSecs.map((x) => x ?? NaN);
  return result;
}

function runReference(work, threads, batch, paperBatch) {
  const ref = referenceSetup();
  if (ref.skipped) return ref;
  const selfMm = MODEL === 'self_mm';
  const pkl = join(work, `ref_${MODEL}_${DATASET}.pkl`);
  const [nTrain, nValid, nTest] = setup.sizes;
  // The same shapes as ours: REF_BATCHES batches of training data and one batch each for valid and test, or the
  // dataset's sizes for a whole epoch.
  const sizes = REF_BATCHES > 0 ? [REF_BATCHES * batch, batch, batch] : [nTrain, nValid, nTest];
  if (!existsSync(pkl)) {
    writeSynthMmsa(pkl, { variant: DATASET, sizes, textLen: setup.seq.text, audioLen: setup.seq.audio, visionLen: setup.seq.vision, aligned: ALIGNED });
  }
  const batches = Math.ceil(sizes[0] / batch);
  // MMSA's config, at the batch mmsa ran at when the memory plan made mmsa run another than the paper's.
  const config = { ...(selfMm ? { use_finetune: true } : {}), ...(batch !== paperBatch ? { batch_size: batch } : {}) };
  process.stderr.write(`  reference: ${REF_BATCHES > 0 ? plural(REF_BATCHES, 'batch') : `the whole epoch (${plural(batches, 'batch')})`} of ${batch} under prlimit --as=${ref.cap} ...\n`);
  // Self-MM: the runner's stand-in BERT takes its vocabulary size from the environment (the same embedding table as
  // ours). The others: the HF-layout stand-in loads the same random checkpoint as ours.
  const env = selfMm ? { ...process.env, MMSA_SHIM_BERT_VOCAB: String(setup.vocab) } : { ...process.env, MMSA_HF_BERT_DIR: checkpointDir() };
  const r = runReferenceRun(ref, {
    script: selfMm ? ref.runner : join(root, 'tools', 'run-mmsa-small-bert.py'),
    model: MODEL,
    dataset: DATASET,
    pkl,
    batch,
    maxEpochs: 1,
    config,
    args: selfMm ? ['--text', 'tinybert', '--bert-layers', '12'] : [],
    out: join(work, `ref-out-${threads ?? 'default'}`),
    threads,
    env,
  });
  if (r.skipped) return r;
  return {
    batch,
    batches: r.batches,
    passesPerEpoch: r.passesPerEpoch,
    secsPerBatch: r.trainSecs[0] / r.batches,
    epochTrainSecs: r.trainSecs[0],
    validSecs: r.validPassSecs[0],
    cpuPerBatch: r.cpuPerBatch[0],
    threads: r.threads,
    torch: r.torch,
    params: r.params,
    otherLoad: r.otherLoad[0],
    peakRssBytes: r.peakRssBytes,
  };
}

// The goal printed beside the ratio: Self-MM's BERT fine-tuning set itself at most 0.7x of the reference's time per
// batch; the other BERT models' goal is at most the reference's time per epoch.
const GOAL = MODEL === 'self_mm' ? 0.7 : 1;

async function main() {
  // Checked before mmsa's epoch, which may take an hour: Self-MM's reference is the bare runner, which takes no patches.
  const refPatches = referenceSetup().patches ?? [];
  if (MODEL === 'self_mm' && refPatches.length) throw new Error(`BENCH_REF_PATCH (${refPatches.join(', ')}) applies to the BERT models run through tools/run-mmsa-small-bert.py, not to Self-MM's reference`);
  const work = mkdtempSync(join(tmpdir(), 'mmsa-bench-bert-'));
  try {
    console.log(`${MODEL} with bert-base fine-tuned (${setup.pipeline}.yaml, ${setup.model}-shaped random weights), ${setup.sizes.join(' / ')} samples${ALIGNED ? ' (word-aligned)' : ''}, ${availableParallelism()} cores`);
    const gb = (b) => (Number.isFinite(b) ? `${(b / 1e9).toFixed(2)} GB` : '-');
    // mmsa's epoch first (in a child process that has exited before the reference starts), the reference right after
    // it: one session, the load printed for each.
    const ours = runMmsaChild(work);
    const setting = ours.setting;
    if (setting) {
      const at = (b, n) => `batch ${b}${n > 1 ? ` x ${n} batches per optimizer step` : ''}`;
      if (setting.refused) {
        console.log(`mmsa: the memory plan refuses the paper's ${at(setting.paper.batch, setting.paper.steps)} (${setting.refused})`);
        console.log(`  run instead at the plan's suggested ${at(setting.batch, setting.steps)} (${Object.entries(setting.train).map(([k, v]) => `train.${k}: ${v}`).join(', ')})`);
      } else {
        console.log(`mmsa: the paper's setting, ${at(setting.batch, setting.steps)}`);
      }
    }
    let perBatch = NaN;
    if (ours.failed) {
      console.log(`mmsa: the ${BATCHES > 0 ? 'batches' : 'epoch'} did not run: ${ours.failed}`);
    } else {
      const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
      const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
      // Per batch of the training split: a trainer with several passes an epoch (MMIM's two stages) steps once per
      // batch in each, and the reference's figure sums an epoch's passes the same way.
      const passes = BATCHES > 0 ? 1 : Math.max(1, Math.round(ours.steps / EPOCHS / Math.ceil(setup.sizes[0] / ours.batch)));
      perBatch = mean(ours.stepSecs) * passes;
      ours.cpuPerDataBatch = ours.cpuPerBatch * passes;
      const m = ours.memory;
      const span = BATCHES > 0 ? `BENCH_BATCHES=${BATCHES}: ${batches(ours.steps / EPOCHS)} of ${ours.batch} + one validation batch, NOT the whole epoch` : `epoch (${batches(ours.steps / EPOCHS)} of ${ours.batch} + validation)`;
      const secs = (x) => (typeof x === 'number' ? x.toFixed(1) : '-');
      console.log(`mmsa: ${ours.backend}, BERT activations '${m.design.bertActivations}', optimizer state ${m.design.optimizerState}, gradient sums ${m.design.gradientSums}`);
      console.log(`  ${span}: ${ours.epochSecs.map(secs).join(', ')} s;  test pass ${secs(ours.testSecs)} s;  whole run ${secs(ours.wall)} s`);
      console.log(`  seconds per step: mean ${mean(ours.stepSecs).toFixed(3)}, median ${median(ours.stepSecs).toFixed(3)}, first ${ours.stepSecs[0].toFixed(3)}; CPU seconds per step ${ours.cpuPerBatch.toFixed(3)}`);
      if (passes > 1) console.log(`  ${passes} training passes per epoch (one step per batch in each): per batch of the training split ${perBatch.toFixed(3)} s, CPU ${ours.cpuPerDataBatch.toFixed(3)} s`);
      console.log(`  peak RSS ${gb(ours.ownPeakRssBytes)} (the child process's own, including the test pass; plan ${gb(m.budget.processBytes)}); wasm heap ${gb(m.measured.backendBytes)} (plan ${gb(m.budget.backendBytes)}, limit 4.29 GB)`);
      console.log(`  other processes used ${ours.load.toFixed(2)} cores on average during the run`);
    }
    if (ours.failed && ours.ownPeakRssBytes) console.log(`  the child process's peak RSS: ${gb(ours.ownPeakRssBytes)}`);
    const paperBatch = setting?.paper.batch ?? compileBench(work).ir.schedule.batchSize;
    const batch = ours.batch ?? setting?.batch ?? paperBatch;
    const refThreads = (process.env.BENCH_REF_THREADS ?? '').split(',').filter(Boolean).map(Number);
    for (const t of refThreads.length ? refThreads : [undefined]) {
      const ref = runReference(work, t, batch, paperBatch);
      if (ref.skipped) {
        console.log(`reference: not run (${ref.skipped})`);
        continue;
      }
      const span = REF_BATCHES > 0 ? `${batches(REF_BATCHES)} of ${ref.batch}` : `the whole epoch, ${batches(ref.batches)} of ${ref.batch}: ${ref.epochTrainSecs.toFixed(1)} s training + ${(ref.validSecs ?? NaN).toFixed(1)} s validation`;
      const atBatch = batch !== paperBatch ? ` (batch_size ${batch} as mmsa's, not MMSA's ${paperBatch})` : '';
      const passNote = ref.passesPerEpoch > 1 ? ` (${ref.passesPerEpoch} training passes per epoch, summed)` : '';
      const patched = refPatches.length ? `, patched in-process: ${refPatches.join(', ')}` : '';
      console.log(`reference${patched}: PyTorch ${ref.torch}, ${ref.threads} thread(s), ${(ref.params / 1e6).toFixed(1)}M trainable parameters, ${span}${passNote}${atBatch}: ${ref.secsPerBatch.toFixed(3)} s per batch, CPU ${ref.cpuPerBatch.toFixed(3)} s per batch; peak RSS ${gb(ref.peakRssBytes)} (other processes: ${ref.otherLoad} cores)`);
      if (!ours.failed) {
        console.log(`  ratio mmsa / reference, seconds per batch: ${(perBatch / ref.secsPerBatch).toFixed(2)}x  (goal <= ${GOAL.toFixed(2)}x); CPU seconds per batch: ${(ours.cpuPerDataBatch / ref.cpuPerBatch).toFixed(2)}x${Number.isFinite(ref.peakRssBytes) ? `; peak RSS: ${(ours.ownPeakRssBytes / ref.peakRssBytes).toFixed(2)}x` : ''}`);
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--mmsa-child') await mainChild(process.argv[3], process.argv[4]);
else await main();
