// The parameters of BERT-MAG's Multimodal Adaptation Gate (MMSA's models/singleTask/BERT_MAG.py, class MAG), the
// `mag` embeddings hook of the `bert` encoder, with MMSA's module names. Free of tfjs; phases 2-5.
import type { ParamDecl } from '../../../compiler/ir/types.js';
import { linearParams, param } from '../../shape-helpers.js';

/** The module the gate's parameters live under, inside the BERT node (MAG_BertModel's `MAG`). */
export const MAG_MODULE = 'MAG';

/** MAG's parameters in its registration order: W_hv, W_ha, W_v, W_a (all to the hidden size), LayerNorm. */
export function magParams(hidden: number, audioDim: number, visionDim: number): ParamDecl[] {
  const m = MAG_MODULE;
  return [
    ...linearParams(`${m}.W_hv`, visionDim + hidden, hidden),
    ...linearParams(`${m}.W_ha`, audioDim + hidden, hidden),
    ...linearParams(`${m}.W_v`, visionDim, hidden),
    ...linearParams(`${m}.W_a`, audioDim, hidden),
    param(`${m}.LayerNorm.weight`, [hidden]),
    param(`${m}.LayerNorm.bias`, [hidden]),
  ];
}
