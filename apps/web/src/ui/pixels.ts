/** Showing 28×28 images (the model's input) on canvases. */

import { IMAGE_SIZE } from '@fmnist/classify';
import { IMAGE_PIXELS } from '@fmnist/data';

/**
 * Draws 784 gray bytes on a canvas of 28×28 pixels (scaled up by CSS with `image-rendering: pixelated`).
 *
 * @param canvas - a canvas; its size is set to 28×28
 * @param pixels - 784 bytes, row-major
 *
 * @example
 * ```ts
 * drawPixels(byId<HTMLCanvasElement>('draw-input'), prepared.pixels);
 * ```
 */
export function drawPixels(canvas: HTMLCanvasElement, pixels: Uint8Array): void {
  if (canvas.width !== IMAGE_SIZE) canvas.width = IMAGE_SIZE;
  if (canvas.height !== IMAGE_SIZE) canvas.height = IMAGE_SIZE;
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  const img = ctx.createImageData(IMAGE_SIZE, IMAGE_SIZE);
  for (let i = 0; i < IMAGE_PIXELS; i++) {
    const v = pixels[i] as number;
    img.data[i * 4] = v;
    img.data[i * 4 + 1] = v;
    img.data[i * 4 + 2] = v;
    img.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

/**
 * A new canvas showing test image `index` of a split.
 *
 * @param images - `count × 784` bytes
 * @param index - which image
 * @param className - CSS class
 * @returns the canvas
 *
 * @example
 * ```ts
 * grid.append(imageCanvas(test.images, 42, 'thumb'));
 * ```
 */
export function imageCanvas(images: Uint8Array, index: number, className = 'pixels'): HTMLCanvasElement {
  const canvas = document.createElement('canvas');
  canvas.className = className;
  canvas.setAttribute('aria-hidden', 'true');
  drawPixels(canvas, images.subarray(index * IMAGE_PIXELS, (index + 1) * IMAGE_PIXELS));
  return canvas;
}
