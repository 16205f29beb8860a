import { describe, expect, it } from 'vitest';
import { chooseReporter, colorEnabled, createReporter, inCi, isInteractive } from '../../src/report/choose-reporter.js';
import { createNdjsonReporter } from '../../src/report/ndjson-reporter.js';
import { createPlainReporter } from '../../src/report/plain-reporter.js';
import { parseEvents } from '../../src/report/run-data.js';
import { baseline, recordedEvents, summaryEvent } from './helpers.js';

describe('reporters fed the recorded demo event stream', () => {
  it('plain: one line per epoch, the seed result and the summary, no escape codes (baseline)', () => {
    let out = '';
    const r = createPlainReporter({ out: (s) => (out += s), err: (s) => (out += s) });
    for (const e of [...recordedEvents(), summaryEvent()]) r.onEvent(e);
    expect(out).not.toMatch(/\x1b/);
    expect(out.split('\n').filter((l) => l.startsWith('epoch'))).toHaveLength(3);
    expect(out).toBe(baseline('plain.txt', out));
  });

  it('ndjson: the event stream itself, line for line (baseline)', () => {
    let out = '';
    const r = createNdjsonReporter({ out: (s) => (out += s) });
    const events = recordedEvents();
    for (const e of events) r.onEvent(e);
    expect(parseEvents(out).events).toEqual(events);
    expect(out).toBe(baseline('ndjson.txt', out));
  });
});

describe('choosing a reporter', () => {
  const tty = { isTTY: true, env: {} };
  it('TUI only on an interactive terminal', () => {
    expect(chooseReporter(undefined, tty)).toBe('tui');
    expect(chooseReporter('auto', tty)).toBe('tui');
    expect(chooseReporter('auto', { isTTY: false, env: {} })).toBe('plain');
    expect(chooseReporter('auto', { isTTY: true, env: { CI: 'true' } })).toBe('plain');
    expect(chooseReporter('auto', { isTTY: true, env: { CI: 'false' } })).toBe('tui');
    expect(chooseReporter('auto', { isTTY: true, env: { TERM: 'dumb' } })).toBe('plain');
    expect(chooseReporter('tui', { isTTY: false, env: {} })).toBe('plain');
    expect(chooseReporter('plain', tty)).toBe('plain');
    expect(chooseReporter('ndjson', tty)).toBe('ndjson');
  });
  it('CI detection and NO_COLOR', () => {
    expect(inCi({ CONTINUOUS_INTEGRATION: '1' })).toBe(true);
    expect(inCi({ CI: '0' })).toBe(false);
    expect(isInteractive({ isTTY: true, env: { TERM: 'xterm-256color' } })).toBe(true);
    expect(colorEnabled({ isTTY: true, env: {} })).toBe(true);
    expect(colorEnabled({ isTTY: true, env: { NO_COLOR: '1' } })).toBe(false);
    expect(colorEnabled({ isTTY: true, env: { NO_COLOR: '' } })).toBe(true);
    expect(colorEnabled({ isTTY: false, env: {} })).toBe(false);
  });
  it('without a terminal stream the TUI request falls back to plain lines', async () => {
    let out = '';
    const r = await createReporter('tui', { out: (s) => (out += s), err: () => undefined }, { isTTY: true, env: {} });
    for (const e of recordedEvents()) r.onEvent(e);
    expect(out).toMatch(/^epoch +1\/3/m);
  });
});
