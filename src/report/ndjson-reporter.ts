// NDJSON reporter: every event as one JSON line on stdout, for scripts and CI (the same lines as events.ndjson).
// Phase 8 (report).

import { serializeEvent } from '../runtime/events.js';
import type { Reporter } from './plain-reporter.js';

export function createNdjsonReporter(o: { out: (s: string) => void }): Reporter {
  return {
    onEvent(e) {
      o.out(`${serializeEvent(e)}\n`);
    },
  };
}
