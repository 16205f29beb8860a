// pytorch_model.bin reader: the zip archive written by torch.save (>= 1.6), whose data.pkl refers to tensor
// storages by persistent ids. Only torch's tensor-rebuild globals are allowed, and only here. Phases 6-7.
import { MmsaError } from '../../errors.js';
import { parsePickleBytes, PyGlobal, type PickleGlobalHandler } from '../data/pickle/read-pickle.js';
import { DTYPE_SIZE, spanBytes, weightsError, type StoredDtype, type StoredTensor } from './tensor.js';
import { ZipReader } from './zip.js';

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

const HINT = 'the checkpoint is corrupt or was written by an unsupported torch version; convert it to model.safetensors';

class Storage {
  constructor(
    readonly dtype: StoredDtype,
    readonly bytes: Uint8Array,
    readonly key: string,
  ) {}
}

class TensorRef {
  constructor(readonly t: Omit<StoredTensor, 'name'>) {}
}

function intList(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || !v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0)) {
    throw new Error(`${what} must be a tuple of non-negative ints, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

/** True when the buffer starts like a zip archive (local file header "PK\x03\x04"). */
export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

/**
 * Reads the tensors of a torch.save zip archive held in memory. Tensor bytes are views into `buf` (stored entries,
 * as torch writes them) or into inflated copies. Non-tensor values of the top-level dict are ignored.
 */
export function readTorchBin(buf: Uint8Array, file = 'pytorch_model.bin'): Map<string, StoredTensor> {
  if (!isZip(buf)) {
    throw weightsError(
      'MSA6806',
      file,
      'not a zip archive: this looks like a legacy (torch < 1.6) torch.save file, which is not supported',
      'convert it once with Python: `torch.save(torch.load(f), f)` with torch >= 1.6, or save model.safetensors',
    );
  }
  const zip = new ZipReader(buf, file);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkl === undefined) throw weightsError('MSA6806', file, 'the archive has no data.pkl entry: not a torch.save checkpoint', HINT);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const storages = new Map<string, Storage>();

  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid.length < 5 || pid[0] !== 'storage') throw new Error(`unsupported persistent id ${JSON.stringify(pid)}`);
    const [, type, key, , numel] = pid as unknown[];
    if (!(type instanceof PyGlobal)) throw new Error('storage type is not a torch storage class');
    const dtype = STORAGE_DTYPES[type.name];
    if (dtype === undefined) throw new Error(`storage type ${type.qualified} is not supported`);
    if (typeof key !== 'string' || !/^[\w.-]+$/.test(key)) throw new Error(`bad storage key ${JSON.stringify(key)}`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw new Error(`bad storage size ${String(numel)}`);
    const cached = storages.get(key);
    if (cached) return cached;
    const entry = `${prefix}data/${key}`;
    const bytes = zip.read(entry);
    if (bytes.length < numel * DTYPE_SIZE[dtype]) {
      throw weightsError('MSA6806', file, `storage '${entry}' has ${bytes.length} bytes, ${numel} x ${dtype} needs ${numel * DTYPE_SIZE[dtype]}`, HINT);
    }
    const s = new Storage(dtype, bytes, key);
    storages.set(key, s);
    return s;
  };

  const rebuild = (a: unknown[]): TensorRef => {
    const [storage, offset, size, stride] = a;
    if (!(storage instanceof Storage)) throw new Error('first argument is not a storage');
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw new Error(`bad storage offset ${String(offset)}`);
    const shape = intList(size, 'size');
    const strides = intList(stride, 'stride');
    if (strides.length !== shape.length) throw new Error(`size has ${shape.length} dims but stride ${strides.length}`);
    const el = DTYPE_SIZE[storage.dtype];
    const start = offset * el;
    const span = spanBytes(storage.dtype, shape, strides);
    if (start + span > storage.bytes.length) throw new Error(`tensor view (offset ${offset}, size [${shape.join(', ')}]) runs past its storage '${storage.key}'`);
    return new TensorRef({ dtype: storage.dtype, shape, strides, bytes: storage.bytes.subarray(start, start + span), file });
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
    root = parsePickleBytes(zip.read(pkl), { fileName: `${file}:${pkl}`, persistentLoad, extraGlobals });
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
  if (!(root instanceof Map)) throw weightsError('MSA6806', file, `data.pkl holds a ${typeof root}, not a dict of tensors (state_dict)`, HINT);
  const out = new Map<string, StoredTensor>();
  for (const [k, v] of root) {
    if (typeof k === 'string' && v instanceof TensorRef) out.set(k, { name: k, ...v.t });
  }
  return out;
}
