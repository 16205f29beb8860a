import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/modality-encoders.js';
import { BASE, runRule } from '../harness.js';

describe('modality-encoders', () => {
  it('accepts modalities that are encoded and read', () => {
    expect(runRule(rule, BASE)).toEqual([]);
  });

  it('reports a modality without an encoder at its key', () => {
    const spec = BASE.replace('  vision: {type: lstm, hidden: 16}\n', '').replace('inputs: [text, audio, vision]', 'inputs: [text, audio]');
    expect(runRule(rule, spec)).toEqual([
      expect.objectContaining({ code: 'MSA3002', severity: 'error', message: "modality 'vision' has no encoder", at: '6:3', text: 'vision', hint: 'add `encoders.vision` or remove the modality' }),
    ]);
  });

  it('warns about a modality nothing reads', () => {
    const ds = runRule(rule, BASE.replace('inputs: [text, audio, vision]', 'inputs: [text, audio]'));
    expect(ds).toEqual([
      expect.objectContaining({ code: 'MSA3016', severity: 'warning', message: "modality 'vision' is declared but no fusion or head reads it", at: '6:3' }),
    ]);
    expect(ds[0]!.hint).toContain("encoder 'vision'");
  });

  it('counts a head reading the encoder as a reader', () => {
    const spec = BASE.replace('inputs: [text, audio, vision]', 'inputs: [text, audio]').replace('  M: {type', '  V: {type: regression, input: vision}\n  M: {type');
    expect(runRule(rule, spec)).toEqual([]);
  });

  it('accepts a modality read as it is by a qualified reference, not by a bare name', () => {
    const noEncoder = BASE.replace('  vision: {type: lstm, hidden: 16}\n', '');
    expect(runRule(rule, noEncoder.replace('inputs: [text, audio, vision]', 'inputs: [text, audio, modalities.vision]'))).toEqual([]);
    expect(runRule(rule, noEncoder).map((d) => d.code)).toEqual(['MSA3002']);
  });
});
