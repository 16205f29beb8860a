// Every component's examples (declared in its definition) run through its shape rule, and paramNames names exactly the
// parameters the shape rule declares. Phase 5.
import { describe, it, expect } from 'vitest';
import { CATALOG } from '../../../src/components/catalog.js';
import { runInfer } from './fake-context.js';

const shaped = CATALOG.filter((c) => c.infer);

describe('paramNames agrees with the shape rule', () => {
  it('every component with a shape rule declares representative examples in its definition', () => {
    for (const c of shaped) expect(c.examples?.length ?? 0, `${c.kind} '${c.type}' needs examples`).toBeGreaterThan(0);
  });

  describe.each(shaped.map((c) => [`${c.kind} ${c.type}`, c] as const))('%s', (_, def) => {
    const cases = def.examples ?? [];
    it.each(cases.map((k) => [k.label, k] as const))('%s', (_label, k) => {
      const run = runInfer(def, k.params, k.inputs);
      expect(run.reports).toEqual([]);
      expect(run.result).toBeDefined();
      const names = run.result!.params.map((p) => p.name);
      expect(def.paramNames!(k.params)).toEqual(names);
      expect(new Set(names).size).toBe(names.length);
      for (const p of run.result!.params) {
        expect(p.shape.every((d) => Number.isInteger(d) && d > 0), p.name).toBe(true);
        if (p.buffer) expect(p.trainable, p.name).toBe(false);
      }
      const s = def.summary(k.params);
      expect(s).toMatch(/^[a-z_][a-z0-9_]*\(/);
      expect(s).not.toContain('\n');
      expect(s).not.toContain('undefined');
    });
  });
});
