// MMSA-layout feature files with a planted signal, made by the project's own generator (src/runtime/data/synth-mmsa.ts,
// also `node tools/make-synth-mmsa.mjs`), generated once and cached under the OS temp dir, laid out like MMSA's data
// root (<root>/MOSI/Processed/unaligned_50.pkl, ...) so a named dataset with `root:` reads them as the real files.
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeSynthMmsa } from '../dist/runtime/data/synth-mmsa.js';

/** Data root of the cache (pass as `dataset.root` or --data-root). Versioned: a generator change gets new files. */
export const synthRoot = join(tmpdir(), 'mmsa-bench', 'synth-v1');

const FILES = {
  mosi: { dir: 'MOSI', unaligned: 'unaligned_50.pkl', aligned: 'aligned_50.pkl' },
  mosei: { dir: 'MOSEI', unaligned: 'unaligned_50.pkl', aligned: 'aligned_50.pkl' },
  sims: { dir: 'SIMS', unaligned: 'unaligned_39.pkl' },
};

/**
 * Path of the generated file for a variant (mosi | mosei | sims), generating it on first use (seed 1111).
 * `audioLen` / `visionLen` shorten the unaligned sequences; such a file lives under its own data root
 * (`<synthRoot>-a<audio>-v<vision>`).
 */
export function synthFile(variant = 'mosi', { aligned = false, audioLen = undefined, visionLen = undefined } = {}) {
  const f = FILES[variant];
  if (!f || (aligned && !f.aligned)) throw new Error(`no synthetic ${aligned ? 'aligned ' : ''}${variant} file`);
  const lens = audioLen || visionLen ? { audioLen, visionLen } : {};
  const root = audioLen || visionLen ? `${synthRoot}-a${audioLen}-v${visionLen}` : synthRoot;
  const file = join(root, f.dir, 'Processed', aligned ? f.aligned : f.unaligned);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    process.stderr.write(`generating ${file} (once; cached) ...\n`);
    writeSynthMmsa(file, { variant, aligned, seed: 1111, ...lens });
  }
  return file;
}
