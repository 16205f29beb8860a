// train.shuffle_rng 'torch': the loader orders of PyTorch's DataLoader(shuffle=True) against ones real torch recorded
// (test/fixtures/torch-shuffle/orders.json, made by tools/parity/record_torch_shuffles.py): plain loaders after a
// number of uniform draws, and every loader pass of MMSA's own MFN run (init, 3 epochs of train + valid, test).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import { SourceFile, SourceHost } from '../../../src/compiler/source/source-file.js';
import { packageRoot } from '../../../src/paths.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { drawTorchLoaderOrder } from '../../../src/runtime/data/torch-shuffle.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { runSchedule } from '../../../src/runtime/train/executor.js';
import { TorchRng } from '../../../src/runtime/torch-rng.js';

// Every order the executor's torch batcher hands out, in order (the real batcher, watched).
const seen: { n: number; order: number[] }[] = [];
vi.mock('../../../src/runtime/data/torch-shuffle.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../../src/runtime/data/torch-shuffle.js')>();
  return {
    ...real,
    makeTorchBatcher: (global: TorchRng) => {
      const inner = real.makeTorchBatcher(global);
      return function* (split: Parameters<typeof inner>[0], opts: Parameters<typeof inner>[1]) {
        const order: number[] = [];
        seen.push({ n: split.n, order });
        for (const b of inner(split, opts)) {
          order.push(...b.indexes);
          yield b;
        }
      };
    },
  };
});

beforeAll(async () => {
  await setupBackend('wasm');
});

const dir = join(packageRoot(), 'test/fixtures/torch-shuffle');

interface Pass {
  split: string;
  order: number[];
  epoch?: number;
}
const fixture = JSON.parse(readFileSync(join(dir, 'orders.json'), 'utf8')) as {
  plain: { seed: number; uniform_draws: number; sizes: Record<string, number>; passes: Pass[] }[];
  dropout_advances_stream: Record<string, boolean>;
  mmsa_mfn: { epochs: number; runs: { seed: number; passes: Pass[] }[]; init: Record<string, Record<string, { shape: number[]; values: number[] }>> };
};

describe("train.shuffle_rng 'torch': DataLoader(shuffle=True) orders", () => {
  it.each(fixture.plain.map((c) => [c.seed, c.uniform_draws, c.sizes.train!, c] as const))(
    'seed %i after %i uniform draws, train %i: every pass of 3 epochs is torch\'s',
    (seed, draws, _n, c) => {
      const rng = new TorchRng(seed);
      for (let i = 0; i < draws; i++) rng.uniform(0, 1);
      const got = c.passes.map((p) => Array.from(drawTorchLoaderOrder(rng, c.sizes[p.split]!)));
      expect(got).toEqual(c.passes.map((p) => p.order));
      // a shift of one draw anywhere gives other orders
      const off = new TorchRng(seed);
      for (let i = 0; i <= draws; i++) off.nextU32();
      if (c.sizes.train! > 2) expect(Array.from(drawTorchLoaderOrder(off, c.sizes.train!))).not.toEqual(c.passes[0]!.order);
    },
  );

  it("torch's dropout draws nothing at p 0 and in eval mode, and draws at p 0.5 in training (why MSA3054 warns)", () => {
    expect(fixture.dropout_advances_stream).toEqual({ functional_p0: false, module_p0: false, functional_p05: true, eval_p05: false });
  });
});

describe("train.shuffle_rng 'torch' with MMSA's own MFN run (every dropout 0)", () => {
  it.each(fixture.mmsa_mfn.runs.map((r) => [r.seed, r] as const))(
    'seed %i: the initial weights and every loader pass (train/valid x 3 epochs, then test) are those of MMSA_run',
    { timeout: 120_000 },
    async (seed, run) => {
      const r = compileFile(join(dir, 'mfn_tiny.yaml'), { env: {} });
      expect(r.diagnostics.filter((d) => d.severity !== 'info')).toEqual([]);
      const ir = r.ir!;
      const p = lowerPipeline(ir, { seed, trainSize: 48 });
      try {
        // init_rng 'torch' covers MFN: LSTMCells and Linears are uniform draws in MMSA's module order.
        const want = fixture.mmsa_mfn.init[String(seed)]!;
        const names = mapMmsaNames(ir, r.spec!.mmsa_modules ?? {}).names;
        expect(names.length).toBe(Object.keys(want).length);
        for (const n of names) {
          const w = want[n.mmsa!];
          expect(w, n.mmsa).toBeDefined();
          expect(Array.from(p.model.store.get(n.key).dataSync()), n.key).toEqual(w!.values.map(Math.fround));
        }
        const data = await loadDataset(ir);
        seen.length = 0;
        for await (const ev of runSchedule(ir, p, data, { runId: 'torch-order', seed })) void ev;
        expect(seen.map((s) => s.n)).toEqual(run.passes.map((x) => x.order.length));
        expect(seen.map((s) => s.order)).toEqual(run.passes.map((x) => x.order));
      } finally {
        p.model.dispose();
      }
    },
  );

  it('refuses shuffle_rng torch without init_rng torch (MSA3053), warns for unshuffled eval loaders (MSA3055) and where dropout draws from the stream (MSA3054)', () => {
    const tiny = readFileSync(join(dir, 'mfn_tiny.yaml'), 'utf8');
    // the variant sits beside the fixture (its relative paths hold) but only in memory
    const at = (src: string) => {
      const file = new SourceFile(join(dir, 'variant.yaml'), src);
      const host = new SourceHost();
      host.add(file);
      const r = compileFile(file.path, { env: {}, host });
      return r.diagnostics.map((d) => `${d.code} ${d.severity} line ${file.positionAt(d.span.start).line}: ${d.message}`);
    };
    const line = (src: string, key: string) => src.split('\n').findIndex((l) => l.includes(key)) + 1;
    const noInit = tiny.replace('  init_rng: torch\n', '');
    expect(at(noInit)).toEqual([expect.stringMatching(new RegExp(`^MSA3053 error line ${line(noInit, 'shuffle_rng')}: .*initial weights`))]);
    const withDropout = tiny.replace('gamma1: {hidden: 4, dropout: 0.0}', 'gamma1: {hidden: 4, dropout: 0.7}');
    const fileOrderEval = tiny.replace('  max_epochs: 3\n', '  max_epochs: 3\n  shuffle_eval: false\n');
    expect(at(fileOrderEval)).toEqual([expect.stringMatching(new RegExp(`^MSA3055 warning line ${line(fileOrderEval, 'shuffle_eval')}: `))]);
    expect(at(withDropout)).toEqual([expect.stringMatching(new RegExp(`^MSA3054 warning line ${line(withDropout, 'shuffle_rng')}: .*\\(fusion\\.gamma1\\.dropout\\)`))]);
  });
});
