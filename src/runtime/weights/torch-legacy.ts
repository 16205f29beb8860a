// The legacy torch.save format (torch < 1.6, or `_use_new_zipfile_serialization=False`): five pickles in a row (magic
// number, protocol version, system info, the object, its storage keys), then each storage's element count and raw
// bytes. Read through the same safe pickle VM and tensor rebuild as the zip format. Phases 6-7 (loading checkpoints).
import { MmsaError } from '../../errors.js';
import { parsePickleBytes, type ReadPickleOptions } from '../data/pickle/read-pickle.js';
import { DTYPE_SIZE, weightsError, type StoredTensor } from './tensor.js';
import { bindTensors, storageOfPid, TORCH_HINT, TorchStorage, unpickleTorch } from './torch-pickle.js';

/** torch/serialization.py's MAGIC_NUMBER and PROTOCOL_VERSION. */
const MAGIC = 0x1950a86a20f9469cfc6cn;
const PROTOCOL = 1001;

export function readTorchLegacy(buf: Uint8Array, file: string): Map<string, StoredTensor> {
  let off = 0;
  const fail = (message: string, at = off): never => {
    throw weightsError('MSA6806', file, `legacy torch.save file: ${message} (byte offset ${at})`, TORCH_HINT, { offset: at });
  };
  /** Parses the pickle at `off` and moves past it; the VM reports its STOP position as the highest offset read. */
  const next = <T>(what: string, parse: (bytes: Uint8Array, o: ReadPickleOptions) => T): T => {
    const start = off;
    let end = start;
    const value = parse(buf.subarray(start), {
      fileName: `${file} (${what}, the pickle at byte offset ${start})`,
      onProgress: (p) => {
        end = Math.max(end, start + p);
      },
    });
    if (end <= start) fail(`the ${what} pickle has no end`, start);
    off = end;
    return value;
  };
  const plain = (bytes: Uint8Array, o: ReadPickleOptions) => parsePickleBytes(bytes, o);

  let magic: unknown;
  try {
    magic = next('magic number', plain);
  } catch (e) {
    if (e instanceof MmsaError) fail(`it does not start with torch's magic number (${e.message})`, 0);
    throw e;
  }
  if (magic !== MAGIC) fail('it does not start with torch\'s magic number: not a torch.save file', 0);
  const protocol = next('protocol version', plain);
  if (protocol !== PROTOCOL) fail(`protocol version ${String(protocol)} is not ${PROTOCOL}`);
  const sysInfo = next('system info', plain);
  if (!(sysInfo instanceof Map) || sysInfo.get('little_endian') !== true) fail('the tensors are big-endian (or the system info is missing), which is not supported');

  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    const s = storageOfPid(pid);
    const view = (pid as unknown[])[5];
    if (view !== null && view !== undefined) throw new Error(`storage '${s.key}' is a view of another storage (torch < 0.4), which is not supported`);
    const cached = storages.get(s.key);
    if (cached) return cached;
    storages.set(s.key, s);
    return s;
  };
  const views = next('state_dict', (bytes, o) => unpickleTorch(bytes, file, persistentLoad, o));
  const keys = next('storage keys', plain);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) fail('the storage key list is not a list of str');

  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (const key of keys as string[]) {
    const s = storages.get(key);
    if (s === undefined) fail(`storage '${key}' is listed but no tensor uses it`);
    if (off + 8 > buf.length) fail(`storage '${key}': the file ends before its size (truncated)`);
    const numel = Number(dv.getBigInt64(off, true));
    if (numel !== s!.numel) fail(`storage '${key}' holds ${numel} elements, its tensors were saved with ${s!.numel}`);
    const nbytes = numel * DTYPE_SIZE[s!.dtype];
    if (off + 8 + nbytes > buf.length) fail(`storage '${key}' needs ${nbytes} bytes, the file has ${buf.length - off - 8} left (truncated)`);
    s!.bytes = buf.subarray(off + 8, off + 8 + nbytes);
    off += 8 + nbytes;
  }
  return bindTensors(views, file);
}
