import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../src/runtime/backend.js';
import { CATALOG } from '../../../src/compiler/components/catalog.js';
import { LOWERINGS } from '../../../src/runtime/lower/registry.js';
import { lowerPipeline } from '../../../src/runtime/lower/lower-pipeline.js';
import { compileYaml, TINY } from './helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

describe('lowering registry', () => {
  it('has a lowering for every catalog component and nothing else', () => {
    const catalog = CATALOG.map((c) => `${c.kind}/${c.type}`).sort();
    expect(Object.keys(LOWERINGS).sort()).toEqual(catalog);
    for (const c of CATALOG) {
      const l = LOWERINGS[`${c.kind}/${c.type}`]!;
      expect(l.kind).toBe(c.kind);
      expect(typeof (l.kind === 'task' ? l.lowerTask : l.lowerNode)).toBe('function');
    }
  });

  it('refuses BERT with MSA5001 and points at the precomputed text encoder', () => {
    const ir = compileYaml(`version: 1
extends: self_mm
${TINY('mosi')}
encoders:
  audio: {type: lstm, hidden: 4, out: 3}
  vision: {type: lstm, hidden: 4, out: 3}
heads:
  M: {type: regression, input: fusion, hidden: [4, 4]}
  T: {type: regression, input: text, hidden: [4, 4]}
  A: {type: regression, input: audio, hidden: [4, 4]}
  V: {type: regression, input: vision, hidden: [4, 4]}
`, 'bert');
    expect(ir.nodes.find((n) => n.id === 'encoders.text')!.type).toBe('bert');
    let err: unknown;
    try {
      lowerPipeline(ir, { seed: 1, trainSize: 12 });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'MSA5001' });
    const msg = (err as Error).message;
    expect(msg).toContain("component 'bert' cannot be lowered yet");
    expect(msg).toContain('{type: precomputed, select: cls}');
    expect(msg).toContain('modalities.text.feature: text');
  });
});

describe('catalog lower hooks', () => {
  it('every catalog entry lazily resolves to its lowering', async () => {
    const { CATALOG } = await import('../../../src/compiler/components/catalog.js');
    const { getLowering } = await import('../../../src/runtime/lower/registry.js');
    for (const def of CATALOG) {
      expect(def.lower, `${def.kind}/${def.type}`).toBeTypeOf('function');
      const lowering = await def.lower!();
      expect(lowering, `${def.kind}/${def.type}`).toBeDefined();
      expect(lowering).toBe(getLowering(def.kind, def.type));
    }
  });
});
