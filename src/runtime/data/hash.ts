// Streaming SHA-256 of a (multi-gigabyte) feature file with a progress callback, for `mmsa data verify` and
// run provenance. Phase 7 (execute) / CLI.

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { MmsaError } from '../../errors.js';

/** Hex SHA-256 of a file, read in 4 MiB chunks; `onProgress(bytesDone, totalBytes)` after each chunk. */
export async function sha256File(path: string, onProgress?: (bytesDone: number, totalBytes: number) => void): Promise<string> {
  let total: number;
  try {
    total = (await stat(path)).size;
  } catch (e) {
    throw new MmsaError('MSA6030', `cannot read ${path}: ${(e as Error).message}`, { details: { file: path }, cause: e });
  }
  const h = createHash('sha256');
  let done = 0;
  onProgress?.(0, total);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 })) {
      h.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      onProgress?.(done, total);
    }
  } catch (e) {
    throw new MmsaError('MSA6030', `read error in ${path} after ${done} bytes: ${(e as Error).message}`, { details: { file: path, offset: done }, cause: e });
  }
  return h.digest('hex');
}
