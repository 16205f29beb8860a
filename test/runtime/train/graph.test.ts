// The wider graph contract end to end on a small pipeline (test/fixtures/pipelines/graph.yaml): an encoder reading
// several nodes, named outputs, tasks reading them by reference; compiled, planned, lowered and trained. Phases 4-7.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { printPlan } from '../../../src/compiler/ir/print-plan.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { makeBatches } from '../../../src/runtime/data/batching.js';
import type { EpochEndEvent, RunEvent } from '../../../src/runtime/events.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx, trainCtx } from '../../../src/runtime/nn/params.js';
import { diffLoss } from '../../../src/components/tasks/diff/lower.js';
import { runSchedule } from '../../../src/runtime/train/executor.js';
import { disposeGrads } from '../../../src/runtime/train/optim/adam.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const file = join(packageRoot(), 'test/fixtures/pipelines/graph.yaml');

describe('a node reading several inputs and publishing named outputs', () => {
  it('is an IR node with several inputs and typed named outputs; tasks read them by reference; the plan shows it', () => {
    const r = compileFile(file, { env: {} });
    expect(r.diagnostics).toEqual([]);
    const ir = r.ir!;
    const sp = ir.nodes.find((n) => n.id === 'encoders.sp')!;
    expect(sp.inputs).toEqual(['encoders.text', 'encoders.audio', 'encoders.vision']);
    expect(sp.output.shape).toEqual(['B', 24]);
    expect(Object.keys(sp.features!)).toEqual(['private_text', 'private_audio', 'private_vision', 'shared_text', 'shared_audio', 'shared_vision']);
    expect(ir.tasks.find((t) => t.name === 'diff_text')!.inputs).toEqual(['encoders.sp:private_text', 'encoders.sp:shared_text']);
    const plan = printPlan(ir);
    expect(plan).toMatch(/encoder encoders\.sp +shared_private\(text, encoders\.audio, vision; out 4, sigmoid\) -> private \+ shared <- encoders\.text, encoders\.audio, encoders\.vision\n/);
    expect(plan).toContain('feature private_text: vector [B, 4]');
    expect(plan).toContain('diff_text: diff(encoders.sp:private_text vs encoders.sp:shared_text, weight 0.3)  inputs encoders.sp:private_text, encoders.sp:shared_text; weight 0.3\n');
  });

  it('a difference loss reads the named outputs and trains the private and the shared projections', async () => {
    const ir = compileFile(file, { env: {} }).ir!;
    const data = await loadDataset(ir);
    const p = lowerPipeline(ir, { seed: 5, trainSize: data.train.n });
    const diff = p.tasks.find((t) => t.name === 'diff_text')!;
    const batch = makeBatches(data.train, { batchSize: 8, shuffle: false, seed: 0, epoch: 0 })[0]!;
    const { value, grads } = tf.variableGrads(() => diff.trainLoss(p.model.forward(batch, trainCtx(1)), batch, 1), p.optimizer.variables());
    expect(value.dataSync()[0]).toBeGreaterThan(0);
    const moved = Object.entries(grads).filter(([, g]) => g.dataSync().some((x) => x !== 0)).map(([v]) => p.model.store.byVariableName(v)!.key);
    // The text branch (its encoder, its private projection, the shared one) and nothing of the audio-only parts.
    expect(moved).toEqual(expect.arrayContaining(['encoders.sp.private_text.weight', 'encoders.sp.shared.weight', 'encoders.text.out.weight']));
    expect(moved.some((k) => k.startsWith('encoders.sp.private_audio') || k.startsWith('encoders.audio.') || k.startsWith('heads.'))).toBe(false);
    disposeGrads(grads);
    p.model.dispose();
  });

  it('trains end to end: every loss reported, every parameter moved', async () => {
    const ir = compileFile(file, { env: {} }).ir!;
    const data = await loadDataset(ir);
    const p = lowerPipeline(ir, { seed: 5, trainSize: data.train.n });
    const before = p.model.store.stateDict();
    const events: RunEvent[] = [];
    for await (const e of runSchedule(ir, p, data, { runId: 'g', seed: 5 })) events.push(e);
    const ends = events.filter((e): e is EpochEndEvent => e.kind === 'epoch.end');
    expect(ends).toHaveLength(2);
    expect(Object.keys(ends[0]!.taskLosses)).toEqual(['main', 'diff_text', 'diff_audio']);
    for (const v of Object.values(ends[1]!.taskLosses)) expect(Number.isFinite(v)).toBe(true);
    const after = p.model.store.stateDict();
    for (const [k, w] of before) {
      if (p.model.store.entry(k)!.buffer) continue;
      expect(Array.from(after.get(k)!.values), k).not.toEqual(Array.from(w.values));
    }
    p.model.dispose();
  });

  it("a loss reads a head's named output (`heads.M:hidden0`) as it reads an encoder's", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsa-graph-'));
    try {
      const text = readFileSync(file, 'utf8').replace("diff_audio: {type: diff, inputs: ['encoders.sp:private_audio', 'encoders.sp:shared_audio']", "diff_audio: {type: diff, inputs: ['heads.M:hidden0', 'encoders.sp:shared_audio']");
      const f = join(dir, 'graph.yaml');
      writeFileSync(f, text);
      const r = compileFile(f, { env: {} });
      expect(r.diagnostics).toEqual([]);
      const ir = r.ir!;
      expect(ir.tasks.find((t) => t.name === 'diff_audio')!.inputs).toEqual(['heads.M:hidden0', 'encoders.sp:shared_audio']);
      const data = await loadDataset(ir);
      const p = lowerPipeline(ir, { seed: 5, trainSize: data.train.n });
      const batch = makeBatches(data.train, { batchSize: 8, shuffle: false, seed: 0, epoch: 0 })[0]!;
      const out = p.model.forward(batch, evalCtx());
      // The head's first hidden activation (the feature ULGM reads), [B, 8].
      expect(out.nodes!['heads.M:hidden0']).toBe(out.features['M']);
      const got = p.tasks.find((t) => t.name === 'diff_audio')!.trainLoss(out, batch, 1).dataSync()[0]!;
      expect(got).toBeCloseTo(0.3 * diffLoss(out.features['M']!, out.nodes!['encoders.sp:shared_audio']!).dataSync()[0]!, 6);
      p.model.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
