// Benchmark: full training epochs (train + validation) of the paper configs on MOSI-sized synthetic data (SIMS-sized
// for the SIMS-only multi-task models) made by the project's MMSA-layout generator (bench/synth-cache.mjs: 1284 / 229 /
// 686 samples, text 50 / audio 375 / vision 500; the aligned_50 file for EF-LSTM, MFN, Graph-MFN, MCTN and MFM), next to
// MMSA's own code on the same file. Self-MM reads precomputed [CLS] features instead of running BERT.
//
// Each model runs in a child process of this one (this file with --model-child), so its peak RSS is its own and its
// memory is freed before the next step. With MMSA_REFERENCE_RUNNER (the path of the reference runner's
// run_mmsa_baseline.py) and MMSA_SRC (MMSA's src/) set, MMSA's own code for the same model, config and dataset runs
// right after mmsa's epochs of each model, through tools/run-mmsa-reference.py (the in-process patches MMSA needs on a
// CPU-only machine), on the SAME synthetic file mmsa read, for the same number of epochs, under `prlimit --as`
// (BENCH_REF_CAP) and `/usr/bin/time` (its peak RSS): both sides' seconds per epoch, CPU seconds per training batch,
// peak RSS, their ratios and the other processes' load during each side are printed, measured in this session
// (bench/reference.mjs). Without those variables the reference columns are stored figures of another session, typed
// in below (REFERENCE, REFERENCE_CPU_BATCH), and say so.
// Run: npm run bench -- train
// Env: BENCH_EPOCHS (default 2; `full` trains to early stopping on both sides), BENCH_BACKEND (wasm|cpu|tensorflow,
// default wasm), BENCH_ONLY='lmf|tfn', BENCH_LSTM_MATMUL (auto|js|tf|native: where the fused LSTM's recurrence runs,
// default auto), BENCH_NATIVE (auto|on|off: mmsa's native kernels under wasm, default auto), BENCH_THREADS (their
// threads; default all), BENCH_SEEDS (comma-separated, default 1111: test metrics are then the mean over seeds, with
// Corr's std; the reference runs the first), BENCH_INIT_RNG (mmsa|torch: train.init_rng; torch starts Self-MM from the
// reference's own initial weights per seed), MMSA_REFERENCE_RUNNER, MMSA_SRC, BENCH_PYTHON (python with torch, default
// python3), BENCH_REF_THREADS (torch threads of the reference, default 1; 0: torch's default), BENCH_REF_CAP (its
// address-space cap in bytes, default 8000000000), BENCH_REF_PATCH (comma-separated in-process patches of
// tools/run-mmsa-reference.py added to the ones each model gets by default; `--list-patches` prints them).
// Besides wall seconds per epoch it prints CPU seconds (user + system) per training batch: on the shared machine the
// wall time moves with the load, the CPU time much less.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { packageRoot } from '../dist/paths.js';
import { fileURLToPath } from 'node:url';
import { loadMeter, referenceSetup, runReference, steadyMean } from './reference.mjs';
import { synthFile, synthRoot } from './synth-cache.mjs';

// BENCH_EPOCHS=full trains to early stopping as MMSA does (needed to compare accuracy; slow).
const EPOCHS = process.env.BENCH_EPOCHS === 'full' ? null : Number(process.env.BENCH_EPOCHS ?? 2);
const BACKEND = process.env.BENCH_BACKEND ?? 'wasm';
const only = process.env.BENCH_ONLY?.split('|');
const SEEDS = (process.env.BENCH_SEEDS ?? '1111').split(',').map(Number);
const NATIVE = process.env.BENCH_NATIVE ?? 'auto';
const INIT_RNG = process.env.BENCH_INIT_RNG;
const THREADS = process.env.BENCH_THREADS ? Number(process.env.BENCH_THREADS) : undefined;
const kernelOpts = { native: NATIVE, ...(THREADS ? { threads: THREADS } : {}) };

/**
 * When the stored reference figures below were measured (the fallback when MMSA's code is not run in the session):
 * Self-MM, LMF, LF-DNN, TFN and EF-LSTM's seconds per epoch on 2026-11-27 (docs/benchmarks.md, "Training speed"), MulT's
 * on 2026-12-05 (load ~32), the rest on 2026-12-06 with the machine shared by several developers (load average 2-19).
 */
