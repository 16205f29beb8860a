// The objective of a search: its direction comes from the metric catalog (every metric says which way is better), the
// plan says it, and the best trial is the lowest or the highest accordingly; a resumed search retries only trials that
// failed for a reason outside their setting.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import { METRICS, metricDirection, metricKey } from '../../src/runtime/metrics/registry.js';
import { bestTrial, retriedOnResume, type TrialRecord } from '../../src/tune/search.js';
import { resolveTune } from '../../src/tune/tune-config.js';

const FIXTURE = resolve(import.meta.dirname, '../fixtures/tune/tiny_tune.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-objective-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The tiny search with another objective metric. */
function specWith(metric: string): string {
  const f = join(dir, `tune_${metric.replace(/\W/g, '_')}.yaml`);
  writeFileSync(f, `version: 1\nextends: ${JSON.stringify(FIXTURE)}\ntune:\n  objective: {metric: ${metric}}\n`);
  return f;
}

describe('the tuning objective', () => {
  it('every metric of the catalog says which way is better; errors and the loss are minimised', () => {
    for (const def of METRICS.values()) {
      expect(['min', 'max'], def.name).toContain(def.better);
      expect(metricDirection(def.name)).toBe(def.better);
      expect(metricDirection(metricKey(def))).toBe(def.better);
    }
    const min = [...METRICS.values()].filter((d) => d.better === 'min').map((d) => d.name);
    expect(min.sort()).toEqual(['MAE', 'RMSE', 'sims/MAE']);
    expect(metricDirection('loss')).toBe('min');
    expect(metricDirection('Loss')).toBe('min');
    expect(metricDirection('mae')).toBe('min');
    expect(metricDirection('Mult_acc_3')).toBe('max');
    expect(metricDirection('no_such_metric')).toBeUndefined();
  });

  it('a compiled search takes its direction from the metric, and mmsa plan says it', async () => {
    // The tiny search is on SIMS-like data: MAE, Corr, Mult_acc_2/3/5 and F1_score.
    const cases: [string, 'min' | 'max', string][] = [
      ['MAE', 'min', 'minimise MAE'],
      ['loss', 'min', 'minimise Loss'],
      ['Corr', 'max', 'maximise Corr'],
      ['Mult_acc_2', 'max', 'maximise Mult_acc_2'],
      ['F1_score', 'max', 'maximise F1_score'],
    ];
    for (const [metric, mode, words] of cases) {
      const file = specWith(metric);
      const c = compileFile(file, { env: {} });
      expect(c.diagnostics.filter((d) => d.severity === 'error'), metric).toEqual([]);
      expect(resolveTune(c.spec!)!.objective.mode, metric).toBe(mode);
      const out: string[] = [];
      expect(await main(['plan', file], { out: (s: string) => void out.push(s), err: () => {}, cwd: dir, env: {}, isTTY: false })).toBe(0);
      expect(out.join('')).toContain(`objective: ${words} on valid`);
      const json: string[] = [];
      expect(await main(['plan', '--format', 'json', file], { out: (s: string) => void json.push(s), err: () => {}, cwd: dir, env: {}, isTTY: false })).toBe(0);
      expect(JSON.parse(json.join('')).tune.objective).toMatchObject({ split: 'valid', mode });
    }
  });

  it('the best trial is the lowest when minimising and the highest when maximising', () => {
    const trial = (n: number, objective: number, status: TrialRecord['status'] = 'completed'): TrialRecord => ({ trial: n, setting: { x: n }, status, objective });
    const trials = [trial(0, 0.5), trial(1, 0.9), trial(2, 0.1), trial(3, 0.95, 'failed'), trial(4, Number.NaN)];
    const c = compileFile(specWith('Corr'), { env: {} });
    const max = resolveTune(c.spec!)!;
    expect(bestTrial(max, trials)!.trial).toBe(1);
    expect(bestTrial({ ...max, objective: { ...max.objective, mode: 'min' } }, trials)!.trial).toBe(2);
  });

  it('a resumed search retries a trial whose worker died or whose run directory was held, not one whose setting failed', () => {
    const failed = (error: string): TrialRecord => ({ trial: 0, setting: {}, status: 'failed', error });
    expect(retriedOnResume(failed('MSA6752: lmf/abc-1111: worker process 12 exited (SIGKILL) during the run'))).toBe(true);
    expect(retriedOnResume(failed('MSA6743: runs/lmf/abc-1111 is being trained right now'))).toBe(true);
    expect(retriedOnResume(failed('MSA6707: the training loss is not finite'))).toBe(false);
    expect(retriedOnResume(failed('the setting does not compile:\nMSA3034 ...'))).toBe(false);
  });
});
