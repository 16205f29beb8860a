import { describe, it, expect } from 'vitest';
import { getComponent } from '../../../src/components/catalog.js';
import type { ComponentDef } from '../../../src/components/component.js';
import { paramSize, type ParamDecl } from '../../../src/compiler/ir/types.js';
import { runInfer, seq, tokens, vec } from './fake-context.js';

/** PyTorch's sum(p.numel() for p in module.parameters()): buffers (running stats, constants) are not counted. */
function count(params: ParamDecl[]): number {
  return params.filter((p) => !p.buffer).reduce((s, p) => s + paramSize(p), 0);
}

function def(kind: 'encoder' | 'fusion' | 'head', type: string): ComponentDef {
  const d = getComponent(kind, type);
  if (!d) throw new Error(`no ${kind} ${type}`);
  return d;
}

function shapes(params: ParamDecl[]): Record<string, number[]> {
  return Object.fromEntries(params.map((p) => [p.name, p.shape]));
}

describe('parameter counts equal the PyTorch reference models', () => {
  it("Self-MM MOSI audio AuViSubNet: LSTM(5 -> 16) + Linear(16 -> 16)", () => {
    const run = runInfer(def('encoder', 'lstm'), { type: 'lstm', hidden: 16, layers: 1, dropout: 0, bidirectional: false, packed: true, out: 16 }, [['audio', seq(375, 5, { lengths: 'audio_lengths' })]]);
    const ps = run.result!.params;
    expect(shapes(ps)).toEqual({
      'lstm.weight_ih_l0': [64, 5],
      'lstm.weight_hh_l0': [64, 16],
      'lstm.bias_ih_l0': [64],
      'lstm.bias_hh_l0': [64],
      'linear.weight': [16, 16],
      'linear.bias': [16],
    });
    // LSTM: 4H*in + 4H*H + 2*4H = 64*5 + 64*16 + 128 = 1472; Linear: 16*16 + 16 = 272.
    expect(count(ps)).toBe(1472 + 272);
    expect(run.result!.output.shape).toEqual(['B', 16]);
  });

  it('Self-MM MOSI vision AuViSubNet and fusion head', () => {
    const v = runInfer(def('encoder', 'lstm'), { type: 'lstm', hidden: 32, layers: 1, dropout: 0, bidirectional: false, out: 32 }, [['vision', seq(500, 20)]]);
    // 128*20 + 128*32 + 256 = 6912; Linear 32*32 + 32 = 1056.
    expect(count(v.result!.params)).toBe(6912 + 1056);
    const h = runInfer(def('head', 'regression'), { type: 'regression', input: 'fusion', hidden: [128, 128], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, output_range: null }, [['fusion', vec(768 + 16 + 32)]]);
    // 816*128 + 128 = 104,576; 128*128 + 128 = 16,512; 128 + 1 = 129.
    expect(count(h.result!.params)).toBe(104_576 + 16_512 + 129);
    expect(h.result!.features).toEqual({ hidden0: { kind: 'vector', shape: ['B', 128], dtype: 'float32' } });
    expect(h.result!.output).toEqual({ kind: 'value', shape: ['B', 1], dtype: 'float32' });
  });

  it('LMF MOSI: factors [rank, d+1, 1] for audio 16, video 128, text 64 at rank 3', () => {
    const run = runInfer(def('fusion', 'low_rank'), { type: 'low_rank', inputs: ['audio', 'video', 'text'], rank: 3, out: 1 }, [['audio', vec(16)], ['video', vec(128)], ['text', vec(64)]]);
    expect(shapes(run.result!.params)).toEqual({
      audio_factor: [3, 17, 1],
      video_factor: [3, 129, 1],
      text_factor: [3, 65, 1],
      fusion_weights: [1, 3],
      fusion_bias: [1, 1],
    });
    // 3*17 + 3*129 + 3*65 + 3 + 1 = 51 + 387 + 195 + 4.
    expect(count(run.result!.params)).toBe(637);
    expect(run.result!.output.shape).toEqual(['B', 1]);
  });

  it('LMF MOSI audio SubNet(5, 16): BatchNorm1d(5) + three Linears', () => {
    const run = runInfer(def('encoder', 'subnet'), { type: 'subnet', hidden: 16, dropout: 0.3 }, [['audio', seq(375, 5)]]);
    const ps = run.result!.params;
    // BN affine 2*5 = 10; 5*16 + 16 = 96; (16*16 + 16) * 2 = 544.
    expect(count(ps)).toBe(10 + 96 + 544);
    const buffers = ps.filter((p) => p.buffer);
    expect(buffers.map((p) => [p.name, p.shape, p.trainable])).toEqual([
      ['norm.running_mean', [5], false],
      ['norm.running_var', [5], false],
      ['norm.num_batches_tracked', [], false],
    ]);
  });

  it('TFN MOSI: tensor of 33*129*33 = 140,481 features, then the post-fusion MLP with a (-3, 3) range', () => {
    const t = runInfer(def('fusion', 'tensor'), { type: 'tensor', inputs: ['audio', 'video', 'text'], append_one: true }, [['audio', vec(32)], ['video', vec(128)], ['text', vec(32)]]);
    expect(t.result!.output.shape).toEqual(['B', 140_481]);
    expect(t.result!.params).toEqual([]);
    expect(t.reports).toEqual([]); // well under the size warning
    const h = runInfer(def('head', 'regression'), { type: 'regression', input: 'fusion', hidden: [64, 64], dropout: 0.5, dropout_each: false, activation: 'relu', passthrough: false, output_range: [-3, 3] }, [['fusion', vec(140_481)]]);
    // 140481*64 + 64 = 8,990,848; 64*64 + 64 = 4,160; 64 + 1 = 65. The reference also registers output_range and
    // output_shift as frozen Parameters (+2 in its numel total); here they are buffers.
    expect(count(h.result!.params)).toBe(8_990_848 + 4_160 + 65);
    expect(h.result!.params.filter((p) => p.buffer).map((p) => [p.name, p.shape, p.trainable])).toEqual([
      ['output_range.scale', [1], false],
      ['output_range.shift', [1], false],
    ]);
  });

  it('TFN MOSI TextSubNet(768, 128, 32)', () => {
    const run = runInfer(def('encoder', 'text_lstm'), { type: 'text_lstm', hidden: 128, out: 32, dropout: 0.3 }, [['text', seq(50, 768)]]);
    // LSTM 512*768 + 512*128 + 1024 = 459,776; Linear 128*32 + 32 = 4,128.
    expect(count(run.result!.params)).toBe(459_776 + 4_128);
    expect(run.result!.params.map((p) => p.name)).toEqual(['rnn.weight_ih_l0', 'rnn.weight_hh_l0', 'rnn.bias_ih_l0', 'rnn.bias_hh_l0', 'linear_1.weight', 'linear_1.bias']);
  });

  it('EF-LSTM MOSI: BatchNorm1d(50) + 4-layer LSTM(793 -> 128)', () => {
    const run = runInfer(
      def('fusion', 'early'),
      { type: 'early', inputs: ['text', 'audio', 'vision'], hidden: 128, layers: 4, dropout: 0.5, batchnorm: true },
      [['text', seq(50, 768, { aligned: true })], ['audio', seq(50, 5, { aligned: true })], ['vision', seq(50, 20, { aligned: true })]],
    );
    const ps = run.result!.params;
    expect(shapes(ps)['norm.weight']).toEqual([50]);
    expect(shapes(ps)['lstm.weight_ih_l0']).toEqual([512, 793]);
    expect(shapes(ps)['lstm.weight_ih_l3']).toEqual([512, 128]);
    // BN 2*50 = 100; layer 0: 512*793 + 512*128 + 2*512 = 472,576; layers 1-3: 512*128*2 + 1024 = 132,096 each.
    expect(count(ps)).toBe(100 + 472_576 + 3 * 132_096);
    expect(run.result!.output.shape).toEqual(['B', 128]);
  });

  it('bidirectional LSTM layers above the first read 2H features', () => {
    const run = runInfer(def('encoder', 'lstm'), { type: 'lstm', hidden: 8, layers: 2, dropout: 0, bidirectional: true, out: 4 }, [['a', seq(10, 3)]]);
    const s = shapes(run.result!.params);
    expect(s['lstm.weight_ih_l0_reverse']).toEqual([32, 3]);
    expect(s['lstm.weight_ih_l1']).toEqual([32, 16]);
    expect(s['linear.weight']).toEqual([4, 16]);
    const g = runInfer(def('encoder', 'gru'), { type: 'gru', hidden: 8, layers: 1, dropout: 0, bidirectional: false, out: null }, [['a', seq(10, 3)]]);
    // GRU: 3H*in + 3H*H + 2*3H = 72 + 192 + 48.
    expect(count(g.result!.params)).toBe(72 + 192 + 48);
    expect(g.result!.output.shape).toEqual(['B', 8]);
  });

  describe('BERT', () => {
    const bert = def('encoder', 'bert');
    const p = (pretrained: string, extra: Record<string, unknown> = {}) => ({ type: 'bert', pretrained, finetune: true, output: 'cls', ...extra });
    // embeddings: V*768 + 512*768 + 2*768 + 2*768; per layer: 4*(768*768 + 768) + 2*768 + (768*3072 + 3072)
    // + (3072*768 + 768) + 2*768 = 7,087,872; pooler 768*768 + 768 = 590,592.
    const total = (V: number) => V * 768 + 512 * 768 + 2 * 768 + 2 * 768 + 12 * 7_087_872 + 590_592;

    it('bert-base-uncased has 109,482,240 parameters', () => {
      const run = runInfer(bert, p('bert-base-uncased'), [['text', tokens(50)]]);
      expect(total(30522)).toBe(109_482_240);
      expect(count(run.result!.params)).toBe(109_482_240);
      expect(run.result!.params).toHaveLength(5 + 12 * 16 + 2);
      expect(shapes(run.result!.params)['encoder.layer.11.intermediate.dense.weight']).toEqual([3072, 768]);
      expect(run.result!.output).toEqual({ kind: 'vector', shape: ['B', 768], dtype: 'float32' });
    });

    it('bert-base-chinese has 102,267,648 parameters', () => {
      const run = runInfer(bert, p('bert-base-chinese'), [['text', tokens(39)]]);
      expect(total(21128)).toBe(102_267_648);
      expect(count(run.result!.params)).toBe(102_267_648);
      expect(shapes(run.result!.params)['embeddings.word_embeddings.weight']).toEqual([21128, 768]);
    });

    it('a local directory named like a known model, config overrides, and unknown ids', () => {
      const local = runInfer(bert, p('/models/bert-base-chinese/'), [['text', tokens(39)]]);
      expect(count(local.result!.params)).toBe(102_267_648);
      const unknown = runInfer(bert, p('someone/tiny-bert'), [['text', tokens(39)]]);
      expect(unknown.reports).toEqual([]);
      expect(count(unknown.result!.params)).toBe(109_482_240);
      const small = runInfer(bert, p('someone/tiny-bert', { output: 'sequence', config: { num_hidden_layers: 2, hidden_size: 128, num_attention_heads: 2, intermediate_size: 512, vocab_size: 1000 } }), [['text', tokens(39)]]);
      expect(small.result!.output).toEqual({ kind: 'sequence', shape: ['B', 39, 128], dtype: 'float32', aligned: true });
      // 1000*128 + 512*128 + 2*128 + 256 + 2 * (4*(128*128+128) + 256 + (128*512+512) + (512*128+128) + 256) + 128*128+128
      const layer = 4 * (128 * 128 + 128) + 256 + (128 * 512 + 512) + (512 * 128 + 128) + 256;
      expect(count(small.result!.params)).toBe(1000 * 128 + 512 * 128 + 2 * 128 + 256 + 2 * layer + 128 * 128 + 128);
    });
  });
});
