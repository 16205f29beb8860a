// ALL_RULES: every semantic rule, in the order checkSpec runs them (reference and naming rules first).
// Phase 4 (check).

import type { Rule } from '../rule.js';
import alignedRequired from './aligned-required.js';
import bertTokens from './bert-tokens.js';
import classCount from './class-count.js';
import componentChecks from './component-checks.js';
import featuresExist from './features-exist.js';
import fusionArity from './fusion-arity.js';
import headTaskKinds from './head-task-kinds.js';
import metricFit from './metric-fit.js';
import metricNames from './metric-names.js';
import microBatches from './micro-batches.js';
import missingRaw from './missing-raw.js';
import modalityEncoders from './modality-encoders.js';
import noTestSelection from './no-test-selection.js';
import packedLengths from './packed-lengths.js';
import paramGroupsCover from './param-groups-cover.js';
import refsResolve from './refs-resolve.js';
import seedsUnique from './seeds-unique.js';
import taskTargets from './task-targets.js';
import torchShuffle from './torch-shuffle.js';
import trainStages from './train-stages.js';
import tuneObjective from './tune-objective.js';
import tuneSpace from './tune-space.js';
import uniqueNames from './unique-names.js';

export const ALL_RULES: readonly Rule[] = [
  refsResolve,
  uniqueNames,
  modalityEncoders,
  featuresExist,
  fusionArity,
  alignedRequired,
  packedLengths,
  bertTokens,
  missingRaw,
  headTaskKinds,
  componentChecks,
  taskTargets,
  paramGroupsCover,
  trainStages,
  microBatches,
  torchShuffle,
  noTestSelection,
  metricNames,
  metricFit,
  classCount,
  seedsUnique,
  tuneSpace,
  tuneObjective,
];
