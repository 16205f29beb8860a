// Scene -> PNG without a browser: an anti-aliased rasteriser for lines, dots, rectangles and bitmap text, and a
// minimal PNG encoder (8-bit RGB, zlib from node:zlib, own CRC-32). Phase 8 (report).

import { crc32, deflateSync } from 'node:zlib';
import { glyph, GLYPH_H, GLYPH_W } from './font.js';
import type { Prim, Scene } from './scene.js';

export class Raster {
  readonly data: Float32Array;
  constructor(
    readonly w: number,
    readonly h: number,
  ) {
    this.data = new Float32Array(w * h * 3).fill(1);
  }

  /** Blends a colour into a pixel with coverage a in [0, 1]. */
  blend(x: number, y: number, c: [number, number, number], a: number): void {
    if (a <= 0 || x < 0 || y < 0 || x >= this.w || y >= this.h) return;
    const i = (y * this.w + x) * 3;
    const k = Math.min(1, a);
    for (let j = 0; j < 3; j++) this.data[i + j] = this.data[i + j]! * (1 - k) + c[j]! * k;
  }

  get(x: number, y: number): [number, number, number] {
    const i = (y * this.w + x) * 3;
    return [this.data[i]!, this.data[i + 1]!, this.data[i + 2]!];
  }
}

export function parseColor(s: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(s);
  if (!m) return [0, 0, 0];
  return [parseInt(m[1]!, 16) / 255, parseInt(m[2]!, 16) / 255, parseInt(m[3]!, 16) / 255];
}

function segment(r: Raster, x1: number, y1: number, x2: number, y2: number, width: number, c: [number, number, number]): void {
  const hw = width / 2;
  const minX = Math.max(0, Math.floor(Math.min(x1, x2) - hw - 1));
  const maxX = Math.min(r.w - 1, Math.ceil(Math.max(x1, x2) + hw + 1));
  const minY = Math.max(0, Math.floor(Math.min(y1, y2) - hw - 1));
  const maxY = Math.min(r.h - 1, Math.ceil(Math.max(y1, y2) + hw + 1));
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len2 = dx * dx + dy * dy;
  for (let y = minY; y <= maxY; y++) {
    for (let x = minX; x <= maxX; x++) {
      // Distance from the pixel centre to the segment; coverage falls off over one pixel (anti-aliasing).
      const px = x + 0.5;
      const py = y + 0.5;
      const t = len2 > 0 ? Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / len2)) : 0;
      const d = Math.hypot(px - (x1 + t * dx), py - (y1 + t * dy));
      r.blend(x, y, c, Math.max(0, Math.min(1, hw + 0.5 - d)));
    }
  }
}

function disc(r: Raster, cx: number, cy: number, rad: number, c: [number, number, number], opacity: number): void {
  for (let y = Math.max(0, Math.floor(cy - rad - 1)); y <= Math.min(r.h - 1, Math.ceil(cy + rad + 1)); y++) {
    for (let x = Math.max(0, Math.floor(cx - rad - 1)); x <= Math.min(r.w - 1, Math.ceil(cx + rad + 1)); x++) {
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      r.blend(x, y, c, Math.max(0, Math.min(1, rad + 0.5 - d)) * opacity);
    }
  }
}

function rect(r: Raster, x: number, y: number, w: number, h: number, c: [number, number, number], opacity: number): void {
  for (let yy = Math.max(0, Math.round(y)); yy < Math.min(r.h, Math.round(y + h)); yy++) {
    for (let xx = Math.max(0, Math.round(x)); xx < Math.min(r.w, Math.round(x + w)); xx++) r.blend(xx, yy, c, opacity);
  }
}

/** Bitmap text; `size` is the nominal font size in scene pixels (the 7-pixel glyph is scaled to about 0.7 of it). */
function text(r: Raster, p: Extract<Prim, { t: 'text' }>, scale: number): void {
  const px = Math.max(1, Math.floor((p.size * scale * 0.7) / GLYPH_H));
  const adv = (GLYPH_W + 1) * px;
  const total = p.s.length * adv - px;
  const c = parseColor(p.color);
  const x0 = p.x * scale;
  const base = p.y * scale;
  // Along the text direction the run starts at `start`; the glyph box sits above the baseline.
  const start = p.anchor === 'start' ? 0 : p.anchor === 'middle' ? -total / 2 : -total;
  for (let k = 0; k < p.s.length; k++) {
    const g = glyph(p.s[k]!);
    for (let gy = 0; gy < GLYPH_H; gy++) {
      for (let gx = 0; gx < GLYPH_W; gx++) {
        if (!g[gy]![gx]) continue;
        const u = start + k * adv + gx * px;
        const v = -GLYPH_H * px + gy * px;
        for (let a = 0; a < px; a++) {
          for (let b = 0; b < px; b++) {
            // Rotated text (y-axis labels) runs bottom to top.
            const X = p.rotate ? x0 + v + b : x0 + u + a;
            const Y = p.rotate ? base - (u + a) : base + v + b;
            r.blend(Math.round(X), Math.round(Y), c, 1);
          }
        }
      }
    }
  }
}

/** Draws a scene at `scale` (2 gives crisp images for papers). */
export function rasterize(s: Scene, scale = 2): Raster {
  const r = new Raster(Math.round(s.w * scale), Math.round(s.h * scale));
  for (const p of s.prims) {
    switch (p.t) {
      case 'line':
        segment(r, p.x1 * scale, p.y1 * scale, p.x2 * scale, p.y2 * scale, p.width * scale, parseColor(p.color));
        break;
      case 'poly':
        for (let i = 1; i < p.pts.length; i++) {
          const [a, b] = [p.pts[i - 1]!, p.pts[i]!];
          segment(r, a[0] * scale, a[1] * scale, b[0] * scale, b[1] * scale, p.width * scale, parseColor(p.color));
        }
        break;
      case 'circle':
        disc(r, p.x * scale, p.y * scale, p.r * scale, parseColor(p.color), p.opacity);
        break;
      case 'rect':
        rect(r, p.x * scale, p.y * scale, p.w * scale, p.h * scale, parseColor(p.color), p.opacity);
        break;
      case 'text':
        text(r, p, scale);
        break;
    }
  }
  return r;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const body = Buffer.concat([head.subarray(4), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([head.subarray(0, 4), body, crc]);
}

/** 8-bit RGB PNG, filter type 0 on every row. */
export function encodePng(r: Raster): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(r.w, 0);
  ihdr.writeUInt32BE(r.h, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  const raw = Buffer.alloc(r.h * (1 + r.w * 3));
  for (let y = 0; y < r.h; y++) {
    const o = y * (1 + r.w * 3);
    raw[o] = 0;
    for (let i = 0; i < r.w * 3; i++) raw[o + 1 + i] = Math.round(Math.max(0, Math.min(1, r.data[y * r.w * 3 + i]!)) * 255);
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))]);
}

export function sceneToPng(s: Scene, scale = 2): Buffer {
  return encodePng(rasterize(s, scale));
}
