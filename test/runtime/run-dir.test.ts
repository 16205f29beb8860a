import { describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeEvent, type EpochEndEvent } from '../../src/runtime/events.js';
import { canonicalJson, findCompletedRun, RunDir, runDirPath, specHash, summaryPaths, writeFileAtomic, writeSummary } from '../../src/runtime/run-dir.js';
import { readCheckpoint, writeCheckpoint } from '../../src/runtime/train/checkpoint.js';
import { aggregateSeeds } from '../../src/runtime/metrics/index.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'mmsa-rundir-'));

const init = (outRoot: string, seed = 1) => ({
  outRoot,
  pipeline: 'demo/x y',
  hash: 'abcdef012345',
  seed,
  lock: { spec: { a: 1 }, defaulted: ['a'] },
  manifest: {
    mmsaVersion: '0.1.0', nodeVersion: process.version, backend: 'cpu', pipeline: 'demo', specHash: 'abcdef012345', seed,
    dataset: { name: 'fake', source: 'synthetic', synthetic: { n: 1 } }, command: ['mmsa', 'run'],
  },
});

describe('spec hash', () => {
  it('is 12 hex digits, independent of key order, sensitive to spec, dataset identity and version', () => {
    const ds = { name: 'mosi', source: 'manifest', sha256: 'aa' };
    const h = specHash({ b: 1, a: { y: 2, x: [1, 2] } }, ds, '0.1.0');
    expect(h).toMatch(/^[0-9a-f]{12}$/);
    expect(specHash({ a: { x: [1, 2], y: 2 }, b: 1 }, ds, '0.1.0')).toBe(h);
    expect(specHash({ b: 2, a: { y: 2, x: [1, 2] } }, ds, '0.1.0')).not.toBe(h);
    expect(specHash({ b: 1, a: { y: 2, x: [1, 2] } }, { ...ds, sha256: 'bb' }, '0.1.0')).not.toBe(h);
    expect(specHash({ b: 1, a: { y: 2, x: [1, 2] } }, ds, '0.2.0')).not.toBe(h);
    // where the file lives is not part of the identity
    expect(specHash({ b: 1, a: { y: 2, x: [1, 2] } }, { ...ds, path: '/elsewhere/x.pkl' } as typeof ds, '0.1.0')).toBe(h);
    expect(canonicalJson({ b: 1, a: undefined, c: new Float32Array([1, 2]) })).toBe('{"b":1,"c":[1,2]}');
  });
});

