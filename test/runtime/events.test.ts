import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EVENT_VERSION, isRunEvent, makeEvent, serializeEvent, type EpochEndEvent, type RunEvent } from '../../src/runtime/events.js';
import { createNdjsonReporter } from '../../src/report/ndjson-reporter.js';
import { createPlainReporter, formatSummaryTable } from '../../src/report/plain-reporter.js';
import { aggregateSeeds } from '../../src/runtime/metrics/index.js';
import { packageRoot } from '../../src/paths.js';

const epochEnd = (over: Partial<EpochEndEvent> = {}): EpochEndEvent =>
  makeEvent<EpochEndEvent>({
    kind: 'epoch.end', runId: 'h-1', epoch: 3, trainLoss: 0.51234, taskLosses: { main: 0.51234 }, valid: { loss: 0.4, metrics: { MAE: 0.4, Corr: 0.61, Loss: 0.4 } },
    select: { metric: 'Loss', value: 0.4, best: 0.4, bestEpoch: 3 }, improved: true, patienceLeft: 8, optimizerSteps: 10, seconds: 1.24, taskExtras: {},
    ...over,
  }, () => 1000);

describe('events', () => {
  it('makeEvent fills the versioned envelope; isRunEvent checks it', () => {
    const e = makeEvent({ kind: 'epoch.start', runId: 'abc-1', epoch: 1 }, () => 42);
    expect(e).toEqual({ v: EVENT_VERSION, t: 42, kind: 'epoch.start', runId: 'abc-1', epoch: 1 });
    expect(isRunEvent(e)).toBe(true);
    expect(isRunEvent({ ...e, v: 2 })).toBe(false);
    expect(isRunEvent({ ...e, kind: 'epoch.middle' })).toBe(false);
    expect(isRunEvent(null)).toBe(false);
  });

  it('serializes to one JSON line with NaN/Infinity as null', () => {
    const line = serializeEvent(makeEvent({ kind: 'eval.end', runId: 'r', epoch: 1, split: 'valid', loss: NaN, metrics: { Corr: Infinity } }, () => 1));
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toMatchObject({ loss: null, metrics: { Corr: null } });
  });

  it('the runtime events and reporters never import React, Ink or tfjs', () => {
    const root = packageRoot();
    for (const f of ['src/runtime/events.ts', 'src/report/plain-reporter.ts', 'src/report/ndjson-reporter.ts', 'src/runtime/run-dir.ts', 'src/runtime/run.ts', 'src/runtime/train/executor.ts']) {
      const text = readFileSync(join(root, f), 'utf8');
      expect(text).not.toMatch(/from '(react|ink)[/']/);
    }
    for (const f of ['src/runtime/events.ts', 'src/report/plain-reporter.ts', 'src/report/ndjson-reporter.ts', 'src/runtime/run-dir.ts']) {
      expect(readFileSync(join(root, f), 'utf8')).not.toMatch(/@tensorflow/);
    }
  });
});

describe('reporters', () => {
  it('plain: one line per epoch, seed results, the mean +- std table, errors with their hint', () => {
    let out = '';
    let err = '';
    const r = createPlainReporter({ out: (s) => void (out += s), err: (s) => void (err += s) });
    const events: RunEvent[] = [
      makeEvent({
        kind: 'run.start', runId: 'h-1', pipeline: 'demo', dataset: { name: 'mosi', source: 'synthetic', n: { train: 10, valid: 5, test: 5 } }, backend: 'wasm',
        seed: 1111, seedIndex: 0, seedCount: 2, epochsMax: 12, stepsPerEpoch: 3, params: { total: 10, trainable: 8, optimized: 8 },
      }),
      makeEvent({ kind: 'step.end', runId: 'h-1', epoch: 3, step: 1, steps: 3, loss: 1, taskLosses: {}, optimizerStep: true, examplesPerSec: 10 }),
      epochEnd(),
      epochEnd({ epoch: 4, improved: false, patienceLeft: 7 }),
      makeEvent({ kind: 'run.error', runId: 'h-1', message: 'feature file not found: x.pkl', code: 'MSA6020', hint: 'use --data-root' }),
    ];
    for (const e of events) r.onEvent(e);
    const lines = out.trim().split('\n');
    expect(lines[0]).toBe('demo seed 1111 (1/2): mosi [synthetic] 10/5/5 samples, 3 steps/epoch, 8 trainable params, backend wasm');
    expect(lines[1]).toBe('epoch  3/12  train 0.5123  valid Loss 0.4000  MAE 0.4000  Corr 0.6100  * best  (1.2s)');
    expect(lines[2]).toBe('epoch  4/12  train 0.5123  valid Loss 0.4000  MAE 0.4000  Corr 0.6100  best 3, patience 7  (1.2s)');
    expect(lines).toHaveLength(3);
    expect(err).toBe('error MSA6020: feature file not found: x.pkl\n  help: use --data-root\n');
    // A custom metric set is shown as it is; MMSA's own sets x100, as MMSA's tables.
    const agg = aggregateSeeds([{ MAE: 0.7, Corr: 0.6 }, { MAE: 0.72, Corr: 0.64 }]);
    expect(formatSummaryTable('demo', [1, 2], agg)).toBe('demo: test results over 2 seeds (1, 2), mean +- std\n  MAE       0.7100 +- 0.0100\n  Corr      0.6200 +- 0.0200\n');
    const sims = aggregateSeeds([{ Mult_acc_2: 0.8, Mult_acc_3: 0.6, Mult_acc_5: 0.4, F1_score: 0.8, MAE: 0.42, Corr: 0.6, Loss: 0.42 }]);
    expect(formatSummaryTable('s', [1], sims).split('\n').slice(0, 2)).toEqual(['s: test results over 1 seed (1), x100, mean +- std', '  Mult_acc_2     80.00 +- 0.00']);
  });

  it('ndjson: every event verbatim, one per line', () => {
    let out = '';
    const r = createNdjsonReporter({ out: (s) => void (out += s) });
    const e = epochEnd();
    r.onEvent(e);
    r.onEvent(e);
    const lines = out.split('\n');
    expect(lines).toHaveLength(3);
    expect(JSON.parse(lines[0]!)).toEqual(e);
  });
});
