import { describe, it, expect } from 'vitest';
import { getComponent } from '../../../src/components/catalog.js';
import type { ComponentDef } from '../../../src/components/component.js';
import { makeDiagnostic } from '../../../src/compiler/diagnostics/diagnostic.js';
import { inputSpan, paramSpan, runInfer, seq, tokens, vec, type FakeRun, COMPONENT_SPAN } from './fake-context.js';

function def(kind: 'encoder' | 'fusion' | 'head', type: string): ComponentDef {
  const d = getComponent(kind, type);
  if (!d) throw new Error(`no ${kind} ${type}`);
  return d;
}

/** The one report of a run, rendered as users see it (every placeholder filled). */
function only(run: FakeRun) {
  expect(run.reports).toHaveLength(1);
  const r = run.reports[0]!;
  const d = makeDiagnostic(r.code, r.span, r.args, r.extras ?? {});
  expect(d.message).not.toMatch(/\{\w+\}/);
  return { ...r, message: d.message, severity: d.severity, related: d.related, hint: d.hint };
}

const lstmParams = { type: 'lstm', hidden: 16, layers: 1, dropout: 0, bidirectional: false, out: 16 };
const regParams = { type: 'regression', input: 'fusion', hidden: [64], dropout: 0, dropout_each: false, activation: 'relu', passthrough: false, output_range: null };

describe('encoders report shape problems at the right place', () => {
  it.each([
    ['lstm', lstmParams],
    ['gru', { ...lstmParams, type: 'gru' }],
    ['text_lstm', { type: 'text_lstm', hidden: 8, out: 4, dropout: 0 }],
  ])('%s on a vector input: MSA4002 at the input reference', (type, params) => {
    const run = runInfer(def('encoder', type), params, [['audio', vec(5)]], 'encoders.audio');
    expect(run.result).toBeUndefined();
    const r = only(run);
    expect(r.code).toBe('MSA4002');
    expect(r.span).toEqual(inputSpan(0));
    expect(r.message).toBe(`'encoders.audio' (${type}) expects a sequence input, but 'audio' is vector [B, 5]`);
  });

  it('in_dim different from the input: MSA4001 at in_dim with a note at the input, and inference goes on', () => {
    const run = runInfer(def('encoder', 'lstm'), { ...lstmParams, in_dim: 74 }, [['audio', seq(50, 5)]], 'encoders.audio');
    const r = only(run);
    expect(r.code).toBe('MSA4001');
    expect(r.span).toEqual(paramSpan('in_dim'));
    expect(r.message).toBe("'encoders.audio' is declared to read 74 features, but 'audio' gives 5");
    expect(r.related?.[0]?.span).toEqual(inputSpan(0));
    expect(run.result?.params[0]?.shape).toEqual([64, 5]);
  });

  it('bert needs token ids (MSA4002) and at most max positions tokens (MSA4007)', () => {
    const bert = def('encoder', 'bert');
    const p = { type: 'bert', pretrained: 'bert-base-uncased', finetune: true, output: 'cls' };
    const wrong = only(runInfer(bert, p, [['text', seq(50, 768)]], 'encoders.text'));
    expect(wrong.code).toBe('MSA4002');
    expect(wrong.span).toEqual(inputSpan(0));
    expect(wrong.message).toContain('expects a token-id input');
    const long = runInfer(bert, p, [['text', tokens(600)]], 'encoders.text');
    const r = only(long);
    expect(r.code).toBe('MSA4007');
    expect(r.span).toEqual(inputSpan(0));
    expect(r.message).toBe("'encoders.text' reads 600 tokens, more than the model's 512 positions");
    expect(long.result?.output.shape).toEqual(['B', 768]);
    expect(runInfer(bert, p, [['text', tokens(512)]]).reports).toEqual([]);
    const odd = only(runInfer(bert, { ...p, config: { hidden_size: 100, num_attention_heads: 3 } }, [['text', tokens(50)]]));
    expect(odd.code).toBe('MSA4004');
    expect(odd.span).toEqual(paramSpan('config'));
  });

  it('precomputed: select sequence needs a sequence; other selections take vectors as they are', () => {
    const pre = def('encoder', 'precomputed');
    expect(only(runInfer(pre, { type: 'precomputed', select: 'sequence' }, [['text', vec(768)]])).code).toBe('MSA4002');
    const ok = runInfer(pre, { type: 'precomputed', select: 'mean' }, [['text', vec(768)]]);
    expect(ok.reports).toEqual([]);
    expect(ok.result?.output.shape).toEqual(['B', 768]);
    expect(only(runInfer(pre, { type: 'precomputed', select: 'cls' }, [['text', tokens(50)]])).code).toBe('MSA4002');
  });

  it('subnet and mlp take sequences and vectors, but not token ids', () => {
    for (const [type, p] of [['subnet', { type: 'subnet', hidden: 4, dropout: 0 }], ['mlp', { type: 'mlp', hidden: [], out: 4, dropout: 0, activation: 'relu', pool: 'mean' }]] as const) {
      expect(runInfer(def('encoder', type), p, [['a', seq(3, 5)]]).reports).toEqual([]);
      expect(runInfer(def('encoder', type), p, [['a', vec(5)]]).reports).toEqual([]);
      expect(only(runInfer(def('encoder', type), p, [['a', tokens(5)]])).code).toBe('MSA4002');
    }
  });
});

