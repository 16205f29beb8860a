import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompileResult } from '../../src/compiler/compile.js';
import { SourceHost } from '../../src/compiler/source/source-file.js';
import { MmsaError } from '../../src/errors.js';
import { isRunEvent, type RunEvent } from '../../src/runtime/events.js';
import { runPipeline, type RunOptions, type RunOutcome } from '../../src/runtime/run.js';
import { readCheckpoint } from '../../src/runtime/train/checkpoint.js';
import { fakeData, fakeIr, fakePipeline, fakeSchedule } from './fake-pipeline.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mmsa-run-'));

function compiled(maxEpochs = 3): CompileResult {
  const ir = fakeIr(fakeSchedule({ maxEpochs, seeds: [11, 12] }));
  return {
    file: '/nowhere/fake_linear.yaml',
    host: new SourceHost(),
    diagnostics: [],
    spec: { version: 1, name: 'fake_linear', train: { max_epochs: maxEpochs }, seeds: [11, 12] } as unknown as CompileResult['spec'],
    defaulted: ['train.max_epochs'],
    ir,
    files: [],
  };
}

async function drive(c: CompileResult, opts: Partial<RunOptions> & { outRoot: string }, onEvent?: (e: RunEvent) => void) {
  let lowered = 0;
  const it = runPipeline(c, {
    backend: 'cpu',
    loadData: async () => fakeData(),
    lower: (_ir, o) => {
      lowered += 1;
      return fakePipeline({ seed: o.seed });
    },
    ...opts,
  });
  const events: RunEvent[] = [];
  let r = await it.next();
  while (!r.done) {
    events.push(r.value);
    onEvent?.(r.value);
    r = await it.next();
  }
  return { events, outcome: r.value as RunOutcome, lowered };
}

