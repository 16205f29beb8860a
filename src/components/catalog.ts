// The component catalog: every encoder, fusion, head and task type, looked up by kind and type.
// Read by schema validation (phase 2), semantic rules (4), shape inference (5) and lowering (6).

import type { ComponentDef, ComponentKind } from './component.js';
import { bertEncoder } from './encoders/bert/define.js';
import { gruEncoder } from './encoders/gru/define.js';
import { lstmEncoder } from './encoders/lstm/define.js';
import { mlpEncoder } from './encoders/mlp/define.js';
import { precomputedEncoder } from './encoders/precomputed/define.js';
import { subnetEncoder } from './encoders/subnet/define.js';
import { textLstmEncoder } from './encoders/text_lstm/define.js';
import { concatFusion } from './fusions/concat/define.js';
import { earlyFusion } from './fusions/early/define.js';
import { lateFusion } from './fusions/late/define.js';
import { lowRankFusion } from './fusions/low_rank/define.js';
import { tensorFusion } from './fusions/tensor/define.js';
import { classificationHead } from './heads/classification/define.js';
import { regressionHead } from './heads/regression/define.js';
import { crossEntropyTask } from './tasks/cross_entropy/define.js';
import { l1Task } from './tasks/l1/define.js';
import { mseTask } from './tasks/mse/define.js';
import { ulgmTask } from './tasks/ulgm/define.js';

const DEFS: ComponentDef[] = [
  bertEncoder,
  gruEncoder,
  lstmEncoder,
  mlpEncoder,
  precomputedEncoder,
  subnetEncoder,
  textLstmEncoder,
  concatFusion,
  earlyFusion,
  lateFusion,
  lowRankFusion,
  tensorFusion,
  classificationHead,
  regressionHead,
  crossEntropyTask,
  l1Task,
  mseTask,
  ulgmTask,
];

/**
 * Every entry's tfjs lowering, loaded only when asked for: the compiler (phases 0-5) never imports the runtime, so
 * `mmsa check` starts without TensorFlow.js.
 */
export const CATALOG: ComponentDef[] = DEFS.map((def) => ({
  ...def,
  lower: async () => (await import('../runtime/lower/registry.js')).getLowering(def.kind, def.type),
}));

const BY_KEY = new Map<string, ComponentDef>(CATALOG.map((c) => [`${c.kind}:${c.type}`, c]));

export function getComponent(kind: ComponentKind, type: string): ComponentDef | undefined {
  return BY_KEY.get(`${kind}:${type}`);
}

/** The types of one kind, sorted (the order of ENCODER_TYPES etc. and of "known types" hints). */
export function componentTypes(kind: ComponentKind): string[] {
  return CATALOG.filter((c) => c.kind === kind)
    .map((c) => c.type)
    .sort();
}
