// The wall-time budget belongs to the search, not to a session: a rerun continues the clock of the earlier sessions
// (budget.json) instead of starting it again; raising the budget continues the same search. Trials train for real
// (in this process, tiny); only the clock is the test's, advanced a fixed stretch per finished trial.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileFile } from '../../src/compiler/compile.js';
import { executeRunJob, localCompat } from '../../src/tune/run-job.js';
import { readSpentSeconds, readTrials, runSearch, type Runner, type TuneEvent } from '../../src/tune/search.js';
import { resolveTune } from '../../src/tune/tune-config.js';

const dir = mkdtempSync(join(tmpdir(), 'mmsa-budget-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inProcess: Runner = { slots: 1, run: (job, onEvent) => executeRunJob(job, { onEvent }), abortAll() {}, close: async () => {} };

async function search(file: string, stretchSeconds: number) {
  const compiled = compileFile(file, { env: {} });
  let offset = 0;
  const events: TuneEvent[] = [];
  const outcome = await runSearch({
    file, compiled, cfg: resolveTune(compiled.spec!)!, env: {}, outRoot: join(dir, 'runs'), runner: inProcess,
    compat: await localCompat(undefined), command: ['mmsa', 'tune', file],
    now: () => Date.now() + offset,
    onEvent: (e) => {
      events.push(e);
      if (e.kind === 'trial.end') offset += stretchSeconds * 1000;
    },
  });
  return { outcome, events };
}

describe('mmsa tune: the wall-time budget across sessions', () => {
  it('a rerun starts no trial once earlier sessions used the budget; a larger budget continues the search', async () => {
    const spec = (minutes: number) => `version: 1\nextends: ${resolve(import.meta.dirname, '../fixtures/tune/tiny_tune.yaml')}\ntrain: {max_epochs: 1}\ntune: {budget: {minutes: ${minutes}}}\n`;
    const file = join(dir, 'budget.yaml');
    writeFileSync(file, spec(3));
    // 100 s per trial (the real seconds of training come on top) against three minutes: trial 0 ends at 100 s,
    // trial 1 starts before 180 s and ends at 200 s.
    const first = await search(file, 100);
    expect(first.outcome.status).toBe('completed');
    expect(first.outcome.trials.map((t) => t.trial)).toEqual([0, 1]);
    const tuneDir = first.outcome.tuneDir;
    expect(readSpentSeconds(tuneDir)).toBeGreaterThanOrEqual(200);

    // The same budget again: its three minutes are gone, so no trial starts (a per-session clock would run two more).
    const second = await search(file, 100);
    expect(second.events.filter((e) => e.kind === 'trial.start')).toEqual([]);
    expect((second.events[0] as Extract<TuneEvent, { kind: 'tune.start' }>).spentSeconds).toBeGreaterThanOrEqual(200);
    expect(second.outcome.tuneDir).toBe(tuneDir);
    expect(readTrials(tuneDir)).toHaveLength(2);

    // 4.5 minutes: the same search (same directory) goes on where it stopped; trial 2 starts at 200 s, ends at 300 s.
    writeFileSync(file, spec(4.5));
    const third = await search(file, 100);
    expect(third.outcome.tuneDir).toBe(tuneDir);
    expect(third.events.filter((e) => e.kind === 'trial.start').map((e) => (e as { trial: number }).trial)).toEqual([2]);
    expect(readTrials(tuneDir).map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    expect(JSON.parse(readFileSync(join(tuneDir, 'budget.json'), 'utf8')).seconds).toBeGreaterThanOrEqual(300);
  }, 120_000);
});
