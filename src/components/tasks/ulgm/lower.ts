// Lowering of task 'ulgm' (Self-MM): tanh-weighted L1 losses of the unimodal heads against generated labels kept in a
// UlgmState (label banks, feature memory, class centres), with its hooks. Phase 6 (lower); runs in phase 7.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { IrNode, IrTask } from '../../../compiler/ir/types.js';
import { MmsaError } from '../../../errors.js';
import type { Batch, SplitData } from '../../../runtime/data/types.js';
import { labelHistogram, ulgmRange, UlgmState, type UlgmSnapshot } from './state.js';
import type { UlgmTask } from '../../../compiler/spec/types.generated.js';
import { defineTaskLowering, type LowerTaskContext } from '../../../runtime/lower/node.js';
import type { ModelOutputs } from '../../../runtime/lower/types.js';
import { writeJsonAtomic } from '../../../runtime/run-dir.js';
import { headFeature, headOutput } from '../../../runtime/lower/task-inputs.js';

/** The size of a head's first hidden layer (the ULGM feature), from its IR features or its hidden sizes. */
function featureSize(ctx: LowerTaskContext, task: IrTask<unknown>, head: string): number {
  const node: IrNode | undefined = ctx.ir.nodes.find((n) => n.kind === 'head' && n.name === head);
  const t = node?.features?.['hidden0'];
  const d = t?.shape[t.shape.length - 1];
  if (typeof d === 'number' && d > 0) return d;
  throw new MmsaError('MSA5001', `component 'ulgm' cannot be lowered: task '${task.name}' reads head '${head}', which has no hidden layer to take features from`, {
    hint: `give heads.${head} at least one hidden layer`,
    details: { task: task.name, head },
  });
}

export default defineTaskLowering<UlgmTask>((task, ctx) => {
  const { fusion_head: fusionHead, heads, target, from_epoch: fromEpoch, save_labels: saveLabels } = task.config;
  const modalities = Object.keys(heads);
  const w = task.weight;
  const dims: { fusion: number } & Record<string, number> = { fusion: featureSize(ctx, task, fusionHead) };
  for (const m of modalities) dims[m] = featureSize(ctx, task, heads[m]!);
  const [lo, hi] = ulgmRange(task.config);
  const state = new UlgmState({
    n: ctx.trainSize,
    dims,
    // [lo, hi] as its middle and half-width: MMSA's [-H, H] gives center 0 and H exactly.
    H: (hi - lo) / 2,
    center: (lo + hi) / 2,
    excludeZero: task.config.exclude_zero,
    modalities,
  });

  // The last step's weighted loss of each unimodal head, for progress reporting (scalars: a read is cheap on the CPU
  // backends, and nothing is kept alive between steps).
  let lastTerms: Record<string, number> = {};

  const trainLoss = (out: ModelOutputs, batch: Batch): tf.Scalar => {
    // Targets and weights come from the banks as they stand: constants, no gradient flows into them.
    const targets = state.targets(batch.indexes);
    const weights = state.lossWeights(batch.indexes);
    lastTerms = {};
    return tf.tidy(() => {
      if (modalities.length === 0) return tf.scalar(0);
      const terms = modalities.map((m) => {
        const yHat = tf.reshape(headOutput(out, heads[m]!, task.name), [-1]);
        const term = tf.mean(tf.mul(tf.tensor1d(weights[m]!), tf.abs(tf.sub(yHat, tf.tensor1d(targets[m]!)))));
        lastTerms[heads[m]!] = term.dataSync()[0]! * w;
        return term;
      });
      const l = terms.length === 1 ? terms[0]! : tf.addN(terms);
      return (w === 1 ? l : tf.mul(l, w)) as tf.Scalar;
    });
  };

  const readFeatures = (out: ModelOutputs): Record<string, Float32Array> => {
    const f: Record<string, Float32Array> = { fusion: headFeature(out, fusionHead, task.name).dataSync() as Float32Array };
    for (const m of modalities) f[m] = headFeature(out, heads[m]!, task.name).dataSync() as Float32Array;
    return f;
  };

  const writeBanks = (epoch: number): string | undefined => {
    if (!saveLabels || !ctx.outDir) return undefined;
    mkdirSync(ctx.outDir, { recursive: true });
    const file = join(ctx.outDir, `labels-epoch-${epoch}.json`);
    const labels: Record<string, number[]> = {};
    for (const b of state.banks) labels[b] = Array.from(state.labels(b));
    writeJsonAtomic(file, { task: task.name, epoch, n: state.n, labels }, { compact: true });
    return file;
  };

  return {
    name: task.name,
    type: task.type,
    trainLoss: (out, batch) => trainLoss(out, batch),
    lastHeadLosses() {
      const out = lastTerms;
      lastTerms = {};
      return out;
    },
    beforeTraining(train: SplitData) {
      const y = train.labels[target];
      if (!y) {
        throw new MmsaError('MSA6703', `task '${task.name}' initialises its label banks from label '${target}', which the training split does not have`, {
          hint: `labels available: ${Object.keys(train.labels).join(', ') || 'none'}`,
          details: { task: task.name, target },
        });
      }
      if (train.n !== state.n) {
        throw new MmsaError('MSA6704', `task '${task.name}': the training split has ${train.n} samples, but the label banks were sized for ${state.n}`, {
          hint: 'pass the training split size as trainSize when lowering',
          details: { task: task.name },
        });
      }
      // MMSA fills the banks in one shuffled pass; every row gets y_M whatever the order.
      state.initLabels(Int32Array.from({ length: train.n }, (_, i) => i), y);
    },
    afterStep(out, batch, epoch) {
      const features = readFeatures(out);
      if (epoch >= fromEpoch) {
        state.step(epoch, batch.indexes, features);
      } else {
        state.updateFeatures(batch.indexes, features);
        state.updateCenters();
      }
    },
    onEpochEnd(epoch) {
      const file = writeBanks(epoch);
      return { drift: state.drift(), histogram: labelHistogram(state), ...(file ? { labelsFile: file } : {}) };
    },
    snapshot: () => state.snapshot(),
    restore: (s) => state.restore(s as UlgmSnapshot),
  };
});
