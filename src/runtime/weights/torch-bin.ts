// torch.save reader (pytorch_model.bin, MMSA's .pth): the zip archive written by torch >= 1.6, whose data.pkl refers
// to tensor storages by persistent ids, or the legacy format before it (torch-legacy.ts). Phases 6-7 (loading checkpoints).
import { DTYPE_SIZE, weightsError, type StoredTensor } from './tensor.js';
import { readTorchLegacy } from './torch-legacy.js';
import { bindTensors, storageOfPid, TORCH_HINT, TorchStorage, unpickleTorch } from './torch-pickle.js';
import { ZipReader } from './zip.js';

/** True when the buffer starts like a zip archive (local file header "PK\x03\x04"). */
export function isZip(buf: Uint8Array): boolean {
  return buf.length >= 4 && buf[0] === 0x50 && buf[1] === 0x4b && buf[2] === 0x03 && buf[3] === 0x04;
}

function readTorchZip(buf: Uint8Array, file: string): Map<string, StoredTensor> {
  const zip = new ZipReader(buf, file);
  const pkl = [...zip.entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (pkl === undefined) throw weightsError('MSA6806', file, 'the archive has no data.pkl entry: not a torch.save checkpoint', TORCH_HINT);
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const order = [...zip.entries.keys()].find((n) => n === `${prefix}byteorder`);
  if (order !== undefined && new TextDecoder().decode(zip.read(order)).trim() !== 'little') {
    throw weightsError('MSA6806', file, `'${order}' says the tensors are big-endian, which is not supported`, 'save the checkpoint on a little-endian machine');
  }
  const storages = new Map<string, TorchStorage>();
  const persistentLoad = (pid: unknown): TorchStorage => {
    const s = storageOfPid(pid);
    const cached = storages.get(s.key);
    if (cached) return cached;
    const entry = `${prefix}data/${s.key}`;
    const bytes = zip.read(entry);
    if (bytes.length < s.numel * DTYPE_SIZE[s.dtype]) {
      throw weightsError('MSA6806', file, `storage '${entry}' has ${bytes.length} bytes, ${s.numel} x ${s.dtype} needs ${s.numel * DTYPE_SIZE[s.dtype]}`, TORCH_HINT);
    }
    s.bytes = bytes;
    storages.set(s.key, s);
    return s;
  };
  return bindTensors(unpickleTorch(zip.read(pkl), file, persistentLoad, { fileName: `${file}:${pkl}` }), file);
}

/** Which torch.save format a file is in: the zip archive (torch >= 1.6) or the legacy sequence of pickles. */
export function torchFormat(buf: Uint8Array): 'zip' | 'legacy' | undefined {
  if (isZip(buf)) return 'zip';
  // The legacy format starts with a pickled magic number (PROTO opcode first, protocol 2 by default).
  if (buf.length >= 2 && buf[0] === 0x80) return 'legacy';
  return undefined;
}

/**
 * Reads the tensors of a torch.save file held in memory, zip or legacy. Tensor bytes are views into `buf` (zip
 * entries stored, as torch writes them; legacy storages) or into inflated copies.
 */
export function readTorchBin(buf: Uint8Array, file = 'pytorch_model.bin'): Map<string, StoredTensor> {
  const format = torchFormat(buf);
  if (format === 'zip') return readTorchZip(buf, file);
  if (format === 'legacy') return readTorchLegacy(buf, file);
  throw weightsError(
    'MSA6806',
    file,
    'neither a zip archive (torch.save since torch 1.6) nor a legacy torch.save file (a pickle sequence)',
    'pass the file written by torch.save(model.state_dict(), path); safetensors files need the .safetensors extension',
  );
}
