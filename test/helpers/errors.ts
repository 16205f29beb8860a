// Test helper: the MmsaError a function throws (fails the test when it throws nothing or something else).
import { expect } from 'vitest';
import { MmsaError } from '../../src/errors.js';

export function mmsaErrorOf(f: () => unknown): MmsaError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(MmsaError);
    return e as MmsaError;
  }
  throw new Error('expected an MmsaError');
}
