/**
 * Raster output of the CLI: SVG → PNG with resvg, labelled image grids (each image a PNG data URL from
 * `@fmnist/report`'s pure encoder), and images as terminal art.
 */
import { FONT, grayPngDataUrl, html, joinHtml, type SafeHtml } from '@fmnist/report';

/**
 * Renders SVG text to PNG bytes with resvg (system fonts; DejaVu Sans preferred).
 *
 * @param svg - a standalone SVG document (our own markup)
 * @param scale - zoom factor for a crisp image @defaultValue 2
 * @returns PNG bytes
 */
export async function svgToPng(svg: SafeHtml | string, scale = 2): Promise<Uint8Array> {
  const { Resvg } = await import('@resvg/resvg-js');
  const resvg = new Resvg(String(svg), {
    fitTo: { mode: 'zoom', value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    imageRendering: 1, // optimizeSpeed: nearest-neighbour upscaling keeps the 28×28 pixels sharp
    background: '#ffffff',
  });
  return resvg.render().asPng();
}

/** One tile of {@link imageGridSvg}. */
export interface GridItem {
  pixels: Uint8Array;
  /** First caption line. */
  label: string;
  /** Second caption line. */
  sublabel?: string;
  /** Caption colour. @defaultValue '#222' */
  color?: string;
}

/**
 * A labelled grid of 28×28 images as SVG (each image embedded as a PNG data URL, upscaled with nearest neighbour).
 *
 * @param items - the tiles
 * @param options - `columns` (default 10), `scale` (default 3), `title`
 * @returns SVG markup
 */
export function imageGridSvg(items: GridItem[], options: { columns?: number; scale?: number; title?: string } = {}): SafeHtml {
  const columns = Math.max(1, Math.min(options.columns ?? 10, items.length));
  const size = 28 * (options.scale ?? 3);
  const captionH = items.some((i) => i.sublabel) ? 30 : 17;
  const cellW = Math.max(size, 96) + 8;
  const cellH = size + captionH + 10;
  const top = options.title ? 30 : 6;
  const rows = Math.ceil(items.length / columns);
  const W = columns * cellW + 8;
  const H = top + rows * cellH + 4;
  const out: SafeHtml[] = [html`<rect width="${W}" height="${H}" fill="#fff"/>`];
  if (options.title)
    out.push(html`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold" fill="#111">${options.title}</text>`);
  for (const [k, item] of items.entries()) {
    const x = 4 + (k % columns) * cellW;
    const y = top + Math.floor(k / columns) * cellH;
    const href = grayPngDataUrl(item.pixels);
    const ix = x + (cellW - size) / 2;
    out.push(
      html`<image x="${ix}" y="${y}" width="${size}" height="${size}" href="${href}" image-rendering="optimizeSpeed" style="image-rendering:pixelated" preserveAspectRatio="none"/>`,
    );
    out.push(
      html`<text x="${x + cellW / 2}" y="${y + size + 13}" text-anchor="middle" font-size="11" fill="${item.color ?? '#222'}">${item.label}</text>`,
    );
    if (item.sublabel) {
      out.push(
        html`<text x="${x + cellW / 2}" y="${y + size + 26}" text-anchor="middle" font-size="10" fill="${item.color ?? '#555'}">${item.sublabel}</text>`,
      );
    }
  }
  return html`<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${FONT}">${joinHtml(out, '\n')}</svg>`;
}

const RAMP = ' .:-=+*#%@';

/**
 * An image as terminal art: on a colour terminal, 24-bit grey half blocks (two pixel rows per line); otherwise an
 * ASCII ramp (`' .:-=+*#%@'`), one character per pixel pair horizontally squeezed to keep the aspect.
 *
 * @param pixels - 28×28 grayscale bytes
 * @param color - use ANSI colours
 * @returns lines of text
 */
export function terminalArt(pixels: Uint8Array, color: boolean, width = 28, height = 28): string[] {
  const lines: string[] = [];
  if (color) {
    for (let r = 0; r < height; r += 2) {
      let line = '';
      for (let c = 0; c < width; c++) {
        const top = pixels[r * width + c] as number;
        const bottom = r + 1 < height ? (pixels[(r + 1) * width + c] as number) : 0;
        line += `\x1b[38;2;${top};${top};${top}m\x1b[48;2;${bottom};${bottom};${bottom}m▀`;
      }
      lines.push(`${line}\x1b[0m`);
    }
    return lines;
  }
  for (let r = 0; r < height; r += 2) {
    let line = '';
    for (let c = 0; c < width; c++) {
      const v = ((pixels[r * width + c] as number) + (r + 1 < height ? (pixels[(r + 1) * width + c] as number) : 0)) / 2;
      line += RAMP[Math.min(RAMP.length - 1, Math.floor((v / 256) * RAMP.length))];
    }
    lines.push(line.trimEnd());
  }
  return lines;
}
