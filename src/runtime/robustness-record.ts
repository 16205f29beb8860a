// RUN_DIR/robustness.json: the results of `mmsa evaluate --missing/--noise` (one record per condition and
// perturbation seed, plus the clean score), merged across calls; `mmsa report` plots them. Phases 7-8.

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MmsaError } from '../errors.js';
import type { Perturbation } from './data/perturb.js';

/** One line of RUN_DIR/robustness.json. */
export interface RobustnessRecord {
  data: string;
  split: string;
  n: number;
  /** Series name: the axis pairs, then the fixed ones with their rates; '' for the clean evaluation. */
  series: string;
  axis: string[];
  rate: number;
  fixed: Record<string, number>;
  perturbations: Perturbation[];
  /** The perturbation seed (null for the clean evaluation, which draws nothing). */
  seed: number | null;
  metrics: Record<string, number>;
  at: string;
}

export interface RobustnessFile {
  v: 1;
  records: RobustnessRecord[];
}

export const ROBUSTNESS_FILE = 'robustness.json';

const pairName = (p: { kind: string; modality: string }) => `${p.kind} ${p.modality}`;

/** The series a condition belongs to: its axis pairs, then fixed pairs with their rates. */
export function seriesName(axis: string[], fixed: Record<string, number>): string {
  const f = Object.entries(fixed).map(([k, v]) => `${k}=${v}`);
  return [axis.join(' + '), ...f].filter((s) => s.length > 0).join(', ');
}

export function readRobustness(runDir: string): RobustnessFile {
  const path = join(runDir, ROBUSTNESS_FILE);
  if (!existsSync(path)) return { v: 1, records: [] };
  try {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as RobustnessFile;
    if (doc && Array.isArray(doc.records)) return { v: 1, records: doc.records };
  } catch {
    /* fall through */
  }
  throw new MmsaError('MSA6716', `${path} does not parse`, { hint: 'delete it to start the robustness records again (each `mmsa evaluate --missing/--noise` adds to it)', details: { path } });
}

const recordKey = (r: Pick<RobustnessRecord, 'data' | 'split' | 'perturbations' | 'seed'>) =>
  JSON.stringify([r.data, r.split, [...r.perturbations].sort((a, b) => pairName(a).localeCompare(pairName(b))).map((p) => [p.kind, p.modality, p.rate]), r.seed]);

/** The file with `add` merged in: a record of the same data, split, perturbations and seed is replaced. */
export function mergeRecords(file: RobustnessFile, add: RobustnessRecord[]): RobustnessFile {
  const keys = new Set(add.map(recordKey));
  return { v: 1, records: [...file.records.filter((r) => !keys.has(recordKey(r))), ...add] };
}
