import { describe, expect, it } from 'vitest';
import rule from '../../../../src/compiler/check/rules/aligned-required.js';
import { runRule, yaml } from '../harness.js';

const EARLY = yaml`
  version: 1
  dataset: mosi
  modalities:
    text: {feature: text}
    audio: {feature: audio}
    vision: {feature: vision, align: avg_pool}
  encoders:
    text: {type: precomputed, select: sequence}
    audio: {type: precomputed, select: sequence}
    vision: {type: precomputed, select: sequence}
  fusion:
    type: early
    hidden: 16
    inputs: [text, audio, vision]
  heads:
    M: {type: regression, input: fusion}
  tasks:
    main: {type: l1, head: M}
`;

describe('aligned-required', () => {
  it('accepts early fusion over an aligned feature file', () => {
    expect(runRule(rule, EARLY, { aligned: true, file: 'aligned_50' })).toEqual([]);
  });

  it('reports an unaligned modality at the fusion input, noting the dataset file', () => {
    const ds = runRule(rule, EARLY);
    expect(ds).toHaveLength(1);
    expect(ds[0]).toMatchObject({
      code: 'MSA3006',
      message: "'early' over sequences needs aligned modalities, but 'audio' is unaligned",
      at: '14:18',
      text: 'audio',
      hint: 'use the aligned feature file of the dataset, or add `align: avg_pool` to the modality',
    });
    expect(ds[0]!.related).toEqual([
      { message: "modality 'audio' is declared here; it reads 'audio' from dataset 'mosi' (file 'unaligned_50'), which is unaligned", at: '5:3', text: 'audio' },
    ]);
  });

  it("reports a modality's own `aligned: false` over an aligned file", () => {
    const ds = runRule(rule, EARLY.replace('audio: {feature: audio}', 'audio: {feature: audio, aligned: false}'), { aligned: true });
    expect(ds).toMatchObject([{ code: 'MSA3006', at: '14:18' }]);
    expect(ds[0]!.related).toEqual([{ message: "modality 'audio' is declared unaligned here", at: '5:36', text: 'false' }]);
  });

  it('ignores vector fusions', () => {
    expect(runRule(rule, EARLY.replace('type: early', 'type: concat'))).toEqual([]);
  });
});
