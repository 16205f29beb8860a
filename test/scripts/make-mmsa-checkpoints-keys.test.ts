// tools/make-mmsa-checkpoints.py's key manifests: `--keys-only --only` picks models or model_dataset entries and
// keeps every other entry of state-dict-keys.json, and the committed file holds an entry for every model x dataset
// the tool makes (MMIM and TETFN included). Runs the tool's selection and merge in python3 (MMSA itself not needed).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../src/paths.js';

const root = packageRoot();
const tool = join(root, 'tools/make-mmsa-checkpoints.py');
const hasPython = (() => {
  try {
    execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The tool's selection and merge on a few inputs, in one python3 process (numpy's import is slow on a busy machine). */
function toolAnswers(): Record<string, unknown> {
  const existing = { tfn_mosi: { a: [1] }, mmim_mosi: { old: [2] }, _note: 'old' };
  const made = { mmim_mosi: { new: [3] }, _note: 'new' };
  const code = `
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("t", ${JSON.stringify(tool)})
t = importlib.util.module_from_spec(spec); spec.loader.exec_module(t)
existing, made = json.loads(${JSON.stringify(JSON.stringify(existing))}), json.loads(${JSON.stringify(JSON.stringify(made))})
try:
    t.selected_keys(["mmmi"]); unknown = None
except SystemExit as e:
    unknown = str(e)
print(json.dumps({
    "mmim": t.selected_keys(["mmim"]),
    "entries": t.selected_keys(["tetfn_sims", "mmim_mosi"]),
    "all": [f"{m}_{d}" for m, d in t.selected_keys(None)],
    "unknown": unknown,
    "mergeOnly": t.merge_keys(existing, made, ["mmim"]),
    "mergeAll": t.merge_keys(existing, made, None),
}))`;
  return JSON.parse(execFileSync('python3', ['-c', code], { encoding: 'utf8' })) as Record<string, unknown>;
}

describe.skipIf(!hasPython)('make-mmsa-checkpoints key manifests', () => {
  const t = hasPython ? toolAnswers() : {};

  it('--only picks a model (every dataset MMSA configures for it) or one model_dataset entry', () => {
    expect(t.mmim).toEqual([['mmim', 'mosi'], ['mmim', 'mosei'], ['mmim', 'sims']]);
    expect(t.entries).toEqual([['mmim', 'mosi'], ['tetfn', 'sims']]);
    // A name that is neither stops with the models it knows.
    expect(t.unknown).toMatch(/^--only mmmi: no such model or model_dataset .*\bmmim\b.*\btetfn\b/);
  });

  it('with --only the other entries of the file are kept; a full run writes the file anew', () => {
    expect(t.mergeOnly).toEqual({ tfn_mosi: { a: [1] }, mmim_mosi: { new: [3] }, _note: 'new' });
    expect(t.mergeAll).toEqual({ mmim_mosi: { new: [3] }, _note: 'new' });
  });

  it('the committed state-dict-keys.json has an entry for every model x dataset the tool makes (MMIM and TETFN too)', () => {
    const keys = Object.keys(JSON.parse(readFileSync(join(root, 'test/fixtures/mmsa-checkpoints/state-dict-keys.json'), 'utf8')));
    // MMSA has no MFM config for SIMS v2 (config/config_regression.json), so the tool makes none.
    const want = (t.all as string[]).filter((k) => k !== 'mfm_simsv2');
    expect(keys.filter((k) => k !== '_note').sort()).toEqual(want.sort());
    for (const k of ['mmim_mosi', 'mmim_mosei', 'mmim_sims', 'tetfn_mosi', 'tetfn_mosei', 'tetfn_sims', 'tetfn_simsv2']) expect(keys).toContain(k);
  });
});