describe('fusions', () => {
  it('concat of a sequence: MSA3005 at that input', () => {
    const run = runInfer(def('fusion', 'concat'), { type: 'concat', inputs: ['text', 'audio'] }, [['text', vec(768)], ['audio', seq(50, 5)]], 'fusion');
    expect(run.result).toBeUndefined();
    const r = only(run);
    expect(r.code).toBe('MSA3005');
    expect(r.span).toEqual(inputSpan(1));
    expect(r.message).toBe("fusion 'concat' needs vector inputs; 'audio' gives sequence [B, 50, 5] (unaligned)");
  });

  it('in_dims: a wrong size is MSA4001, a wrong count MSA4004, both at in_dims', () => {
    const c = def('fusion', 'concat');
    const inputs: Array<[string, ReturnType<typeof vec>]> = [['text', vec(768)], ['audio', vec(16)]];
    const r = only(runInfer(c, { type: 'concat', inputs: ['text', 'audio'], in_dims: [768, 32] }, inputs, 'fusion'));
    expect(r.code).toBe('MSA4001');
    expect(r.span).toEqual(paramSpan('in_dims'));
    expect(r.message).toBe("'fusion' is declared to read 32 features, but 'audio' gives 16");
    expect(r.related?.[0]?.span).toEqual(inputSpan(1));
    const n = only(runInfer(c, { type: 'concat', inputs: ['text', 'audio'], in_dims: [768] }, inputs, 'fusion'));
    expect(n.code).toBe('MSA4004');
    expect(n.span).toEqual(paramSpan('in_dims'));
    expect(n.message).toContain('1 size for 2 inputs');
  });

  it('tensor warns (MSA4005) above 2,000,000 features, not at TFN MOSI size', () => {
    const t = def('fusion', 'tensor');
    const p = { type: 'tensor', inputs: ['a', 'v', 't'], append_one: true };
    const big = runInfer(t, p, [['a', vec(128)], ['v', vec(128)], ['t', vec(128)]], 'fusion');
    const r = only(big);
    expect(r.code).toBe('MSA4005');
    expect(r.severity).toBe('warning');
    expect(r.span).toEqual(COMPONENT_SPAN);
    expect(r.message).toBe("'fusion' builds a 2,146,689-feature tensor");
    expect(big.result?.output.shape).toEqual(['B', 2_146_689]);
    expect(r.hint).toBe('(128+1) x (128+1) x (128+1) = 2,146,689 features feed the next Linear; smaller encoder outputs keep tensor fusion tractable');
    expect(r.related?.map((x) => x.span)).toEqual([inputSpan(0), inputSpan(1), inputSpan(2)]);
    // Without the appended ones 120^3 = 1,728,000 stays under the threshold.
    const plain = runInfer(t, { ...p, append_one: false }, [['a', vec(120)], ['v', vec(120)], ['t', vec(120)]]);
    expect(plain.reports).toEqual([]);
    expect(plain.result?.output.shape).toEqual(['B', 1_728_000]);
  });

  it('low_rank validates rank and out at their spans, and rejects a repeated input', () => {
    const lr = def('fusion', 'low_rank');
    const inputs: Array<[string, ReturnType<typeof vec>]> = [['audio', vec(16)], ['text', vec(64)]];
    const rank = runInfer(lr, { type: 'low_rank', inputs: ['audio', 'text'], rank: 0, out: 1 }, inputs, 'fusion');
    expect(rank.result).toBeUndefined();
    const r = only(rank);
    expect(r.code).toBe('MSA4004');
    expect(r.span).toEqual(paramSpan('rank'));
    expect(r.message).toBe("'fusion': rank must be a whole number of at least 1, got 0");
    const out = only(runInfer(lr, { type: 'low_rank', inputs: ['audio', 'text'], rank: 2, out: 0 }, inputs, 'fusion'));
    expect(out.span).toEqual(paramSpan('out'));
    const dup = only(runInfer(lr, { type: 'low_rank', inputs: ['audio', 'audio'], rank: 2, out: 1 }, [['audio', vec(16)], ['audio', vec(16)]], 'fusion'));
    expect(dup.code).toBe('MSA4004');
    expect(dup.span).toEqual(inputSpan(1));
    expect(only(runInfer(lr, { type: 'low_rank', inputs: ['audio', 'text'], rank: 2, out: 1 }, [['audio', seq(3, 16)], ['text', vec(64)]])).code).toBe('MSA3005');
  });

  it('early: unequal lengths give MSA4003 naming both inputs; a vector input gives MSA4002', () => {
    const e = def('fusion', 'early');
    const p = { type: 'early', inputs: ['text', 'audio'], hidden: 8, layers: 1, dropout: 0, batchnorm: true };
    const run = runInfer(e, p, [['text', seq(50, 768, { aligned: true })], ['audio', seq(375, 5, { aligned: true })]], 'fusion');
    const r = only(run);
    expect(r.code).toBe('MSA4003');
    expect(r.span).toEqual(inputSpan(1));
    expect(r.message).toBe("'fusion' needs inputs of equal length, but 'text' has 50 steps and 'audio' has 375");
    expect(r.related?.[0]?.span).toEqual(inputSpan(0));
    expect(run.result?.output.shape).toEqual(['B', 8]);
    const v = only(runInfer(e, p, [['text', seq(50, 768)], ['audio', vec(5)]], 'fusion'));
    expect(v.code).toBe('MSA4002');
    expect(v.span).toEqual(inputSpan(1));
    expect(e.needsAligned).toBe(true);
  });

  it('late: mean and sum need equal sizes (MSA4004), concat adds them up', () => {
    const l = def('fusion', 'late');
    const inputs: Array<[string, ReturnType<typeof vec>]> = [['a', vec(16)], ['b', vec(32)]];
    const r = only(runInfer(l, { type: 'late', inputs: ['a', 'b'], combine: 'sum' }, inputs, 'fusion'));
    expect(r.code).toBe('MSA4004');
    expect(r.span).toEqual(inputSpan(1));
    expect(r.message).toBe("'fusion': combine 'sum' needs inputs of equal size, but 'a' gives 16 and 'b' gives 32");
    expect(runInfer(l, { type: 'late', inputs: ['a', 'b'], combine: 'concat' }, inputs).result?.output.shape).toEqual(['B', 48]);
  });
});

