// "did you mean" suggestions for unknown keys, type names and references.
// Used by the schema, normalize and check phases, the metric catalog and the CLI.

/** Damerau-Levenshtein (optimal string alignment) distance. */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  const d: number[][] = Array.from({ length: m + 1 }, () => new Array<number>(n + 1).fill(0));
  for (let i = 0; i <= m; i++) d[i]![0] = i;
  for (let j = 0; j <= n; j++) d[0]![j] = j;
  for (let i = 1; i <= m; i++) {
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[m]![n]!;
}

/** The closest candidate, if it is close enough to be a plausible typo (case and `-`/`_` insensitive). */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[-_\s]/g, '');
  const w = norm(word);
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const cn = norm(c);
    let dist = editDistance(w, cn);
    // A prefix relation (a word cut short or run on) beats an equally distant substitution.
    if (cn.startsWith(w) || w.startsWith(cn)) dist = Math.min(dist, 1) - 0.5;
    if (dist < bestD || (dist === bestD && best !== undefined && c < best)) {
      bestD = dist;
      best = c;
    }
  }
  if (best === undefined) return undefined;
  const limit = Math.max(1, Math.floor(Math.max(w.length, 3) / 3));
  return bestD <= limit ? best : undefined;
}

/** A hint sentence: "did you mean 'x'?" or the list of valid choices when nothing is close. */
export function suggestionHint(word: string, candidates: readonly string[], what = 'one of'): string {
  const s = didYouMean(word, candidates);
  if (s !== undefined) return `did you mean '${s}'?`;
  const list = [...candidates].sort();
  if (list.length === 0) return '';
  return `${what}: ${list.map((c) => `'${c}'`).join(', ')}`;
}
