// Hostile checkpoint archives (pytorch_model.bin as torch.save writes it, then tampered with), read by the built
// weights loader in a capped child: overlapping entries (a zip bomb), sizes that lie, duplicate names. Phases 6-7.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DEFLATE_RATIO } from '../../src/runtime/weights/zip.js';
import { closeZip, torchPickle, type BinTensor } from '../runtime/bert/helpers.js';
import { runCapped, tempDir, type ChildOutcome } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

interface Blob {
  name: string;
  method: 0 | 8;
  /** Bytes as stored (compressed for method 8). */
  body: Uint8Array;
  /** Uncompressed size written in the headers. */
  size: number;
}

/** Central directory entry: a name and the blob whose local header it points at (several may share one). */
interface Central {
  name: string;
  blob: number;
  /** Declared uncompressed size (default: the blob's). */
  size?: number;
}

function buildZip(blobs: Blob[], centrals: Central[]): Uint8Array {
  const parts: Buffer[] = [];
  const offsets: number[] = [];
  let off = 0;
  for (const b of blobs) {
    const name = Buffer.from(b.name);
    const h = Buffer.alloc(30);
    h.writeUInt32LE(0x04034b50, 0);
    h.writeUInt16LE(20, 4);
    h.writeUInt16LE(b.method, 8);
    h.writeUInt32LE(b.body.length, 18);
    h.writeUInt32LE(b.size, 22);
    h.writeUInt16LE(name.length, 26);
    offsets.push(off);
    parts.push(h, name, Buffer.from(b.body));
    off += 30 + name.length + b.body.length;
  }
  const cd: Buffer[] = [];
  for (const c of centrals) {
    const b = blobs[c.blob]!;
    const name = Buffer.from(c.name);
    const e = Buffer.alloc(46);
    e.writeUInt32LE(0x02014b50, 0);
    e.writeUInt16LE(20, 4);
    e.writeUInt16LE(20, 6);
    e.writeUInt16LE(b.method, 10);
    e.writeUInt32LE(b.body.length, 20);
    e.writeUInt32LE(c.size ?? b.size, 24);
    e.writeUInt16LE(name.length, 28);
    e.writeUInt32LE(offsets[c.blob]!, 42);
    cd.push(e, name);
  }
  return closeZip(parts, cd, centrals.length, off);
}

function tensor(key: string, numel: number): BinTensor {
  return { key, storageType: 'FloatStorage', storageNumel: numel, offset: 0, shape: [numel], stride: [1] };
}

function pkl(names: [string, number][]): Blob {
  const body = torchPickle(names.map(([k, n]) => [`w${k}`, tensor(k, n)]));
  return { name: 'archive/data.pkl', method: 0, body, size: body.length };
}

function save(name: string, zip: Uint8Array): string {
  const p = join(tmp.dir, name);
  writeFileSync(p, zip);
  return p;
}

function read(file: string): ChildOutcome<number> {
  return runCapped<number>(
    `const { readWeightsFile } = await mod('runtime/weights/bert-checkpoint.js'); return readWeightsFile(input.file).size;`,
    { file },
  );
}

const zeros = (n: number) => deflateRawSync(Buffer.alloc(n));

describe('checkpoint zips', () => {
  it('100 central-directory entries sharing one 37 MB deflated storage are refused before inflating (was 3.7 GB)', () => {
    const big = 37 * 1024 * 1024;
    const blob: Blob = { name: 'archive/data/0', method: 8, body: zeros(big), size: big };
    const keys = Array.from({ length: 100 }, (_, i) => String(i));
    const zip = buildZip([pkl(keys.map((k) => [k, big / 4])), blob], [{ name: 'archive/data.pkl', blob: 0 }, ...keys.map((k) => ({ name: `archive/data/${k}`, blob: 1 }))]);
    expect(zip.length).toBeLessThan(100 * 1024);
    const r = read(save('overlap-bomb.bin', zip));
    expect(r.crash).toBeUndefined();
    expect(r.error?.code).toBe('MSA6812');
    expect(r.error?.message).toMatch(/entries 'archive\/data\/\d+' and 'archive\/data\/\d+' overlap \(byte offset \d+\)/);
    expect(r.peakRssMiB).toBeLessThan(200);
  });

  it('an entry inflates to at most the size its header declares: equal reads, one byte less is refused', () => {
    const n = 1000;
    const body = zeros(4 * n);
    const ok = buildZip([pkl([['0', n]]), { name: 'archive/data/0', method: 8, body, size: 4 * n }], [{ name: 'archive/data.pkl', blob: 0 }, { name: 'archive/data/0', blob: 1 }]);
    expect(read(save('exact.bin', ok)).value).toBe(1);
    const lie = buildZip([pkl([['0', n - 1]]), { name: 'archive/data/0', method: 8, body, size: 4 * n - 1 }], [{ name: 'archive/data.pkl', blob: 0 }, { name: 'archive/data/0', blob: 1 }]);
    const r = read(save('lie.bin', lie));
    expect(r.error?.code).toBe('MSA6812');
    expect(r.error?.message).toContain(`entry 'archive/data/0' inflates to more than the ${4 * n - 1} bytes its header declares`);
  });

  it('a 50 MB bomb declared as 4 KB stops inflating at 4 KB', () => {
    const zip = buildZip([pkl([['0', 1000]]), { name: 'archive/data/0', method: 8, body: zeros(50 * 1024 * 1024), size: 4000 }], [{ name: 'archive/data.pkl', blob: 0 }, { name: 'archive/data/0', blob: 1 }]);
    const r = read(save('small-claim.bin', zip));
    expect(r.error?.code).toBe('MSA6812');
    expect(r.peakRssMiB).toBeLessThan(200);
  });

  it(`a declared size beyond deflate's ${MAX_DEFLATE_RATIO}:1 is refused before inflating; just within it is inflated and checked`, () => {
    const body = zeros(4000);
    const within = MAX_DEFLATE_RATIO * body.length + 64;
    const mk = (size: number) => buildZip([pkl([['0', 1000]]), { name: 'archive/data/0', method: 8, body, size }], [{ name: 'archive/data.pkl', blob: 0 }, { name: 'archive/data/0', blob: 1 }]);
    const a = read(save('ratio-ok.bin', mk(within)));
    expect(a.error?.code).toBe('MSA6806');
    expect(a.error?.message).toContain(`inflates to 4000 bytes, the directory says ${within}`);
    const b = read(save('ratio-over.bin', mk(within + 1)));
    expect(b.error?.code).toBe('MSA6812');
    expect(b.error?.message).toContain('more than deflate can');
  });

  it('a name listed twice in the central directory is refused', () => {
    const body = new Uint8Array(16);
    const zip = buildZip(
      [pkl([['0', 4]]), { name: 'archive/data/0', method: 0, body, size: 16 }, { name: 'archive/data/0', method: 0, body, size: 16 }],
      [{ name: 'archive/data.pkl', blob: 0 }, { name: 'archive/data/0', blob: 1 }, { name: 'archive/data/0', blob: 2 }],
    );
    const r = read(save('duplicate.bin', zip));
    expect(r.error?.code).toBe('MSA6812');
    expect(r.error?.message).toContain("names 'archive/data/0' twice");
  });
});
