// The pickle half of torch.save files, shared by the zip and the legacy format: storages named by persistent ids,
// torch's tensor-rebuild globals (the only ones allowed, and only here), views bound to bytes. Phases 6-7.
import { MmsaError } from '../../errors.js';
import { parsePickleBytes, PyGlobal, type PickleGlobalHandler, type ReadPickleOptions } from '../data/pickle/read-pickle.js';
import { DTYPE_SIZE, spanBytes, weightsError, type StoredDtype, type StoredTensor } from './tensor.js';

const STORAGE_DTYPES: Readonly<Record<string, StoredDtype>> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

export const TORCH_HINT = 'the checkpoint is corrupt or was written by an unsupported torch version; re-save it with torch.save(model.state_dict(), path)';

/** A torch storage named by a persistent id; the legacy format fills its bytes only after the pickle. */
export class TorchStorage {
  bytes: Uint8Array | undefined;
  constructor(
    readonly dtype: StoredDtype,
    readonly key: string,
    readonly numel: number,
  ) {}
}

/** `_rebuild_tensor_v2(storage, offset, size, stride, ...)`: a view, bound to bytes once the storage has them. */
export class TensorView {
  constructor(
    readonly storage: TorchStorage,
    readonly offset: number,
    readonly shape: number[],
    readonly strides: number[],
  ) {}
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${what} must be a tuple of non-negative ints, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** Storage class + key + size of a persistent id `('storage', torch.FloatStorage, key, location, numel, ...)`. */
export function storageOfPid(pid: unknown): TorchStorage {
  if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') throw new Error(`unsupported persistent id ${JSON.stringify(pid)}`);
  const [, type, key, , numel] = pid as unknown[];
  if (!(type instanceof PyGlobal)) throw new Error('storage type is not a torch storage class');
  const dtype = STORAGE_DTYPES[type.name];
  if (dtype === undefined) throw new Error(`storage type ${type.qualified} is not supported`);
  if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new Error(`bad storage key ${JSON.stringify(key)}`);
  if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new Error(`bad storage size ${String(numel)}`);
  return new TorchStorage(dtype, key, numel);
}

/**
 * Unpickles a torch.save state_dict pickle. `persistentLoad` turns persistent ids into storages (with or without
 * bytes yet); the result maps each tensor name to its view, to be bound with `bindTensors` once every storage has
 * its bytes. Non-tensor values of the top-level dict are ignored.
 */
export function unpickleTorch(
  pkl: Uint8Array,
  file: string,
  persistentLoad: (pid: unknown) => TorchStorage,
  options: Pick<ReadPickleOptions, 'fileName' | 'onProgress'> = {},
): Map<string, TensorView> {
  const rebuild = (a: unknown[]): TensorView => {
    const [storage, offset, size, stride] = a;
    if (!(storage instanceof TorchStorage)) throw new Error('first argument is not a storage');
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new Error(`bad storage offset ${String(offset)}`);
    const shape = intList(size, 'size');
    const strides = intList(stride, 'stride');
    if (strides.length !== shape.length) throw new Error(`size has ${shape.length} dims but stride ${strides.length}`);
    // Checked here when the size is known (both formats name it in the persistent id), so the error has an offset.
    const end = offset * DTYPE_SIZE[storage.dtype] + spanBytes(storage.dtype, shape, strides);
    if (end > storage.numel * DTYPE_SIZE[storage.dtype]) throw new Error(`tensor view (offset ${offset}, size [${shape.join(', ')}]) runs past its storage '${storage.key}'`);
    return new TensorView(storage, offset, shape, strides);
  };
  const extraGlobals: Record<string, PickleGlobalHandler> = {
    'collections.OrderedDict': {
      call: (a: unknown[]) => {
        const m = new Map<unknown, unknown>();
        if (a[0] instanceof Map) for (const [k, v] of a[0]) m.set(k, v);
        return m;
      },
      // state_dict's `_metadata` attribute (module versions): not needed.
      build: (obj) => obj,
    },
    'torch._utils._rebuild_tensor_v2': rebuild,
    'torch._utils._rebuild_tensor': rebuild,
    'torch._utils._rebuild_parameter': (a) => a[0],
  };
  for (const name of Object.keys(STORAGE_DTYPES)) extraGlobals[`torch.${name}`] = {};

  let root: unknown;
  try {
    root = parsePickleBytes(pkl, { fileName: file, ...options, persistentLoad, extraGlobals });
  } catch (e) {
    if (e instanceof MmsaError && e.code === 'MSA6005') {
      throw new MmsaError(e.code, e.message, {
        hint: 'the checkpoint holds objects other than tensors (a whole pickled model?); save model.state_dict() or model.safetensors instead',
        details: e.details,
        cause: e,
      });
    }
    throw e;
  }
  if (!(root instanceof Map)) throw weightsError('MSA6806', file, `the pickle holds a ${typeof root}, not a dict of tensors (state_dict)`, TORCH_HINT);
  const out = new Map<string, TensorView>();
  for (const [k, v] of root) if (typeof k === 'string' && v instanceof TensorView) out.set(k, v);
  return out;
}

/** Tensor views -> StoredTensors whose bytes are views of their storage's bytes. */
export function bindTensors(views: ReadonlyMap<string, TensorView>, file: string): Map<string, StoredTensor> {
  const out = new Map<string, StoredTensor>();
  for (const [name, v] of views) {
    const bytes = v.storage.bytes;
    if (bytes === undefined) throw weightsError('MSA6806', file, `tensor '${name}': storage '${v.storage.key}' has no data in the file`, TORCH_HINT, { tensor: name });
    const start = v.offset * DTYPE_SIZE[v.storage.dtype];
    const span = spanBytes(v.storage.dtype, v.shape, v.strides);
    out.set(name, { name, dtype: v.storage.dtype, shape: v.shape, strides: v.strides, bytes: bytes.subarray(start, start + span), file });
  }
  return out;
}
