// torch.save files as MMSA writes them (zip and the legacy pickle sequence, from the committed MMSA checkpoints) and
// hostile ones: a truncated zip, no data.pkl, globals outside the allow-list, truncated storages, views past their
// storage. Every failure is an MmsaError naming the file and the place.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../../../src/paths.js';
import { toFloat32 } from '../../../src/runtime/weights/tensor.js';
import { readTorchBin, torchFormat } from '../../../src/runtime/weights/torch-bin.js';
import { torchPickle, writeZip, type BinTensor } from '../bert/helpers.js';
import { mmsaErrorOf } from '../../helpers/errors.js';

const fixtures = join(packageRoot(), 'test/fixtures/mmsa-checkpoints');
const bytesOf = (p: string) => new Uint8Array(readFileSync(join(fixtures, p)));

const latin1 = (s: string) => [...Buffer.from(s, 'latin1')];
// torch/serialization.py's MAGIC_NUMBER 0x1950a86a20f9469cfc6c as a pickled LONG1, then PROTOCOL_VERSION 1001 and
// the system info dict, each its own protocol-2 pickle, as torch's legacy writer starts a file.
const MAGIC = [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
const PROTOCOL = [0x80, 0x02, 0x4d, 0xe9, 0x03, 0x2e];
const SYS_INFO = [0x80, 0x02, 0x7d, 0x28, ...latin1('X\x0d\x00\x00\x00little_endian'), 0x88, 0x75, 0x2e];

/** A legacy torch.save file: header pickles, the object pickle, the storage key list, then each storage. */
function legacyFile(main: Uint8Array, storages: [string, number, Uint8Array][]): Uint8Array {
  const keys = [0x80, 0x02, 0x5d, 0x28, ...storages.flatMap(([k]) => [0x58, k.length, 0, 0, 0, ...latin1(k)]), 0x65, 0x2e];
  const parts: number[] = [...MAGIC, ...PROTOCOL, ...SYS_INFO, ...main, ...keys];
  for (const [, numel, data] of storages) {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setBigInt64(0, BigInt(numel), true);
    parts.push(...n, ...data);
  }
  return Uint8Array.from(parts);
}

const f32 = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer);
const w: BinTensor = { key: '0', storageType: 'FloatStorage', storageNumel: 4, offset: 0, shape: [2, 2], stride: [2, 1] };

describe('MMSA checkpoints as torch writes them', () => {
  it('reads the zip and the legacy file of the same state_dict to the same tensors', () => {
    const zip = bytesOf('lf_dnn_mosi/checkpoint.pth');
    const legacy = bytesOf('lf_dnn_mosi/checkpoint.legacy.pth');
    expect([torchFormat(zip), torchFormat(legacy)]).toEqual(['zip', 'legacy']);
    const a = readTorchBin(zip, 'a.pth');
    const b = readTorchBin(legacy, 'b.pth');
    const expected = JSON.parse(readFileSync(join(fixtures, 'lf_dnn_mosi/expected.json'), 'utf8')) as { state_dict: Record<string, number[]> };
    expect([...a.keys()]).toEqual(Object.keys(expected.state_dict));
    expect([...b.keys()]).toEqual([...a.keys()]);
    for (const [k, t] of a) {
      expect(t.shape, k).toEqual(expected.state_dict[k]);
      expect(b.get(k)!.shape).toEqual(t.shape);
      expect(Array.from(toFloat32(b.get(k)!)), k).toEqual(Array.from(toFloat32(t)));
    }
    // BatchNorm's batch counter is a 0-d int64 tensor: 3 epochs x 1 batch of 48 samples.
    const n = b.get('Model.audio_subnet.norm.num_batches_tracked')!;
    expect([n.dtype, n.shape, Array.from(toFloat32(n))]).toEqual(['I64', [], [3]]);
    expect(Array.from(toFloat32(a.get('Model.audio_subnet.norm.running_var')!)).every((x) => x > 0)).toBe(true);
  });

  it('reads a hand-made legacy file with a shared storage and an offset view', () => {
    const main = torchPickle([
      ['a', w],
      ['b', { ...w, offset: 2, shape: [2], stride: [1] }],
    ]);
    const t = readTorchBin(legacyFile(main, [['0', 4, f32([1, 2, 3, 4])]]), 'x.pth');
    expect(Array.from(toFloat32(t.get('a')!))).toEqual([1, 2, 3, 4]);
    expect(Array.from(toFloat32(t.get('b')!))).toEqual([3, 4]);
  });
});

