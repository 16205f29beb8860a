import { describe, it, expect } from 'vitest';
import { CATALOG } from '../../../src/components/catalog.js';
import { runInfer } from './fake-context.js';
import { CASES } from './representative-params.js';

const shaped = CATALOG.filter((c) => c.infer);

describe('paramNames agrees with the shape rule', () => {
  it('every component with a shape rule has representative cases, and no case is stale', () => {
    for (const c of shaped) expect(CASES[`${c.kind}:${c.type}`]?.length ?? 0, `${c.kind} '${c.type}' needs cases`).toBeGreaterThan(0);
    for (const key of Object.keys(CASES)) expect(shaped.some((c) => `${c.kind}:${c.type}` === key), key).toBe(true);
  });

  describe.each(shaped.map((c) => [`${c.kind} ${c.type}`, c] as const))('%s', (_, def) => {
    const cases = CASES[`${def.kind}:${def.type}`] ?? [];
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
      expect(s).toMatch(/^[a-z_]+\(/);
      expect(s).not.toContain('\n');
      expect(s).not.toContain('undefined');
    });
  });
});
