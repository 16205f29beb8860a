// Committed expected outputs: a test compares against its baseline file; UPDATE_BASELINES=1 rewrites baselines
// (review the diff before committing). A missing baseline fails, so a new case cannot pass without one.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { expect } from 'vitest';

export const updateBaselines = process.env['UPDATE_BASELINES'] === '1';

/** The baseline's text (after writing it, when updating). */
export function readBaseline(path: string, actual: string): string {
  if (updateBaselines) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
  }
  if (!existsSync(path)) throw new Error(`baseline ${path} is missing: run the test with UPDATE_BASELINES=1, review it and commit it`);
  return readFileSync(path, 'utf8');
}

export function expectBaseline(path: string, actual: string): void {
  expect(actual).toBe(readBaseline(path, actual));
}
