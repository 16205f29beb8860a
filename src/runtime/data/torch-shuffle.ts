// PyTorch's DataLoader(shuffle=True) sample orders (`train.shuffle_rng: torch`): each loader pass draws from the
// global torch stream as torch 1.x's _BaseDataLoaderIter and RandomSampler do, then shuffles with randperm. Phase 7.

import { TorchRng } from '../torch-rng.js';
import { batchesInOrder, epochOrder, type BatchOptions } from './batching.js';
import type { Batch, SplitData } from './types.js';

/**
 * The order of one pass of DataLoader(range(n), shuffle=True), advancing `global` as the pass does: the iterator's
 * base seed (torch.empty((), int64).random_(): one random64, two mt19937 outputs), then the sampler's seed (another
 * random64; torch.Generator.manual_seed keeps its low 32 bits, the second output), then randperm(n) on that generator
 * (Fisher-Yates from the front: swap i with i + random() % (n - i)).
 */
export function drawTorchLoaderOrder(global: TorchRng, n: number): Int32Array {
  global.nextU32();
  global.nextU32();
  global.nextU32();
  const gen = new TorchRng(global.nextU32());
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = 0; i < n - 1; i++) {
    const z = i + (gen.nextU32() % (n - i));
    const t = order[i]!;
    order[i] = order[z]!;
    order[z] = t;
  }
  return order;
}

/**
 * A batch source whose every shuffled pass takes the next loader order of `global` (lazily, at the first batch, as
 * torch draws when the pass starts). An unshuffled pass keeps file order and draws nothing.
 */
export function makeTorchBatcher(global: TorchRng): (split: SplitData, opts: BatchOptions) => Generator<Batch> {
  return function* torchBatches(split, opts) {
    yield* batchesInOrder(split, opts.shuffle ? drawTorchLoaderOrder(global, split.n) : epochOrder(split.n, false, 0), opts.batchSize);
  };
}
