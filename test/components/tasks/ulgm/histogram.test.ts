import { describe, expect, it } from 'vitest';
import { labelHistogram, UlgmState } from '../../../../src/components/tasks/ulgm/state.js';


describe('ULGM label histograms (task.update data for `mmsa report`)', () => {
  it('bins every bank over a symmetric range set by the multimodal labels', () => {
    const s = new UlgmState({ n: 4, dims: { fusion: 2, text: 2 }, H: 3, excludeZero: true, modalities: ['text'] });
    s.initLabels(Int32Array.from([0, 1, 2, 3]), Float32Array.from([-3, -1, 0.5, 2]));
    s.labels('text').set([3, 3, 3, -3]);
    const h = labelHistogram(s, 6);
    expect([h.lo, h.hi]).toEqual([-3, 3]);
    expect(h.counts['fusion']).toEqual([1, 0, 1, 1, 0, 1]);
    // 3 is the top edge: clamped into the last bin
    expect(h.counts['text']).toEqual([1, 0, 0, 0, 0, 3]);
  });
});
