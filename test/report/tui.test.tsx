import { EventEmitter } from 'node:events';
import { Box } from 'ink';
import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import { bar } from '../../src/report/tui/ProgressBar.js';
import { fmtBytes, fmtDuration, initialTuiState, keyMetrics, reduceTui, runEta, stopIn, type TuiState } from '../../src/report/tui/state.js';
import { TrainView } from '../../src/report/tui/TrainView.js';
import { createTuiReporter } from '../../src/report/tui/tui-reporter.js';
import type { EpochEndEvent, RunEvent } from '../../src/runtime/events.js';
import { recordedEvents, stripAnsi, summaryEvent } from './helpers.js';

/** State after the first `n` recorded events. */
function stateAt(events: RunEvent[], n: number) {
  const s = initialTuiState();
  for (const e of events.slice(0, n)) reduceTui(s, e);
  return s;
}

/** The frame at a terminal width (ink-testing-library's stdout is 100 columns; the box sets the real width). */
function frame(s: TuiState, width: number): string {
  return render(
    <Box width={width}>
      <TrainView state={s} width={width} color={false} />
    </Box>,
  ).lastFrame()!;
}

function stateOf(events: RunEvent[]): TuiState {
  const s = initialTuiState();
  for (const e of events) reduceTui(s, e);
  return s;
}

/** The recorded run as a current run reports it: per-head losses in epoch.end (M for main, T/A/V share ulgm). */
function withHeadLosses(events: RunEvent[]): RunEvent[] {
  return events.map((e) => {
    if (e.kind !== 'epoch.end') return e;
    const u = e.taskLosses['ulgm']! / 3;
    return { ...e, headLosses: { M: e.taskLosses['main']!, T: u, A: u, V: u } } as EpochEndEvent;
  });
}

