/**
 * Upload: drop or pick a photo; it is converted as `fmnist predict` converts it (grayscale, fitted into 28×28, inverted
 * on request or automatically) and classified.
 */

import { type InvertMode, prepareImage, type RgbaImage, toModelInput } from '@fmnist/classify';
import type { App } from '../app';
import { byId, makeDropZone } from '../ui/dom';
import { drawPixels } from '../ui/pixels';
import { renderProbabilities } from '../ui/probability-bars';

/** Larger photos are scaled down by the browser to this many pixels on the long side before preprocessing. */
export const MAX_PHOTO_SIDE_PX = 2048;

/**
 * Decodes an image file (EXIF orientation applied) into RGBA pixels.
 *
 * @param file - a PNG, JPEG, WebP, GIF, AVIF or BMP file
 * @returns the pixels
 * @throws Error when the browser cannot decode it
 */
async function decodeImage(file: Blob): Promise<RgbaImage> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  } catch (err) {
    throw new Error('this browser cannot decode it as an image. Use a PNG, JPEG, WebP or GIF file.', { cause: err });
  }
  const scale = Math.min(1, MAX_PHOTO_SIDE_PX / Math.max(bitmap.width, bitmap.height));
  const width = Math.max(1, Math.round(bitmap.width * scale));
  const height = Math.max(1, Math.round(bitmap.height * scale));
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true }) as OffscreenCanvasRenderingContext2D;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, width, height);
  return { data, width, height };
}

/**
 * Wires the Upload view.
 *
 * @param app - the app state
 *
 * @example
 * ```ts
 * setupUploadView(app);
 * ```
 */
export function setupUploadView(app: App): void {
  const zone = byId('upload-drop');
  const fileInput = byId<HTMLInputElement>('upload-file');
  const invert = byId<HTMLSelectElement>('upload-invert');
  const preview = byId<HTMLImageElement>('upload-preview');
  const input = byId<HTMLCanvasElement>('upload-input');
  const probs = byId<HTMLOListElement>('upload-probs');
  const result = byId('upload-result');
  const note = byId('upload-note');
  const error = byId('upload-error');
  let image: RgbaImage | null = null;
  let name = '';
  let previewUrl: string | null = null;

  const classify = async () => {
    const engine = app.engine;
    if (!image || !engine) return;
    const mode: InvertMode = invert.value === 'auto' ? 'auto' : invert.value === 'invert';
    const prepared = prepareImage(image, { invert: mode, crop: true }); // crop to the garment, as `fmnist predict` does
    drawPixels(input, prepared.pixels);
    note.textContent = `${name}: ${image.width}×${image.height} → 28×28 grayscale${prepared.cropped ? ', cropped' : ''}${prepared.inverted ? ', inverted' : ''}${mode === 'auto' ? ` (auto: ${prepared.inverted ? 'light background found' : 'dark background found'})` : ''}`;
    try {
      const p = await engine.run(toModelInput(prepared.pixels), 1);
      const names = engine.model.metadata.classNames;
      const best = renderProbabilities(probs, p, names);
      result.textContent = `${names[best]} — ${((p[best] as number) * 100).toFixed(1)} %`;
      result.dataset.predicted = String(best);
    } catch (err) {
      result.textContent = `Prediction failed: ${(err as Error).message}`;
    }
  };

  const load = async (file: File) => {
    error.hidden = true;
    try {
      image = await decodeImage(file);
    } catch (err) {
      error.textContent = `“${file.name}”: ${(err as Error).message}`;
      error.hidden = false;
      return;
    }
    name = file.name;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    preview.src = previewUrl;
    preview.alt = `The uploaded picture, ${file.name}`;
    preview.hidden = false;
    await classify();
  };

  makeDropZone(zone, (files) => void load(files[0] as File));
  fileInput.addEventListener('change', () => {
    const file = fileInput.files?.[0];
    if (file) void load(file);
    fileInput.value = '';
  });
  invert.addEventListener('change', () => void classify());
  app.addEventListener('engine', () => void classify());
}
