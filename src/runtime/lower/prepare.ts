// Asks every component of an IR to prepare what its (synchronous, offline) lowering needs, such as pretrained weights
// on disk. Runs before phase 6 (lower); the components say what to do, nothing here knows a component type.

import type { Ir } from '../../compiler/ir/types.js';
import { getComponent } from '../../components/catalog.js';
import type { ComponentKind } from '../../components/component.js';

export async function prepareComponents(ir: Ir): Promise<void> {
  for (const n of ir.nodes) {
    if (n.kind === 'input') continue;
    await getComponent(n.kind as ComponentKind, n.type)?.prepare?.(n);
  }
}
