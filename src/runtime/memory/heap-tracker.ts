// Live bytes on the wasm backend's heap, for calibrating the memory plan against what a forward really holds (the
// plan-vs-measured bench and the components' memory tests). Every buffer the backend allocates is counted once, however
// many tensors view it: the live bytes the plan estimates (tf.memory().numBytes counts a reshape's view again).

interface WasmExports {
  _malloc(n: number): number;
  _free(ptr: number): void;
}

export interface HeapTracker {
  /** Bytes allocated and not yet freed since tracking began. */
  live(): number;
  /** The largest live() seen since tracking began or the last resetPeak(). */
  peak(): number;
  /** Starts a new peak from the bytes live now. */
  resetPeak(): void;
  /** Puts the backend's own allocator back. */
  stop(): void;
}

/** Wraps the wasm backend's malloc and free (`backend` is tf.backend() of the wasm backend). */
export function trackWasmHeap(backend: unknown): HeapTracker {
  const wasm = (backend as { wasm?: WasmExports }).wasm;
  if (!wasm || typeof wasm._malloc !== 'function') throw new Error('trackWasmHeap needs the wasm backend (tf.backend() after setupBackend("wasm"))');
  // Emscripten's first call of each export replaces its stub with the raw function: resolve them before wrapping.
  wasm._free(wasm._malloc(8));
  const malloc = wasm._malloc;
  const free = wasm._free;
  const sizes = new Map<number, number>();
  let live = 0;
  let peak = 0;
  wasm._malloc = (n: number) => {
    const ptr = malloc(n);
    sizes.set(ptr >>> 0, n);
    live += n;
    peak = Math.max(peak, live);
    return ptr;
  };
  wasm._free = (ptr: number) => {
    live -= sizes.get(ptr >>> 0) ?? 0;
    sizes.delete(ptr >>> 0);
    free(ptr);
  };
  return {
    live: () => live,
    peak: () => peak,
    resetPeak: () => {
      peak = live;
    },
    stop: () => {
      wasm._malloc = malloc;
      wasm._free = free;
    },
  };
}
