// mmsa tune end to end on tiny trials in worker processes: trials are run directories that never read test, the
// search resumes after an interruption with finished trials reused, best.yaml is complete and tested once.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import type { TuneEvent } from '../../src/tune/search.js';
import { tuneCommand } from '../../src/cli/tune-commands.js';
import { readTrials } from '../../src/tune/search.js';

const SPEC = resolve(import.meta.dirname, '../fixtures/tune/tiny_tune.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-tune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s), cwd: dir, env: { ...process.env, MMSA_NATIVE: process.env['MMSA_NATIVE'] ?? 'auto' }, isTTY: false } };
}

describe('mmsa tune (local worker processes)', () => {
  it('stops on interruption with finished trials kept, resumes reusing them, tests best.yaml once', async () => {
    const a = io();
    const ac = new AbortController();
    const events: TuneEvent[] = [];
    const code1 = await tuneCommand(SPEC, { jobs: 1, reporter: 'plain', out: 'runs', signal: ac.signal, onEvent: (e) => {
      events.push(e);
      if (e.kind === 'trial.end') ac.abort();
    } }, a.io);
    expect(code1, a.err.join('')).toBe(130);
    const tuneDir = (events.find((e) => e.kind === 'tune.start') as Extract<TuneEvent, { kind: 'tune.start' }>).tuneDir;
    const kept = readTrials(tuneDir).filter((t) => t.status === 'completed');
    expect(kept.length).toBeGreaterThanOrEqual(1);

    const b = io();
    const events2: TuneEvent[] = [];
    const code2 = await tuneCommand(SPEC, { jobs: 2, reporter: 'plain', out: 'runs', onEvent: (e) => events2.push(e) }, b.io);
    expect(code2, b.err.join('')).toBe(0);
    const trials = readTrials(tuneDir);
    expect(trials.map((t) => t.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    // The trial finished before the interruption was not trained again.
    expect(events2.filter((e) => e.kind === 'trial.start').map((e) => (e as { trial: number }).trial)).not.toContain(kept[0]!.trial);
    // Trials never read the test split: no test metrics, no predictions.
    for (const t of trials) {
      const run = join(dir, 'runs', t.seeds![0]!.runDir);
      expect(JSON.parse(readFileSync(join(run, 'results.json'), 'utf8')).test).toEqual({});
      expect(existsSync(join(run, 'predictions.csv'))).toBe(false);
      expect(JSON.parse(readFileSync(join(run, 'spec.lock.json'), 'utf8')).spec.eval.splits).toEqual(['valid']);
    }
    const end = events2.find((e) => e.kind === 'tune.end') as Extract<TuneEvent, { kind: 'tune.end' }>;
    const best = trials.reduce((x, y) => (y.objective! < x.objective! ? y : x));
    expect(end.best!.trial).toBe(best.trial);
    expect(Object.keys(end.test!.aggregate)).toContain('MAE');
    const bestYaml = join(tuneDir, 'best.yaml');
    const c = compileFile(bestYaml, { env: {} });
    expect(c.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    expect(c.spec!.tune).toBeUndefined();
    expect(c.spec!.fusion!['rank' as never]).toBe(best.setting['fusion.rank']);
    expect(readFileSync(join(tuneDir, 'trials.csv'), 'utf8').trim().split('\n')).toHaveLength(5);
    expect(b.out.join('')).toMatch(/valid MAE/);

    // A third run recomputes nothing: every trial and the test are reused.
    const c3 = io();
    const events3: TuneEvent[] = [];
    expect(await tuneCommand(SPEC, { jobs: 2, reporter: 'ndjson', out: 'runs', onEvent: (e) => events3.push(e) }, c3.io)).toBe(0);
    expect(events3.filter((e) => e.kind === 'trial.event')).toEqual([]);
    expect(c3.out.join('').split('\n').filter(Boolean).every((l) => JSON.parse(l).kind)).toBe(true);
  }, 300_000);

  it('refuses a spec without a tune section, and plan shows the search', async () => {
    const a = io();
    expect(await main(['tune', resolve(import.meta.dirname, '../../pipelines/demo_lmf.yaml')], a.io)).toBe(2);
    expect(a.err.join('')).toMatch(/has no tune: section/);
    const p = io();
    expect(await main(['plan', SPEC], p.io)).toBe(0);
    expect(p.out.join('')).toMatch(/tune\n  strategy: grid[\s\S]*objective: minimise MAE on valid[\s\S]*fusion.rank/);
  });

  it('the mmsa preset compiles for all 20 paper configs', () => {
    for (const m of ['tfn', 'lmf', 'lf_dnn', 'ef_lstm', 'self_mm']) {
      for (const d of ['mosi', 'mosei', 'sims', 'simsv2']) {
        const r = compileFile(resolve(import.meta.dirname, `../../pipelines/${m}_${d}.yaml`), { tunePreset: 'mmsa', until: 'check', env: {} });
        expect(r.diagnostics.filter((x) => x.severity === 'error'), `${m}_${d}`).toEqual([]);
        expect(r.spec!.tune!.budget.trials).toBe(50);
      }
    }
  });
});
