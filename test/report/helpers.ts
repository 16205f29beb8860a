// Shared fixtures for report tests: the recorded demo run (3 epochs of Self-MM on synthetic data).
import { cpSync, mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEvents } from '../../src/report/run-data.js';
import type { RunEvent } from '../../src/runtime/events.js';
import { readBaseline } from '../helpers/baseline.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FIXTURE_RUN = join(root, 'test/baselines/report/run-demo');

export function recordedEvents(): RunEvent[] {
  return parseEvents(readFileSync(join(FIXTURE_RUN, 'events.ndjson'), 'utf8')).events;
}

/** The summary event `mmsa run` adds after the seeds (not in a seed's events.ndjson). */
export function summaryEvent(): RunEvent {
  const r = JSON.parse(readFileSync(join(FIXTURE_RUN, 'results.json'), 'utf8')) as { test: Record<string, number> };
  const aggregate = Object.fromEntries(Object.entries(r.test).map(([k, v]) => [k, { mean: v, std: 0, cell: [Math.round(v * 10000) / 100, 0] as [number, number] }]));
  return { v: 1, t: 0, runId: 'x-summary', kind: 'run.end', scope: 'summary', status: 'completed', pipeline: 'demo_self_mm', seeds: [1111], results: [], aggregate };
}

export function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'mmsa-report-'));
}

/** A copy of the fixture run as runs/<pipeline>/<hash>-<seed> under a temp root. */
export function copyRun(rootDir: string, name = 'demo_self_mm', id = 'f252c80cade1-1111', patch?: (m: Record<string, unknown>) => void): string {
  const d = join(rootDir, name, id);
  mkdirSync(dirname(d), { recursive: true });
  cpSync(FIXTURE_RUN, d, { recursive: true });
  if (patch) {
    const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as Record<string, unknown>;
    patch(m);
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
  }
  return d;
}

/** The committed baseline test/baselines/report/<name> (UPDATE_BASELINES=1 rewrites it). */
export function baseline(name: string, actual: string): string {
  return readBaseline(join(root, 'test/baselines/report', name), actual);
}

export const stripAnsi = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
