// Catalog entry 'graph_mfn': Graph-MFN (MMSA's models/singleTask/Graph_MFN.py), MFN with a Dynamic Fusion Graph in
// place of the attention. Schema, shape rule and parameter names (MMSA's own below `dfg`); phases 2-5.

import { defineComponent } from '../../component.js';
import type { GraphMfnFusion } from '../../../compiler/spec/types.generated.js';
import type { ParamDecl } from '../../../compiler/ir/types.js';
import { buffer, linearNames, linearParams, sequenceType, vector } from '../../shape-helpers.js';
import { checkMfnInputs, lstmCellNames, lstmCellParams, summarizeMemory, twoLayerNames, twoLayerParams } from '../mfn/define.js';
import { dfgInputSize, dfgLayout, dfgNodeName } from './dfg.js';

/** MMSA's DFG networks are Sequential(Linear(in -> 100), Sequential(Linear(100 -> inner))). */
export const DFG_WIDTH = 100;

/** Every parameter of the graph, with MMSA's Sequential indices (`dfg.t_network.1.0.weight`). */
export function dfgParams(dims: readonly number[], inner: number, trainNodes: boolean): ParamDecl[] {
  const layout = dfgLayout(dims.length);
  const total = dims.reduce((s, d) => s + d, 0);
  const out: ParamDecl[] = [];
  // The node networks: parameters when trained, otherwise buffers (MMSA never registers them).
  const nodeDecl = (ps: ParamDecl[]): ParamDecl[] => (trainNodes ? ps : ps.map((p) => buffer(p.name, p.shape)));
  for (const node of layout.nodes) {
    const name = `dfg.${dfgNodeName(node.key)}`;
    out.push(...nodeDecl([...linearParams(`${name}.0`, dfgInputSize(node.reads, dims, inner), DFG_WIDTH), ...linearParams(`${name}.1.0`, DFG_WIDTH, inner)]));
  }
  out.push(
    ...linearParams('dfg.t_network.0', dfgInputSize(layout.top.reads, dims, inner), DFG_WIDTH),
    ...linearParams('dfg.t_network.1.0', DFG_WIDTH, inner),
    ...linearParams('dfg.efficacy_model.0', total, DFG_WIDTH),
    ...linearParams('dfg.efficacy_model.1.0', DFG_WIDTH, inner),
    ...linearParams('dfg.efficacy_model.2', inner, layout.efficacies),
  );
  return out;
}

/** Local names of the node networks MMSA keeps outside its module (never saved in its checkpoints). */
export function dfgNodeNetworkNames(n: number): string[] {
  return dfgLayout(n).nodes.flatMap((node) => {
    const name = `dfg.${dfgNodeName(node.key)}`;
    return [...linearNames(`${name}.0`), ...linearNames(`${name}.1.0`)];
  });
}

export default defineComponent<GraphMfnFusion>({
  kind: 'fusion',
  type: 'graph_mfn',
  schema: 'components/fusions/graph_mfn.schema.json',
  doc: 'Graph Memory Fusion Network: MFN with a Dynamic Fusion Graph over the per-step singleton vertices (unimodal, bimodal, trimodal nodes gated by efficacies) in place of the attention.',
  arity: { min: 2, max: Number.POSITIVE_INFINITY },
  accepts: ['sequence'],
  needsAligned: true,
  examples: [
    {
      label: 'graph_mfn mosi',
      params: { type: 'graph_mfn', inputs: ['text', 'audio', 'vision'], hidden: [256, 32, 256], memsize: 300, inner_node_dim: 64, nn: { hidden: 32, dropout: 0 }, gamma1: { hidden: 128, dropout: 0.5 }, gamma2: { hidden: 64, dropout: 0.5 }, train_node_networks: false },
      inputs: [
        ['text', sequenceType(50, 768, { aligned: true })],
        ['audio', sequenceType(50, 5, { aligned: true })],
        ['vision', sequenceType(50, 20, { aligned: true })],
      ],
    },
    {
      label: 'two inputs, trained nodes',
      params: { type: 'graph_mfn', inputs: ['a', 'b'], hidden: [4, 3], memsize: 5, inner_node_dim: 6, nn: { hidden: 4, dropout: 0 }, gamma1: { hidden: 3, dropout: 0 }, gamma2: { hidden: 2, dropout: 0 }, train_node_networks: true },
      inputs: [['a', sequenceType(7, 3, { aligned: true })], ['b', sequenceType(7, 2, { aligned: true })]],
    },
  ],
  summary: (p) =>
    `graph_mfn(${summarizeMemory(p)}; graph nodes ${p.inner_node_dim}${p.train_node_networks ? '' : ' (node networks untrained, as MMSA)'}, c-hat ${p.nn.hidden}, gammas ${p.gamma1.hidden}/${p.gamma2.hidden})`,
  paramNames: (p) => [
    ...p.inputs.flatMap((n) => lstmCellNames(`lstm_${n}`)),
    ...p.inputs.flatMap((n) => linearNames(`${n}_transform`)),
    ...dfgParams(p.hidden, p.inner_node_dim, p.train_node_networks).map((d) => d.name),
    ...['att2', 'gamma1', 'gamma2'].flatMap((b) => twoLayerNames(b)),
  ],
  infer(ctx) {
    const p = ctx.params;
    const dims = checkMfnInputs(ctx, 'graph_mfn');
    if (!dims) return undefined;
    const total = p.hidden.reduce((s, h) => s + h, 0);
    const params: ParamDecl[] = [];
    p.inputs.forEach((n, i) => params.push(...lstmCellParams(`lstm_${n}`, dims[i]!, p.hidden[i]!)));
    // Singleton vertex of each input: ReLU(Linear([h_{t-1}; h_t])), as wide as the input's hidden state.
    p.inputs.forEach((n, i) => params.push(...linearParams(`${n}_transform`, 2 * p.hidden[i]!, p.hidden[i]!)));
    params.push(
      ...dfgParams(p.hidden, p.inner_node_dim, p.train_node_networks),
      ...twoLayerParams('att2', p.inner_node_dim, p.nn.hidden, p.memsize),
      ...twoLayerParams('gamma1', p.inner_node_dim + p.memsize, p.gamma1.hidden, p.memsize),
      ...twoLayerParams('gamma2', p.inner_node_dim + p.memsize, p.gamma2.hidden, p.memsize),
    );
    return { output: vector(total + p.memsize), params };
  },
  // MMSA's DynamicFusionGraph keeps the node networks in a plain dict: its state_dict, and so its checkpoints, never
  // hold them (whether or not they are trained here).
  mmsaUnsaved: (p) => dfgNodeNetworkNames(p.inputs.length),
});
