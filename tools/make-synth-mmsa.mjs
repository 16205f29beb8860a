#!/usr/bin/env node
// Writes an MMSA-layout synthetic feature file (like MOSI/Processed/unaligned_50.pkl) with a planted signal; the
// generator is src/runtime/data/synth-mmsa.ts (build first: npx tsc -p tsconfig.build.json). Tooling for benchmarks.
//
//   node tools/make-synth-mmsa.mjs -o out/mosi_unaligned.pkl
//   node tools/make-synth-mmsa.mjs -o out/mosi_aligned.pkl --aligned
//   node tools/make-synth-mmsa.mjs -o out/sims.pkl --variant sims
//   node tools/make-synth-mmsa.mjs -o out/tiny.pkl --small
//
// The file loads with Python's pickle and numpy 1.x or 2.x, so MMSA itself can be run on the same data.
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { SYNTH_PRESETS, SYNTH_SMALL_SIZES, writeSynthMmsa } from '../dist/runtime/data/synth-mmsa.js';

const { values: a } = parseArgs({
  options: {
    out: { type: 'string', short: 'o' },
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
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (a.help || !a.out) {
  process.stderr.write('usage: node tools/make-synth-mmsa.mjs -o FILE [--variant mosi|mosei|sims] [--seed N] [--aligned] [--small]\n' +
    '       [--train N --valid N --test N] [--text-len N --audio-len N --vision-len N] [--noise X]\n');
  process.exit(a.help ? 0 : 2);
}
if (!(a.variant in SYNTH_PRESETS)) {
  process.stderr.write(`--variant must be one of ${Object.keys(SYNTH_PRESETS).join(', ')}, got '${a.variant}'\n`);
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
const sizes = [...(a.small ? SYNTH_SMALL_SIZES : SYNTH_PRESETS[a.variant].sizes)];
['train', 'valid', 'test'].forEach((k, i) => {
  if (a[k] !== undefined) sizes[i] = int(a[k], `--${k}`);
});
const out = resolve(a.out);
mkdirSync(dirname(out), { recursive: true });
const t0 = Date.now();
const bytes = writeSynthMmsa(out, {
  variant: a.variant,
  sizes,
  seed: int(a.seed, '--seed'),
  aligned: a.aligned,
  noise: Number(a.noise),
  ...(a['text-len'] ? { textLen: int(a['text-len'], '--text-len') } : {}),
  ...(a['audio-len'] ? { audioLen: int(a['audio-len'], '--audio-len') } : {}),
  ...(a['vision-len'] ? { visionLen: int(a['vision-len'], '--vision-len') } : {}),
});
process.stderr.write(`wrote ${out} (${(bytes / 2 ** 20).toFixed(1)} MiB, ${a.variant}${a.aligned ? ' aligned' : ''}, sizes ${sizes.join('/')}, ${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
