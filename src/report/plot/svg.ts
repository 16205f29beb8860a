// Scene -> standalone inline SVG (no external fonts or scripts: the HTML report must open offline).
// Phase 8 (report).

import type { Scene } from './scene.js';

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const n = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

export function sceneToSvg(s: Scene): string {
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${s.w} ${s.h}" width="${s.w}" height="${s.h}" role="img" aria-label="${escapeXml(s.title)}" font-family="sans-serif">`,
    `<title>${escapeXml(s.title)}</title>`,
  ];
  for (const p of s.prims) {
    switch (p.t) {
      case 'line':
        parts.push(`<line x1="${n(p.x1)}" y1="${n(p.y1)}" x2="${n(p.x2)}" y2="${n(p.y2)}" stroke="${p.color}" stroke-width="${p.width}"/>`);
        break;
      case 'poly':
        parts.push(`<polyline fill="none" stroke="${p.color}" stroke-width="${p.width}" points="${p.pts.map(([x, y]) => `${n(x)},${n(y)}`).join(' ')}"/>`);
        break;
      case 'circle':
        parts.push(`<circle cx="${n(p.x)}" cy="${n(p.y)}" r="${p.r}" fill="${p.color}"${p.opacity < 1 ? ` fill-opacity="${p.opacity}"` : ''}/>`);
        break;
      case 'rect':
        parts.push(`<rect x="${n(p.x)}" y="${n(p.y)}" width="${n(p.w)}" height="${n(p.h)}" fill="${p.color}"${p.opacity < 1 ? ` fill-opacity="${p.opacity}"` : ''}/>`);
        break;
      case 'text': {
        const anchor = p.anchor === 'start' ? '' : ` text-anchor="${p.anchor}"`;
        const rot = p.rotate ? ` transform="rotate(-90 ${n(p.x)} ${n(p.y)})"` : '';
        parts.push(`<text x="${n(p.x)}" y="${n(p.y)}" font-size="${p.size}" fill="${p.color}"${anchor}${rot}>${escapeXml(p.s)}</text>`);
        break;
      }
    }
  }
  parts.push('</svg>');
  return parts.join('\n');
}
