/** Builders of small IDX files for tests (not part of the package build). */
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { FmnistDataError } from './errors';

/** Awaits a promise that must reject with an `FmnistDataError` (asserted) and returns that error for further checks. */
export async function failure(p: Promise<unknown>): Promise<FmnistDataError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FmnistDataError);
  return err as FmnistDataError;
}

/** Encodes a uint8 IDX file with the given dims and data. */
export function idxBytes(dims: number[], data: ArrayLike<number>, typeByte = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header[2] = typeByte;
  header[3] = dims.length;
  dims.forEach((d, i) => {
    view.setUint32(4 + 4 * i, d, false);
  });
  const out = new Uint8Array(header.length + data.length);
  out.set(header);
  out.set(Uint8Array.from(data), header.length);
  return out;
}

/** A tiny split: `n` images whose pixel (r, c) of image i is (i * 7 + r * 28 + c) % 256, labels i % 10. */
export function tinySplit(n: number): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * 784);
  for (let i = 0; i < n; i++) for (let p = 0; p < 784; p++) images[i * 784 + p] = (i * 7 + p) % 256;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
  return { images, labels };
}

/** The four files of a tiny dataset (train n, test m) as raw IDX bytes. */
export function tinyDataset(n = 30, m = 10): Record<'trainImages' | 'trainLabels' | 'testImages' | 'testLabels', Uint8Array> {
  const train = tinySplit(n);
  const test = tinySplit(m);
  return {
    trainImages: idxBytes([n, 28, 28], train.images),
    trainLabels: idxBytes([n], train.labels),
    testImages: idxBytes([m, 28, 28], test.images),
    testLabels: idxBytes([m], test.labels),
  };
}

export const gzip = (b: Uint8Array): Uint8Array => new Uint8Array(gzipSync(b));
