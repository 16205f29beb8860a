// The lowering of every component, keyed `kind/type` (`encoder/lstm`, `task/ulgm`), from the generated list of the
// component folders' lower.ts. Phase 6 (lower); a test checks it covers the whole catalog.

import { LOWERINGS } from '../../components/lowerings.generated.js';
import type { ComponentLowering } from './node.js';

export { LOWERINGS };

export function getLowering(kind: string, type: string): ComponentLowering | undefined {
  return LOWERINGS[`${kind}/${type}`];
}
