// Turns failed writes (full disk, read-only file system, no permission) into located MmsaErrors: which path, how much
// space was needed and what is free, and what to do. Phases 7-8 (every command that writes files).

import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { MmsaError } from '../errors.js';

/** MSA6740: no space left; MSA6741: cannot write (read-only file system, permission). Both exit with EXIT_IO. */
export const NO_SPACE = 'MSA6740';
export const NOT_WRITABLE = 'MSA6741';
/** Exit code of a command whose output could not be written (sysexits' EX_IOERR). */
export const EXIT_IO = 74;

export function isOutputError(e: unknown): boolean {
  return e instanceof MmsaError && (e.code === NO_SPACE || e.code === NOT_WRITABLE);
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Bytes free for this user on the file system holding `path` (its nearest existing ancestor). */
export function freeBytes(path: string): number | undefined {
  try {
    const s = statfsSync(existingAncestor(path));
    return Number(s.bavail) * Number(s.bsize);
  } catch {
    return undefined;
  }
}

function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/** Why `path` cannot be created: the first existing ancestor on a read-only file system or without write permission. */
function blockedAncestor(path: string): { dir: string; code: string } | undefined {
  const dir = existingAncestor(dirname(resolve(path)));
  try {
    accessSync(dir, constants.W_OK);
    return undefined;
  } catch (e) {
    return { dir, code: (e as NodeJS.ErrnoException).code ?? 'EACCES' };
  }
}

export interface WriteContext {
  /** What is being written, for the message ("the checkpoint", "the report"). */
  what?: string;
  /** Bytes the write needed (the whole file). */
  bytes?: number;
  /** How to write elsewhere ("pass --out DIR"). */
  elsewhere?: string;
  /** The path to name in the message when `path` is a temporary on its way there. */
  shownAs?: string;
}

/**
 * The MmsaError for an error thrown while writing `path`, or undefined when it is not about the output place (a bug
 * or another kind of failure, left to the caller).
 */
export function describeWriteError(e: unknown, path: string, ctx: WriteContext = {}): MmsaError | undefined {
  if (e instanceof MmsaError) return e;
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const target = resolve(path);
  const shown = resolve(ctx.shownAs ?? path);
  const what = ctx.what ? `${ctx.what} ` : '';
  const elsewhere = ctx.elsewhere ? `, or ${ctx.elsewhere}` : '';
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const free = freeBytes(target);
    const need = ctx.bytes !== undefined ? `needed ${formatBytes(ctx.bytes)}` : 'needed more space';
    const have = free !== undefined ? `, ${formatBytes(free)} free` : '';
    return new MmsaError(NO_SPACE, `no space left writing ${what}${shown} (${need}${have}${code === 'EDQUOT' ? '; disk quota exceeded' : ''})`, {
      hint: `free space on that file system${elsewhere}`,
      details: { path: shown, errno: code, ...(ctx.bytes !== undefined ? { bytes: ctx.bytes } : {}), ...(free !== undefined ? { free } : {}) },
      cause: e,
    });
  }
  // Recursive mkdir on a read-only file system reports ENOENT: find the ancestor that refuses the write.
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM' || code === 'ENOENT') {
    const blocked = blockedAncestor(target);
    if (!blocked && code === 'ENOENT') {
      const missing = existingAncestor(dirname(target)) !== dirname(target);
      if (!missing) return undefined;
      return new MmsaError(NOT_WRITABLE, `cannot write ${what}${shown}: its directory ${dirname(target)} does not exist`, {
        hint: `create it first${elsewhere}`,
        details: { path: shown, errno: code },
        cause: e,
      });
    }
    const c = blocked?.code ?? code;
    const why = c === 'EROFS' ? 'is on a read-only file system' : 'is not writable (permission denied)';
    const place = blocked ? (blocked.dir === dirname(target) ? `its directory ${blocked.dir} ${why}` : `${blocked.dir} ${why}, so ${dirname(target)} cannot be created`) : `it ${why}`;
    return new MmsaError(NOT_WRITABLE, `cannot write ${what}${shown}: ${place}`, {
      hint: `choose a writable place${elsewhere}`,
      details: { path: shown, errno: c, ...(blocked ? { dir: blocked.dir } : {}) },
      cause: e,
    });
  }
  return undefined;
}

/** Runs a write and rethrows file-system failures as located MmsaErrors. */
export function withWriteErrors<T>(path: string, ctx: WriteContext, write: () => T): T {
  try {
    return write();
  } catch (e) {
    throw describeWriteError(e, path, ctx) ?? e;
  }
}
