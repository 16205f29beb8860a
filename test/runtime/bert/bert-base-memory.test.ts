// The paper's Self-MM at its real size: a 12-layer, hidden-768 BERT (bert-base-uncased's architecture, random weights in
// a local Hugging Face layout) fine-tuned at MOSI's batch size 16 x 50 tokens with 4-batch accumulation, through
// `runPipeline` on the wasm backend. Before the fused layers and the host-side optimizer state this died in its first
// step at the 4 GiB heap; now it completes, and the memory the run reports stays within the plan's budget.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { compileFile } from '../../../src/compiler/compile.js';
import { writeRandomBertCheckpoint } from '../../../src/runtime/bert/random-checkpoint.js';
import type { EpochEndEvent, MemoryUsage, RunEvent } from '../../../src/runtime/events.js';
import { WASM_HEAP_LIMIT } from '../../../src/runtime/memory/plan-memory.js';
import { runPipeline, type RunOutcome } from '../../../src/runtime/run.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
let tmp: string;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'mmsa-bert-base-'));
  writeRandomBertCheckpoint(join(tmp, 'bert-base'), { vocab_size: 30522, num_hidden_layers: 12, hidden_size: 768 }, 3);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('bert-base fine-tuning at the paper batch size', () => {
  it('trains 4 batches of 16 x 50 (one optimizer step), evaluates, and stays within its memory budget', { timeout: 900_000 }, async () => {
    // The paper config itself, on MOSI-shaped synthetic data (64 / 16 / 16 samples) and the local checkpoint.
    const paper = parse(readFileSync(join(repo, 'pipelines/self_mm_mosi.yaml'), 'utf8'));
    paper.dataset = { type: 'synthetic', like: 'mosi', n_train: 64, n_valid: 16, n_test: 16, seed: 2, seq_lens: { text: 50, audio: 20, vision: 20 } };
    paper.encoders.text.pretrained = join(tmp, 'bert-base');
    paper.train.max_epochs = 1;
    paper.seeds = [1];
    const spec = join(tmp, 'self_mm_bert_base.yaml');
    writeFileSync(spec, stringify(paper));
    const compiled = compileFile(spec, { env: {} });
    expect(compiled.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(compiled.ir!.schedule.batchSize).toBe(16);
    expect(compiled.ir!.schedule.gradAccumSteps).toBe(4);
    // 'keep' as the plan chooses it on a machine with the memory to spare (auto would switch to 'recompute' when the
    // machine's free memory is short at that moment, which is right for a run but makes this test depend on the machine).
    const it = runPipeline(compiled, { outRoot: join(tmp, 'runs'), backend: 'wasm', force: true, activations: 'keep' });
    const events: RunEvent[] = [];
    let r = await it.next();
    while (!r.done) {
      events.push(r.value);
      r = await it.next();
    }
    const outcome = r.value as RunOutcome;
    expect(outcome.error).toBeUndefined();
    expect(outcome.status).toBe('completed');
    const start = events.find((e) => e.kind === 'run.start');
    expect(start && start.kind === 'run.start' && start.params.trainable).toBeGreaterThan(109e6);
    const steps = events.filter((e) => e.kind === 'step.end');
    expect(steps).toHaveLength(4);
    expect(steps.filter((e) => e.kind === 'step.end' && e.optimizerStep)).toHaveLength(1);
    expect(steps.every((e) => e.kind === 'step.end' && Number.isFinite(e.loss))).toBe(true);
    expect(events.some((e) => e.kind === 'eval.end' && e.split === 'test')).toBe(true);

    const manifest = JSON.parse(readFileSync(join(outcome.runDirs[0]!, 'manifest.json'), 'utf8')) as {
      memory: { design: Record<string, string>; budget: { backendBytes: number; processBytes: number }; measured: MemoryUsage };
    };
    const { design, budget, measured } = manifest.memory;
    expect(design).toEqual({ bertActivations: 'keep', microBatches: 1, optimizerState: 'host', gradientSums: 'host' });
    const epochEnd = events.find((e): e is EpochEndEvent => e.kind === 'epoch.end')!;
    for (const m of [epochEnd.memory!, measured]) {
      // the heap the run grew to is what the plan budgeted (and well inside the 4 GiB wasm heap) ...
      expect(m.backendBytes).toBeGreaterThan(1e9); // it did hold bert-base, its gradients and its activations
      expect(m.backendBytes).toBeLessThanOrEqual(budget.backendBytes);
      expect(budget.backendBytes).toBeLessThan(WASM_HEAP_LIMIT);
      // ... and so is the process's peak resident set, host-side optimizer state included
      expect(m.peakRssBytes).toBeLessThanOrEqual(budget.processBytes);
    }
  });
});
