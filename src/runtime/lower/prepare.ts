// Asks every component of an IR to prepare what its (synchronous, offline) lowering needs, such as pretrained weights
// on disk. Runs before phase 6 (lower); the components say what to do, nothing here knows a component type.

import type { Ir } from '../../compiler/ir/types.js';
import { getComponent } from '../../components/catalog.js';
import type { ComponentKind, PreparedModel } from '../../components/component.js';

/** Prepares every node that asks to; returns what each fetched, by node id, for the lock file. */
export async function prepareComponents(ir: Ir): Promise<Map<string, PreparedModel>> {
  const out = new Map<string, PreparedModel>();
  for (const n of ir.nodes) {
    if (n.kind === 'input') continue;
    const record = await getComponent(n.kind as ComponentKind, n.type)?.prepare?.(n);
    if (record) out.set(n.id, record);
  }
  return out;
}
