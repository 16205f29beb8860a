import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectSeedRuns, compareRuns, expandGlob, formatCsv, formatJson, formatMarkdown, modelName, type SeedRun } from '../../src/report/compare.js';
import { copyRun, tmp } from './helpers.js';

const run = (pipeline: string, dataset: string, seed: number, test: Record<string, number>): SeedRun => ({ dir: `/r/${pipeline}/${seed}`, pipeline, specHash: 'h', dataset, seed, test });

describe('compare', () => {
  const runs = [
    run('tfn_mosi', 'mosi', 1, { Has0_acc_2: 0.7, MAE: 0.9 }),
    run('tfn_mosi', 'mosi', 2, { Has0_acc_2: 0.8, MAE: 1.1 }),
    run('self_mm_mosi', 'mosi', 1, { Has0_acc_2: 0.82, MAE: 0.72 }),
    run('self_mm_sims', 'sims', 1, { Has0_acc_2: 0.6, MAE: 0.5 }),
  ];

  it('mean +- population std over seeds, sorted per dataset by the chosen metric, best marked per column', () => {
    const c = compareRuns(runs);
    expect(c.sortBy).toBe('Has0_acc_2');
    expect(c.rows.map((r) => `${r.model}/${r.dataset}`)).toEqual(['self_mm/mosi', 'tfn/mosi', 'self_mm/sims']);
    const tfn = c.rows[1]!;
    expect(tfn.cells['Has0_acc_2']!.mean).toBeCloseTo(0.75);
    expect(tfn.cells['Has0_acc_2']!.std).toBeCloseTo(0.05);
    expect(c.best['mosi']).toEqual({ Has0_acc_2: 0, MAE: 0 });
    const md = formatMarkdown(c);
    expect(md).toContain('| self_mm | mosi | 1 | **82.00 +- 0.00** | **72.00 +- 0.00** |');
    expect(md).toContain('| tfn | mosi | 2 | 75.00 +- 5.00 | 100.00 +- 10.00 |');
    expect(formatCsv(c).split('\n')[1]).toBe('self_mm,mosi,1,"(82.00, 0.00)*","(72.00, 0.00)*"');
    const j = JSON.parse(formatJson(c)) as { rows: { model: string; metrics: Record<string, { best: boolean }> }[] };
    expect(j.rows[1]!.metrics['MAE']!.best).toBe(false);
  });

  it('sorting by an error metric puts the lowest first; unknown metrics are errors', () => {
    expect(compareRuns(runs, 'MAE').rows.map((r) => r.model)).toEqual(['self_mm', 'tfn', 'self_mm']);
    expect(() => compareRuns(runs, 'Acc_9')).toThrow(/no metric 'Acc_9'.*/);
  });

  it('ranks every metric the way the metric catalog says is better (RMSE and Loss lowest, CCC highest)', () => {
    const custom = [
      run('a_custom', 'custom', 1, { RMSE: 0.4, CCC: 0.6, Loss: 0.3 }),
      run('b_custom', 'custom', 1, { RMSE: 0.2, CCC: 0.5, Loss: 0.5 }),
    ];
    const c = compareRuns(custom);
    // The default sort key is the first higher-is-better metric.
    expect(c.sortBy).toBe('CCC');
    expect(c.rows.map((r) => r.pipeline)).toEqual(['a_custom', 'b_custom']);
    expect(c.best['custom']).toEqual({ RMSE: 1, CCC: 0, Loss: 0 });
    expect(compareRuns(custom, 'RMSE').rows.map((r) => r.pipeline)).toEqual(['b_custom', 'a_custom']);
  });

  it('model names drop the dataset suffix; two spec hashes of one pipeline stay apart', () => {
    expect(modelName('self_mm_simsv2')).toBe('self_mm');
    expect(modelName('demo_tfn')).toBe('demo_tfn');
    const c = compareRuns([run('x', 'd', 1, { A: 1 }), { ...run('x', 'd', 2, { A: 0 }), specHash: 'other1' }]);
    expect(c.rows.map((r) => r.model).sort()).toEqual(['x@h', 'x@other1']);
  });

  it('finds completed runs under directories and globs, skipping unfinished ones', () => {
    const root = tmp();
    copyRun(root);
    copyRun(root, 'demo_self_mm', 'f252c80cade1-1112', (m) => (m['seed'] = 1112));
    copyRun(root, 'demo_self_mm', 'f252c80cade1-1113', (m) => (m['status'] = 'running'));
    const { runs: found, skipped } = collectSeedRuns([root], '/');
    expect(found.map((r) => r.seed).sort()).toEqual([1111, 1112]);
    expect(skipped).toHaveLength(1);
    expect(expandGlob('*/*-111[0-9]'.replace('[0-9]', '?'), root)).toHaveLength(3);
    expect(collectSeedRuns([join(root, 'demo_*', '*')], '/').runs).toHaveLength(2);
    expect(() => collectSeedRuns([join(root, 'nope')], '/')).toThrow(/no such run directory/);
  });
});
