import { describe, it, expect } from 'vitest';
import { getComponent } from '../../../src/components/catalog.js';
import { taskHeads } from '../../../src/components/component.js';

function task(type: string) {
  const d = getComponent('task', type);
  if (!d) throw new Error(`no task ${type}`);
  return d;
}

describe('tasks', () => {
  it.each(['l1', 'mse', 'cross_entropy'])('%s reads its head and target and has no hooks', (type) => {
    const p = { type, head: 'M', target: 'T', weight: 1, valid_loss: true };
    const d = task(type);
    expect(taskHeads(d, p)).toEqual(['M']);
    expect(d.evalHead!(p)).toBe('M');
    expect(d.taskTargets!(p)).toEqual(['T']);
    expect(d.hooks!(p)).toEqual([]);
    expect(d.summary(p)).toBe(`${type}(head M, target T)`);
    expect(d.summary({ ...p, weight: 0.5, valid_loss: false })).toBe(`${type}(head M, target T, weight 0.5, not in validation loss)`);
  });

  describe('ulgm', () => {
    const base = { type: 'ulgm', fusion_head: 'M', heads: { text: 'T', audio: 'A', vision: 'V' }, target: 'M', H: 3, exclude_zero: true, from_epoch: 2, weight: 1, save_labels: false };
    const d = task('ulgm');

    it('reads the fusion head then the unimodal heads, and the human label', () => {
      expect(taskHeads(d, base)).toEqual(['M', 'T', 'A', 'V']);
      expect(d.headRefs!(base).map((r) => r.path)).toEqual([['fusion_head'], ['heads', 'text'], ['heads', 'audio'], ['heads', 'vision']]);
      expect(d.evalHead!(base)).toBeUndefined();
      expect(d.taskTargets!(base)).toEqual(['M']);
    });

    it('initialises banks before training, updates labels from from_epoch, then features and centres every step', () => {
      const hooks = d.hooks!(base);
      expect(hooks.map((h) => [h.when, h.fromEpoch])).toEqual([
        ['before_training', 1],
        ['step', 2],
        ['step', 1],
      ]);
      expect(hooks[0]!.description).toBe('initialise label banks (fusion, text, audio, vision) from labels.M');
      expect(hooks[1]!.description).toContain('clamp to +-3');
      expect(hooks[2]!.description).toContain('all N samples');
      expect(hooks[2]!.description).toContain('exclude_zero on');
      expect(d.hooks!({ ...base, exclude_zero: false })[2]!.description).toContain('exclude_zero off');
      expect(d.hooks!({ ...base, H: 1, from_epoch: 3 }).map((h) => h.fromEpoch)).toEqual([1, 3, 1]);
    });

    it('saves the label banks at each epoch end when save_labels is set', () => {
      const hooks = d.hooks!({ ...base, save_labels: true });
      expect(hooks).toHaveLength(4);
      expect(hooks[3]!.when).toBe('epoch_end');
      expect(hooks[3]!.description).toContain('save_labels');
    });

    it('summary', () => {
      expect(d.summary(base)).toBe('ulgm(fusion M; text T, audio A, vision V; target M; H 3; from epoch 2; exclude zero)');
    });
  });
});
