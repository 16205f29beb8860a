// The learning-rate schedulers give PyTorch's numbers epoch by epoch (test/fixtures/lr-schedulers/torch-trace.json,
// recorded with torch by tools/make-lr-scheduler-trace.py): ReduceLROnPlateau in four settings, StepLR, CosineAnnealingLR,
// and ALMT's warm-up then cosine (MMSA's own get_scheduler of trains/singleTask/ALMT.py) for several max_epochs.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { IrScheduler } from '../../../src/compiler/ir/types.js';
import { packageRoot } from '../../../src/paths.js';
import { createLrScheduler } from '../../../src/runtime/train/lr-schedulers.js';

interface TraceCase {
  name: string;
  type: 'plateau' | 'step' | 'cosine';
  args: Record<string, number | string>;
  lrs: number[][];
}
const trace = JSON.parse(readFileSync(join(packageRoot(), 'test/fixtures/lr-schedulers/torch-trace.json'), 'utf8')) as {
  values: number[];
  base_lrs: number[];
  cases: TraceCase[];
  almt: { max_epochs: number; epoch_lrs: number[][] }[];
};

function irOf(c: TraceCase): IrScheduler {
  const a = c.args;
  if (c.type === 'plateau') {
    return {
      type: 'plateau', metric: 'loss', split: 'valid', mode: a['mode'] as 'min' | 'max', factor: a['factor'] as number, patience: a['patience'] as number,
      threshold: (a['threshold'] as number | undefined) ?? 1e-4, thresholdMode: (a['threshold_mode'] as 'rel' | 'abs' | undefined) ?? 'rel',
      cooldown: (a['cooldown'] as number | undefined) ?? 0, minLr: (a['min_lr'] as number | undefined) ?? 0, eps: (a['eps'] as number | undefined) ?? 1e-8,
    };
  }
  if (c.type === 'step') return { type: 'step', stepSize: a['step_size'] as number, gamma: a['gamma'] as number };
  return { type: 'cosine', tMax: a['T_max'] as number, etaMin: a['eta_min'] as number, warmup: 0 };
}

describe('learning-rate schedulers against PyTorch', () => {
  it('the trace covers every scheduler type and reductions actually happen', () => {
    expect(new Set(trace.cases.map((c) => c.type))).toEqual(new Set(['plateau', 'step', 'cosine']));
    for (const c of trace.cases) expect(c.lrs.at(-1)![0]).not.toBe(trace.base_lrs[0]);
  });

  it.each(trace.cases.map((c) => [c.name, c] as const))('%s: the same learning rates after every epoch', (_name, c) => {
    const s = createLrScheduler(irOf(c));
    const groups = { lrs: [...trace.base_lrs] };
    trace.values.forEach((v, epoch) => {
      s.step(groups, v);
      // Exactly PyTorch's floats: the same operations in the same order on doubles.
      expect(groups.lrs, `${c.name} epoch ${epoch + 1}`).toEqual(c.lrs[epoch]);
    });
  });

  it('ALMT: the trace warms up from 0, peaks, and runs the cosine past t_max', () => {
    expect(trace.almt.map((c) => c.max_epochs)).toContain(200);
    for (const c of trace.almt) {
      expect(c.epoch_lrs[0]).toEqual([0, 0]);
      expect(Math.max(...c.epoch_lrs.map((r) => r[0]!))).toBeCloseTo(trace.base_lrs[0]!, 12);
    }
  });

  it.each(trace.almt.map((c) => [c.max_epochs, c] as const))(
    'ALMT warm-up + cosine, max_epochs %d: the rate of every epoch is the trace\'s (warmup 0.1 * max_epochs, t_max 0.9 * max_epochs)',
    (m, c) => {
      // What MMSA's get_scheduler computes from max_epochs, as pipelines/presets/almt.yaml writes it out.
      const s = createLrScheduler({ type: 'cosine', tMax: 0.9 * m, etaMin: 0, warmup: 0.1 * m });
      const groups = { lrs: [...trace.base_lrs] };
      s.begin?.(groups);
      c.epoch_lrs.forEach((want, i) => {
        if (i > 0) s.step(groups);
        // The warm-up and the hand-over are exact; the cosine's recursion may differ from PyTorch's in the last bit.
        groups.lrs.forEach((lr, g) => expect(lr, `max_epochs ${m} epoch ${i + 1} group ${g}`).toBeCloseTo(want[g]!, 15));
      });
    },
  );
});
