#!/usr/bin/env node
// Writes an MMSA-layout synthetic feature file (like MOSI/Processed/unaligned_50.pkl) with a planted signal; the
// generator is src/runtime/data/synth-mmsa.ts (build first: npx tsc -p tsconfig.build.json). Tooling for benchmarks.
//
//   node tools/make-synth-mmsa.mjs -o out/mosi_unaligned.pkl
//   node tools/make-synth-mmsa.mjs -o out/mosi_aligned.pkl --aligned
//   node tools/make-synth-mmsa.mjs -o out/sims.pkl --variant sims
//   node tools/make-synth-mmsa.mjs -o out/tiny.pkl --small
//   node tools/make-synth-mmsa.mjs -o out/daic_like.pkl --variant depression      (sessions, PHQ-8 0-24)
//   node tools/make-synth-mmsa.mjs -o out/urfunny_like.pkl --variant humour --small (binary, with context)
//   node tools/make-synth-mmsa.mjs -o out/mosi_small_bert.pkl --bert-vocab 2048  (text_bert ids, cue words included,
//        below a small BERT's 2048-id vocabulary: test/fixtures/hf-bert/small-bert; cueBands in the generator)
//   node tools/make-synth-mmsa.mjs -o out/mosi_cue.pkl --bert-vocab 2048 --bert-cue-rate 0.5 --bert-cue-words 4
//        (a cue a randomly initialised small BERT learns at MMSA's learning rates: about half of the words are one
//        of 4 "good" or 4 "bad" ids; every other array is byte-identical to the file without these two options)
//   node tools/make-synth-mmsa.mjs --raw out/my_data --variant depression --small   (per-sample files + samples.csv)
//
// The file loads with Python's pickle and numpy 1.x or 2.x, so MMSA itself can be run on the same data.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SYNTH_PRESETS, SYNTH_SMALL_SIZES, writeSynthMmsa } from '../dist/runtime/data/synth-mmsa.js';
import { SESSION_PRESETS, writeSynthRawFeatures, writeSynthSessions } from '../dist/runtime/data/synth-sessions.js';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string', short: 'o' },
    raw: { type: 'string' },
    frames: { type: 'string' },
    'text-dim': { type: 'string' },
    'audio-dim': { type: 'string' },
    'vision-dim': { type: 'string' },
    variant: { type: 'string', default: 'mosi' },
    seed: { type: 'string', default: '1111' },
    aligned: { type: 'boolean', default: false },
    small: { type: 'boolean', default: false },
    train: { type: 'string' },
    valid: { type: 'string' },
    test: { type: 'string' },
    'text-len': { type: 'string' },
    'audio-len': { type: 'string' },
    'vision-len': { type: 'string' },
    noise: { type: 'string', default: '0.4' },
    'bert-vocab': { type: 'string' },
    'bert-cue-rate': { type: 'string' },
    'bert-cue-words': { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const sessions = a.variant in SESSION_PRESETS;
if (a.help || (!a.out && !(a.raw && sessions))) {
  process.stderr.write('usage: node tools/make-synth-mmsa.mjs -o FILE [--variant mosi|mosei|sims|depression|humour|sarcasm] [--seed N] [--aligned] [--small]\n' +
    '       [--train N --valid N --test N] [--text-len N --audio-len N --vision-len N] [--noise X] [--bert-vocab V]\n' +
    '       [--bert-cue-rate P (0.15)] [--bert-cue-words K]\n' +
    '       depression|humour|sarcasm: [--frames MIN,MAX] [--text-dim N --audio-dim N --vision-dim N] [--raw DIR instead of -o]\n');
  process.exit(a.help ? 0 : 2);
}
if (!(a.variant in SYNTH_PRESETS) && !sessions) {
  process.stderr.write(`--variant must be one of ${[...Object.keys(SYNTH_PRESETS), ...Object.keys(SESSION_PRESETS)].join(', ')}, got '${a.variant}'\n`);
  process.exit(2);
}
const int = (v, what) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`${what} expects a non-negative integer, got '${v}'\n`);
    process.exit(2);
  }
  return n;
};
const rate = (v) => {
  const x = Number(v);
  if (!(x >= 0 && x <= 1)) {
    process.stderr.write(`--bert-cue-rate expects a probability scale in [0, 1], got '${v}'\n`);
    process.exit(2);
  }
  return x;
};
const sizes = [...(a.small ? SYNTH_SMALL_SIZES : (SYNTH_PRESETS[a.variant] ?? SESSION_PRESETS[a.variant]).sizes)];
['train', 'valid', 'test'].forEach((k, i) => {
  if (a[k] !== undefined) sizes[i] = int(a[k], `--${k}`);
});
const t0 = Date.now();
if (sessions) {
  // Small: short sessions and small dims, so a demo trains in seconds.
  const frames = a.frames ? a.frames.split(',').map((v) => int(v, '--frames')) : a.small && a.variant === 'depression' ? [100, 300] : undefined;
  const o = {
    variant: a.variant,
    sizes,
    seed: int(a.seed, '--seed'),
    ...(frames ? { frames } : {}),
    ...(a['text-len'] ? { textLen: int(a['text-len'], '--text-len') } : {}),
    ...(a['text-dim'] ? { textDim: int(a['text-dim'], '--text-dim') } : a.small ? { textDim: 16 } : {}),
    ...(a['audio-dim'] ? { audioDim: int(a['audio-dim'], '--audio-dim') } : a.small && a.variant !== 'depression' ? { audioDim: 8 } : {}),
    ...(a['vision-dim'] ? { visionDim: int(a['vision-dim'], '--vision-dim') } : a.small && a.variant !== 'depression' ? { visionDim: 8 } : {}),
  };
  if (a.raw) {
    const table = writeSynthRawFeatures(resolve(a.raw), o);
    process.stderr.write(`wrote ${table} and its feature files (${a.variant}, sizes ${sizes.join('/')}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  } else {
    const out = resolve(a.out);
    mkdirSync(dirname(out), { recursive: true });
    const bytes = writeSynthSessions(out, o);
    process.stderr.write(`wrote ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB, ${a.variant}, sizes ${sizes.join('/')}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
  }
  process.exit(0);
}
const out = resolve(a.out);
mkdirSync(dirname(out), { recursive: true });
const bytes = writeSynthMmsa(out, {
  variant: a.variant,
  sizes,
  seed: int(a.seed, '--seed'),
  aligned: a.aligned,
  noise: Number(a.noise),
  ...(a['text-len'] ? { textLen: int(a['text-len'], '--text-len') } : {}),
  ...(a['audio-len'] ? { audioLen: int(a['audio-len'], '--audio-len') } : {}),
  ...(a['vision-len'] ? { visionLen: int(a['vision-len'], '--vision-len') } : {}),
  ...(a['bert-vocab'] ? { bertVocab: int(a['bert-vocab'], '--bert-vocab') } : {}),
  ...(a['bert-cue-rate'] ? { bertCueRate: rate(a['bert-cue-rate']) } : {}),
  ...(a['bert-cue-words'] ? { bertCueWords: int(a['bert-cue-words'], '--bert-cue-words') } : {}),
});
process.stderr.write(`wrote ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB, ${a.variant}${a.aligned ? ' aligned' : ''}, sizes ${sizes.join('/')}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