const STORED_ON = { self_mm: '2026-11-27', lmf: '2026-11-27', lf_dnn: '2026-11-27', tfn: '2026-11-27', ef_lstm: '2026-11-27', mult: '2026-12-05 (s/epoch), 2026-12-06 (CPU)' };
const storedOn = (model) => STORED_ON[model] ?? '2026-12-06';
/**
 * Stored figures (another session's): MMSA's seconds per epoch (PyTorch, CPU, 1 thread) for the same configs on the same files. MFN, MLF-DNN, MLMF, MTFN,
 * MCTN and MFM: median epoch of the reference's accuracy runs of 2026-12-06 (MFN, MCTN, MTFN and MFM seed 1111, MLMF
 * seeds 1111-1112, MLF-DNN seeds 1111-1113) with the machine shared by several developers (load average 2-19 on 2
 * cores), so inflated by the load as much as ours in the same session and far apart between runs (MLF-DNN: 1.9-26 s);
 * Graph-MFN: not finished yet (the ratio prints n/a; its CPU time per batch is in REFERENCE_CPU_BATCH). MulT: 81
 * batches at MMSA's earlier 3.1 CPU s per batch (start-up included; validation ~0.3 s per batch), measured under load
 * (docs/benchmarks.md); compare its CPU time per batch instead.
 */
const REFERENCE = { self_mm: 14.6, lmf: 1.0, lf_dnn: 1.0, tfn: 6.1, ef_lstm: 5.3, mult: 265, mfn: 177.0, graph_mfn: null, mlf_dnn: 6.3, mlmf: 18.2, mtfn: 9.0, mctn: 112.9, mctn_batch_as_time: 112.9, mfm: 48.8 };
/**
 * The paper config each model is benchmarked with and the synthetic file it reads: MOSI by default; the SIMS-only
 * multi-task models on the SIMS-sized file (MTFN with its simsv2 config: the sims config's 141M-parameter fusion layer
 * is impractical here); aligned_50 for the models that need aligned sequences (MMSA's need_data_aligned).
 */
const PIPELINE = {
  mlf_dnn: { config: 'mlf_dnn_sims', variant: 'sims', name: 'sims', file: 'unaligned_39' },
  mlmf: { config: 'mlmf_sims', variant: 'sims', name: 'sims', file: 'unaligned_39' },
  mtfn: { config: 'mtfn_simsv2', variant: 'sims', name: 'sims', file: 'unaligned_39' },
  ef_lstm: { config: 'ef_lstm_mosi', variant: 'mosi', aligned: true, name: 'mosi', file: 'aligned_50' },
  mfn: { config: 'mfn_mosi', variant: 'mosi', aligned: true, name: 'mosi', file: 'aligned_50' },
  graph_mfn: { config: 'graph_mfn_mosi', variant: 'mosi', aligned: true, name: 'mosi', file: 'aligned_50' },
  mctn: { config: 'mctn_mosi', variant: 'mosi', aligned: true, name: 'mosi', file: 'aligned_50' },
  // MMSA's own MCTN runs its LSTMs along the batch axis; this is that computation (`batch_as_time: true`), the one
  // the reference's time per epoch measures.
  mctn_batch_as_time: { config: 'mctn_mosi', variant: 'mosi', aligned: true, name: 'mosi', file: 'aligned_50', batchAsTime: true },
  mfm: { config: 'mfm_mosi', variant: 'mosi', aligned: true, name: 'mosi', file: 'aligned_50' },
};
// MulT reads a MOSI-sized file with audio 100 / vision 120 frames: at MOSI's 375 / 500 frames MMSA's MULT trainer
// needs more than 8 GB (it keeps every batch's prediction graph through `y_pred.append(outputs.cpu())`, which grows the process); mmsa runs
// them at batch 16 by recomputing its transformer layers in the backward pass (docs/benchmarks.md).
const SHORT_SEQ = { mult: { audioLen: 100, visionLen: 120 } };
/**
 * Stored figures (another session's): MMSA's CPU seconds (user + system) per training batch on one thread, from the reference-runner's per-pass CPU
 * times of its accuracy runs on files of the same layout (2026-12-06, mean over the seeds finished; docs/benchmarks.md):
 * the figure to compare when the shared machine is loaded and wall times say little. Graph-MFN: the process's CPU
 * time over 8 batches of its first epoch (its run was still going). MMSA's MCTN is the batch-axis computation. MulT:
 * batches 6-22 of two short runs timing each batch on the 50 / 100 / 120-frame MOSI-sized file (load ~18).
 */
