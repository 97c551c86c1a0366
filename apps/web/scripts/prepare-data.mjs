#!/usr/bin/env node
/**
 * Copies Fashion-MNIST (test and training images + labels, gzip) into `public/data/`, where the page loads it with
 * `@fmnist/data`'s browser entry. The files come from wherever `@fmnist/data`'s Node loader finds them:
 * `$FMNIST_DATA_DIR`, the cache, Debian's `dataset-fashion-mnist`, or its verified download (first run with internet).
 * Raw (uncompressed) copies are gzipped on the way. Runs before `dev` and `build`; a no-op when the files are there.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { FASHION_MNIST_FILES, loadFashionMnist } from '@fmnist/data';

// The test set (4.4 MB) is loaded with the page; the training set (26 MB) only when the Train view starts a run.
const KEYS = ['testImages', 'testLabels', 'trainImages', 'trainLabels'];
const outDir = resolve(dirname(fileURLToPath(import.meta.url)), '../public/data');
const targets = KEYS.map((key) => join(outDir, FASHION_MNIST_FILES[key].name));

if (targets.every((t) => existsSync(t)) && !process.argv.includes('--force')) {
  console.error(`prepare-data: ${outDir} already holds the dataset (--force to copy again).`);
  process.exit(0);
}

let data;
try {
  data = await loadFashionMnist();
} catch (err) {
  // Draw, Upload and Model still work without the test set; the Test set and Evaluate views will say it is missing.
  console.error(`⚠ prepare-data: no Fashion-MNIST test set for the app: ${err.message}`);
  console.error('  The app is built without it. Install dataset-fashion-mnist, set FMNIST_DATA_DIR, or build once online.');
  process.exit(0);
}
await mkdir(outDir, { recursive: true });
for (const [k, key] of KEYS.entries()) {
  const info = data.files.find((f) => f.key === key);
  if (!info) throw new Error(`@fmnist/data returned no ${key} file.`);
  const target = targets[k];
  const tmp = `${target}.tmp`;
  const bytes = await readFile(info.location);
  const isGzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  if (isGzip) await copyFile(info.location, tmp);
  else await writeFile(tmp, gzipSync(bytes, { level: 9 }));
  await rename(tmp, target);
}
console.error(`prepare-data: test set copied from ${data.location} (${data.source}) to ${outDir}`);
