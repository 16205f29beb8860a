// Error codes of the pickle reader (MSA6001-6019) and the helper that formats them with file, byte offset,
// opcode and key path. Phase 7 (execute): the data layer reading feature files.

import { MmsaError, printable } from '../../../errors.js';

/**
 * Codes used by the pickle reader. The range MSA6001-6019 belongs to this module.
 *
 * - MSA6001 file cannot be opened or read (I/O error)
 * - MSA6002 truncated input: a length or opcode runs past the end of the data, or STOP is missing
 * - MSA6003 unknown or unsupported opcode (protocol 0/1 text opcodes, PERSID, EXT*, INST/OBJ)
 * - MSA6004 unsupported pickle protocol number
 * - MSA6005 forbidden global: a module.name outside the allow-list (reading never executes code)
 * - MSA6006 corrupt structure: stack underflow, missing MARK, wrong operand types for an opcode
 * - MSA6007 memo miss (BINGET of an index never stored)
 * - MSA6008 invalid text: bad UTF-8 in a str, or a latin-1 payload with code points above 255
 * - MSA6009 bad arguments to an allowed callable (numpy reconstruction, dtype, scalar, _codecs.encode, builtins)
 * - MSA6010 unsupported numpy dtype (structured, complex, datetime, bytes/void, object arrays of non-str)
 * - MSA6011 array payload length does not match prod(shape) * itemsize
 * - MSA6012 array too large for this runtime (typed-array length / memory limit)
 * - MSA6013 out-of-band buffers (NEXT_BUFFER) are not supported
 * - MSA6014 numpy.ndarray(...) called without a BUILD state (uninitialised array)
 * - MSA6015 integer too large (LONG4 beyond the accepted size)
 * - MSA6016 is the pickle writer's (write-pickle.ts)
 * - MSA6017 output budget exceeded: the file unpacks to more than its size can honestly hold (memo references
 *   copied many times, shared payloads rebuilt per reference); see `PICKLE_LIMITS`
 * - MSA6018 nested deeper than the depth budget (`PICKLE_LIMITS.maxDepth`)
 */
export const PICKLE_ERROR_CODES = {
  io: 'MSA6001',
  truncated: 'MSA6002',
  opcode: 'MSA6003',
  protocol: 'MSA6004',
  forbiddenGlobal: 'MSA6005',
  corrupt: 'MSA6006',
  memo: 'MSA6007',
  text: 'MSA6008',
  badArgs: 'MSA6009',
  dtype: 'MSA6010',
  payloadLength: 'MSA6011',
  tooLarge: 'MSA6012',
  outOfBand: 'MSA6013',
  uninitialised: 'MSA6014',
  bigInt: 'MSA6015',
  budget: 'MSA6017',
  tooDeep: 'MSA6018',
} as const;

export type PickleErrorKind = keyof typeof PICKLE_ERROR_CODES;

export interface PickleErrorContext {
  file: string;
  offset?: number | undefined;
  opcode?: string | undefined;
  opcodeByte?: number | undefined;
  path?: readonly (string | number)[] | undefined;
}

/** Path elements shown at each end of a long key path (the middle is elided with a count). */
const PATH_HEAD = 8;
const PATH_TAIL = 4;
/** Longest key shown in a path. */
const KEY_CHARS = 60;

/** A long path cut to its first and last elements; `null` marks where elements were left out. */
export function shortenKeyPath(path: readonly (string | number)[]): (string | number | null)[] {
  if (path.length <= PATH_HEAD + PATH_TAIL + 1) return [...path];
  return [...path.slice(0, PATH_HEAD), null, ...path.slice(path.length - PATH_TAIL)];
}

/**
 * Renders a key path the way users write it: `train.audio`, `train.id[3]`. Keys from the file are made printable
 * and short; a path longer than 13 elements shows its first 8 and last 4 with the count of those left out.
 */
export function formatKeyPath(path: readonly (string | number)[]): string {
  let out = '';
  const shown = shortenKeyPath(path);
  for (const p of shown) {
    if (p === null) out += `...(${path.length - PATH_HEAD - PATH_TAIL} more)...`;
    else if (typeof p === 'number') out += `[${p}]`;
    else {
      const k = printable(p, KEY_CHARS);
      out += out === '' ? k : `.${k}`;
    }
  }
  return out;
}

export function pickleError(kind: PickleErrorKind, message: string, ctx: PickleErrorContext, hint?: string, cause?: unknown): MmsaError {
  const where: string[] = [];
  if (ctx.offset !== undefined) where.push(`byte offset ${ctx.offset}`);
  if (ctx.opcode !== undefined) {
    const hex = ctx.opcodeByte === undefined ? '' : ` (0x${ctx.opcodeByte.toString(16).padStart(2, '0')})`;
    where.push(`opcode ${ctx.opcode}${hex}`);
  }
  const pathStr = ctx.path && ctx.path.length > 0 ? formatKeyPath(ctx.path) : undefined;
  if (pathStr !== undefined) where.push(`reading ${pathStr}`);
  const msg = `${ctx.file}: ${printable(message, 800)}${where.length > 0 ? ` [${where.join(', ')}]` : ''}`;
  const opts: { hint?: string; details: Record<string, unknown>; cause?: unknown } = {
    details: {
      file: ctx.file,
      offset: ctx.offset,
      opcode: ctx.opcode,
      opcodeByte: ctx.opcodeByte,
      path: ctx.path ? shortenKeyPath(ctx.path) : undefined,
      keyPath: pathStr,
    },
  };
  if (hint !== undefined) opts.hint = hint;
  if (cause !== undefined) opts.cause = cause;
  return new MmsaError(PICKLE_ERROR_CODES[kind], msg, opts);
}