describe('RunDir', () => {
  it('creates runs/<pipeline>/<hash>-<seed>/ atomically with lock, manifest and events; no temp dirs left', () => {
    const out = tmp();
    const dir = RunDir.create(init(out));
    expect(dir.path).toBe(runDirPath(out, 'demo/x y', 'abcdef012345', 1));
    expect(dir.path).toBe(join(out, 'demo_x_y', 'abcdef012345-1'));
    expect(JSON.parse(readFileSync(join(dir.path, 'spec.lock.json'), 'utf8'))).toEqual({ spec: { a: 1 }, defaulted: ['a'] });
    const m = JSON.parse(readFileSync(join(dir.path, 'manifest.json'), 'utf8'));
    expect(m.status).toBe('running');
    expect(m.finishedAt).toBeNull();
    expect(typeof m.startedAt).toBe('string');
    dir.appendEvent(makeEvent({ kind: 'epoch.start', runId: 'r', epoch: 1 }));
    dir.appendEvent(makeEvent({ kind: 'task.update', runId: 'r', epoch: 1, task: 't', data: { x: NaN } }));
    const lines = readFileSync(join(dir.path, 'events.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(['epoch.start', 'task.update']);
    expect(lines[1].data.x).toBeNull();
    const epochEnd = (epoch: number, improved: boolean): EpochEndEvent => makeEvent<EpochEndEvent>({
      kind: 'epoch.end', runId: 'r', epoch, trainLoss: 0.5, taskLosses: {}, valid: { loss: 0.4, metrics: { MAE: 0.4, Corr: 0.5, Loss: 0.4 } },
      select: { metric: 'Loss', value: 0.4, best: 0.4, bestEpoch: 1 }, improved, patienceLeft: 8, optimizerSteps: 3, seconds: 1.23456, taskExtras: {},
    });
    dir.recordEpoch(epochEnd(1, true));
    dir.recordEpoch(epochEnd(2, false));
    expect(readFileSync(join(dir.path, 'epochs.csv'), 'utf8')).toBe(
      'epoch,train_loss,valid_loss,improved,best_epoch,optimizer_steps,seconds,valid_MAE,valid_Corr\n1,0.5,0.4,1,1,3,1.235,0.4,0.5\n2,0.5,0.4,0,1,3,1.235,0.4,0.5\n',
    );
    const result = { seed: 1, test: { MAE: 0.7, Corr: 0.6, Loss: 0.7 }, validAtBest: { Loss: 0.4 }, bestEpoch: 1, epochs: 2 };
    dir.writeResults('demo', result);
    expect(readFileSync(join(dir.path, 'results.csv'), 'utf8')).toBe('Model,MAE,Corr,Loss\ndemo,0.7,0.6,0.7\n');
    expect(findCompletedRun(dir.path)).toBeUndefined(); // still running
    dir.finish('completed');
    const done = findCompletedRun(dir.path);
    expect(done?.results).toEqual(result);
    expect(done?.manifest.finishedAt).not.toBeNull();
    const leftovers = readdirSync(join(out, 'demo_x_y')).concat(readdirSync(dir.path)).filter((n) => n.includes('.tmp-') || n.includes('.old-'));
    expect(leftovers).toEqual([]);
  });

  it('replaces an unfinished run of the same hash and seed as a whole', () => {
    const out = tmp();
    const a = RunDir.create(init(out));
    writeFileSync(join(a.path, 'stale.txt'), 'x');
    a.finish('interrupted');
    const b = RunDir.create(init(out));
    expect(b.path).toBe(a.path);
    expect(existsSync(join(b.path, 'stale.txt'))).toBe(false);
    expect(JSON.parse(readFileSync(join(b.path, 'manifest.json'), 'utf8')).status).toBe('running');
    b.close();
  });

  it('writeFileAtomic leaves the old content when the write fails and no temp file behind', () => {
    const d = tmp();
    const p = join(d, 'f.json');
    writeFileAtomic(p, 'old');
    expect(() => writeFileAtomic(join(d, 'missing-dir', 'f.json'), 'new')).toThrow();
    expect(readFileSync(p, 'utf8')).toBe('old');
    writeFileAtomic(p, 'new');
    expect(readFileSync(p, 'utf8')).toBe('new');
    expect(readdirSync(d)).toEqual(['f.json']);
  });

  it('writes the seed summary as MMSA cells (mean*100, std*100 rounded to 2) and says x100 in the header', () => {
    const out = tmp();
    const results = [
      { seed: 1, test: { MAE: 0.7, Corr: 0.61 }, validAtBest: {}, bestEpoch: 1, epochs: 2 },
      { seed: 2, test: { MAE: 0.72, Corr: 0.63 }, validAtBest: {}, bestEpoch: 1, epochs: 2 },
    ];
    const paths = summaryPaths(out, 'p', 'h');
    writeSummary(paths, { pipeline: 'p', specHash: 'h', seeds: [1, 2], results, aggregate: aggregateSeeds(results.map((r) => r.test), { scale: 100 }) });
    expect(readFileSync(paths.csv, 'utf8')).toBe('Model,MAE (x100),Corr (x100)\np,"(71.0, 1.0)","(62.0, 1.0)"\n');
    expect(JSON.parse(readFileSync(paths.json, 'utf8')).aggregate.MAE.cell).toEqual([71, 1]);
    // A custom metric set (MAE and Corr alone) is written as it is.
    writeSummary(paths, { pipeline: 'p', specHash: 'h', seeds: [1, 2], results, aggregate: aggregateSeeds(results.map((r) => r.test)) });
    expect(readFileSync(paths.csv, 'utf8')).toBe('Model,MAE,Corr\np,"(0.71, 0.01)","(0.62, 0.01)"\n');
  });
});

describe('checkpoint', () => {
  it('round-trips every variable by name with shapes, float32 little-endian, plus task state', () => {
    const d = join(tmp(), 'checkpoint');
    const weights = new Map([
      ['heads.M.weight', { shape: [2, 2], values: Float32Array.from([1.5, -2, 3.25, 1e-7]) }],
      ['heads.M.bias', { shape: [1], values: Float32Array.from([0.1]) }],
    ]);
    const w1 = writeCheckpoint(d, { pipeline: 'p', epoch: 3, weights, tasks: { ulgm: { labels: [1, 2] } } });
    expect(w1.bytes).toBe(20);
    const meta = JSON.parse(readFileSync(join(d, 'model.json'), 'utf8'));
    expect(meta.weightsManifest[0].weights.map((w: { name: string; dtype: string; offset: number }) => [w.name, w.dtype, w.offset])).toEqual([
      ['heads.M.weight', 'float32', 0],
      ['heads.M.bias', 'float32', 16],
    ]);
    const buf = readFileSync(join(d, 'weights.bin'));
    expect(buf.readFloatLE(4)).toBe(-2);
    const back = readCheckpoint(d);
    expect(back.meta.epoch).toBe(3);
    expect([...back.weights.keys()]).toEqual(['heads.M.weight', 'heads.M.bias']);
    expect(Array.from(back.weights.get('heads.M.weight')!.values)).toEqual(Array.from(weights.get('heads.M.weight')!.values));
    expect(back.tasks).toEqual({ ulgm: { labels: [1, 2] } });
    // overwrite with a later epoch: replaced as a whole
    writeCheckpoint(d, { pipeline: 'p', epoch: 5, weights: new Map([['x', { shape: [1], values: Float32Array.from([9]) }]]), tasks: {} });
    expect([...readCheckpoint(d).weights.keys()]).toEqual(['x']);
    expect(readdirSync(join(d, '..'))).toEqual(['checkpoint']);
  });

  it('rejects a truncated weights file with a clear error', () => {
    const d = join(tmp(), 'checkpoint');
    writeCheckpoint(d, { pipeline: 'p', epoch: 1, weights: new Map([['x', { shape: [4], values: new Float32Array(4) }]]), tasks: {} });
    writeFileSync(join(d, 'weights.bin'), Buffer.alloc(8));
    expect(() => readCheckpoint(d)).toThrow(/8 bytes, model.json expects 16/);
    expect(() => readCheckpoint(join(d, 'nope'))).toThrow(expect.objectContaining({ code: 'MSA6711' }));
  });
});

describe('epochs.csv', () => {
  it('has the training loss of every task and every head, 0 while a task does not contribute yet (Self-MM ULGM)', () => {
    const dir = RunDir.create({ outRoot: tmp(), pipeline: 'self_mm', hash: 'abcdef012345', seed: 1, lock: {}, manifest: {} as never });
    const epochEnd = (epoch: number, ulgm: number): EpochEndEvent => makeEvent<EpochEndEvent>({
      kind: 'epoch.end', runId: 'r', epoch, trainLoss: 0.9 + ulgm, taskLosses: { main: 0.9, ulgm }, headLosses: { M: 0.9, T: ulgm / 2, A: ulgm / 4, V: ulgm / 4 },
      valid: { loss: 0.8, metrics: { MAE: 0.8, Loss: 0.8 } }, select: { metric: 'Loss', value: 0.8, best: 0.8, bestEpoch: 1 }, improved: epoch === 1,
      patienceLeft: 8, optimizerSteps: 3, seconds: 1, taskExtras: {},
    });
    dir.recordEpoch(epochEnd(1, 0));
    dir.recordEpoch(epochEnd(2, 0.4));
    const [head, e1, e2] = readFileSync(join(dir.path, 'epochs.csv'), 'utf8').trim().split('\n');
    expect(head).toBe('epoch,train_loss,valid_loss,improved,best_epoch,optimizer_steps,seconds,valid_MAE,train_loss_task_main,train_loss_task_ulgm,train_loss_head_M,train_loss_head_T,train_loss_head_A,train_loss_head_V');
    expect(e1).toBe('1,0.9,0.8,1,1,3,1,0.8,0.9,0,0.9,0,0,0');
    expect(e2).toBe('2,1.3,0.8,0,1,3,1,0.8,0.9,0.4,0.9,0.2,0.1,0.1');
    dir.close();
  });
});