describe('runPipeline', () => {
  it('runs every seed into its own run dir, then writes the aggregate summary', async () => {
    const out = tmp();
    const { events, outcome, lowered } = await drive(compiled(), { outRoot: out });
    expect(outcome.status).toBe('completed');
    expect(lowered).toBe(2);
    expect(outcome.runDirs.map((d) => d.slice(out.length + 1))).toEqual([`fake_linear/${outcome.specHash}-11`, `fake_linear/${outcome.specHash}-12`]);
    const starts = events.filter((e) => e.kind === 'run.start');
    expect(starts.map((e) => e.kind === 'run.start' && [e.seed, e.seedIndex, e.seedCount])).toEqual([[11, 0, 2], [12, 1, 2]]);
    for (const dir of outcome.runDirs) {
      const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
      expect(m.status).toBe('completed');
      expect(m.backend).toBe('cpu');
      expect(m.dataset.synthetic).toBeDefined();
      const lock = JSON.parse(readFileSync(join(dir, 'spec.lock.json'), 'utf8'));
      expect(lock.spec.name).toBe('fake_linear');
      expect(lock.defaulted).toEqual(['train.max_epochs']);
      expect(lock.specHash).toBe(outcome.specHash);
      const lines = readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      expect(lines.every(isRunEvent)).toBe(true);
      expect(lines[0].kind).toBe('run.start');
      expect(lines.at(-1).kind).toBe('run.end');
      const results = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8'));
      expect(Object.keys(results.test)).toEqual(['MAE', 'Corr', 'Loss']);
      expect(readFileSync(join(dir, 'results.csv'), 'utf8').split('\n')[0]).toBe('Model,MAE,Corr,Loss');
      expect(readFileSync(join(dir, 'epochs.csv'), 'utf8').trim().split('\n')).toHaveLength(1 + results.epochs);
      const ck = readCheckpoint(join(dir, 'checkpoint'));
      expect(ck.meta.epoch).toBe(results.bestEpoch);
      expect([...ck.weights.keys()]).toEqual(['heads.M.weight', 'heads.M.bias']);
    }
    // seeds differ -> different initial weights -> different results
    const r = outcome.results;
    expect(r.map((x) => x.seed)).toEqual([11, 12]);
    const summary = JSON.parse(readFileSync(outcome.summaryPath!, 'utf8'));
    expect(summary.seeds).toEqual([11, 12]);
    const mae = r.map((x) => x.test['MAE']!);
    expect(summary.aggregate.MAE.mean).toBeCloseTo((mae[0]! + mae[1]!) / 2, 10);
    expect(summary.aggregate.MAE.std).toBeCloseTo(Math.abs(mae[0]! - mae[1]!) / 2, 10);
    const last = events.at(-1)!;
    expect(last.kind === 'run.end' && last.scope).toBe('summary');
    expect(readFileSync(outcome.summaryPath!.replace(/\.json$/, '.csv'), 'utf8')).toMatch(/^Model,MAE,Corr,Loss\nfake_linear,"\(/);
  });

  it('reuses completed runs of the same spec hash and seed unless forced', async () => {
    const out = tmp();
    const first = await drive(compiled(), { outRoot: out, seeds: [11] });
    const again = await drive(compiled(), { outRoot: out, seeds: [11] });
    expect(again.lowered).toBe(0);
    const end = again.events.find((e) => e.kind === 'run.end' && e.scope === 'seed');
    expect(end && end.kind === 'run.end' && end.scope === 'seed' && end.reused).toBe(true);
    expect(again.outcome.results).toEqual(first.outcome.results);
    const forced = await drive(compiled(), { outRoot: out, seeds: [11], force: true });
    expect(forced.lowered).toBe(1);
    // a different epoch cap is a different experiment: new hash, trains
    const capped = await drive(compiled(), { outRoot: out, seeds: [11], maxEpochs: 2 });
    expect(capped.lowered).toBe(1);
    expect(capped.outcome.specHash).not.toBe(first.outcome.specHash);
    expect(capped.outcome.results[0]!.epochs).toBe(2);
  });

  it('an abort mid-epoch leaves status interrupted, valid JSON files and the best checkpoint so far', async () => {
    const out = tmp();
    const ac = new AbortController();
    const { outcome, events } = await drive(compiled(5), { outRoot: out, signal: ac.signal }, (e) => {
      if (e.kind === 'step.end' && e.epoch === 2 && e.step === 4) ac.abort();
    });
    expect(outcome.status).toBe('interrupted');
    expect(outcome.runDirs).toHaveLength(1); // the second seed never starts
    const dir = outcome.runDirs[0]!;
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) expect(() => JSON.parse(readFileSync(join(dir, f), 'utf8'))).not.toThrow();
    expect(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')).status).toBe('interrupted');
    expect(existsSync(join(dir, 'results.json'))).toBe(false);
    expect(readCheckpoint(join(dir, 'checkpoint')).meta.epoch).toBe(1);
    const lines = readFileSync(join(dir, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.at(-1)).toMatchObject({ kind: 'run.end', status: 'interrupted', epochs: 1 });
    expect(events.some((e) => e.kind === 'run.end' && e.scope === 'summary')).toBe(false);
    expect(outcome.summaryPath).toBeUndefined();
    // an interrupted run is not reused
    const again = await drive(compiled(5), { outRoot: out, seeds: [11] });
    expect(again.lowered).toBe(1);
  });

  it('turns runtime errors into run.error events and a failed manifest', async () => {
    const out = tmp();
    const { outcome, events } = await drive(compiled(), {
      outRoot: out,
      lower: () => {
        throw new MmsaError('MSA5001', 'cannot lower', { hint: 'fix it' });
      },
    });
    expect(outcome.status).toBe('failed');
    expect(outcome.error).toMatchObject({ code: 'MSA5001', hint: 'fix it' });
    const err = events.find((e) => e.kind === 'run.error');
    expect(err).toMatchObject({ code: 'MSA5001', message: 'cannot lower', hint: 'fix it', seed: 11 });
    expect(JSON.parse(readFileSync(join(outcome.runDirs[0]!, 'manifest.json'), 'utf8'))).toMatchObject({ status: 'failed', error: { code: 'MSA5001' } });
    const dataErr = await drive(compiled(), {
      outRoot: tmp(),
      loadData: async () => {
        throw new MmsaError('MSA6020', 'feature file not found: x.pkl');
      },
    });
    expect(dataErr.outcome.status).toBe('failed');
    // The run announces itself (pipeline.start) before anything can fail.
    expect(dataErr.events.map((e) => e.kind)).toEqual(['pipeline.start', 'run.error']);
    expect(dataErr.outcome.runDirs).toEqual([]);
  });
});

describe('the spec summary', () => {
  it('covers every completed seed of the spec, also those of earlier runs with other --seeds', async () => {
    const out = tmp();
    const first = await drive(compiled(), { outRoot: out, seeds: [12] });
    const second = await drive(compiled(), { outRoot: out, seeds: [11] });
    expect(second.outcome.specHash).toBe(first.outcome.specHash);
    const file = join(out, 'fake_linear', `${first.outcome.specHash}-summary.json`);
    const sum = JSON.parse(readFileSync(file, 'utf8')) as { seeds: number[]; results: { seed: number }[]; aggregate: Record<string, { mean: number; scale: number }> };
    expect(sum.seeds).toEqual([11, 12]);
    expect(sum.results.map((r) => r.seed)).toEqual([11, 12]);
    const maes = [...first.outcome.results, ...second.outcome.results].map((r) => r.test['MAE']!);
    expect(sum.aggregate['MAE']!.mean).toBeCloseTo((maes[0]! + maes[1]!) / 2, 12);
    const end = second.events.find((e) => e.kind === 'run.end' && e.scope === 'summary');
    expect(end && end.kind === 'run.end' && end.scope === 'summary' && end.seeds).toEqual([11, 12]);
    // This run's own outcome still lists what it ran; MAE/Corr (not an MMSA metric set) are not scaled.
    expect(second.outcome.results.map((r) => r.seed)).toEqual([11]);
    expect(sum.aggregate['MAE']!.scale).toBe(1);
    const csv = readFileSync(join(out, 'fake_linear', `${first.outcome.specHash}-summary.csv`), 'utf8').split('\n');
    expect(csv[0]).toBe('Model,MAE,Corr,Loss');
    expect(csv[1]).toMatch(/^fake_linear,"\(0\.\d{1,4}, 0\.\d{1,4}\)"/);
  });
});
