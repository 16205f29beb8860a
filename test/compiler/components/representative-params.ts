// Test helper: representative normalized params and input types for every component with a shape rule.
// A new component without an entry here makes the parametrised tests fail.
import type { TensorType } from '../../../src/compiler/ir/types.js';
import { seq, tokens, vec } from './fake-context.js';

export interface Case {
  label: string;
  params: Record<string, unknown>;
  inputs: Array<[string, TensorType]>;
}

const enc = { modality: 'x' };

export const CASES: Record<string, Case[]> = {
  'encoder:bert': [
    { label: 'uncased cls', params: { type: 'bert', pretrained: 'bert-base-uncased', finetune: true, output: 'cls' }, inputs: [['text', tokens(50)]] },
    {
      label: 'small config, sequence',
      params: { type: 'bert', pretrained: './my-bert', finetune: false, output: 'sequence', config: { num_hidden_layers: 2, hidden_size: 64, num_attention_heads: 4, intermediate_size: 128, vocab_size: 100 } },
      inputs: [['text', tokens(39)]],
    },
  ],
  'encoder:gru': [
    { label: 'uni, projected', params: { type: 'gru', ...enc, hidden: 8, layers: 2, dropout: 0, bidirectional: false, out: 4 }, inputs: [['audio', seq(20, 5)]] },
    { label: 'bi, no projection', params: { type: 'gru', hidden: 8, layers: 2, dropout: 0.1, bidirectional: true, out: null }, inputs: [['audio', seq(20, 5)]] },
  ],
  'encoder:lstm': [
    { label: 'self-mm audio', params: { type: 'lstm', hidden: 16, layers: 1, dropout: 0, bidirectional: false, packed: true, out: 16 }, inputs: [['audio', seq(375, 5, { lengths: 'audio_lengths' })]] },
    { label: 'bi 3 layers', params: { type: 'lstm', hidden: 8, layers: 3, dropout: 0, bidirectional: true, out: null }, inputs: [['vision', seq(50, 20)]] },
  ],
  'encoder:mlp': [
    { label: 'vector', params: { type: 'mlp', hidden: [32, 16], out: 8, dropout: 0, activation: 'relu', pool: 'mean' }, inputs: [['audio', vec(5)]] },
    { label: 'sequence, no hidden', params: { type: 'mlp', hidden: [], out: 8, dropout: 0.2, activation: 'tanh', pool: 'last' }, inputs: [['audio', seq(10, 5)]] },
  ],
  'encoder:precomputed': [
    { label: 'cls', params: { type: 'precomputed', select: 'cls' }, inputs: [['text', seq(50, 768)]] },
    { label: 'sequence', params: { type: 'precomputed', select: 'sequence' }, inputs: [['text', seq(50, 768)]] },
  ],
  'encoder:subnet': [
    { label: 'sequence', params: { type: 'subnet', hidden: 16, dropout: 0.3 }, inputs: [['audio', seq(375, 5)]] },
    { label: 'vector', params: { type: 'subnet', hidden: 128, dropout: 0 }, inputs: [['vision', vec(20)]] },
  ],
  'encoder:text_lstm': [{ label: 'tfn text', params: { type: 'text_lstm', hidden: 128, out: 32, dropout: 0.3 }, inputs: [['text', seq(50, 768)]] }],
  'fusion:concat': [{ label: 'three', params: { type: 'concat', inputs: ['text', 'audio', 'vision'] }, inputs: [['text', vec(768)], ['audio', vec(16)], ['vision', vec(32)]] }],
  'fusion:early': [
    { label: 'ef-lstm', params: { type: 'early', inputs: ['text', 'audio', 'vision'], hidden: 128, layers: 4, dropout: 0.5, batchnorm: true }, inputs: [['text', seq(50, 768, { aligned: true })], ['audio', seq(50, 5, { aligned: true })], ['vision', seq(50, 20, { aligned: true })]] },
    { label: 'no batchnorm', params: { type: 'early', inputs: ['a', 'b'], hidden: 8, layers: 1, dropout: 0, batchnorm: false }, inputs: [['a', seq(10, 3, { aligned: true })], ['b', seq(10, 4, { aligned: true })]] },
  ],
  'fusion:late': [
    { label: 'concat', params: { type: 'late', inputs: ['audio', 'vision', 'text'], combine: 'concat' }, inputs: [['audio', vec(16)], ['vision', vec(128)], ['text', vec(256)]] },
    { label: 'mean', params: { type: 'late', inputs: ['a', 'b'], combine: 'mean' }, inputs: [['a', vec(16)], ['b', vec(16)]] },
  ],
  'fusion:low_rank': [{ label: 'lmf', params: { type: 'low_rank', inputs: ['audio', 'video', 'text'], rank: 3, out: 1 }, inputs: [['audio', vec(16)], ['video', vec(128)], ['text', vec(64)]] }],
  'fusion:tensor': [{ label: 'tfn', params: { type: 'tensor', inputs: ['audio', 'video', 'text'], append_one: true }, inputs: [['audio', vec(32)], ['video', vec(128)], ['text', vec(32)]] }],
  'head:classification': [
    { label: 'mlp', params: { type: 'classification', input: 'fusion', hidden: [64], dropout: 0.1, dropout_each: false, activation: 'relu', passthrough: false, num_classes: 3 }, inputs: [['fusion', vec(816)]] },
    { label: 'passthrough', params: { type: 'classification', input: 'fusion', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: true, num_classes: 3 }, inputs: [['fusion', vec(3)]] },
  ],
  'head:regression': [
    { label: 'self-mm', params: { type: 'regression', input: 'fusion', hidden: [128, 128], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, output_range: null }, inputs: [['fusion', vec(816)]] },
    { label: 'tfn range', params: { type: 'regression', input: 'fusion', hidden: [64, 64], dropout: 0.5, dropout_each: false, activation: 'relu', passthrough: false, output_range: [-3, 3] }, inputs: [['fusion', vec(140481)]] },
    { label: 'lmf passthrough', params: { type: 'regression', input: 'fusion', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: true, output_range: null }, inputs: [['fusion', vec(1)]] },
    { label: 'no hidden', params: { type: 'regression', input: 'text', hidden: [], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, output_range: null }, inputs: [['text', vec(32)]] },
  ],
};
