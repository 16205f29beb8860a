import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRIC_SETS, metricDirection, resultKeys } from '../../../src/core/metrics.js';
import { MmsaError } from '../../../src/errors.js';
import { defaultMode } from '../../../src/compiler/spec/normalize-spec.js';
import { computeMetrics, initialBest } from '../../../src/runtime/metrics/index.js';
import { rocAuc } from '../../../src/runtime/metrics/classification.js';
import { ModelSelection } from '../../../src/runtime/train/callbacks/model-selection.js';
import { ParamStore } from '../../../src/runtime/nn/params.js';
import type { EpochEnd } from '../../../src/runtime/train/callbacks/callback.js';
import type { SplitData } from '../../../src/runtime/data/types.js';
import { compareRuns, type SeedRun } from '../../../src/report/compare.js';

interface AurocCase {
  name: string;
  truth: number[];
  score: number[];
  auroc: number;
}
// Made by tools/make-auroc-fixture.py with scikit-learn's roc_auc_score (see test/fixtures/README.md).
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/metrics/auroc.json', import.meta.url), 'utf8')) as {
  cases: AurocCase[];
  logits_case: { logits: [number, number][]; labels: number[]; auroc: number };
};

describe('AUROC (sklearn roc_auc_score)', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s: the value sklearn computed, to the last bit', (_, c) => {
    expect(rocAuc(c.truth, c.score)).toBe(c.auroc);
  });

  it('scores a 2-class head by its logit margin, rounded as the other metrics', () => {
    const { logits, labels, auroc } = fixture.logits_case;
    const got = computeMetrics(['AUROC'], Float32Array.from(logits.flat()), labels, { numClasses: 2, decimals: null });
    expect(got.AUROC).toBe(auroc);
    expect(computeMetrics('binary', Float32Array.from(logits.flat()), labels, { numClasses: 2 }).AUROC).toBe(Math.round(auroc * 1e4) / 1e4);
  });

  it('is NaN with one class only (sklearn raises) and an error for more than two classes', () => {
    expect(rocAuc([1, 1, 1], [0.2, 0.3, 0.1])).toBeNaN();
    expect(rocAuc([0, 1], [Number.NaN, 0.3])).toBeNaN();
    const three = () => computeMetrics(['AUROC'], new Float32Array(6), [0, 1], { numClasses: 3 });
    expect(three).toThrow(MmsaError);
    expect(three).toThrow(/AUROC scores two classes/);
  });
});

describe('metric sets depression, binary, multiclass', () => {
  it('name the metrics the issue asks for, Pearson being Corr', () => {
    expect(resultKeys('depression')).toEqual(['CCC', 'MAE', 'RMSE', 'Corr']);
    expect(resultKeys('binary')).toEqual(['accuracy', 'weighted_F1', 'macro_F1', 'AUROC']);
    expect(resultKeys('multiclass')).toEqual(['accuracy', 'macro_F1', 'weighted_F1']);
    expect(Object.keys(METRIC_SETS)).toEqual(expect.arrayContaining(['depression', 'binary', 'multiclass']));
  });

  it('compute on PHQ-8-like scores and binary logits', () => {
    const dep = computeMetrics('depression', [3, 10, 20, 6], [2, 12, 24, 4], { decimals: null });
    expect(dep.MAE).toBe(2.25);
    expect(dep.RMSE).toBeCloseTo(Math.sqrt((1 + 4 + 16 + 4) / 4), 12);
    expect(dep.CCC).toBeGreaterThan(0.9);
    expect(dep.CCC).toBeLessThan(dep.Corr!);
    // Two classes from logits: rows 0, 1 right, row 2 wrong (pred 1, truth 0), row 3 right.
    const bin = computeMetrics('binary', new Float32Array([2, 0, 0, 1, 0, 0.5, 1, -1]), [0, 1, 0, 0], { numClasses: 2, decimals: null });
    expect(bin.accuracy).toBe(0.75);
    expect(bin.AUROC).toBe(rocAuc([0, 1, 0, 0], [-2, 1, 0.5, -2]));
  });

  it('every metric of the sets has the direction model selection and compare use', () => {
    expect(['MAE', 'RMSE', 'loss'].map((k) => metricDirection(k))).toEqual(['min', 'min', 'min']);
    expect(['CCC', 'Corr', 'AUROC', 'accuracy', 'macro_F1', 'weighted_F1'].map((k) => metricDirection(k))).toEqual(['max', 'max', 'max', 'max', 'max', 'max']);
    expect(['MAE', 'RMSE', 'CCC', 'AUROC'].map(defaultMode)).toEqual(['min', 'min', 'max', 'max']);
    // MMSA starts a maximising selection at 0; a correlation may stay negative, so it starts at -Infinity.
    expect(initialBest('max', 'CCC')).toBe(-Infinity);
    expect(initialBest('max', 'AUROC')).toBe(0);
  });
});

