import { describe, expect, it } from 'vitest';
import { parseSpecPath, setSpecPath, getSpecPath } from '../../src/compiler/spec/spec-path.js';
import { fromValue, toValue } from '../../src/compiler/spec/spec-tree.js';
import { createStrategy, type Observation } from '../../src/tune/strategies.js';
import { resolveSpace } from '../../src/tune/space.js';
import type { TuneConfig } from '../../src/tune/tune-config.js';

const span = { file: 't', start: 0, end: 0 };

function cfg(over: Partial<TuneConfig>, space: Record<string, unknown>): TuneConfig {
  return { params: resolveSpace(space as never).params, strategy: 'random', tpe: { startup: 5, candidates: 24, gamma: 0.25 }, budget: { trials: 10 }, seeds: [1], objective: { metric: 'MAE', key: 'MAE', split: 'valid', mode: 'min' }, seed: 0, ...over };
}

describe('spec paths', () => {
  it('parse keys, positions and named list elements, and refuse malformed ones', () => {
    expect(parseSpecPath('train.optimizer.groups[subnets].lr')).toEqual({ ok: true, segments: [{ key: 'train' }, { key: 'optimizer' }, { key: 'groups' }, { named: 'subnets' }, { key: 'lr' }] });
    expect(parseSpecPath('seeds[0]')).toEqual({ ok: true, segments: [{ key: 'seeds' }, { index: 0 }] });
    for (const bad of ['a..b', '.a', 'a.', '[0]', 'a[b c]', 'a b']) expect(parseSpecPath(bad).ok, bad).toBe(false);
  });

  it('set a value inside a named group, create missing keys, and name the groups when one is missing', () => {
    const tree = fromValue({ train: { optimizer: { groups: [{ name: 'a', lr: 1 }, { name: 'b', lr: 2 }] } } }, span);
    const p = parseSpecPath('train.optimizer.groups[b].lr');
    const r = setSpecPath(tree, p.ok ? p.segments : [], fromValue(5, span), span);
    expect(r.ok && toValue(r.tree)).toEqual({ train: { optimizer: { groups: [{ name: 'a', lr: 1 }, { name: 'b', lr: 5 }] } } });
    const q = parseSpecPath('train.max_epochs');
    const r2 = setSpecPath(tree, q.ok ? q.segments : [], fromValue(3, span), span);
    expect(r2.ok && getSpecPath(toValue(r2.tree), q.ok ? q.segments : [])).toBe(3);
    const m = parseSpecPath('train.optimizer.groups[c].lr');
    const r3 = setSpecPath(tree, m.ok ? m.segments : [], fromValue(5, span), span);
    expect(r3).toMatchObject({ ok: false, message: "train.optimizer.groups has no element named 'c'", hint: "its elements are named 'a', 'b'" });
  });
});

describe('strategies', () => {
  const space = { x: { uniform: [0, 1] }, k: { choice: ['a', 'b', 'c'] }, n: { int: [1, 4] }, lr: { loguniform: [1e-4, 1e-1] } };

  it('grid visits every combination once, the last parameter fastest', () => {
    const s = createStrategy(cfg({ strategy: 'grid', budget: {} }, { a: { choice: [1, 2] }, b: { int: [0, 2] } }));
    const all = Array.from({ length: 7 }, (_, i) => s.propose(i, []));
    expect(all).toEqual([{ a: 1, b: 0 }, { a: 1, b: 1 }, { a: 1, b: 2 }, { a: 2, b: 0 }, { a: 2, b: 1 }, { a: 2, b: 2 }, undefined]);
  });

  it('random draws stay in range and are the same for the same seed and index', () => {
    const s = createStrategy(cfg({}, space));
    for (let i = 0; i < 50; i++) {
      const v = s.propose(i, [])!;
      expect(v['x']).toBeGreaterThanOrEqual(0);
      expect(v['x']).toBeLessThan(1);
      expect(['a', 'b', 'c']).toContain(v['k']);
      expect(Number.isInteger(v['n']) && (v['n'] as number) >= 1 && (v['n'] as number) <= 4).toBe(true);
      expect(v['lr']).toBeGreaterThanOrEqual(1e-4);
      expect(v['lr']).toBeLessThanOrEqual(1e-1);
      expect(createStrategy(cfg({}, space)).propose(i, [])).toEqual(v);
    }
    expect(createStrategy(cfg({ seed: 1 }, space)).propose(0, [])).not.toEqual(s.propose(0, []));
  });

  it('TPE proposes near the good region of a known objective more often than random search', () => {
    // Objective: (x - 0.8)^2 + [k != 'c']; the best settings have x near 0.8 and k = 'c'.
    const f = (s: Record<string, unknown>) => ((s['x'] as number) - 0.8) ** 2 + (s['k'] === 'c' ? 0 : 1);
    const run = (strategy: 'tpe' | 'random') => {
      const st = createStrategy(cfg({ strategy, tpe: { startup: 8, candidates: 24, gamma: 0.25 } }, { x: space.x, k: space.k }));
      const obs: Observation[] = [];
      for (let i = 0; i < 40; i++) {
        const s = st.propose(i, obs)!;
        obs.push({ setting: s, loss: f(s) });
      }
      return obs.slice(20).filter((o) => o.loss < 0.05).length;
    };
    expect(run('tpe')).toBeGreaterThan(run('random'));
  });
});
