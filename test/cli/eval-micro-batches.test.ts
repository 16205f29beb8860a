// Every command that evaluates a trained model (`mmsa import`, `predict`, `evaluate`) runs its batches in the chunks
// the memory plan chose for the pipeline (train.micro_batches), as `mmsa run` does: on ALMT's MMSA checkpoint, 3 chunks
// give the whole batch's predictions and metrics, and the count reaches each command. Phase 7 (execute), from the CLI.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { main } from '../../src/cli/main.js';
import { packageRoot } from '../../src/paths.js';
import { splitBatch } from '../../src/runtime/data/batching.js';
import { captureIo } from './io.js';

// The one function that turns a batch into its chunks, watched (it still does the work) to see the count each command
// hands it: the predictions alone cannot tell 1 chunk from 3.
vi.mock('../../src/runtime/data/batching.js', async (load) => {
  const real = await load<typeof import('../../src/runtime/data/batching.js')>();
  return { ...real, splitBatch: vi.fn(real.splitBatch) };
});
const split = vi.mocked(splitBatch);

const root = packageRoot();
const fixtures = join(root, 'test/fixtures/mmsa-checkpoints');
const work = mkdtempSync(join(tmpdir(), 'mmsa-eval-chunks-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env, NO_COLOR: '1' };

async function run(args: string[]) {
  const io = captureIo(root, env);
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

/** ALMT's MMSA checkpoint case with `micro_batches` (the data and BERT paths made absolute). */
function almt(micro: string): string {
  const f = join(work, `almt-${micro}.yaml`);
  const d = join(fixtures, 'data');
  writeFileSync(f, `version: 1\nextends: ${join(fixtures, 'almt_mosi/pipeline.yaml')}\ndataset: {path: ${join(d, 'mosi.pkl')}, manifest: ${join(d, 'mosi.dataset.yaml')}}\nencoders: {text: {pretrained: ${join(root, 'test/fixtures/hf-bert/small-bert')}}}\ntrain: {micro_batches: ${micro}}\n`);
  return f;
}

/** The chunk counts splitBatch was asked for since the last reset, and how many batches asked. */
function countsAsked(): number[] {
  return [...new Set(split.mock.calls.map((c) => c[1]))];
}

function worst(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
}

const expected = JSON.parse(readFileSync(join(fixtures, 'almt_mosi/expected.json'), 'utf8')) as { ids: string[]; preds: number[] };

interface Imported {
  dir: string;
  importCounts: number[];
  csv: Map<string, number>;
}

const imported: Record<string, Imported> = {};

async function importWith(micro: string): Promise<Imported> {
  if (imported[micro]) return imported[micro]!;
  const dir = join(work, `run-${micro}`);
  split.mockClear();
  const r = await run(['import', join(fixtures, 'almt_mosi/checkpoint.pth'), '--pipeline', almt(micro), '--out', dir]);
  expect(r.code, r.err).toBe(0);
  const importCounts = countsAsked();
  const rows = readFileSync(join(dir, 'predictions.csv'), 'utf8').trim().split('\n').slice(1);
  const csv = new Map(rows.map((l) => [l.slice(0, l.indexOf(',')), Number(l.split(',')[1])] as const));
  return (imported[micro] = { dir, importCounts, csv });
}

async function predict(dir: string): Promise<{ preds: number[]; counts: number[] }> {
  const f = join(dir, `predict-${Math.random().toString(36).slice(2)}.json`);
  split.mockClear();
  const r = await run(['predict', dir, '--out', f]);
  expect(r.code, r.err).toBe(0);
  const counts = countsAsked();
  const rows = new Map((JSON.parse(readFileSync(f, 'utf8')) as { id: string; prediction: number }[]).map((x) => [x.id, x.prediction]));
  return { preds: expected.ids.map((id) => rows.get(id)!), counts };
}

describe('evaluation in the plan\'s micro-batches outside mmsa run', () => {
  beforeEach(() => {
    split.mockClear();
  });

  it('mmsa import evaluates valid and test in the chunks of train.micro_batches, with the whole batch\'s predictions', { timeout: 180_000 }, async () => {
    const one = await importWith('1');
    const three = await importWith('3');
    expect(one.importCounts).toEqual([1]);
    expect(three.importCounts).toEqual([3]);
    const ids = expected.ids;
    expect(worst(ids.map((id) => three.csv.get(id)!), ids.map((id) => one.csv.get(id)!))).toBeLessThan(1e-6);
    // Both are MMSA's own predictions from the same checkpoint.
    expect(worst(ids.map((id) => three.csv.get(id)!), expected.preds)).toBeLessThan(1e-4);
  });

  it('mmsa predict runs the run\'s planned chunks (1, 3, and auto as the plan resolves it) with the same predictions', { timeout: 180_000 }, async () => {
    const one = await predict((await importWith('1')).dir);
    const three = await predict((await importWith('3')).dir);
    expect(one.counts).toEqual([1]);
    expect(three.counts).toEqual([3]);
    expect(worst(three.preds, one.preds)).toBeLessThan(1e-6);
    expect(worst(three.preds, expected.preds)).toBeLessThan(1e-4);
    // The predictions vary: equal outputs would not tell a lost or reordered row.
    expect(Math.max(...three.preds) - Math.min(...three.preds)).toBeGreaterThan(1e-3);
    // auto: this small model fits the heap whole, so the plan gives 1.
    const auto = await predict((await importWith('auto')).dir);
    expect(auto.counts).toEqual([1]);
  });

  it('mmsa evaluate (and its robustness conditions) score in the same chunks with the same metrics', { timeout: 180_000 }, async () => {
    const metrics = async (dir: string, extra: string[] = []) => {
      split.mockClear();
      const r = await run(['evaluate', dir, '--format', 'json', ...extra]);
      expect(r.code, r.err).toBe(0);
      return { counts: countsAsked(), out: r.out };
    };
    const one = await metrics((await importWith('1')).dir);
    const three = await metrics((await importWith('3')).dir);
    expect(one.counts).toEqual([1]);
    expect(three.counts).toEqual([3]);
    const m1 = (JSON.parse(one.out) as { metrics: Record<string, number> }).metrics;
    const m3 = (JSON.parse(three.out) as { metrics: Record<string, number> }).metrics;
    expect(Object.keys(m3)).toEqual(Object.keys(m1));
    for (const [k, v] of Object.entries(m1)) expect(Math.abs(m3[k]! - v), k).toBeLessThan(1e-6);
    const robust = await metrics((await importWith('3')).dir, ['--missing', 'audio=0.5']);
    expect(robust.counts).toEqual([3]);
  });
});
