// Types of bench/reference.mjs for the test that checks the reference's arguments and the reading of its summary.
export const DEFAULT_REF_CAP: string;
export interface ReferenceSetup {
  runner: string;
  runnerDir: string;
  python: string;
  cap: string;
  /** In-process patches of tools/run-mmsa-reference.py (BENCH_REF_PATCH), passed as `--patch NAME`. */
  patches: string[];
}
export function referenceSetup(env?: Record<string, string | undefined>): ReferenceSetup | { skipped: string };
export interface ReferenceArgs {
  cap: string;
  rssFile: string;
  python: string;
  script: string;
  model: string;
  dataset: string;
  pkl: string;
  maxEpochs?: number | null;
  config?: Record<string, unknown>;
  args?: string[];
  out: string;
  threads?: number;
  patches?: string[];
}
export function referenceArgs(a: ReferenceArgs): string[];
export function steadyMean(xs: number[]): number;
export interface ReferenceFigures {
  batch: number;
  batches: number;
  epochs: number;
  /** Training passes per epoch (MMIM's trainer: 2, its two stages); the per-epoch figures sum them. */
  passesPerEpoch: number;
  epochSecs: number[];
  /** Training seconds of each epoch (all its passes). */
  trainSecs: number[];
  /** Training seconds of each pass, as the runner timed them. */
  trainPassSecs: number[];
  validPassSecs: number[];
  cpuPerBatch: number[];
  otherLoad: number[];
  steady: { epochSecs: number; secsPerBatch: number; cpuPerBatch: number; otherLoad: number };
  threads: number;
  torch: string;
  params: number;
  test: Record<string, number> | null;
}
export function summarize(summary: Record<string, unknown>, batch: number): ReferenceFigures;
export function readPeakRss(rssFile: string): number;
export function runReference(
  setup: ReferenceSetup | { skipped: string },
  run: Omit<ReferenceArgs, 'cap' | 'rssFile' | 'python' | 'script'> & { script?: string; batch: number; env?: Record<string, string | undefined> },
): (ReferenceFigures & { peakRssBytes: number }) | { skipped: string };
export function loadMeter(): () => number;
