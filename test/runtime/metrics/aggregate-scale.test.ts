// Which result tables are x100: MMSA's own metric sets (its run.py and result tables scale every column), never a
// custom dataset's metrics (a depression score MAE of 4.31 must not read 431).
import { describe, expect, it } from 'vitest';
import { aggregateSeeds, METRIC_SETS, tableScale } from '../../../src/runtime/metrics/index.js';

const MOSI = ['Has0_acc_2', 'Has0_F1_score', 'Non0_acc_2', 'Non0_F1_score', 'Mult_acc_5', 'Mult_acc_7', 'MAE', 'Corr'];
const SIMS = ['Mult_acc_2', 'Mult_acc_3', 'Mult_acc_5', 'F1_score', 'MAE', 'Corr'];

describe('table scale', () => {
  it('is 100 for the MOSI/MOSEI and SIMS/SIMSv2 metric sets (with or without Loss), 1 for every other set', () => {
    expect(tableScale(MOSI)).toBe(100);
    expect(tableScale([...MOSI, 'Loss'])).toBe(100);
    expect(tableScale([...SIMS, 'Loss'])).toBe(100);
    expect(tableScale([...METRIC_SETS.regression, 'Loss'])).toBe(1);
    expect(tableScale(['accuracy', 'macro_F1', 'weighted_F1', 'Loss'])).toBe(1);
    expect(tableScale(['MAE', 'Corr'])).toBe(1);
    expect(tableScale([...MOSI, 'RMSE'])).toBe(1);
  });

  it('aggregates a custom dataset without scaling, MMSA sets as MMSA\'s CSV cells', () => {
    const custom = aggregateSeeds([{ MAE: 4.31, RMSE: 5.5, Corr: 0.3, CCC: 0.2, Loss: 25.66 }, { MAE: 4.11, RMSE: 5.1, Corr: 0.34, CCC: 0.22, Loss: 24 }]);
    expect(custom['MAE']).toMatchObject({ cell: [4.21, 0.1], scale: 1 });
    expect(custom['Loss']!.cell).toEqual([24.83, 0.83]);
    const mosi = aggregateSeeds([Object.fromEntries([...MOSI, 'Loss'].map((k) => [k, 0.7125]))]);
    expect(mosi['MAE']).toMatchObject({ cell: [71.25, 0], scale: 100 });
    expect(aggregateSeeds([{ MAE: 0.5 }], { scale: 100 })['MAE']!.cell).toEqual([50, 0]);
  });
});
