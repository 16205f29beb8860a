// MMSA-layout feature files made by ../shared/tools/make_synth_mmsa.py (the reference's own synthetic data, with a
// planted signal), generated once and cached under the OS temp dir, laid out like MMSA's data root
// (<root>/MOSI/Processed/unaligned_50.pkl, ...) so a named dataset with `root:` reads them as the real files.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const tool = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/tools/make_synth_mmsa.py');

/** Data root of the cache (pass as `dataset.root` or --data-root). */
export const synthRoot = join(tmpdir(), 'mmsa-bench', 'root');

const FILES = {
  mosi: { dir: 'MOSI', unaligned: 'unaligned_50.pkl', aligned: 'aligned_50.pkl' },
  mosei: { dir: 'MOSEI', unaligned: 'unaligned_50.pkl', aligned: 'aligned_50.pkl' },
  sims: { dir: 'SIMS', unaligned: 'unaligned_39.pkl' },
};

/**
 * Path of the generated file for a variant (mosi | mosei | sims), generating it on first use (default seed 1111).
 * `audioLen` / `visionLen` shorten the unaligned sequences; such a file lives under its own data root
 * (`<synthRoot>-a<audio>-v<vision>`), so a named dataset with that `root:` reads it.
 */
export function synthFile(variant = 'mosi', { aligned = false, audioLen = undefined, visionLen = undefined } = {}) {
  const f = FILES[variant];
  if (!f || (aligned && !f.aligned)) throw new Error(`no synthetic ${aligned ? 'aligned ' : ''}${variant} file`);
  const lens = audioLen || visionLen ? ['--audio-len', String(audioLen), '--vision-len', String(visionLen)] : [];
  const root = lens.length > 0 ? `${synthRoot}-a${audioLen}-v${visionLen}` : synthRoot;
  const file = join(root, f.dir, 'Processed', aligned ? f.aligned : f.unaligned);
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    process.stderr.write(`generating ${file} with ${tool} (once; cached) ...\n`);
    const tmp = `${file}.tmp`;
    execFileSync('python3', [tool, '-o', tmp, '--variant', variant, ...(aligned ? ['--aligned'] : []), ...lens], { stdio: ['ignore', 'ignore', 'inherit'] });
    renameSync(tmp, file);
  }
  return file;
}