const REFERENCE_CPU_BATCH = { mlf_dnn: 0.048, mlmf: 0.450, mtfn: 0.100, mfm: 1.131, mfn: 2.635, graph_mfn: 2.14, mctn: 0.94, mctn_batch_as_time: 0.94, mult: 1.70 };
/** The reference's test Corr after full training on data of this layout and signal (only Self-MM's is known). */
const REFERENCE_CORR = { self_mm: 0.8 };
const MODELS = Object.keys(REFERENCE).filter((m) => !only || only.includes(m));

/**
 * MMSA's name for the model and the dataset config the reference runs on mmsa's file: MMSA's MCTN for both of mmsa's
 * MCTN entries, MTFN's simsv2 config (as mmsa's mtfn_simsv2) on the SIMS-sized file (MMSA's simsv2 dataset settings are
 * SIMS's but for the file, which --pkl replaces), Self-MM on the precomputed features (the runner's --text features);
 * `note` says what differs from mmsa's side.
 */
function referenceOf(model) {
  const p = PIPELINE[model];
  const dataset = model === 'mtfn' ? 'simsv2' : p?.variant ?? 'mosi';
  const ref = { model: model === 'mctn_batch_as_time' ? 'mctn' : model, dataset, args: model === 'self_mm' ? ['--text', 'features'] : [] };
  const notes = {
    mctn: "MMSA's MCTN runs its LSTMs along the batch axis (mmsa's mctn_batch_as_time); mmsa's default runs them over time, another computation of the same size",
    mult: "MMSA with Tensor.cpu() detached (tools/run-mmsa-reference.py's detached_cpu): its peak RSS without the prediction graphs its trainer keeps",
    mtfn: "MMSA's mtfn with its simsv2 config (--dataset simsv2) on the SIMS-sized file, as mmsa's mtfn_simsv2",
  };
  return notes[model] ? { ...ref, note: notes[model] } : ref;
}

const root = packageRoot();

function benchSpec(model, work) {
  const p = PIPELINE[model] ?? { config: `${model}_mosi`, variant: 'mosi', name: 'mosi', file: 'unaligned_50' };
  const spec = parse(readFileSync(join(root, 'pipelines', `${p.config}.yaml`), 'utf8'));
  spec.name = `bench_${model}`;
  // The reference timed MMSA on files of this layout (seed 1111); `node tools/make-synth-mmsa.mjs` writes them for
  // MMSA too.
  const short = SHORT_SEQ[model];
  const file0 = synthFile(p.variant, { aligned: p.aligned === true, ...(short ?? {}) });
  spec.dataset = { name: p.name, file: p.file, root: synthRoot };
  if (short) {
    // The manifest with the shorter frame counts (the loader checks the shapes it declares).
    const manifest = join(work, `${p.name}-a${short.audioLen}-v${short.visionLen}.dataset.yaml`);
    const text = readFileSync(join(root, `pipelines/datasets/${p.name}.dataset.yaml`), 'utf8')
      .replace('shape: [375, 5]', `shape: [${short.audioLen}, 5]`)
      .replace('shape: [500, 20]', `shape: [${short.visionLen}, 20]`);
    writeFileSync(manifest, text);
    spec.dataset = { path: file0, manifest };
  }
  if (p.batchAsTime) {
    spec.fusion = { ...spec.fusion, batch_as_time: true };
    spec.heads = { ...spec.heads, M: { ...spec.heads.M, batch_as_time: true } };
  }
  spec.train = { ...spec.train, max_epochs: EPOCHS };
  spec.seeds = SEEDS;
  if (INIT_RNG) spec.train.init_rng = INIT_RNG;
  if (model === 'self_mm') {
    spec.modalities = { ...(spec.modalities ?? {}), text: { feature: 'text' } };
    spec.encoders = { ...spec.encoders, text: { type: 'precomputed', select: 'cls' } };
    spec.train.optimizer.groups = spec.train.optimizer.groups.filter((g) => g.name !== 'bert');
  }
  const file = join(work, `bench_${model}.yaml`);
  writeFileSync(file, stringify(spec));
  return { file, data: file0 };
}

