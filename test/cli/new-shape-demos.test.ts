// The demos of the shapes beyond sentiment train as shipped and beat a trivial predictor by a stated margin:
// humour (binary, punchline + context) against the training split's majority class, and Self-MM with ULGM on PHQ-8
// sessions against the training mean. Phases 5-7 end to end on the built-in synthetic data.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run-commands.js';
import type { Io } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import { loadDataset } from '../../src/runtime/data/load-dataset.js';
import type { RunEndSeedEvent, RunEvent } from '../../src/runtime/events.js';
import { computeMetrics } from '../../src/runtime/metrics/index.js';
import { packageRoot } from '../../src/paths.js';

const root = packageRoot();

function quietIo(): Io {
  return { out: () => {}, err: () => {}, cwd: root, env: { ...process.env, NO_COLOR: '1' }, isTTY: false };
}

async function train(name: string): Promise<{ test: Record<string, number>; events: RunEvent[] }> {
  const events: RunEvent[] = [];
  const out = mkdtempSync(join(tmpdir(), 'mmsa-new-demos-'));
  const code = await runCommand(`pipelines/${name}.yaml`, { out, backend: 'wasm', reporter: 'plain', onEvent: (e: RunEvent) => void events.push(e) }, quietIo());
  expect(code).toBe(0);
  const end = events.find((e): e is RunEndSeedEvent => e.kind === 'run.end' && e.scope === 'seed')!;
  return { test: end.result!.test, events };
}

async function splitsOf(name: string) {
  const c = compileFile(join(root, 'pipelines', `${name}.yaml`), { env: {} });
  return loadDataset(c.ir!);
}

describe('demo_humour: binary humour detection with context', () => {
  let run: Awaited<ReturnType<typeof train>>;
  beforeAll(async () => {
    run = await train('demo_humour');
  }, 240_000);

  it('beats the majority class by 15 points of accuracy and ranks well (AUROC > 0.75)', async () => {
    const data = await splitsOf('demo_humour');
    const trainLabels = data.train.labels['M']!;
    const ones = trainLabels.filter((v) => v === 1).length;
    const majority = ones * 2 >= trainLabels.length ? 1 : 0;
    const testLabels = data.test.labels['M']!;
    const trivial = computeMetrics('binary', new Float32Array(testLabels.length).fill(majority), testLabels);
    expect(trivial.accuracy).toBeCloseTo(0.5, 1);
    expect(run.test['accuracy']!).toBeGreaterThan(trivial.accuracy! + 0.15);
    expect(run.test['AUROC']!).toBeGreaterThan(0.75);
    expect(Object.keys(run.test)).toEqual(['accuracy', 'weighted_F1', 'macro_F1', 'AUROC', 'Loss']);
  });
});

describe('demo_depression_self_mm: Self-MM with ULGM on PHQ-8 0-24', () => {
  let run: Awaited<ReturnType<typeof train>>;
  beforeAll(async () => {
    run = await train('demo_depression_self_mm');
  }, 240_000);

  it('beats the training mean: MAE at most 0.7 of its MAE, CCC above 0.5 (a constant scores 0)', async () => {
    const data = await splitsOf('demo_depression_self_mm');
    const y = data.train.labels['M']!;
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    const t = data.test.labels['M']!;
    const trivial = computeMetrics('depression', new Float32Array(t.length).fill(mean), t, { decimals: null });
    expect(trivial.CCC).toBe(0);
    expect(run.test['MAE']!).toBeLessThan(0.7 * trivial.MAE!);
    expect(run.test['CCC']!).toBeGreaterThan(0.5);
    expect(Object.keys(run.test)).toEqual(['CCC', 'MAE', 'RMSE', 'Corr', 'Loss']);
  });

  it('ULGM generates labels on the PHQ-8 scale: the banks are centred at 12 within [0, 24] and move from y_M', () => {
    const updates = run.events.filter((e): e is Extract<RunEvent, { kind: 'task.update' }> => e.kind === 'task.update' && e.task === 'ulgm');
    expect(updates.length).toBeGreaterThan(1);
    const last = updates[updates.length - 1]!.data as { drift: Record<string, number>; histogram: { lo: number; hi: number; counts: Record<string, number[]> } };
    expect(last.histogram.lo + last.histogram.hi).toBe(24);
    expect(last.histogram.lo).toBeLessThanOrEqual(0);
    expect(Object.values(last.drift).every((d) => d > 0)).toBe(true);
  });
});