describe('heads', () => {
  it('in_dim mismatch: MSA4001 at in_dim with a note at the input', () => {
    const r = only(runInfer(def('head', 'regression'), { ...regParams, in_dim: 64 }, [['fusion', vec(32)]], 'heads.M'));
    expect(r.code).toBe('MSA4001');
    expect(r.span).toEqual(paramSpan('in_dim'));
    expect(r.message).toBe("'heads.M' is declared to read 64 features, but 'fusion' gives 32");
    expect(r.related).toEqual([{ span: inputSpan(0), message: "'fusion' gives vector [B, 32]" }]);
  });

  it('a head on a sequence: MSA4002', () => {
    const r = only(runInfer(def('head', 'classification'), { ...regParams, type: 'classification', num_classes: 3 }, [['text', seq(50, 768)]], 'heads.C'));
    expect(r.code).toBe('MSA4002');
    expect(r.message).toContain('expects a vector input');
  });

  it('passthrough needs an input of the output size (MSA4008)', () => {
    const reg = runInfer(def('head', 'regression'), { ...regParams, hidden: [], passthrough: true }, [['fusion', vec(3)]], 'heads.M');
    const r = only(reg);
    expect(r.code).toBe('MSA4008');
    expect(r.span).toEqual(paramSpan('passthrough'));
    expect(r.message).toBe("head 'heads.M' has no layers of its own, so its input must have 1 features, got 3");
    const cls = only(runInfer(def('head', 'classification'), { ...regParams, type: 'classification', hidden: [], passthrough: true, num_classes: 3 }, [['fusion', vec(1)]], 'heads.C'));
    expect(cls.code).toBe('MSA4008');
    expect(cls.args['out']).toBe(3);
    const both = runInfer(def('head', 'regression'), { ...regParams, hidden: [8], passthrough: true }, [['fusion', vec(1)]]);
    expect(both.reports.map((x) => [x.code, x.span])).toEqual([['MSA4004', paramSpan('hidden')]]);
  });

  it('output_range must be increasing', () => {
    const r = only(runInfer(def('head', 'regression'), { ...regParams, output_range: [3, -3] }, [['fusion', vec(8)]]));
    expect(r.code).toBe('MSA4004');
    expect(r.span).toEqual(paramSpan('output_range'));
  });

  it('classification outputs logits and no hidden feature without hidden layers', () => {
    const run = runInfer(def('head', 'classification'), { ...regParams, type: 'classification', hidden: [], num_classes: 5 }, [['fusion', vec(8)]]);
    expect(run.reports).toEqual([]);
    expect(run.result?.output).toEqual({ kind: 'logits', shape: ['B', 5], dtype: 'float32' });
    expect(run.result?.features).toBeUndefined();
    expect(run.result?.params.map((p) => [p.name, p.shape])).toEqual([['out.weight', [5, 8]], ['out.bias', [5]]]);
  });
});
