import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { collectSeedRuns, compareRuns, expandGlob, formatCsv, formatJson, formatMarkdown, modelName, type SeedRun } from '../../src/report/compare.js';
import { copyRun, tmp } from './helpers.js';

const run = (pipeline: string, dataset: string, seed: number, test: Record<string, number>): SeedRun => ({ dir: `/r/${pipeline}/${seed}`, pipeline, specHash: 'h', dataset, seed, test });
const mosiSet = (acc: number, mae: number) => ({ Has0_acc_2: acc, Has0_F1_score: acc, Non0_acc_2: acc, Non0_F1_score: acc, Mult_acc_5: 0.4, Mult_acc_7: 0.3, MAE: mae, Corr: 0.6, Loss: mae });

describe('compare', () => {
  // Two-metric sets are not MMSA's: shown as they are (see 'compare scaling' for x100).
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
    expect(md).toContain('| self_mm | mosi | 1 | **0.8200 +- 0.0000** | **0.7200 +- 0.0000** |');
    expect(md).toContain('| tfn | mosi | 2 | 0.7500 +- 0.0500 | 1.0000 +- 0.1000 |');
    expect(formatCsv(c).split('\n')[1]).toBe('self_mm,mosi,1,"(0.8200, 0.0000)*","(0.7200, 0.0000)*"');
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
    expect(modelName('bert_mag_mosi')).toBe('bert_mag');
    expect(modelName('cenet_simsv2')).toBe('cenet');
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

describe('compare scaling', () => {
  it('MMSA metric sets are x100 and say so in the header; a custom dataset\'s metrics are shown as they are', () => {
    const c = compareRuns([
      run('lmf_mosi', 'mosi', 1, mosiSet(0.8, 0.7)),
      run('lmf_mosi', 'mosi', 2, mosiSet(0.7, 0.9)),
      run('lmf_depression', 'depression', 1, { MAE: 4.31, RMSE: 5.5, Corr: 0.3, CCC: 0.2, Loss: 25.66 }),
    ]);
    // MAE, Corr and Loss are shared with the custom rows, so they stay unscaled; MOSI-only columns are x100.
    expect(c.scales).toMatchObject({ Has0_acc_2: 100, Mult_acc_7: 100, MAE: 1, Corr: 1, Loss: 1, RMSE: 1 });
    const md = formatMarkdown(c);
    expect(md.split('\n')[0]).toBe('| Model | Dataset | Seeds | Has0_acc_2 (x100) | Has0_F1_score (x100) | Non0_acc_2 (x100) | Non0_F1_score (x100) | Mult_acc_5 (x100) | Mult_acc_7 (x100) | MAE | Corr | Loss | RMSE | CCC |');
    expect(md).toContain('| lmf_depression | depression | 1 |  |  |  |  |  |  | **4.3100 +- 0.0000** |');
    expect(md).toContain('| lmf | mosi | 2 | **75.00 +- 5.00** |');
    expect(md).toContain('columns marked (x100) are x100 as MMSA\'s tables');
    expect(md).not.toContain('431');
    expect(formatCsv(c).split('\n')[0]).toContain(',Mult_acc_7 (x100),MAE,');
    const only = compareRuns([run('lmf_mosi', 'mosi', 1, mosiSet(0.8, 0.7))]);
    expect(formatMarkdown(only)).toContain('| **80.00 +- 0.00** |');
    expect(formatMarkdown(only)).toContain('| MAE (x100) |');
    expect(formatMarkdown(only)).toContain('x100 (as MMSA\'s tables), mean +- std');
    const dep = compareRuns([run('lmf_depression', 'depression', 1, { MAE: 4.31, RMSE: 5.5, Corr: 0.3, CCC: 0.2, Loss: 25.66 })]);
    expect(formatMarkdown(dep)).toContain('| **4.3100 +- 0.0000** | **5.5000 +- 0.0000** |');
    expect(formatMarkdown(dep)).not.toContain('x100');
  });
});
