/**
 * `fmnist-data`: fetch Fashion-MNIST (or find a local copy) and print a summary. Handy to pre-fill the cache:
 * `npx @fmnist/data`.
 */
import { parseArgs } from 'node:util';
import { CLASS_NAMES, classCounts, FmnistError, loadFashionMnist } from './node';

const USAGE = `Usage: fmnist-data [--dir DIR] [--cache-dir DIR] [--no-download] [--verify] [--json]

Finds Fashion-MNIST (DIR, $FMNIST_DATA_DIR, the cache, /usr/share/datasets/fashion-mnist) or downloads it into the
cache with checksums verified, then prints where it came from and what it holds.

Examples:
  fmnist-data                      # find or download, then summarise
  fmnist-data --dir ./data --json  # use ./data, print JSON
`;

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      options: {
        dir: { type: 'string' },
        'cache-dir': { type: 'string' },
        'no-download': { type: 'boolean' },
        verify: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`fmnist-data: ${(err as Error).message}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const started = performance.now();
  const data = await loadFashionMnist({
    dir: values.dir as string | undefined,
    cacheDir: values['cache-dir'] as string | undefined,
    download: !values['no-download'],
    verify: Boolean(values.verify),
    onProgress: process.stderr.isTTY
      ? (p) => {
          if (p.phase === 'download' && p.total) {
            process.stderr.write(`\rdownloading ${p.file}: ${((100 * p.loaded) / p.total).toFixed(0)}%   `);
          }
        }
      : undefined,
  });
  const ms = performance.now() - started;
  let sum = 0;
  for (let i = 0; i < data.train.images.length; i++) sum += data.train.images[i] as number;
  const summary = {
    source: data.source,
    location: data.location,
    loadMs: Math.round(ms),
    files: data.files,
    train: { count: data.train.count, perClass: classCounts(data.train), pixelMean: sum / data.train.images.length / 255 },
    test: { count: data.test.count, perClass: classCounts(data.test) },
    classes: CLASS_NAMES,
  };
  if (values.json) {
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    return;
  }
  const lines = [
    `Fashion-MNIST from ${data.source}: ${data.location} (${summary.loadMs} ms)`,
    ...data.files.map(
      (f) => `  ${f.location}  ${(f.bytes / 1e6).toFixed(1)} MB${f.sha256 ? `  sha256 ${f.sha256}${f.verified ? ' ✓' : ''}` : ''}`,
    ),
    `train: ${data.train.count} images ${data.train.rows}×${data.train.cols}, pixel mean ${summary.train.pixelMean.toFixed(4)}`,
    `test:  ${data.test.count} images`,
    '',
    `  ${'class'.padEnd(12)} ${'train'.padStart(6)} ${'test'.padStart(6)}`,
    ...CLASS_NAMES.map(
      (name, i) =>
        `${String(i).padStart(1)} ${name.padEnd(12)} ${String(summary.train.perClass[i]).padStart(6)} ${String(summary.test.perClass[i]).padStart(6)}`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof FmnistError) {
    process.stderr.write(`fmnist-data: ${err.code}: ${err.message}\n`);
  } else {
    process.stderr.write(`fmnist-data: unexpected error: ${(err as Error)?.stack ?? err}\n`);
  }
  process.exitCode = 1;
});
