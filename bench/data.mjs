// Benchmark: loadDataset throughput and peak RSS on a MOSI-sized unaligned feature file (1284/229/686 samples,
// text 50x768, audio 375x5, vision 500x20) made by the project's MMSA-layout generator (bench/synth-cache.mjs) and
// cached in the OS temp dir; plus sha256, inspect and synthetic generation. Figures are printed, not asserted.
// Run: npx tsc -p tsconfig.build.json && node bench/data.mjs   (BENCH_ONLY='label|label' runs a subset; each case
// runs in a fresh child process so peak RSS is per case)
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { synthFile } from './synth-cache.mjs';

const file = synthFile('mosi');

const SPAN = { file: '<bench>', start: 0, end: 0 };
const MOSI = {
  text: { key: 'text', shape: [50, 768], dtype: 'float' },
  text_bert: { key: 'text_bert', shape: [3, 50], dtype: 'int' },
  audio: { key: 'audio', shape: [375, 5], dtype: 'float', lengths: 'audio_lengths' },
  vision: { key: 'vision', shape: [500, 20], dtype: 'float', lengths: 'vision_lengths' },
  raw_text: { key: 'raw_text', shape: [], dtype: 'str' },
  id: { key: 'id', shape: [], dtype: 'str' },
};

async function makeIr(modalities, synthetic) {
  const { inputType } = await import('../dist/compiler/ir/build-ir.js');
  const dataset = synthetic
    ? { name: 'synthetic-mosi', source: 'synthetic', aligned: false, splits: { train: 256, valid: 64, test: 64 }, features: synthetic.features, labels: synthetic.labels, task: 'regression', metrics: 'mosi', synthetic: synthetic.settings, span: SPAN }
    : { name: 'bench', source: 'custom', path: file, aligned: false, splits: { train: 0, valid: 0, test: 0 }, features: MOSI, labels: { M: 'regression_labels' }, task: 'regression', metrics: 'mosi', span: SPAN };
  const mods = {};
  for (const [name, m] of Object.entries(modalities)) {
    mods[name] = { feature: m.feature, lengths: dataset.features[m.feature].lengths ?? null, align: m.align ?? 'none', preprocess: { time_mean: false, seq_len: null, clamp_lengths: true, neg_inf_to_zero: m.feature === 'audio', ...m.preprocess } };
  }
  const spec = { modalities: mods };
  const nodes = Object.entries(mods).map(([name, m]) => ({ id: `modalities.${name}`, kind: 'input', name, type: m.feature, inputs: [], output: inputType(m, dataset, spec), params: [], summary: '', config: m, span: SPAN }));
  return { pipeline: 'bench', file: '<bench>', dataset, nodes, tasks: [{ name: 'M', type: 'l1', heads: ['M'], targets: ['M'], weight: 1, validLoss: true, summary: '', hooks: [], config: {}, span: SPAN }], groups: [], schedule: {}, totalParams: 0, trainableParams: 0 };
}

const CASES = {
  'load text+audio+vision (Self-MM demo layout)': { mods: { text: { feature: 'text' }, audio: { feature: 'audio' }, vision: { feature: 'vision' } } },
  'load text_bert+audio+vision (text skipped)': { mods: { text: { feature: 'text_bert' }, audio: { feature: 'audio' }, vision: { feature: 'vision' } } },
  'load text + time_mean audio/vision (LF_DNN)': { mods: { text: { feature: 'text' }, audio: { feature: 'audio', preprocess: { time_mean: true } }, vision: { feature: 'vision', preprocess: { time_mean: true } } } },
  'load text + avg_pool audio/vision (EF_LSTM)': { mods: { text: { feature: 'text' }, audio: { feature: 'audio', align: 'avg_pool' }, vision: { feature: 'vision', align: 'avg_pool' } } },
  'sha256File': { hash: true },
  'inspectPickle (all keys + stats)': { inspect: true },
  'synthetic mosi 256/64/64 (demo size)': { synthetic: 'mosi' },
  'synthetic sims 256/64/64 (demo size)': { synthetic: 'sims' },
};

async function runCase(label) {
  const c = CASES[label];
  const size = statSync(file).size;
  const t0 = performance.now();
  let extra = '';
  if (c.hash) {
    const { sha256File } = await import('../dist/runtime/data/hash.js');
    await sha256File(file);
  } else if (c.inspect) {
    const { inspectPickle } = await import('../dist/runtime/data/inspect.js');
    await inspectPickle(file);
  } else if (c.synthetic) {
    const { syntheticLayout } = await import('../dist/compiler/spec/synthetic-layout.js');
    const { loadDataset } = await import('../dist/runtime/data/load-dataset.js');
    const settings = { type: 'synthetic', like: c.synthetic, aligned: false, n_train: 256, n_valid: 64, n_test: 64, seed: 1, noise: 0.5 };
    const layout = syntheticLayout(settings);
    const ir = await makeIr({ text: { feature: 'text' }, audio: { feature: 'audio' }, vision: { feature: 'vision' } }, { features: layout.features, labels: layout.labels, settings });
    const t1 = performance.now();
    const d = await loadDataset(ir);
    const ms = performance.now() - t1;
    const mb = ['train', 'valid', 'test'].reduce((s, k) => s + Object.values(d[k].features).reduce((a, f) => a + f.data.byteLength, 0), 0) / 1e6;
    return { ms, extra: `${mb.toFixed(0)} MB of features`, rss: process.resourceUsage().maxRSS / 1024 };
  } else {
    const { loadDataset } = await import('../dist/runtime/data/load-dataset.js');
    const ir = await makeIr(c.mods);
    const t1 = performance.now();
    const d = await loadDataset(ir);
    const ms = performance.now() - t1;
    const mb = ['train', 'valid', 'test'].reduce((s, k) => s + Object.values(d[k].features).reduce((a, f) => a + f.data.byteLength, 0), 0) / 1e6;
    return { ms, extra: `${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s of file, ${mb.toFixed(0)} MB of features kept`, rss: process.resourceUsage().maxRSS / 1024 };
  }
  const ms = performance.now() - t0;
  return { ms, extra: `${(size / 1e6 / (ms / 1000)).toFixed(0)} MB/s${extra}`, rss: process.resourceUsage().maxRSS / 1024 };
}

if (process.argv[2] === '--case') {
  const r = await runCase(process.argv[3]);
  process.stdout.write(JSON.stringify(r));
} else {
  const size = statSync(file).size;
  console.log(`file ${file}: ${(size / 1e6).toFixed(1)} MB; node ${process.version}; peak RSS of an idle node ~45 MB`);
  const only = process.env.BENCH_ONLY?.split('|');
  for (const label of Object.keys(CASES)) {
    if (only && !only.some((o) => label.includes(o))) continue;
    const p = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--case', label], { encoding: 'utf8' });
    if (p.status !== 0) {
      console.log(`${label.padEnd(48)} FAILED\n${p.stderr}`);
      continue;
    }
    const r = JSON.parse(p.stdout);
    console.log(`${label.padEnd(48)} ${r.ms.toFixed(0).padStart(6)} ms  peak RSS ${r.rss.toFixed(0).padStart(5)} MB  ${r.extra}`);
  }
}
