// ALL_RULES: every semantic rule, in the order checkSpec runs them (reference and naming rules first).
// Phase 4 (check).

import type { Rule } from '../rule.js';
import alignedRequired from './aligned-required.js';
import bertTokens from './bert-tokens.js';
import classCount from './class-count.js';
import earlyStopMetric from './early-stop-metric.js';
import featuresExist from './features-exist.js';
import fusionArity from './fusion-arity.js';
import headTaskKinds from './head-task-kinds.js';
import metricFit from './metric-fit.js';
import modalityEncoders from './modality-encoders.js';
import noTestSelection from './no-test-selection.js';
import packedLengths from './packed-lengths.js';
import paramGroupsCover from './param-groups-cover.js';
import refsResolve from './refs-resolve.js';
import seedsUnique from './seeds-unique.js';
import taskTargets from './task-targets.js';
import tuneObjective from './tune-objective.js';
import tuneSpace from './tune-space.js';
import ulgmHeads from './ulgm-heads.js';
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
  headTaskKinds,
  ulgmHeads,
  taskTargets,
  paramGroupsCover,
  noTestSelection,
  earlyStopMetric,
  metricFit,
  classCount,
  seedsUnique,
  tuneSpace,
  tuneObjective,
];
