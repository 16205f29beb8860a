// train.init_rng 'torch': the torch-compatible initial-weight stream against MMSA's own SELF_MM model initialised by
// real torch (test/fixtures/torch-init/self_mm_tiny.json, made by tools/parity/make_torch_init_fixture.py).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '../../../src/runtime/backend.js';
import { MmsaError } from '../../../src/errors.js';
import { lowerModel } from '../../../src/runtime/lower/lower-model.js';
import { TorchRng } from '../../../src/runtime/torch-rng.js';
import { compileYaml, SPECS } from './helpers.js';

beforeAll(async () => {
  await setupBackend('cpu');
});

const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/torch-init/self_mm_tiny.json'), 'utf8')) as {
  seed: number;
  weights: Record<string, { shape: number[]; values: number[] }>;
};

// The fixture's architecture is the lowering tests' tiny Self-MM with a unidirectional vision LSTM (MMSA's SELF_MM
// has no bidirectional option): feature_dims [12, 5, 7], LSTMs 4 / 5 hidden, 4 out, heads 6/4/6/6.
const selfMm = (initRng: string | undefined): string => {
  const spec = SPECS.self_mm.replace('vision: {type: lstm, hidden: 5, out: 4, bidirectional: true}', 'vision: {type: lstm, hidden: 5, out: 4}');
  expect(spec).not.toContain('bidirectional');
  return initRng ? spec.replace('  batch_size: 4\n', `  batch_size: 4\n  init_rng: ${initRng}\n`) : spec;
};

function mismatches(initRng: string | undefined): { compared: number; differ: string[] } {
  const model = lowerModel(compileYaml(selfMm(initRng), `self_mm_${initRng ?? 'default'}`), { seed: fixture.seed });
  try {
    const state = model.store.stateDict();
    expect([...state.keys()].sort()).toEqual(Object.keys(fixture.weights).sort());
    let compared = 0;
    const differ: string[] = [];
    for (const [key, want] of Object.entries(fixture.weights)) {
      const got = state.get(key)!;
      expect(got.shape).toEqual(want.shape);
      compared += want.values.length;
      if (want.values.some((v, i) => got.values[i] !== v)) differ.push(key);
    }
    return { compared, differ };
  } finally {
    model.dispose();
  }
}

describe("train.init_rng 'torch'", () => {
  it('mt19937 as torch.manual_seed seeds it (the standard first outputs for 5489)', () => {
    const r = new TorchRng(5489);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([3499211612, 581869302, 3890346734]);
  });

  it("gives MMSA's own SELF_MM initial weights for the seed, bit for bit", () => {
    const r = mismatches('torch');
    expect(r.compared).toBeGreaterThan(400);
    expect(r.differ).toEqual([]);
  });

  it('is not the default: without it every parameter has its own stream and the weights differ', () => {
    expect(mismatches(undefined).differ.length).toBe(Object.keys(fixture.weights).length);
    expect(mismatches('mmsa').differ.length).toBe(Object.keys(fixture.weights).length);
  });

  it('shows in the plan only when set', async () => {
    const { printPlan } = await import('../../../src/compiler/ir/print-plan.js');
    expect(printPlan(compileYaml(selfMm('torch'), 'plan_torch'))).toContain('init_rng: torch');
    expect(printPlan(compileYaml(selfMm(undefined), 'plan_default'))).not.toContain('init_rng');
  });

  it('refuses initialisers it does not reproduce, naming the parameter (MSA5003)', () => {
    // LMF's low-rank factors are xavier_normal_: torch's normal_ is not reproduced
    const ir = compileYaml(SPECS.lmf.replace('train:\n', 'train:\n  init_rng: torch\n'), 'lmf_torch');
    let err: unknown;
    try {
      lowerModel(ir, { seed: 1 }).dispose();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MmsaError);
    expect((err as MmsaError).code).toBe('MSA5003');
    expect((err as MmsaError).message).toMatch(/init_rng 'torch' cannot initialise 'fusion\.\w+_factor'.*normal/);
  });
});
