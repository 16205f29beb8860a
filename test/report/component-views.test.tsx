// Component views reach the reporters only through the generated view list: a view's plots are `--plot` choices,
// and a run shows them (HTML report, PNG, the TUI line) only when it has the component. The recorded Self-MM run has
// a ULGM task; the same run with that task taken out of its spec.lock.json must show none of ULGM's views although
// its events still hold the drift and histograms.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { PLOT_CHOICES } from '../../src/cli/options.js';
import { VIEWS } from '../../src/components/views.generated.js';
import { renderHtmlReport } from '../../src/report/html-report.js';
import { loadRun, type RunData } from '../../src/report/run-data.js';
import { initialTuiState, reduceTui } from '../../src/report/tui/state.js';
import { TrainView } from '../../src/report/tui/TrainView.js';
import { componentsOfRun, runPlotsOf, VIEW_PLOTS } from '../../src/report/views.js';
import type { RunEvent } from '../../src/runtime/events.js';
import { captureIo } from '../cli/io.js';
import { copyRun, recordedEvents, tmp } from './helpers.js';

/** A copy of the recorded run whose spec has no ULGM task (its events are left as they were). */
function runWithoutUlgm(): string {
  const d = copyRun(tmp());
  const lockPath = join(d, 'spec.lock.json');
  const lock = JSON.parse(readFileSync(lockPath, 'utf8')) as { spec: { tasks: Record<string, unknown> } };
  delete lock.spec.tasks['ulgm'];
  writeFileSync(lockPath, JSON.stringify(lock));
  return d;
}

async function cli(args: string[]): Promise<{ code: number; err: string }> {
  const io = captureIo(tmp());
  const code = await main(args, io);
  return { code, err: io.stderr() };
}

describe('component views', () => {
  const ulgmPlots = VIEW_PLOTS.filter((p) => p.component === 'task/ulgm').map((p) => p.plot.name);

  it('every plot of every view is a --plot choice, and the views come from the component folders', () => {
    expect(Object.keys(VIEWS)).toContain('task/ulgm');
    expect(ulgmPlots).toEqual(['drift', 'labels']);
    for (const p of VIEW_PLOTS) expect(PLOT_CHOICES).toContain(p.plot.name);
    expect(new Set(PLOT_CHOICES).size).toBe(PLOT_CHOICES.length);
  });

  it("a run with the task has its view's plots; the same run without it has none of them", async () => {
    const withUlgm = loadRun(copyRun(tmp()));
    expect(componentsOfRun(withUlgm)).toEqual(new Set(['encoder/precomputed', 'encoder/lstm', 'fusion/concat', 'head/regression', 'task/l1', 'task/ulgm']));
    expect(runPlotsOf(withUlgm)).toEqual(['loss', 'metrics', 'drift', 'labels', 'scatter', 'confusion', 'robustness']);
    const html = await renderHtmlReport([withUlgm]);
    for (const name of ulgmPlots) expect(html).toContain(`class="plot-${name}"`);
    expect(html).toContain('<h3>ULGM: generated unimodal labels next to the multimodal labels</h3>');

    const without = loadRun(runWithoutUlgm());
    expect(componentsOfRun(without).has('task/ulgm')).toBe(false);
    expect(runPlotsOf(without)).toEqual(['loss', 'metrics', 'scatter', 'confusion', 'robustness']);
    const html2 = await renderHtmlReport([without]);
    for (const name of ulgmPlots) expect(html2).not.toContain(`class="plot-${name}"`);
    expect(html2).not.toContain('ULGM');
    expect(html2).toContain('class="plot-loss"');
  });

  it('`mmsa report --plot drift` of a run without the task says so and lists the plots the run has', async () => {
    const d = runWithoutUlgm();
    const r = await cli(['report', d, '--format', 'png', '--plot', 'drift', '-o', join(d, 'x.png')]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/MSA6722.*cannot draw plot 'drift' of .*: it has no ulgm task/);
    expect(r.err).toMatch(/plots of this run: loss, metrics, scatter, confusion, robustness/);
    const ok = await cli(['report', copyRun(tmp()), '--format', 'png', '--plot', 'drift', '-o', join(d, 'drift.png')]);
    expect(ok.code).toBe(0);
    expect(readFileSync(join(d, 'drift.png')).subarray(1, 4).toString()).toBe('PNG');
  });

  it('a run directory without a lock file: the task types task.update names decide', () => {
    const update = (type?: string): RunEvent => ({ v: 1, t: 0, runId: 'r', kind: 'task.update', epoch: 1, task: 'self', ...(type ? { type } : {}), data: { drift: { text: 0.1 } } });
    const bare = (events: RunEvent[]): RunData => ({ dir: 'd', events, epochs: [], badLines: 0 });
    expect(runPlotsOf(bare([update('ulgm')]))).toContain('drift');
    expect(runPlotsOf(bare([update()]))).not.toContain('drift');
  });
});

describe("the TUI draws a task's line through its type's view", () => {
  const frameOf = (events: RunEvent[]) => {
    const s = initialTuiState();
    for (const e of events) reduceTui(s, e);
    return render(<TrainView state={s} width={100} color={false} />).lastFrame()!;
  };
  const events = recordedEvents();
  const firstUpdate = events.findIndex((e) => e.kind === 'task.update');
  const upTo = events.slice(0, firstUpdate + 1);
  const typed = (type: string) => upTo.map((e) => (e.kind === 'task.update' ? { ...e, type } : e));

  it('the ULGM line for a task of type ulgm, none for a type without a view, the drawing view for events without a type', () => {
    expect(frameOf(typed('ulgm'))).toMatch(/ULGM drift \|y_m - y_M\|\s+text 0\.000/);
    expect(frameOf(typed('l1'))).not.toMatch(/drift/);
    // Events recorded before task.update named its type (the committed demo run).
    expect(frameOf(upTo)).toMatch(/ULGM drift \|y_m - y_M\|\s+text 0\.000/);
  });
});
