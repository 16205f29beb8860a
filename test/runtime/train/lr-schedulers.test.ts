// The learning-rate schedulers give PyTorch's numbers epoch by epoch (test/fixtures/lr-schedulers/torch-trace.json,
// recorded with torch by tools/make-lr-scheduler-trace.py): ReduceLROnPlateau in four settings, StepLR, CosineAnnealingLR.

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
const trace = JSON.parse(readFileSync(join(packageRoot(), 'test/fixtures/lr-schedulers/torch-trace.json'), 'utf8')) as { values: number[]; base_lrs: number[]; cases: TraceCase[] };

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
  return { type: 'cosine', tMax: a['T_max'] as number, etaMin: a['eta_min'] as number };
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
});
