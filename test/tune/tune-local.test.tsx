// mmsa tune end to end on tiny trials in worker processes: trials are run directories that never read test, the
// search resumes after an interruption with finished trials reused, best.yaml is complete and tested once; the TUI
// drawn from the events of that real search (every running trial, progress, the best, the closing lines).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { EventEmitter } from 'node:events';
import { render } from 'ink-testing-library';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { compileFile } from '../../src/compiler/compile.js';
import type { TuneEvent } from '../../src/tune/search.js';
import { tuneCommand } from '../../src/cli/tune-commands.js';
import { readTrials } from '../../src/tune/search.js';
import { initialTuneState, reduceTune } from '../../src/tune/tune-state.js';
import { TuneView } from '../../src/tune/tui/TuneView.js';
import { createTuneTui } from '../../src/tune/tui/tune-tui.js';
import { stripAnsi } from '../report/helpers.js';

const SPEC = resolve(import.meta.dirname, '../fixtures/tune/tiny_tune.yaml');
const dir = mkdtempSync(join(tmpdir(), 'mmsa-tune-'));
/** The events of the resumed session (two worker processes), for the TUI tests below. */
let recorded: TuneEvent[] = [];
/** Its search directory, for the report test. */
let recordedDir = '';
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
    recorded = events2;
    recordedDir = tuneDir;
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

  it('TUI: every running trial with its seeds, the count including resumed trials, the best, and the closing lines', () => {
    expect(recorded.length, 'needs the events of the end-to-end test above').toBeGreaterThan(0);
    const stateAt = (n: number) => recorded.slice(0, n).reduce(reduceTune, initialTuneState());
    // A moment with two trials in flight, one of them training (on a busy machine the other may still be loading).
    const both = recorded.findIndex((_, i) => {
      const s = stateAt(i + 1);
      return s.running.size === 2 && [...s.running.values()].some((r) => [...r.seeds.values()].some((x) => x.step > 0));
    });
    expect(both).toBeGreaterThan(0);
    const mid = stateAt(both + 1);
    const f = render(<TuneView state={mid} width={100} color={false} now={recorded[both]!.t} />).lastFrame()!;
    expect(f).toMatch(/^tune tiny_tune: grid, [1-3]\/4 trials done, 2 running \(2 at a time\)$/m);
    expect(f).toMatch(/^objective: minimise valid MAE/m);
    const trialLines = f.split('\n').filter((l) => /^trial \d \(\d\d:\d\d\): fusion\.rank=[23] subnets\.lr=0\.00[13]$/.test(l));
    expect(trialLines).toHaveLength(2);
    expect(f.match(/^ {2}seed 1111 epoch [12]\/2 \[[#-]{20}\] valid MAE (-|\d\.\d+)$/gm)!.length).toBeGreaterThanOrEqual(1);

    const end = stateAt(recorded.length);
    const g = render(<TuneView state={end} width={100} color={false} now={recorded.at(-1)!.t} />).lastFrame()!;
    expect(g).toMatch(/^tune tiny_tune: grid, 4\/4 trials done, 0 running/m);
    expect(g).toMatch(/best: trial \d = 0\.\d+/);
    expect(g).toMatch(/^finished:$/m);
    expect(g).not.toMatch(/^trial \d \(/m);
    // A narrow terminal cuts the settings, never wraps them.
    const narrow = render(<TuneView state={mid} width={30} color={false} now={recorded[both]!.t} />).lastFrame()!;
    for (const l of narrow.split('\n').filter((x) => x.startsWith('trial '))) expect(l.length).toBeLessThanOrEqual(29);
    expect(narrow).toMatch(/~$/m);

    // The live reporter on a terminal: draws, then leaves the plain closing lines (with the objective's name).
    const out = Object.assign(new EventEmitter(), { isTTY: true, columns: 100, rows: 30, written: '', write(s: string) { out.written += s; return true; } });
    const tui = createTuneTui({ stdout: out as unknown as NodeJS.WriteStream, color: false, throttleMs: 0 });
    for (const e of recorded) tui.onEvent(e);
    tui.close?.();
    const screen = stripAnsi(out.written);
    expect(screen).toMatch(/2 running \(2 at a time\)/);
    expect(screen).toMatch(/search done: 4 trials\nbest: trial \d, valid MAE 0\.\d+: fusion\.rank=/);
    expect(screen).toMatch(/test \(once, 1 seed\(s\)\): .*MAE/);
  });

  it('mmsa report of the search: trials table, best and its test, objective per trial and per parameter (HTML, PNG)', async () => {
    expect(recordedDir, 'needs the search of the end-to-end test above').not.toBe('');
    const r = io();
    expect(await main(['report', recordedDir], r.io), r.err.join('')).toBe(0);
    expect(r.err.join('')).toMatch(/report\.html \(1 search\)/);
    const html = readFileSync(join(recordedDir, 'report.html'), 'utf8');
    expect(html).toMatch(/<h2>Search tiny_tune: 4 of 4 trials finished \(completed\)<\/h2>/);
    expect(html).toMatch(/<h3>Best: trial \d, valid MAE 0\.\d{4}<\/h3>/);
    expect(html).toMatch(/<h3>Test of best\.yaml \(once, 1 seed\): mean \+- std<\/h3>/);
    // Objective per trial: 4 trial points; against each parameter: one panel per searched path.
    expect(html).toMatch(/<figure class="plot-tune-trials"><svg/);
    expect(html).toMatch(/<figure class="plot-tune-params"><svg/);
    const params = html.slice(html.indexOf('plot-tune-params'));
    expect(params).toContain('fusion.rank');
    expect(params).toContain('train.optimizer.groups[subnets].lr');
    const rows = html.slice(html.indexOf('class="tune-trials"')).split('</table>')[0]!.match(/<tr>/g)!;
    expect(rows).toHaveLength(5);
    const png = io();
    expect(await main(['report', recordedDir, '--format', 'png', '--plot', 'params', '-o', join(dir, 'params.png')], png.io), png.err.join('')).toBe(0);
    expect(readFileSync(join(dir, 'params.png')).subarray(1, 4).toString()).toBe('PNG');
    const bad = io();
    expect(await main(['report', recordedDir, '--format', 'png', '--plot', 'drift'], bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/--plot drift is a plot of a run; a search has: trials, params/);
  });

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