const longest = (f: string) => Math.max(...f.split('\n').map((l) => l.length));

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
    expect(Object.keys((end.taskData['ulgm']?.data['drift'] ?? {}) as object)).toEqual(['text', 'audio', 'vision']);
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
    expect(stopIn({ epoch: 1, patienceLeft: 8 }, 3)).toBe(2);
    expect(stopIn({ epoch: 1, patienceLeft: 8 }, null)).toBe(8);
    expect(stopIn({ epoch: 5, patienceLeft: 2 }, 30)).toBe(2);
  });

  it('run ETA: the epochs left of this seed and of the seeds after it; a lower bound without an epoch cap', () => {
    const s = initialTuiState();
    Object.assign(s, { seed: 1, seedIndex: 0, seedCount: 3, epochsMax: 10, step: 0, steps: 10, epoch: 2 });
    const row = { seed: 1, trainLoss: 1, validLoss: 1, metrics: {}, improved: true, bestEpoch: 2, taskLosses: {}, headLosses: {}, starts: [] };
    s.epochs.push({ ...row, epoch: 1, patienceLeft: 8, seconds: 2 }, { ...row, epoch: 2, patienceLeft: 8, seconds: 4 });
    // 3 s per epoch: 8 left here (min of the cap's 8 and the patience's 8), 10 for each of 2 more seeds.
    expect(runEta(s)).toEqual({ seconds: 3 * (8 + 20), atLeast: false });
    s.epochsMax = null;
    // No cap: this seed runs at least its 8 patience epochs; later seeds as long as this one would (2 + 8).
    expect(runEta(s)).toEqual({ seconds: 3 * (8 + 2 * 10), atLeast: true });
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
    // finished epoch 1 is in the static table, with the best marker and the epochs until the seed stops (the cap of
    // 3 epochs comes before the early-stop patience of 8)
    expect(f).toMatch(/epoch\s+train\s+valid\s+loss main\s+loss ulgm\s+Has0_acc_2/);
    expect(f).toMatch(/1\/3\s+0\.8750\s+0\.4612.*\*\s+2$/m);
    expect(f).toMatch(/ULGM drift \|y_m - y_M\|\s+text 0\.000/);
  });

  it('final frame: results table, no progress bar', () => {
    const s = stateAt([...events, summaryEvent()], events.length + 1);
    const { lastFrame } = render(<TrainView state={s} width={100} color={false} />);
    const f = lastFrame()!;
    expect(f).not.toMatch(/batches/);
    expect(f).toMatch(/seed 1111: best epoch 3 of 3\n  test Has0_acc_2 0\.8906/);
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

  it('80 columns: the key metrics (acc-2, MAE, Corr) stay, per-task losses fit, the hidden columns are named', () => {
    const s = stateOf([...events, summaryEvent()]);
    const f = frame(s, 80);
    expect(longest(f)).toBeLessThanOrEqual(80);
    const header = f.split('\n').find((l) => l.startsWith('epoch'))!;
    expect(header.trim().split(/\s+/)).toEqual(['epoch', 'train', 'valid', 'loss', 'main', 'loss', 'ulgm', 'Has0_acc_2', 'MAE', 'Corr', 'best', 'stop', 'in']);
    expect(f).toContain('hidden at 80 columns: Non0_acc_2, Non0_F1_score, Mult_acc_7 and 2 more');
    // Epoch 3 is where ULGM's loss stops being 0 (the jump in the train loss): marked in its cell and by a note.
    expect(f).toMatch(/^\s+3\/3\s+1\.6707\s+0\.3522\s+0\.3590\s+1\.3117\+\s+0\.9219\s+0\.3522\s+0\.9695\s+\*\s+0$/m);
    expect(f).toContain('  + ulgm contributes from epoch 3: its loss was 0 before');
    // Under --max-epochs 3 the seed stops at epoch 3 whatever the patience: 2, 1, 0 epochs left.
    expect(f.match(/\*\s+(\d)$/gm)!.map((m) => m.slice(-1))).toEqual(['2', '1', '0']);
  });

  it('120 columns: each head\'s loss (M, T, A, V) and more metrics; at 80 the heads give way to the tasks, named', () => {
    const s = stateOf([...withHeadLosses(events), summaryEvent()]);
    const wide = frame(s, 120);
    expect(longest(wide)).toBeLessThanOrEqual(120);
    const header = wide.split('\n').find((l) => l.startsWith('epoch'))!;
    expect(header.trim().split(/\s+/).slice(0, 11)).toEqual(['epoch', 'train', 'valid', 'M', 'T', 'A', 'V', 'Has0_acc_2', 'MAE', 'Corr', 'Non0_acc_2']);
    expect(wide).toMatch(/hidden at 120 columns: Mult_acc_7, Has0_F1_score, Mult_acc_5 \(a wider terminal shows them\)/);
    expect(wide).toMatch(/^\s+3\/3\s+1\.6707\s+0\.3522\s+0\.3590\s+0\.4372\+\s+0\.4372\+\s+0\.4372\+/m);
    expect(wide).toContain('  + ulgm (T, A, V) contributes from epoch 3: its loss was 0 before');
    const narrow = frame(s, 80);
    expect(longest(narrow)).toBeLessThanOrEqual(80);
    expect(narrow).toContain('hidden at 80 columns: per-head losses (M, T, A, V), Non0_acc_2 and 4 more');
    expect(narrow).toMatch(/epoch\s+train\s+valid\s+loss main\s+loss ulgm\s+Has0_acc_2\s+MAE\s+Corr/);
  });

  it('no "loss nan" before the first step; elapsed time and the run\'s ETA once epochs have been timed', () => {
    const firstStep = events.findIndex((e) => e.kind === 'step.end');
    const before = frame(stateOf(events.slice(0, firstStep)), 80);
    expect(before).toMatch(/epoch 1\/3 \[-+\] 0\/16 batches/);
    expect(before).not.toMatch(/nan/);
    expect(before).toMatch(/^elapsed \d\d:\d\d$/m);
    const mid = events.findIndex((e) => e.kind === 'step.end' && e.epoch === 2 && e.step === 8);
    const f = frame(stateOf(events.slice(0, mid + 1)), 80);
    expect(f).toMatch(/^elapsed 00:0\d  run ETA ~00:0\d$/m);
  });

  it('while the data loads: the header and a loading line with bytes and a bar, not a blank screen', () => {
    const t = 1_000;
    const s = stateOf([
      { v: 1, t, runId: 'h-summary', kind: 'pipeline.start', pipeline: 'lmf_mosi', dataset: { name: 'mosi', source: 'manifest' }, backend: 'wasm', seeds: [1111, 1112], epochsMax: null, patience: 8 },
      { v: 1, t: t + 10, runId: 'h-1111', kind: 'data.load', file: '/data/MMSA-Standard/MOSI/Processed/unaligned_50.pkl', bytes: 0, totalBytes: 0, done: false, seconds: 0 },
      { v: 1, t: t + 4000, runId: 'h-1111', kind: 'data.load', file: '/data/MMSA-Standard/MOSI/Processed/unaligned_50.pkl', bytes: 150 * 2 ** 20, totalBytes: 400 * 2 ** 20, done: false, seconds: 4 },
    ]);
    for (const w of [80, 120]) {
      const f = frame(s, w);
      expect(longest(f)).toBeLessThanOrEqual(w);
      expect(f).toMatch(/^lmf_mosi\s+mosi\s+backend wasm\s+seeds 1111, 1112$/m);
      expect(f).toMatch(/^loading \S*unaligned_50\.pkl \[#+-+\] 150\.0 MiB \/ 400\.0 MiB  37% 00:04$/m);
      expect(f).toMatch(/^elapsed 00:04$/m);
    }
    expect(fmtBytes(1536)).toBe('1.5 KiB');
  });

  it('a reused run: the header, each seed with its run directory, and the summary file at the end', () => {
    const result = { seed: 1111, test: { Has0_acc_2: 0.8, MAE: 0.7, Corr: 0.6, Loss: 0.7 }, validAtBest: {}, bestEpoch: 4, epochs: 12 };
    const s = stateOf([
      { v: 1, t: 0, runId: 'h-summary', kind: 'pipeline.start', pipeline: 'lmf_mosi', dataset: { name: 'mosi', source: 'manifest' }, backend: 'wasm', seeds: [1111], epochsMax: null, patience: 8 },
      { v: 1, t: 5, runId: 'h-1111', kind: 'run.end', scope: 'seed', status: 'completed', seed: 1111, seedIndex: 0, result, epochs: 12, bestEpoch: 4, reused: true, runDir: '/w/runs/lmf_mosi/h-1111', seconds: 0 },
      { ...(summaryEvent() as object), pipeline: 'lmf_mosi', seeds: [1111], summaryPath: '/w/runs/lmf_mosi/h-summary.json' } as RunEvent,
    ]);
    const f = frame(s, 80);
    expect(f).toMatch(/^lmf_mosi\s+mosi\s+backend wasm\s+seed 1111$/m);
    expect(longest(f)).toBeLessThanOrEqual(80);
    expect(f).toContain('seed 1111 (reused, --force retrains): best epoch 4 of 12\n  test Has0_acc_2 0.8000  MAE 0.7000  Corr 0.6000');
    expect(f).toContain('\n  /w/runs/lmf_mosi/h-1111\n');
    expect(f).toMatch(/^summary: \/w\/runs\/lmf_mosi\/h-summary\.json$/m);
  });

  it('a seed whose earlier run died and is trained again: the note stays on screen while it trains and at the end', () => {
    const why = 'the previous run in /w/runs/lmf_mosi/h-1111 died (its process (pid 4242 on vm) is gone; last heartbeat 2 min ago); training it again from the start';
    const events = recordedEvents().map((e) => (e.kind === 'run.start' ? ({ ...e, recovered: why } as RunEvent) : e));
    const firstStep = events.findIndex((e) => e.kind === 'step.end');
    const mid = frame(stateAt(events, firstStep + 1), 120);
    expect(mid).toContain(`note: ${why.slice(0, 60)}`);
    expect(mid.replace(/\n/g, ' ').replace(/\s+/g, ' ')).toContain(`note: ${why}`);
    const end = frame(stateOf([...events, summaryEvent()]), 120);
    expect(end.replace(/\s+/g, ' ')).toContain(`note: ${why}`);
    // A plain first run has no note.
    expect(frame(stateOf(recordedEvents()), 120)).not.toContain('note:');
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
