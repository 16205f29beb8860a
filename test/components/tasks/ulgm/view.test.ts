// ULGM's report views on the recorded Self-MM demo run: the drift and label-histogram plots read its task.update
// and epoch.end data, the TUI line draws the drift with bars only where they fit.
import { describe, expect, it } from 'vitest';
import view, { driftSpec, driftText, labelHistograms, labelSpecs } from '../../../../src/components/tasks/ulgm/view.js';
import { loadRun } from '../../../../src/report/run-data.js';
import { FIXTURE_RUN } from '../../../report/helpers.js';

const run = loadRun(FIXTURE_RUN);
const plot = (name: string) => view.plots!.find((p) => p.name === name)!;

describe('ULGM views', () => {
  it('draws the drift of every modality per epoch', () => {
    const spec = driftSpec(run) as unknown as { title: string; data: { values: { epoch: number; modality: string }[] } };
    expect(spec.title).toMatch(/ULGM label drift, mean \|y_m - y_M\|$/);
    expect(spec.data.values.map((v) => `${v.epoch}:${v.modality}`)).toEqual(['1:text', '1:audio', '1:vision', '2:text', '2:audio', '2:vision', '3:text', '3:audio', '3:vision']);
    expect(plot('drift').specs(run)).toHaveLength(1);
    // A run whose epochs carry no drift has no drift plot, and says why.
    const bare = { ...run, epochs: run.epochs.map((e) => ({ ...e, taskExtras: {} })) };
    expect(plot('drift').specs(bare)).toEqual([]);
    expect(plot('drift').missing(bare)).toMatch(/reported no label drift/);
  });

  it('draws the label histograms of one epoch, or of up to four spread over the run, in their own report section', () => {
    expect(labelHistograms(run).map((h) => [h.epoch, h.task])).toEqual([[1, 'ulgm'], [2, 'ulgm'], [3, 'ulgm']]);
    expect(labelSpecs(run)).toHaveLength(3);
    expect(plot('labels').specs(run, 2)).toHaveLength(1);
    expect(plot('labels').specs(run, 9)).toEqual([]);
    expect(plot('labels').missing(run, 9)).toBe('it has no ULGM label histogram for epoch 9');
    expect(plot('labels').epoch!.last(run)).toBe(3);
    expect(plot('labels').section).toBe('ULGM: generated unimodal labels next to the multimodal labels');
    expect(plot('drift').section).toBeUndefined();
  });

  it('TUI line: drift bars, the values alone when too narrow, nothing without drift', () => {
    expect(view.tuiLine!({ drift: { text: 0.5, audio: 1 } }, Infinity)).toMatch(/text 0\.500 \[####----\]\s+audio 1\.000 \[########\]/);
    // Too narrow for the bars: the values stay on one line.
    expect(view.tuiLine!({ drift: { text: 0.5, audio: 1, vision: 0.25 } }, 80)).toBe('ULGM drift |y_m - y_M|  text 0.500  audio 1.000  vision 0.250');
    expect(driftText({ text: Number.NaN })).toBe('ULGM drift |y_m - y_M|  text nan [--------]');
    expect(view.tuiLine!({ drift: {} }, 100)).toBeNull();
    expect(view.tuiLine!({ histogram: { lo: -1, hi: 1, counts: {} } }, 100)).toBeNull();
  });
});
