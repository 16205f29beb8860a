// The depression table as configs (pipelines/depression/*.yaml): each checks clean against the DAIC-WOZ layout, the
// windowed encoders report the reduced length, each trains (one epoch) on synthetic interviews of the same layout,
// and at 10^4 frames per session the memory plan fits, the window pre-encoder cutting the activations an LSTM at the
// full frame rate would hold.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { printPlanText } from '../../src/cli/compiler-commands.js';
import { compileFile } from '../../src/compiler/compile.js';
import { estimateMemory, planMemory, WASM_HEAP_LIMIT } from '../../src/runtime/memory/plan-memory.js';
import { captureIo } from './io.js';

const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-depression-configs-'));
const configs = readdirSync(join(repo, 'pipelines/depression')).filter((f) => f.endsWith('.yaml')).sort();

describe('depression table configs', () => {
  it('has one config per row of the table', () => {
    expect(configs).toEqual(['baseline.yaml', 'bert_cnn_gated_cnn.yaml', 'dilated_tcn.yaml', 'ef.yaml', 'self_mm.yaml']);
  });

  for (const f of configs) {
    it(`${f}: checks clean; 6000 frames become 60 windows; trains on synthetic interviews`, async () => {
      const file = join(repo, 'pipelines/depression', f);
      const r = compileFile(file, { env: {} });
      expect(r.diagnostics).toEqual([]);
      expect(r.ir!.dataset.labelRange).toEqual([0, 24]);
      const plan = printPlanText(r, { cwd: repo });
      if (r.ir!.nodes.some((n) => n.config['window'] === 100)) expect(plan).toContain('feature windows: sequence [B, 60, 23]');
      const io = captureIo(dir);
      const code = await main(['run', file, '--set', 'dataset={type: synthetic, like: depression, n_train: 24, n_valid: 8, n_test: 8}', '-s', '1111', '--max-epochs', '1', '--reporter', 'plain', '--out', join(dir, 'runs')], io);
      expect(code, io.stderr() + io.stdout()).toBe(0);
      expect(io.stdout()).toMatch(/test CCC -?\d\.\d+ {2}MAE \d+\.\d+/);
    }, 300_000);
  }

  it('at 10^4 frames per session the plan fits, and windows of 100 frames cut what an LSTM at full rate holds', () => {
    const spec = (audio: string) => {
      const f = join(dir, `mem-${audio.length}.yaml`);
      writeFileSync(
        f,
        [
          'version: 1',
          `extends: ${join(repo, 'pipelines/depression/self_mm.yaml')}`,
          'dataset:',
          '  path: daic_woz_long.pkl',
          '  features:',
          '    audio: {key: audio, shape: [10000, 23], dtype: float, lengths: audio_lengths}',
          '    vision: {key: vision, shape: [10000, 49], dtype: float, lengths: vision_lengths}',
          'encoders:',
          `  audio: ${audio}`,
          `  vision: ${audio.replace('16', '32').replace('16', '32')}`,
          '',
        ].join('\n'),
      );
      const r = compileFile(f, { env: {} });
      expect(r.diagnostics).toEqual([]);
      return r.ir!;
    };
    const windowed = spec('{type: window_pool, window: 100, op: mean, encoder: {type: lstm, hidden: 16, out: 16}}');
    const fullRate = spec('{type: lstm, hidden: 16, out: 16}');
    const audioNode = (ir: typeof windowed) => ir.nodes.find((n) => n.id === 'encoders.audio')!;
    expect(audioNode(windowed).features!['windows']!.shape).toEqual(['B', 100, 23]);
    const a = estimateMemory(windowed, 'keep').backend.activations;
    const b = estimateMemory(fullRate, 'keep').backend.activations;
    expect(a).toBeLessThan(0.5 * b);
    const plan = planMemory(windowed, { backendBytes: WASM_HEAP_LIMIT, hostBytes: 16e9 });
    expect(plan.fits).toBe(true);
  });
});