const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** mmsa's epochs of one model, in the child process: its row of figures (or `failed`), with its own peak RSS. */
async function measure(model, work) {
  // Imported here, in the child: the parent stays small while the reference runs beside it.
  const { compileFile } = await import('../dist/compiler/compile.js');
  const { runPipeline } = await import('../dist/runtime/run.js');
  const { setupBackend } = await import('../dist/runtime/backend.js');
  const { setDefaultRecurrentMatMul } = await import('../dist/runtime/nn/lstm-fused.js');
  setDefaultRecurrentMatMul(process.env.BENCH_LSTM_MATMUL ?? 'auto');
  const { file, data } = benchSpec(model, work);
  const compiled = compileFile(file);
  const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 || !compiled.ir) return { model, failed: `spec does not compile: ${errors.map((d) => `${d.code} ${d.message ?? ''}`).join('; ')}` };
  const epochSecs = [];
  const stepMs = [];
  let epochStart = 0;
  let lastStep = 0;
  let steps = 0;
  // CPU time (user + system, all threads) of the training steps: under load the wall time says little, CPU time
  // per training batch is what compares with the reference's on a shared machine.
  let cpuStart = process.cpuUsage();
  let cpuLastStep = cpuStart;
  const cpuPerBatch = [];
  // Other processes' cores over each epoch's training batches (as the reference runner measures its training passes).
  let meter = loadMeter();
  let trainLoad = NaN;
  const otherLoad = [];
  const tests = [];
  let failed;
  const t0 = Date.now();
  const it = runPipeline(compiled, { outRoot: join(work, 'runs', model), backend: BACKEND, force: true, ...kernelOpts });
  for (let r = await it.next(); !r.done; r = await it.next()) {
    const e = r.value;
    if (e.kind === 'epoch.start') {
      epochStart = e.t;
      lastStep = e.t;
      steps = 0;
      cpuStart = process.cpuUsage();
      cpuLastStep = cpuStart;
      meter = loadMeter();
    } else if (e.kind === 'step.end') {
      steps += 1;
      lastStep = e.t;
      cpuLastStep = process.cpuUsage();
      trainLoad = meter();
    } else if (e.kind === 'epoch.end') {
      epochSecs.push(e.seconds);
      stepMs.push((lastStep - epochStart) / Math.max(1, steps));
      cpuPerBatch.push((cpuLastStep.user - cpuStart.user + cpuLastStep.system - cpuStart.system) / 1e6 / Math.max(1, steps));
      otherLoad.push(trainLoad);
      console.error(`  ${model} epoch ${e.epoch}: ${fmt(e.seconds)} s, train ${fmt(e.trainLoss, 4)}, valid ${fmt(e.valid.loss, 4)}`);
    } else if (e.kind === 'run.end' && e.scope === 'seed' && e.result) {
      tests.push(e.result.test);
    } else if (e.kind === 'run.error') {
      failed = `${e.code} ${e.message}`;
    }
  }
  if (failed) return { model, failed };
  const info = await setupBackend(BACKEND, kernelOpts);
  const nat = info.details.native;
  // The first epoch carries one-off costs (kernel compilation, Adam state); report the later ones when there are any.
  return {
    model,
    data,
    batch: compiled.ir.schedule.batchSize,
    epochs: epochSecs.length,
    sPerEpoch: steadyMean(epochSecs),
    firstEpoch: epochSecs[0],
    msPerStep: steadyMean(stepMs),
    cpuBatch: steadyMean(cpuPerBatch),
    otherLoad: steadyMean(otherLoad),
    wall: (Date.now() - t0) / 1000,
    test: Object.fromEntries(['MAE', 'Corr', 'Has0_acc_2'].map((k) => [k, mean(tests.map((t) => t[k]))])),
    corrStd: Math.sqrt(mean(tests.map((t) => t.Corr ** 2)) - mean(tests.map((t) => t.Corr)) ** 2),
    seeds: tests.length,
    kernels: nat?.active ? `native kernels ${nat.isa}, ${nat.threads} thread(s)` : `no native kernels (${nat?.reason ?? 'n/a'})`,
  };
}

