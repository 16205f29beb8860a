// Minimal zip reader (stored and deflated entries, zip64) for torch.save archives (pytorch_model.bin, .pth).
// Phases 6-7 (loading checkpoints). Reads from an in-memory buffer; stored entries are zero-copy views. Hostile
// archives are refused before anything is inflated: entries may not overlap (or share data), and an entry inflates to
// exactly the size its header declares, which deflate can reach from its compressed size (MSA6812).
import { inflateRawSync } from 'node:zlib';
import { printable } from '../../errors.js';
import { weightsError } from './tensor.js';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  headerOffset: number;
  /** Offset of the entry's data (after the local header). */
  dataOffset: number;
}

/**
 * The most deflate can expand: a run of one byte costs at least 258 bytes of output per ~2 bits, about 1032:1
 * (zlib's own figure); a header claiming more is a lie, and inflating it would be a bomb.
 */
export const MAX_DEFLATE_RATIO = 1032;

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

  private refuse(message: string, offset: number): never {
    throw weightsError('MSA6812', this.file, `${message} (byte offset ${offset})`, 'the archive is malformed or hostile (a zip bomb); torch.save never writes it like this: re-download the checkpoint or save it again', { offset });
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
      if (this.entries.has(name)) this.refuse(`central directory names '${printable(name, 100)}' twice`, p);
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
      if (headerOffset + 30 > cdOffset) this.fail(`entry '${printable(name, 100)}' starts inside the central directory`, p);
      if (this.u32(headerOffset) !== 0x04034b50) this.fail(`local header of '${printable(name, 100)}' has a bad signature`, headerOffset);
      const dataOffset = headerOffset + 30 + this.u16(headerOffset + 26) + this.u16(headerOffset + 28);
      this.entries.set(name, { name, method, compressedSize, size, headerOffset, dataOffset });
      p = eEnd + commentLen;
    }
    this.checkLayout(cdOffset);
  }

  /** Entries lie one after another, each wholly before the central directory: no two share bytes. */
  private checkLayout(cdOffset: number): void {
    const sorted = [...this.entries.values()].sort((a, b) => a.headerOffset - b.headerOffset);
    let end = 0;
    let prev: ZipEntry | undefined;
    for (const en of sorted) {
      if (prev !== undefined && en.headerOffset < end) {
        this.refuse(`entries '${printable(prev.name, 100)}' and '${printable(en.name, 100)}' overlap`, en.headerOffset);
      }
      end = en.dataOffset + en.compressedSize;
      if (end > cdOffset) this.refuse(`entry '${printable(en.name, 100)}' runs into the central directory`, en.headerOffset);
      prev = en;
    }
  }

  /** The entry's bytes (a view for stored entries, inflated for deflated ones). */
  read(name: string): Uint8Array {
    const en = this.entries.get(name);
    if (!en) this.fail(`entry '${name}' is missing from the archive`);
    const h = en.headerOffset;
    const start = en.dataOffset;
    const end = start + en.compressedSize;
    if (end > this.buf.length) this.fail(`entry '${name}' runs past the end of the file`, start);
    const raw = this.buf.subarray(start, end);
    if (en.method === 0) {
      if (en.size !== en.compressedSize) this.fail(`stored entry '${name}' declares ${en.size} bytes but holds ${en.compressedSize}`, h);
      return raw;
    }
    if (en.method === 8) {
      if (en.size > MAX_DEFLATE_RATIO * en.compressedSize + 64) {
        this.refuse(`entry '${name}' claims to inflate ${en.compressedSize} bytes to ${en.size}, more than deflate can (${MAX_DEFLATE_RATIO}:1)`, h);
      }
      let out: Buffer;
      try {
        // Inflating stops at the declared size: a bomb never gets to allocate what it would expand to.
        out = inflateRawSync(raw, { maxOutputLength: Math.max(1, en.size) });
      } catch (e) {
        const tooLong = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        if (tooLong) this.refuse(`entry '${name}' inflates to more than the ${en.size} bytes its header declares`, start);
        return this.fail(`entry '${name}' cannot be inflated: ${(e as Error).message}`, start);
      }
      if (out.length !== en.size) this.fail(`entry '${name}' inflates to ${out.length} bytes, the directory says ${en.size}`, start);
      return new Uint8Array(out.buffer, out.byteOffset, out.length);
    }
    return this.fail(`entry '${name}' uses compression method ${en.method}; only stored (0) and deflate (8) are supported`, h);
  }
}
