// Checks that keep wrong data from becoming a result: non-finite values, impossible sequence lengths, and nested
// lists that are self-referential, too deep or that expand far beyond what they store. Phase 7 (execute): loading.

import { NDArray, type PyValue } from './pickle/read-pickle.js';

/** Nested lists deeper than this are refused (a feature is [N, T, D]: three levels). */
export const MAX_LIST_DEPTH = 32;
/**
 * A list whose shared sub-lists expand to more than this many times the elements it stores is refused (Python's
 * `[[0.0] * d] * t` expands t-fold, which stays far below; a chain of shared lists expands exponentially).
 */
export const MAX_LIST_EXPANSION = 4;
/** Lists expanding to fewer elements than this are never refused for expansion. */
export const LIST_EXPANSION_FLOOR = 1 << 20;

/** Index of the first NaN or +-inf in `a`, or -1. */
export function firstNonFinite(a: ArrayLike<number>): number {
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    // v - v is NaN exactly for NaN and +-inf
    if (v - v !== 0) return i;
  }
  return -1;
}

export function nonFiniteName(v: number): string {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? '+inf' : '-inf';
}

/** Row-major index -> multi-index over `dims`. */
export function unravel(index: number, dims: readonly number[]): number[] {
  const out = new Array<number>(dims.length).fill(0);
  let r = index;
  for (let k = dims.length - 1; k >= 0; k--) {
    const d = dims[k]!;
    if (d > 0) {
      out[k] = r % d;
      r = Math.floor(r / d);
    }
  }
  return out;
}

/** Why a sequence length is unusable for a time axis of `t` steps, or undefined when it is a whole number in [0, t]. */
export function lengthProblem(v: number, t: number): string | undefined {
  if (!Number.isFinite(v)) return `is ${nonFiniteName(v)}`;
  if (!Number.isInteger(v)) return `is fractional (${v})`;
  if (v < 0) return `is negative (${v})`;
  if (v > t) return `is ${v}, longer than the ${t} steps the feature has`;
  return undefined;
}

/**
 * Describes why a nested list cannot become an array (it contains itself, nests deeper than MAX_LIST_DEPTH, or its
 * shared sub-lists expand beyond MAX_LIST_EXPANSION times what it stores), or undefined when it can. Iterative and
 * linear in the distinct lists, so hostile structures cost no more to check than they take to store.
 */
export function listStructureProblem(root: readonly PyValue[]): string | undefined {
  const onPath = new Set<object>();
  const expanded = new Map<object, number>();
  const seenArrays = new Set<NDArray>();
  let stored = root.length;
  const frames: { list: readonly PyValue[]; i: number; sum: number }[] = [{ list: root, i: 0, sum: 0 }];
  onPath.add(root);
  while (frames.length > 0) {
    const fr = frames[frames.length - 1]!;
    if (fr.i >= fr.list.length) {
      frames.pop();
      onPath.delete(fr.list);
      expanded.set(fr.list, fr.sum);
      if (frames.length > 0) frames[frames.length - 1]!.sum += fr.sum;
      continue;
    }
    const x = fr.list[fr.i++];
    if (Array.isArray(x)) {
      if (onPath.has(x)) return 'a list that contains itself';
      const known = expanded.get(x);
      if (known !== undefined) {
        fr.sum += known;
        continue;
      }
      if (frames.length >= MAX_LIST_DEPTH) return `lists nested more than ${MAX_LIST_DEPTH} levels deep`;
      onPath.add(x);
      stored += x.length;
      frames.push({ list: x, i: 0, sum: 0 });
    } else if (x instanceof NDArray) {
      fr.sum += x.size;
      if (!seenArrays.has(x)) {
        seenArrays.add(x);
        stored += x.size;
      }
    } else fr.sum += 1;
  }
  const total = expanded.get(root) ?? 0;
  if (total > Math.max(LIST_EXPANSION_FLOOR, MAX_LIST_EXPANSION * stored)) {
    return `a list whose shared sub-lists expand to ${total} elements from ${stored} stored (more than ${MAX_LIST_EXPANSION}x)`;
  }
  return undefined;
}
