// Renders the report's Vega-Lite specs headless: Vega-Lite compiles to Vega, Vega draws SVG (no browser, no canvas),
// and resvg rasterises that SVG to PNG with the system's fonts. Phase 8 (report).

import { Resvg } from '@resvg/resvg-js';
import { parse, View } from 'vega';
import { compile } from 'vega-lite';
import type { Spec } from './vega-specs.js';

/** SVG text of a spec (white background, sizes from the spec). */
export async function renderSvg(spec: Spec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** PNG bytes of a spec at `scale` times its size (2: sharp on high-density screens and in documents). */
export async function renderPng(spec: Spec, scale = 2): Promise<Uint8Array> {
  const svg = await renderSvg(spec);
  const r = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
  });
  return r.render().asPng();
}
