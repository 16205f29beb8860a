// Minimal zip reader (stored and deflated entries, zip64) for torch.save archives (pytorch_model.bin).
// Phases 6-7 (loading checkpoints). Reads from an in-memory buffer; stored entries are zero-copy views.
import { inflateRawSync } from 'node:zlib';
import { weightsError } from './tensor.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  headerOffset: number;
}

const HINT = 'the file is truncated or not a zip archive: re-download it (delete it from the cache) or re-save it with torch.save';

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly dv: DataView;

  constructor(
    readonly buf: Uint8Array,
    readonly file: string,
  ) {
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.readCentralDirectory();
  }

  private fail(message: string, offset?: number): never {
    throw weightsError('MSA6806', this.file, offset === undefined ? message : `${message} (byte offset ${offset})`, HINT, offset === undefined ? {} : { offset });
  }

  private u16(o: number): number {
    if (o + 2 > this.buf.length) this.fail('unexpected end of zip data', o);
    return this.dv.getUint16(o, true);
  }
  private u32(o: number): number {
    if (o + 4 > this.buf.length) this.fail('unexpected end of zip data', o);
    return this.dv.getUint32(o, true);
  }
  private u64(o: number): number {
    if (o + 8 > this.buf.length) this.fail('unexpected end of zip data', o);
    const v = this.dv.getBigUint64(o, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail('zip64 size/offset too large', o);
    return Number(v);
  }

  private readCentralDirectory(): void {
    const b = this.buf;
    // End of central directory: 22 bytes + comment (<= 65535), searched backwards.
    let eocd = -1;
    for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
      if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 0x05 && b[i + 3] === 0x06) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0) this.fail('no end-of-central-directory record: the archive is truncated or not a zip file');
    let count = this.u16(eocd + 10);
    let cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || this.u32(loc) !== 0x07064b50) this.fail('zip64 end-of-central-directory locator missing', loc);
      const z64 = this.u64(loc + 8);
      if (this.u32(z64) !== 0x06064b50) this.fail('zip64 end-of-central-directory record missing', z64);
      count = this.u64(z64 + 32);
      cdOffset = this.u64(z64 + 48);
    }
    let p = cdOffset;
    for (let k = 0; k < count; k++) {
      if (this.u32(p) !== 0x02014b50) this.fail(`central directory entry ${k} has a bad signature`, p);
      const method = this.u16(p + 10);
      let compressedSize = this.u32(p + 20);
      let size = this.u32(p + 24);
      const nameLen = this.u16(p + 28);
      const extraLen = this.u16(p + 30);
      const commentLen = this.u16(p + 32);
      let headerOffset = this.u32(p + 42);
      if (p + 46 + nameLen > b.length) this.fail('central directory entry name runs past the end of the file', p);
      const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
      // zip64 extended information: only the fields that are 0xffffffff above, in this order.
      let e = p + 46 + nameLen;
      const eEnd = e + extraLen;
      while (e + 4 <= eEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (id === 0x0001) {
          let q = e + 4;
          if (size === 0xffffffff) { size = this.u64(q); q += 8; }
          if (compressedSize === 0xffffffff) { compressedSize = this.u64(q); q += 8; }
          if (headerOffset === 0xffffffff) { headerOffset = this.u64(q); q += 8; }
        }
        e += 4 + len;
      }
      this.entries.set(name, { name, method, compressedSize, size, headerOffset });
      p = eEnd + commentLen;
    }
  }

  /** The entry's bytes (a view for stored entries, inflated for deflated ones). */
  read(name: string): Uint8Array {
    const en = this.entries.get(name);
    if (!en) this.fail(`entry '${name}' is missing from the archive`);
    const h = en.headerOffset;
    if (this.u32(h) !== 0x04034b50) this.fail(`local header of '${name}' has a bad signature`, h);
    const start = h + 30 + this.u16(h + 26) + this.u16(h + 28);
    const end = start + en.compressedSize;
    if (end > this.buf.length) this.fail(`entry '${name}' runs past the end of the file`, start);
    const raw = this.buf.subarray(start, end);
    if (en.method === 0) return raw;
    if (en.method === 8) {
      let out: Buffer;
      try {
        out = inflateRawSync(raw);
      } catch (e) {
        return this.fail(`entry '${name}' cannot be inflated: ${(e as Error).message}`, start);
      }
      if (out.length !== en.size) this.fail(`entry '${name}' inflates to ${out.length} bytes, the directory says ${en.size}`, start);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    return this.fail(`entry '${name}' uses compression method ${en.method}; only stored (0) and deflate (8) are supported`, h);
  }
}
