// Checkpoint readers: safetensors (dtypes, corrupt headers), torch zip archives (strided / shared / offset storages,
// refused globals, legacy files), name normalisation, and the pickle VM's opt-in persistent ids and extra globals.
import { describe, expect, it } from 'vitest';
import { parsePickleBytes, PyGlobal } from '../../../src/runtime/data/pickle/read-pickle.js';
import { normaliseBertName } from '../../../src/runtime/weights/bert-checkpoint.js';
import { floatToHalf, readSafetensors, writeSafetensors } from '../../../src/runtime/weights/safetensors.js';
import { toFloat32 } from '../../../src/runtime/weights/tensor.js';
import { readTorchBin } from '../../../src/runtime/weights/torch-bin.js';
import { ZipReader } from '../../../src/runtime/weights/zip.js';
import { randomWeights, torchPickle, writeOldStyleBin, writeZip } from './helpers.js';
import { mmsaErrorOf } from '../../helpers/errors.js';

describe('safetensors', () => {
  it('round-trips F32 / F16 / I64 and converts BF16', () => {
    const buf = writeSafetensors(
      new Map([
        ['a', { shape: [2, 2], values: [1, -2.5, 3, 1e-3] }],
        ['h', { dtype: 'F16' as const, shape: [3], values: [0.5, -65504, 1e-5] }],
        ['i', { dtype: 'I64' as const, shape: [2], values: [7, -9] }],
      ]),
      { format: 'pt' },
    );
    expect(new DataView(buf.buffer).getBigUint64(0, true) % 8n).toBe(0n);
    const t = readSafetensors(buf);
    expect(Array.from(toFloat32(t.get('a')!))).toEqual(Array.from(Float32Array.from([1, -2.5, 3, 1e-3])));
    const h = toFloat32(t.get('h')!);
    expect(h[0]).toBe(0.5);
    expect(h[1]).toBe(-65504);
    expect(Math.abs(h[2]! - 1e-5)).toBeLessThan(1e-7);
    expect(Array.from(toFloat32(t.get('i')!))).toEqual([7, -9]);
    expect(floatToHalf(1)).toBe(0x3c00);
    // BF16 by hand: 1.5 = 0x3fc0, -2 = 0xc000
    const hdr = Buffer.from(JSON.stringify({ b: { dtype: 'BF16', shape: [2], data_offsets: [0, 4] } }));
    const raw = Buffer.concat([Buffer.alloc(8), hdr, Buffer.from([0xc0, 0x3f, 0x00, 0xc0])]);
    raw.writeBigUInt64LE(BigInt(hdr.length), 0);
    expect(Array.from(toFloat32(readSafetensors(new Uint8Array(raw)).get('b')!))).toEqual([1.5, -2]);
  });

  it('corrupt files name the file, the tensor and the offset', () => {
    const good = writeSafetensors(new Map([['w', { shape: [4], values: [1, 2, 3, 4] }]]));
    let e = mmsaErrorOf(() => readSafetensors(good.subarray(0, good.length - 4), 'x.safetensors'));
    expect(e.code).toBe('MSA6805');
    expect(e.message).toContain("x.safetensors: tensor 'w'");
    expect(e.message).toContain('past the end of the file');
    e = mmsaErrorOf(() => readSafetensors(good.subarray(0, 20), 'x.safetensors'));
    expect(e.message).toMatch(/header length \d+ at byte offset 0/);
    const hdr = Buffer.from(JSON.stringify({ w: { dtype: 'C64', shape: [1], data_offsets: [0, 8] } }));
    const raw = Buffer.concat([Buffer.alloc(8), hdr, Buffer.alloc(8)]);
    raw.writeBigUInt64LE(BigInt(hdr.length), 0);
    e = mmsaErrorOf(() => readSafetensors(new Uint8Array(raw)));
    expect(e.code).toBe('MSA6809');
    expect(e.message).toContain('"C64"');
  });
});

