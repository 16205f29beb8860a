// Public surface of the metrics module: MMSA-compatible metric sets, extra metrics, selection rule, aggregation.
// Phase 7 (execute) and 8 (report).

export {
  computeMetrics,
  defaultKeyEval,
  initialBest,
  isImprovement,
  metricKey,
  METRICS,
  METRIC_SETS,
  type ComputeMetricsOptions,
  type DatasetName,
  type KeyEval,
  type MetricDef,
  type MetricKind,
  type MetricOptions,
} from './registry.js';
export { aggregateSeeds, tableScale, type SeedAggregate, type TableScale } from './aggregate.js';
export { accuracy, binaryF1, macroF1, weightedF1 } from './classification.js';
export { numpyRound, pearson, roundHalfEven, type NumericVector } from './numeric.js';
