// Loads a pipeline's dataset while yielding `data.load` progress events (bytes read of the feature file), so a
// reporter can show a progress line instead of a blank screen during the seconds a MOSI-sized pickle takes.
// Phase 7 (execute).

import type { Ir } from '../../compiler/ir/types.js';
import { makeEvent, type DataLoadEvent } from '../events.js';
import { loadDataset, type LoadDatasetOptions } from './load-dataset.js';
import type { LoadedDataset } from './types.js';

/** At most one progress event per this many milliseconds, or per 1% of the file. */
const MIN_INTERVAL_MS = 200;

export async function* loadDatasetWithEvents(
  ir: Ir,
  runId: string,
  opts: Omit<LoadDatasetOptions, 'onProgress'> = {},
  now: () => number = Date.now,
): AsyncGenerator<DataLoadEvent, LoadedDataset> {
  const t0 = now();
  const file = ir.dataset.source === 'synthetic' ? `<synthetic ${ir.dataset.name}>` : (ir.dataset.path ?? ir.dataset.name);
  const ev = (bytes: number, totalBytes: number, done: boolean, path = file) =>
    makeEvent<DataLoadEvent>({ kind: 'data.load', runId, file: path, bytes, totalBytes, done, seconds: (now() - t0) / 1000 }, now);

  const queue: DataLoadEvent[] = [];
  let wake: (() => void) | undefined;
  let lastT = -Infinity;
  let lastBytes = 0;
  let total = 0;
  const onProgress = (bytes: number, totalBytes: number) => {
    total = totalBytes;
    const t = now();
    if (bytes < totalBytes && t - lastT < MIN_INTERVAL_MS && bytes - lastBytes < totalBytes / 100) return;
    lastT = t;
    lastBytes = bytes;
    queue.push(ev(bytes, totalBytes, false));
    wake?.();
  };
  let settled = false;
  const loading = loadDataset(ir, { ...opts, onProgress });
  loading.then(
    () => ((settled = true), wake?.()),
    () => ((settled = true), wake?.()),
  );
  yield ev(0, 0, false);
  while (!settled || queue.length > 0) {
    if (queue.length === 0) await new Promise<void>((r) => (wake = r));
    wake = undefined;
    while (queue.length > 0) yield queue.shift()!;
  }
  const data = await loading;
  yield ev(total, total, true, data.provenance.path ?? file);
  return data;
}
