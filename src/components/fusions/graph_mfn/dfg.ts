// The Dynamic Fusion Graph's layout (MMSA's DynamicFusionGraph in models/singleTask/Graph_MFN.py): which vertices
// each node reads, in which order, and which efficacy gates them. No tfjs: the shape rule and the lowering share it.
// Phases 5-6.

/** A vertex: the sorted input indices it fuses ([0] unimodal, [0, 1] bimodal, ...). */
export type Vertex = number[];

/** Non-empty subsets of `items` by size, each size in lexicographic order (itertools.combinations over r = 1..n). */
export function subsetsBySize(items: readonly number[]): Vertex[] {
  const out: Vertex[] = [];
  const rec = (start: number, size: number, acc: number[]): void => {
    if (acc.length === size) {
      out.push([...acc]);
      return;
    }
    for (let i = start; i < items.length; i++) rec(i + 1, size, [...acc, items[i]!]);
  };
  for (let r = 1; r <= items.length; r++) rec(0, r, []);
  return out;
}

export interface DfgNode {
  /** The multimodal vertex this network computes; for the top network, every input. */
  key: Vertex;
  /** The vertices it reads (concatenated in this order, each times its efficacy). */
  reads: Vertex[];
  /** Index of the efficacy column of reads[0] (the rest follow). */
  efficacy: number;
}

export interface DfgLayout {
  /** Networks of the multimodal vertices, in MMSA's order. */
  nodes: DfgNode[];
  /** The top network: reads every vertex. */
  top: DfgNode;
  /** Efficacy count (19 for three inputs). */
  efficacies: number;
}

/**
 * MMSA's order: the multimodal vertices by size then lexicographically, each reading its non-empty proper subsets;
 * then the top network reading every vertex (unimodal, bimodal, ..., all inputs).
 */
export function dfgLayout(n: number): DfgLayout {
  const all = subsetsBySize([...Array(n).keys()]);
  const nodes: DfgNode[] = [];
  let e = 0;
  for (const key of all.filter((v) => v.length >= 2)) {
    const reads = subsetsBySize(key).filter((v) => v.length < key.length);
    nodes.push({ key, reads, efficacy: e });
    e += reads.length;
  }
  const top = { key: [...Array(n).keys()], reads: all, efficacy: e };
  return { nodes, top, efficacies: e + all.length };
}

/** Input size of a network reading `reads`: unimodal vertices give their own size, the others `inner`. */
export function dfgInputSize(reads: readonly Vertex[], dims: readonly number[], inner: number): number {
  return reads.reduce((s, v) => s + (v.length === 1 ? dims[v[0]!]! : inner), 0);
}

/** Local name of a multimodal vertex's network (`networks.0_1`). */
export function dfgNodeName(key: Vertex): string {
  return `networks.${key.join('_')}`;
}
