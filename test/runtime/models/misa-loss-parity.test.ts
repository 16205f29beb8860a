// MISA's training loss terms from MMSA's own trainer (trains/singleTask/MISA.py: MSE, get_diff_loss, get_cmd_loss,
// get_recon_loss, combined with the config's weights), computed by tools/make-mmsa-checkpoints.py on the misa_mosi
// checkpoint's first 16 training samples in eval mode, against mmsa's tasks on the same weights and samples.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../../src/compiler/compile.js';
import { mapMmsaNames } from '../../../src/compiler/ir/mmsa-names.js';
import { setupBackend } from '../../../src/runtime/backend.js';
import { gatherBatch } from '../../../src/runtime/data/batching.js';
import { loadDataset } from '../../../src/runtime/data/load-dataset.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { evalCtx } from '../../../src/runtime/nn/params.js';
import { matchMmsaCheckpoint, readMmsaCheckpoint } from '../../../src/runtime/weights/import-mmsa.js';
import { packageRoot } from '../../../src/paths.js';

const dir = join(packageRoot(), 'test/fixtures/mmsa-checkpoints/misa_mosi');
const expected = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
  train_batch: { indexes: number[]; ids: string[]; main: number; diff: number; cmd: number; recon: number; loss: number; weights: Record<string, number> };
};

beforeAll(async () => {
  await setupBackend('wasm');
});

describe("MISA's loss terms on one batch equal MMSA's from the same checkpoint", () => {
  it('MSE, the six difference losses, CMD and reconstruction, and their weighted sum', async () => {
    const r = compileFile(join(dir, 'pipeline.yaml'), { env: {} });
    expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const ir = r.ir!;
    const data = await loadDataset(ir, {});
    const ckpt = readMmsaCheckpoint(join(dir, 'checkpoint.pth'));
    const match = matchMmsaCheckpoint(ckpt, mapMmsaNames(ir, r.spec!.mmsa_modules, r.spec!.mmsa_ignore), ir, r.spec!.mmsa_modules);
    const p = lowerPipeline(ir, { seed: 0, trainSize: data.train.n });
    try {
      p.model.store.loadStateDict(match.weights);
      const tb = expected.train_batch;
      const batch = gatherBatch(data.train, Int32Array.from(tb.indexes));
      expect(tb.indexes.map((i) => data.train.ids[i])).toEqual(tb.ids);
      const out = p.model.forward(batch, evalCtx());
      const loss = Object.fromEntries(p.tasks.map((t) => [t.name, t.trainLoss(out, batch, 1).dataSync()[0]!]));
      const w = tb.weights;
      const diff = ['diff_text', 'diff_vision', 'diff_audio', 'diff_audio_text', 'diff_audio_vision', 'diff_text_vision'].reduce((s, k) => s + loss[k]!, 0);
      expect(Math.abs(loss['main']! - tb.main)).toBeLessThan(1e-4);
      expect(Math.abs(diff / w['diff_weight']! - tb.diff)).toBeLessThan(1e-4);
      expect(Math.abs(loss['cmd']! / w['sim_weight']! - tb.cmd)).toBeLessThan(1e-4);
      expect(Math.abs(loss['recon']! / w['recon_weight']! - tb.recon)).toBeLessThan(1e-4);
      const total = Object.values(loss).reduce((s, v) => s + v, 0);
      expect(Math.abs(total - tb.loss)).toBeLessThan(1e-4);
      // Only the MSE counts in the validation Loss (MISA's do_test).
      expect(p.tasks.filter((t) => t.evalLoss).map((t) => t.name)).toEqual(['main']);
    } finally {
      p.optimizer.dispose();
      p.model.dispose();
    }
  });
});