describe('hostile files get located errors', () => {
  it('a zip cut short: no central directory', () => {
    const zip = bytesOf('tfn_mosi/checkpoint.pth');
    const e = mmsaErrorOf(() => readTorchBin(zip.subarray(0, zip.length - 200), 'cut.pth'));
    expect(e.code).toBe('MSA6806');
    expect(e.message).toMatch(/^cut\.pth: no end-of-central-directory record/);
  });

  it('a zip without data.pkl', () => {
    const e = mmsaErrorOf(() => readTorchBin(writeZip([['archive/version', new Uint8Array([0x33])]]), 'nopkl.pth'));
    expect(e.code).toBe('MSA6806');
    expect(e.message).toContain('nopkl.pth: the archive has no data.pkl entry');
  });

  it('neither zip nor pickle', () => {
    const e = mmsaErrorOf(() => readTorchBin(new TextEncoder().encode('{"weights": []}'), 'model.json'));
    expect(e.code).toBe('MSA6806');
    expect(e.message).toContain('neither a zip archive');
  });

  it('a GLOBAL outside the allow-list, in a zip and in a legacy file: refused, never called', () => {
    const evil = Uint8Array.from([0x80, 0x02, ...latin1('cos\nsystem\n'), ...latin1('X\x04\x00\x00\x00echo'), 0x85, 0x52, 0x2e]);
    const z = mmsaErrorOf(() => readTorchBin(writeZip([['archive/data.pkl', evil]]), 'evil.pth'));
    expect(z.code).toBe('MSA6005');
    expect(z.message).toMatch(/evil\.pth:archive\/data\.pkl: forbidden global os\.system:.*\[byte offset 2, opcode GLOBAL/);
    const l = mmsaErrorOf(() => readTorchBin(legacyFile(evil, []), 'evil-legacy.pth'));
    expect(l.code).toBe('MSA6005');
    expect(l.message).toMatch(/evil-legacy\.pth \(state_dict, the pickle at byte offset 46\): forbidden global os\.system/);
    expect(l.hint).toContain('state_dict');
  });

  it('storages cut short: a zip entry and the end of a legacy file', () => {
    const short = writeZip([['archive/data.pkl', torchPickle([['w', w]])], ['archive/data/0', f32([1, 2])]]);
    const z = mmsaErrorOf(() => readTorchBin(short, 's.pth'));
    expect(z.code).toBe('MSA6806');
    expect(z.message).toContain("storage 'archive/data/0' has 8 bytes, 4 x F32 needs 16");
    const legacy = bytesOf('lf_dnn_mosi/checkpoint.legacy.pth');
    const l = mmsaErrorOf(() => readTorchBin(legacy.subarray(0, legacy.length - 10), 'cut-legacy.pth'));
    expect(l.code).toBe('MSA6806');
    expect(l.message).toMatch(/cut-legacy\.pth: legacy torch\.save file: storage '\d+' needs \d+ bytes, the file has \d+ left \(truncated\) \(byte offset \d+\)/);
  });

  it('a storage whose size disagrees with its tensors, and a view past its storage', () => {
    const main = torchPickle([['w', w]]);
    const l = mmsaErrorOf(() => readTorchBin(legacyFile(main, [['0', 3, f32([1, 2, 3])]]), 'n.pth'));
    expect(l.code).toBe('MSA6806');
    expect(l.message).toContain("storage '0' holds 3 elements, its tensors were saved with 4");
    const past = torchPickle([['w', { ...w, shape: [3, 2] }]]);
    const e = mmsaErrorOf(() => readTorchBin(legacyFile(past, [['0', 4, f32([1, 2, 3, 4])]]), 'v.pth'));
    expect(e.code).toBe('MSA6009');
    expect(e.message).toMatch(/v\.pth \(state_dict, the pickle at byte offset 46\): .*runs past its storage '0'.*\[byte offset \d+/);
  });

  it('a legacy file whose first pickle is not the magic number', () => {
    const notMagic = Uint8Array.from([0x80, 0x02, 0x4b, 0x07, 0x2e, ...PROTOCOL]);
    const e = mmsaErrorOf(() => readTorchBin(notMagic, 'seven.pth'));
    expect(e.code).toBe('MSA6806');
    expect(e.message).toContain("seven.pth: legacy torch.save file: it does not start with torch's magic number");
  });
});
