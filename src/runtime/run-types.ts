// The public contract of a training run (options and outcome) in a module free of TensorFlow.js types, so the
// package's typings compile in a user's project without skipLibCheck. Phase 7 (execute); types, and the backend names.

import type { AggregateCell, SeedResult } from './events.js';

/** The tensor backends a run may ask for (`--backend`, `setupBackend`). */
export const BACKEND_NAMES = ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** Whether a value from outside the type system (a JavaScript caller, a flag, a run manifest) names a backend. */
export function isBackendName(v: unknown): v is BackendName {
  return (BACKEND_NAMES as readonly unknown[]).includes(v);
}

/** mmsa's native kernels under wasm: auto (when built), on (required), off. */
export type NativeMode = 'auto' | 'on' | 'off';

export interface PipelineRunOptions {
  /** Seeds to run (default: the spec's `seeds`). */
  seeds?: number[];
  /** Epoch cap override (part of the spec hash: it changes the experiment). */
  maxEpochs?: number;
  backend?: BackendName;
  /** wasm only: mmsa's native kernels (default MMSA_NATIVE, else 'auto'). Recorded in the manifest's backendDetails. */
  native?: NativeMode;
  /** Threads of the native kernels; results do not depend on it. */
  threads?: number;
  /** Root of run directories (default ./runs, resolved by the caller). */
  outRoot: string;
  dataRoot?: string;
  /** Retrain even when a completed run with the same spec hash and seed exists. */
  force?: boolean;
  signal?: AbortSignal;
  /** argv for the manifest. */
  command?: string[];
  /** The `--set` arguments the compile applied, for the lock file (the spec already holds their values). */
  set?: string[];
  /** false: no `<hash>-summary` files (a tuning trial's seeds run in separate processes and are summed up by the search). */
  summary?: boolean;
}

export type RunStatusOutcome = 'completed' | 'interrupted' | 'failed';

export interface RunOutcome {
  status: RunStatusOutcome;
  specHash: string;
  runDirs: string[];
  results: SeedResult[];
  aggregate?: Record<string, AggregateCell>;
  summaryPath?: string;
  error?: { code: string; message: string; hint?: string };
}
