import { EventEmitter } from 'node:events';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { DriftLine } from '../../src/report/tui/DriftLine.js';
import { bar } from '../../src/report/tui/ProgressBar.js';
import { fmtDuration, initialTuiState, keyMetrics, reduceTui } from '../../src/report/tui/state.js';
import { TrainView } from '../../src/report/tui/TrainView.js';
import { createTuiReporter } from '../../src/report/tui/tui-reporter.js';
import type { RunEvent } from '../../src/runtime/events.js';
import { recordedEvents, stripAnsi, summaryEvent } from './helpers.js';

/** State after the first `n` recorded events. */
function stateAt(events: RunEvent[], n: number) {
  const s = initialTuiState();
  for (const e of events.slice(0, n)) reduceTui(s, e);
  return s;
}

describe('TUI state', () => {
  const events = recordedEvents();
  it('tracks progress, losses, epochs, drift and results', () => {
    const mid = events.findIndex((e) => e.kind === 'step.end' && e.epoch === 2 && e.step === 8);
    const s = stateAt(events, mid + 1);
    expect(s).toMatchObject({ pipeline: 'demo_self_mm', dataset: 'synthetic-mosi', backend: 'wasm', seed: 1111, epoch: 2, step: 8, steps: 16, epochsMax: 3 });
    expect(Object.keys(s.taskLosses)).toEqual(['main', 'ulgm']);
    expect(s.epochs).toHaveLength(1);
    expect(s.eta).toBeGreaterThan(0);
    const end = stateAt([...events, summaryEvent()], events.length + 1);
    expect(end.epochs.map((r) => r.improved)).toEqual([true, true, true]);
    expect(Object.keys(end.drift ?? {})).toEqual(['text', 'audio', 'vision']);
    expect(end.seedResults[0]).toMatchObject({ seed: 1111, bestEpoch: 3, epochs: 3 });
    expect(end.done).toBe(true);
  });
  it('helpers', () => {
    expect(bar(5, 10, 10)).toBe('#####-----');
    expect(bar(0, 0, 4)).toBe('----');
    expect(fmtDuration(65)).toBe('01:05');
    expect(fmtDuration(3725)).toBe('1:02:05');
    expect(fmtDuration(null)).toBe('--:--');
    expect(keyMetrics(['Loss', 'Corr', 'Has0_acc_2', 'Zed'], 2)).toEqual(['Has0_acc_2', 'Corr']);
  });
});

describe('TUI components (ink-testing-library)', () => {
  const events = recordedEvents();
  it('mid-epoch frame: header, progress bar, batches, throughput, ETA and per-task losses', () => {
    const mid = events.findIndex((e) => e.kind === 'step.end' && e.epoch === 2 && e.step === 8);
    const { lastFrame } = render(<TrainView state={stateAt(events, mid + 1)} width={100} color={false} />);
    const f = lastFrame()!;
    expect(f).toMatch(/demo_self_mm\s+synthetic-mosi\s+backend wasm\s+seed 1111 \(1 of 1\)/);
    expect(f).toMatch(/epoch 2\/3 \[#+-+\] 8\/16 batches \d+ ex\/s ETA \d\d:\d\d/);
    expect(f).toMatch(/loss \d\.\d{4}\s+main \d\.\d{4}\s+ulgm \d\.\d{4}/);
    // finished epoch 1 is in the static table, with the best marker and the early-stop countdown
    expect(f).toMatch(/epoch\s+train\s+valid\s+Has0_acc_2/);
    expect(f).toMatch(/1\/3\s+0\.8750\s+0\.4612.*\*\s+8/);
    expect(f).toMatch(/ULGM drift \|y_m - y_M\|\s+text 0\.000/);
  });

  it('final frame: results table, no progress bar', () => {
    const s = stateAt([...events, summaryEvent()], events.length + 1);
    const { lastFrame } = render(<TrainView state={s} width={100} color={false} />);
    const f = lastFrame()!;
    expect(f).not.toMatch(/batches/);
    expect(f).toMatch(/seed 1111: best epoch 3 of 3; test Has0_acc_2 0\.8906/);
    expect(f).toMatch(/demo_self_mm: test over 1 seed \(1111\), x100, mean \+- std/);
    expect(f).toMatch(/MAE\s+36\.27 \+- 0\.00/);
    expect(f.match(/^\s+\d\/3 /gm)).toHaveLength(3);
  });

  it('narrow terminals show fewer metric columns; errors are shown', () => {
    const s = stateAt(events, events.length);
    s.errors.push({ code: 'MSA6001', message: 'boom', hint: 'fix it' });
    const narrow = render(<TrainView state={s} width={60} color={false} />).lastFrame()!;
    const wide = render(<TrainView state={s} width={100} color={false} />).lastFrame()!;
    const cols = (f: string) => f.split('\n').find((l) => l.includes('epoch') && l.includes('train'))!.trim().split(/\s+/).length;
    expect(cols(narrow)).toBeLessThan(cols(wide));
    expect(narrow).toMatch(/error MSA6001: boom\n\s*help: fix it/);
  });

  it('drift bars', () => {
    expect(render(<DriftLine drift={{ text: 0.5, audio: 1 }} />).lastFrame()).toMatch(/text 0\.500 \[####----\]\s+audio 1\.000 \[########\]/);
  });
});

/** A stream that looks like a TTY to Ink and records what it is sent. */
class FakeTty extends EventEmitter {
  isTTY = true;
  columns = 120;
  rows = 40;
  written = '';
  write(s: string): boolean {
    this.written += s;
    return true;
  }
}

describe('TUI reporter', () => {
  it('throttles renders of steps but draws the first frame, epoch boundaries and the end at once, and leaves the final screen', () => {
    const out = new FakeTty();
    let clock = 0;
    const r = createTuiReporter({ stdout: out as unknown as NodeJS.WriteStream, color: false, throttleMs: 100, now: () => clock });
    const events = [...recordedEvents(), summaryEvent()];
    // all events within the same instant: only milestones may render
    for (const e of events) r.onEvent(e);
    const milestones = events.filter((e) => ['run.start', 'epoch.start', 'epoch.end', 'run.end', 'run.error'].includes(e.kind)).length;
    const steps = events.filter((e) => e.kind === 'step.end').length;
    expect(steps).toBeGreaterThan(40);
    expect(r.renders).toBeLessThanOrEqual(milestones + 1);
    expect(r.renders).toBeLessThan(steps / 4);
    r.close();
    const screen = stripAnsi(out.written);
    expect(screen).toMatch(/demo_self_mm: test over 1 seed/);
    expect(screen).toMatch(/MAE\s+36\.27 \+- 0\.00/);
  });

  it('renders steps again once the throttle interval has passed', () => {
    const out = new FakeTty();
    let clock = 0;
    const r = createTuiReporter({ stdout: out as unknown as NodeJS.WriteStream, color: false, throttleMs: 100, now: () => clock });
    const steps = recordedEvents().filter((e) => e.kind === 'step.end');
    r.onEvent(recordedEvents()[0]!);
    const before = r.renders;
    for (const e of steps.slice(0, 10)) {
      clock += 50;
      r.onEvent(e);
    }
    expect(r.renders - before).toBe(5);
    r.close();
  });

  it('survives a closed pipe (EPIPE)', () => {
    const out = new FakeTty();
    const r = createTuiReporter({ stdout: out as unknown as NodeJS.WriteStream, color: false });
    r.onEvent(recordedEvents()[0]!);
    out.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
    const n = r.renders;
    for (const e of recordedEvents()) r.onEvent(e);
    expect(r.renders).toBe(n);
    r.close();
  });
});
