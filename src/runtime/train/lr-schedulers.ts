// Learning-rate schedulers with PyTorch's exact semantics, stepped once per epoch: ReduceLROnPlateau (as MulT and
// MMIM use it: mode, factor, patience, threshold rel/abs, cooldown, min_lr, eps), StepLR and CosineAnnealingLR
// (chainable form, optionally behind ALMT's linear warm-up). Plain numbers (float64, as Python's floats); phase 7 (execute) applies them to optimizer groups.

import type { IrScheduler } from '../../compiler/ir/types.js';

/** The learning rates a scheduler drives: one per optimizer group, read and written in place. */
export interface LrGroups {
  lrs: number[];
}

export interface LrScheduler {
  /** After an epoch: `metric` is the watched value (plateau only). Updates `groups.lrs` in place. */
  step(groups: LrGroups, metric?: number): void;
  /** Before the first epoch (a warm-up sets the rates the first epoch trains with). */
  begin?(groups: LrGroups): void;
  /** State for checkpoints. */
  state(): Record<string, number>;
}

/**
 * torch.optim.lr_scheduler.ReduceLROnPlateau: after `patience` epochs without an improvement beyond `threshold`
 * (relative: best * (1 -/+ threshold); absolute: best -/+ threshold), every lr becomes max(lr * factor, min_lr), unless
 * that changes it by no more than eps; then `cooldown` epochs pass before bad epochs count again.
 */
export class ReduceLrOnPlateau implements LrScheduler {
  private best: number;
  private numBadEpochs = 0;
  private cooldownCounter = 0;
  private lastEpoch = 0;

  constructor(private readonly o: Extract<IrScheduler, { type: 'plateau' }>) {
    this.best = o.mode === 'min' ? Infinity : -Infinity;
  }

  private isBetter(a: number): boolean {
    const { mode, thresholdMode: tm, threshold: t } = this.o;
    if (mode === 'min' && tm === 'rel') return a < this.best * (1 - t);
    if (mode === 'min') return a < this.best - t;
    if (tm === 'rel') return a > this.best * (t + 1);
    return a > this.best + t;
  }

  step(groups: LrGroups, metric?: number): void {
    if (metric === undefined) throw new Error('ReduceLROnPlateau needs the watched metric');
    this.lastEpoch += 1;
    if (this.isBetter(metric)) {
      this.best = metric;
      this.numBadEpochs = 0;
    } else {
      this.numBadEpochs += 1;
    }
    if (this.cooldownCounter > 0) {
      this.cooldownCounter -= 1;
      this.numBadEpochs = 0;
    }
    if (this.numBadEpochs > this.o.patience) {
      groups.lrs = groups.lrs.map((old) => {
        const next = Math.max(old * this.o.factor, this.o.minLr);
        return old - next > this.o.eps ? next : old;
      });
      this.cooldownCounter = this.o.cooldown;
      this.numBadEpochs = 0;
    }
  }

  state(): Record<string, number> {
    return { best: this.best, numBadEpochs: this.numBadEpochs, cooldownCounter: this.cooldownCounter, lastEpoch: this.lastEpoch };
  }
}

/** torch.optim.lr_scheduler.StepLR: every `stepSize` epochs each lr is multiplied by gamma (chainable form). */
export class StepLr implements LrScheduler {
  private lastEpoch = 0;

  constructor(private readonly o: Extract<IrScheduler, { type: 'step' }>) {}

  step(groups: LrGroups): void {
    this.lastEpoch += 1;
    if (this.lastEpoch % this.o.stepSize !== 0) return;
    groups.lrs = groups.lrs.map((lr) => lr * this.o.gamma);
  }

  state(): Record<string, number> {
    return { lastEpoch: this.lastEpoch };
  }
}

/**
 * torch.optim.lr_scheduler.CosineAnnealingLR in its chainable (recursive) form, which is what `scheduler.step()`
 * computes: the same numbers as PyTorch, including past t_max (the cosine goes back up). With `warmup` > 0 it runs
 * behind ALMT's GradualWarmupScheduler (trains/singleTask/ALMT.py, multiplier 1): after k steps (k <= warmup) every
 * lr is base * (k / warmup), from 0 before the first epoch; the first step past warmup hands over to the cosine at
 * its own step 0 (lr = base, one epoch more at the peak), and later steps are the cosine's.
 */
export class CosineAnnealingLr implements LrScheduler {
  private lastEpoch = 0;
  /** Steps taken by the cosine itself (behind a warm-up, they start once the warm-up has handed over). */
  private cosineEpoch = 0;
  private handedOver: boolean;
  private readonly baseLrs: number[] = [];

  constructor(private readonly o: Extract<IrScheduler, { type: 'cosine' }>) {
    this.handedOver = o.warmup <= 0;
  }

  begin(groups: LrGroups): void {
    if (this.baseLrs.length === 0) this.baseLrs.push(...groups.lrs);
    // GradualWarmupScheduler's constructor steps once to last_epoch 0: the first epoch trains with lr 0.
    if (!this.handedOver) groups.lrs = groups.lrs.map(() => 0);
  }

  step(groups: LrGroups): void {
    if (this.baseLrs.length === 0) this.baseLrs.push(...groups.lrs);
    this.lastEpoch += 1;
    if (!this.handedOver) {
      const k = this.lastEpoch;
      const w = this.o.warmup;
      if (k <= w) {
        groups.lrs = this.baseLrs.map((base) => base * (k / w));
      } else {
        this.handedOver = true;
        groups.lrs = [...this.baseLrs];
      }
      return;
    }
    this.cosineEpoch += 1;
    const e = this.cosineEpoch;
    const T = this.o.tMax;
    const min = this.o.etaMin;
    groups.lrs = groups.lrs.map((lr, i) => {
      const base = this.baseLrs[i]!;
      if ((e - 1 - T) % (2 * T) === 0) return lr + ((base - min) * (1 - Math.cos(Math.PI / T))) / 2;
      return ((1 + Math.cos((Math.PI * e) / T)) / (1 + Math.cos((Math.PI * (e - 1)) / T))) * (lr - min) + min;
    });
  }

  state(): Record<string, number> {
    return { lastEpoch: this.lastEpoch, cosineEpoch: this.cosineEpoch };
  }
}

export function createLrScheduler(s: IrScheduler): LrScheduler {
  switch (s.type) {
    case 'plateau':
      return new ReduceLrOnPlateau(s);
    case 'step':
      return new StepLr(s);
    case 'cosine':
      return new CosineAnnealingLr(s);
  }
}