/** Runs the model-selection callback over per-epoch validation results; returns the epoch it keeps. */
function selectedEpoch(metric: string, series: Record<string, number>[]): number {
  const split = { name: 'valid', n: 0, ids: [], features: {}, lengths: {}, labels: {} } as SplitData;
  const sel = new ModelSelection({ select: { metric, mode: defaultMode(metric), split: 'valid', minDelta: 1e-6 } as never, split, store: new ParamStore({ seed: 1 }), tasks: [] });
  series.forEach((metrics, i) => {
    const outcome = { metrics } as never;
    const e: EpochEnd = { epoch: i + 1, valid: outcome, evaluated: () => outcome, report: { taskExtras: {} }, emit: () => {}, stop: false };
    sel.onEpochEnd(e);
  });
  return sel.bestEpoch;
}

describe('model selection by the new metrics', () => {
  const epochs = [
    { Loss: 30, CCC: -0.2, MAE: 6.1, RMSE: 7.9, Corr: -0.1, AUROC: 0.55 },
    { Loss: 25, CCC: -0.05, MAE: 4.2, RMSE: 7.2, Corr: 0.2, AUROC: 0.71 },
    { Loss: 26, CCC: 0.31, MAE: 4.9, RMSE: 6.4, Corr: 0.35, AUROC: 0.64 },
    { Loss: 27, CCC: 0.12, MAE: 5.3, RMSE: 6.9, Corr: 0.3, AUROC: 0.6 },
  ];

  it('MAE and RMSE pick their minimum, CCC and AUROC their maximum', () => {
    expect(selectedEpoch('MAE', epochs)).toBe(2);
    expect(selectedEpoch('RMSE', epochs)).toBe(3);
    expect(selectedEpoch('CCC', epochs)).toBe(3);
    expect(selectedEpoch('AUROC', epochs)).toBe(2);
    expect(selectedEpoch('loss', epochs)).toBe(2);
  });

  it('a CCC below zero in every epoch still selects the best one', () => {
    expect(selectedEpoch('CCC', [{ CCC: -0.4 }, { CCC: -0.1 }, { CCC: -0.3 }])).toBe(2);
  });
});

describe('mmsa compare ranks the new metrics the right way round', () => {
  const run = (pipeline: string, test: Record<string, number>): SeedRun => ({ dir: `/r/${pipeline}`, pipeline, specHash: 'h', dataset: 'daic_woz', seed: 1, test });
  const runs = [run('a_daic_woz', { CCC: 0.2, MAE: 5.1, AUROC: 0.6 }), run('b_daic_woz', { CCC: 0.4, MAE: 5.6, AUROC: 0.7 }), run('c_daic_woz', { CCC: 0.1, MAE: 4.4, AUROC: 0.65 })];

  it('sorts by MAE ascending and by CCC / AUROC descending, marking the best of each', () => {
    expect(compareRuns(runs, 'MAE').rows.map((r) => r.pipeline)).toEqual(['c_daic_woz', 'a_daic_woz', 'b_daic_woz']);
    expect(compareRuns(runs, 'CCC').rows.map((r) => r.pipeline)).toEqual(['b_daic_woz', 'a_daic_woz', 'c_daic_woz']);
    expect(compareRuns(runs, 'AUROC').rows.map((r) => r.pipeline)).toEqual(['b_daic_woz', 'c_daic_woz', 'a_daic_woz']);
    const c = compareRuns(runs, 'CCC');
    expect(c.rows[c.best['daic_woz']!['MAE']!]!.pipeline).toBe('c_daic_woz');
    expect(c.rows[c.best['daic_woz']!['AUROC']!]!.pipeline).toBe('b_daic_woz');
  });
});
