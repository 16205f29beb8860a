import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../src/runtime/backend.js';
import { CATALOG } from '../../../src/components/catalog.js';
import { LOWERINGS } from '../../../src/runtime/lower/registry.js';

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

});