/** Runs one model's epochs in a child process (this file with --model-child) and reads back its row. */
function measureInChild(model, work) {
  const resultFile = join(work, `mmsa-${model}.json`);
  const r = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--model-child', model, work, resultFile], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (!existsSync(resultFile)) return { model, failed: `the child process exited with ${r.status ?? r.signal} and wrote no result` };
  // JSON has no NaN: a figure without a value comes back as null.
  return JSON.parse(readFileSync(resultFile, 'utf8'), (_, v) => (v === null ? NaN : v));
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'mmsa-bench-train-'));
  const ref = referenceSetup();
  const refThreads = Number(process.env.BENCH_REF_THREADS ?? 1);
  const refScript = join(root, 'tools', 'run-mmsa-reference.py');
  const refRuns = new Map();
  const rows = [];
  try {
    for (const model of MODELS) {
      const row = measureInChild(model, work);
      if (row.failed) {
        console.error(`${model}: ${row.failed}`);
        continue;
      }
      if (!ref.skipped) {
        // MMSA's own code on the same file, right after mmsa's epochs (once per MMSA model and file).
        const r = referenceOf(model);
        const key = `${r.model} ${r.dataset} ${row.data}`;
        if (!refRuns.has(key)) {
          console.error(`  reference: MMSA's ${r.model} (--dataset ${r.dataset}), ${EPOCHS === null ? 'to early stopping' : `${EPOCHS} epoch(s)`}, under prlimit --as=${ref.cap} ...`);
          refRuns.set(key, runReference(ref, {
            script: refScript,
            model: r.model,
            dataset: r.dataset,
            pkl: row.data,
            batch: row.batch,
            maxEpochs: EPOCHS ?? 0,
            args: [...r.args, '--seed', String(SEEDS[0])],
            out: join(work, `ref-${r.model}-${r.dataset}-${refRuns.size}`),
            threads: refThreads,
          }));
        }
        row.reference = refRuns.get(key);
        row.referenceNote = r.note;
      }
      rows.push(row);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const live = !ref.skipped;
  const gb = (b) => fmt(b / 1e9);
  const x = (a, b) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : 'n/a');
  console.log(`\nbench/train: ${EPOCHS ?? 'until early stop,'} epoch(s) per model on MOSI-sized synthetic data, backend ${BACKEND}, ${rows[0]?.kernels ?? 'n/a'}, node ${process.version}`);
  console.log('s/epoch: train + validation; s/epoch, ms/step, CPU s/batch (user + system per training batch) and other cores: means of the epochs after the first when there are 2 or more.');
  if (live) {
    console.log('model     s/epoch  (1st)  ms/step  CPU s/batch  peak RSS GB  other cores  wall s  test MAE  Corr    Has0_acc_2');
  } else {
    const dates = [...new Set(rows.map((r) => `${r.model} ${storedOn(r.model)}`))].join(', ');
    console.log(`The "stored" columns are NOT measured now: MMSA's figures typed in from other sessions under other loads (${dates}). Set MMSA_REFERENCE_RUNNER and MMSA_SRC to run MMSA's own code in this session.`);
    console.log('model     s/epoch  (1st)  ms/step  stored s/epoch  x stored  CPU s/batch  stored  x stored  peak RSS GB  other cores  wall s  test MAE  Corr    Has0_acc_2');
  }
  for (const r of rows) {
    const stored = live ? '' : ` ${fmt(REFERENCE[r.model], 1).padStart(15)} ${x(r.sPerEpoch, REFERENCE[r.model]).padStart(9)}`;
    const storedCpu = live ? '' : ` ${fmt(REFERENCE_CPU_BATCH[r.model], 3).padStart(7)} ${x(r.cpuBatch, REFERENCE_CPU_BATCH[r.model]).padStart(9)}`;
    console.log(
      `${r.model.padEnd(8)} ${fmt(r.sPerEpoch).padStart(8)} ${fmt(r.firstEpoch).padStart(6)} ${fmt(r.msPerStep, 1).padStart(8)}${stored} ${fmt(r.cpuBatch, 3).padStart(11)}${storedCpu} ${gb(r.ownPeakRssBytes).padStart(12)} ${fmt(r.otherLoad).padStart(12)} ${fmt(r.wall, 1).padStart(7)}  ${fmt(r.test?.MAE, 4).padStart(8)}  ${fmt(r.test?.Corr, 4).padStart(6)}  ${fmt(r.test?.Has0_acc_2, 4)}${r.seeds > 1 ? `  (mean of ${r.seeds} seeds; Corr std ${fmt(r.corrStd, 4)})` : ''}`,
    );
  }
  console.log("peak RSS: each model's child process's own high-water mark (loading, training, validation and test).");
  for (const [m, c] of Object.entries(REFERENCE_CORR)) console.log(`reference test Corr of ${m} after full training: ${c}${EPOCHS === null ? '' : ` (run BENCH_EPOCHS=full to compare; ${EPOCHS} epoch(s) here)`}`);
  if (!live) {
    console.log(`reference: not run in this session (${ref.skipped})`);
    return;
  }

  const measured = rows.find((r) => r.reference && !r.reference.skipped)?.reference;
  console.log(`\nMMSA's own code, measured now right after each model's mmsa epochs on the same file (tools/run-mmsa-reference.py${ref.patches.length ? ` with --patch ${ref.patches.join(', ')}` : ''}${measured ? `: PyTorch ${measured.torch}, ${measured.threads} torch thread(s)` : ''}, prlimit --as=${ref.cap}, seed ${SEEDS[0]}):`);
  console.log('model               s/epoch mmsa    MMSA   x ref   CPU s/batch mmsa    MMSA   x ref   peak RSS GB mmsa  MMSA  x ref   other cores mmsa  MMSA');
  const notes = [];
  for (const r of rows) {
    const m = r.reference;
    if (!m || m.skipped) {
      console.log(`${r.model.padEnd(19)} reference not run: ${m?.skipped ?? 'n/a'}`);
      continue;
    }
    console.log(
      `${r.model.padEnd(19)} ${fmt(r.sPerEpoch).padStart(12)} ${fmt(m.steady.epochSecs).padStart(7)} ${x(r.sPerEpoch, m.steady.epochSecs).padStart(7)} ${fmt(r.cpuBatch, 3).padStart(16)} ${fmt(m.steady.cpuPerBatch, 3).padStart(7)} ${x(r.cpuBatch, m.steady.cpuPerBatch).padStart(7)} ${gb(r.ownPeakRssBytes).padStart(16)} ${gb(m.peakRssBytes).padStart(5)} ${x(r.ownPeakRssBytes, m.peakRssBytes).padStart(6)} ${fmt(r.otherLoad).padStart(16)} ${fmt(m.steady.otherLoad).padStart(5)}`,
    );
    if (m.epochs !== r.epochs) notes.push(`${r.model}: MMSA trained ${m.epochs} epoch(s), mmsa ${r.epochs}`);
    if (r.referenceNote) notes.push(`${r.model}: ${r.referenceNote}`);
  }
  console.log("MMSA: seconds per epoch from the start of one training pass to the next (the last: to the end of its validation), CPU seconds its process used per training batch, peak RSS from /usr/bin/time; other cores: other processes' average busy cores during each side's training batches (/proc/stat).");
  for (const n of notes) console.log(n);
}

if (process.argv[2] === '--model-child') {
  const [model, work, resultFile] = process.argv.slice(3);
  let result;
  try {
    result = await measure(model, work);
  } catch (err) {
    result = { model, failed: err instanceof Error ? err.message : String(err) };
  }
  result.ownPeakRssBytes = process.resourceUsage().maxRSS * 1024;
  writeFileSync(resultFile, JSON.stringify(result));
} else {
  await main();
}