describe('pytorch_model.bin (torch.save zip)', () => {
  it('reads strided views, storage offsets, shared storages and int64 buffers', () => {
    const w = randomWeights(5);
    const t = readTorchBin(writeOldStyleBin(w));
    const q = w.get('encoder.layer.0.attention.self.query.weight')!;
    expect(Array.from(toFloat32(t.get('bert.encoder.layer.0.attention.self.query.weight')!))).toEqual(Array.from(q.values));
    expect(Array.from(toFloat32(t.get('bert.embeddings.LayerNorm.beta')!))).toEqual(Array.from(w.get('embeddings.LayerNorm.bias')!.values));
    const tied = t.get('cls.predictions.decoder.weight')!;
    expect(tied.bytes.buffer).toBe(t.get('bert.embeddings.word_embeddings.weight')!.bytes.buffer);
    expect(tied.bytes.byteOffset).toBe(t.get('bert.embeddings.word_embeddings.weight')!.bytes.byteOffset);
    expect(Array.from(toFloat32(t.get('bert.embeddings.position_ids')!)).slice(0, 4)).toEqual([0, 1, 2, 3]);
  });

  it('refuses globals other than the tensor-rebuild ones (no code runs)', () => {
    const pkl = Buffer.concat([Buffer.from('\x80\x02ctorch.nn.modules.linear\nLinear\n)R.', 'latin1')]);
    const zip = writeZip([['archive/data.pkl', new Uint8Array(pkl)]]);
    const e = mmsaErrorOf(() => readTorchBin(zip, 'model.bin'));
    expect(e.code).toBe('MSA6005');
    expect(e.message).toContain('forbidden global torch.nn.modules.linear.Linear');
    expect(e.hint).toContain('state_dict');
  });

  it('names legacy (pre-zip) files, missing storages and views past their storage', () => {
    expect(mmsaErrorOf(() => readTorchBin(new Uint8Array([0x80, 0x02, 0x8a, 0x0a]), 'old.bin')).message).toContain('legacy');
    const entry = { key: '0', storageType: 'FloatStorage' as const, storageNumel: 4, offset: 0, shape: [4], stride: [1] };
    const noData = writeZip([['archive/data.pkl', torchPickle([['w', entry]])]]);
    expect(mmsaErrorOf(() => readTorchBin(noData, 'm.bin')).message).toContain("entry 'archive/data/0' is missing");
    const shortView = writeZip([
      ['archive/data.pkl', torchPickle([['w', { ...entry, offset: 2 }]])],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    const e = mmsaErrorOf(() => readTorchBin(shortView, 'm.bin'));
    expect(e.code).toBe('MSA6009');
    expect(e.message).toContain('runs past its storage');
    expect(e.message).toMatch(/byte offset \d+/);
  });

  it('zip reader inflates deflated entries and checks sizes', () => {
    const data = new Uint8Array(1000).map((_, i) => i % 7);
    const z = new ZipReader(writeZip([['a', data], ['b', data]], new Set(['b'])), 'z.zip');
    expect(z.entries.get('b')!.method).toBe(8);
    expect(Array.from(z.read('b'))).toEqual(Array.from(data));
    expect(z.read('a').buffer).toBe(z.buf.buffer);
  });
});

describe('name normalisation', () => {
  it('accepts bert./module. prefixes and gamma/beta, drops heads and position_ids', () => {
    expect(normaliseBertName('bert.encoder.layer.3.output.LayerNorm.gamma')).toEqual({ local: 'encoder.layer.3.output.LayerNorm.weight' });
    expect(normaliseBertName('module.bert.embeddings.LayerNorm.beta')).toEqual({ local: 'embeddings.LayerNorm.bias' });
    expect(normaliseBertName('pooler.dense.weight')).toEqual({ local: 'pooler.dense.weight' });
    expect(normaliseBertName('cls.predictions.transform.dense.weight')).toEqual({ ignore: 'pre-training head' });
    expect(normaliseBertName('embeddings.position_ids')).toEqual({ ignore: 'position_ids buffer' });
    expect(normaliseBertName('classifier.weight')).toEqual({ ignore: 'not part of BertModel' });
  });
});

describe('pickle VM extensions are opt-in', () => {
  // ('storage', torch.FloatStorage, '0') BINPERSID, as torch writes it
  const pid = Buffer.from('\x80\x02(X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000tQ.', 'latin1');

  it('without options, persistent ids and torch globals are refused as before', () => {
    expect(mmsaErrorOf(() => parsePickleBytes(new Uint8Array(pid))).code).toBe('MSA6005');
    const onlyPid = Buffer.from('\x80\x02X\x01\x00\x00\x00xQ.', 'latin1');
    expect(mmsaErrorOf(() => parsePickleBytes(new Uint8Array(onlyPid))).code).toBe('MSA6003');
  });

  it('with them, the caller resolves exactly the ids and globals it names', () => {
    const seen: unknown[] = [];
    const v = parsePickleBytes(new Uint8Array(pid), {
      extraGlobals: { 'torch.FloatStorage': {} },
      persistentLoad: (p) => {
        seen.push(p);
        return 'resolved';
      },
    });
    expect(v).toBe('resolved');
    const p = seen[0] as unknown[];
    expect(p[0]).toBe('storage');
    expect((p[1] as PyGlobal).qualified).toBe('torch.FloatStorage');
    // a referenced-only global cannot be called; other torch names stay forbidden
    const call = Buffer.from('\x80\x02ctorch\nFloatStorage\n)R.', 'latin1');
    expect(mmsaErrorOf(() => parsePickleBytes(new Uint8Array(call), { extraGlobals: { 'torch.FloatStorage': {} } })).code).toBe('MSA6009');
    const other = Buffer.from('\x80\x02ctorch\nload\n)R.', 'latin1');
    expect(mmsaErrorOf(() => parsePickleBytes(new Uint8Array(other), { extraGlobals: { 'torch.FloatStorage': {} } })).code).toBe('MSA6005');
    // handler errors become MSA6009 with the offset
    const e = mmsaErrorOf(() =>
      parsePickleBytes(new Uint8Array(call), {
        extraGlobals: {
          'torch.FloatStorage': () => {
            throw new Error('nope');
          },
        },
      }),
    );
    expect(e.code).toBe('MSA6009');
    expect(e.message).toContain('nope');
  });
});
