// The parameters of CENET's cross-modal enhancement module (MMSA's models/singleTask/CENET.py, class CE), the `ce`
// before-layer hook of the `bert` encoder, with MMSA's module names. Free of tfjs; phases 2-5.
import type { ParamDecl } from '../../../compiler/ir/types.js';
import { linearParams } from '../../shape-helpers.js';

/** Where CE's parameters live inside the BERT node: CENET's BertEncoder holds it as `CE` beside its `layer` list. */
export const CE_MODULE = 'encoder.CE';

/**
 * CE's parameters in its registration order: the visual and acoustic transforms (Linear, ReLU, Linear to the hidden
 * size), the two one-head attentions hv and ha (Wq, Wk, Wv over the text width, which is BERT's hidden size) and
 * cat_connect (both attended sequences back to the hidden size).
 */
export function ceParams(hidden: number, audioDim: number, visionDim: number): ParamDecl[] {
  const m = CE_MODULE;
  const H = hidden;
  const attention = (name: string) => ['Wq', 'Wk', 'Wv'].flatMap((w) => linearParams(`${m}.${name}.${w}`, H, H));
  return [
    ...linearParams(`${m}.visual_transform.0`, visionDim, H),
    ...linearParams(`${m}.visual_transform.2`, H, H),
    ...linearParams(`${m}.acoustic_transform.0`, audioDim, H),
    ...linearParams(`${m}.acoustic_transform.2`, H, H),
    ...attention('hv'),
    ...attention('ha'),
    ...linearParams(`${m}.cat_connect`, 2 * H, H),
  ];
}

/** Tensors MMSA's CENET saves that no forward reads: its BertEmbeddings' sentiment, POS-tag and polarity tables. */
export const CENET_UNUSED_EMBEDDINGS = ['embeddings.senti_embeddings.weight', 'embeddings.pos_tag_embeddings.weight', 'embeddings.polarity_embeddings.weight'];
