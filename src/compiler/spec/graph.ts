// Name resolution over a spec: which node a reference (`text`, `fusion`, `M`) means, and node ids.
// Shared by phase 4 rules and phase 5 IR building.

import type { PipelineSpec } from './types.generated.js';

export type NodeRef =
  | { kind: 'encoder'; id: string; name: string }
  | { kind: 'fusion'; id: 'fusion'; name: 'fusion' }
  | { kind: 'head'; id: string; name: string }
  | { kind: 'modality'; id: string; name: string };

/** The modality an encoder reads: its `modality` param, or the modality with the encoder's own key. */
export function encoderModality(spec: PipelineSpec, encoderKey: string): string {
  const e = spec.encoders[encoderKey];
  return (e && e.modality) || encoderKey;
}

/**
 * What a data reference names. Encoders come first (an encoder keyed `text` is what `text` means once it exists),
 * then the fusion, then a modality with no encoder of its own name but read by some encoder (its encoder), then heads.
 */
export function resolveNodeRef(spec: PipelineSpec, name: string): NodeRef | undefined {
  if (spec.encoders[name]) return { kind: 'encoder', id: `encoders.${name}`, name };
  if (name === 'fusion' && spec.fusion) return { kind: 'fusion', id: 'fusion', name: 'fusion' };
  if (spec.modalities[name]) {
    const enc = Object.keys(spec.encoders).find((k) => encoderModality(spec, k) === name);
    if (enc) return { kind: 'encoder', id: `encoders.${enc}`, name: enc };
    return { kind: 'modality', id: `modalities.${name}`, name };
  }
  if (spec.heads[name]) return { kind: 'head', id: `heads.${name}`, name };
  return undefined;
}

/** Names a reference may use, for "did you mean". */
export function referenceableNames(spec: PipelineSpec): string[] {
  const names = new Set<string>([...Object.keys(spec.encoders), ...Object.keys(spec.modalities)]);
  if (spec.fusion) names.add('fusion');
  return [...names].sort();
}
