// Test helper: the MmsaError a call throws (anything else propagates; no throw fails the test).
import { MmsaError } from '../../../../src/errors.js';

export function thrown(f: () => unknown): MmsaError {
  try {
    f();
  } catch (e) {
    if (e instanceof MmsaError) return e;
    throw e;
  }
  throw new Error('did not throw');
}
