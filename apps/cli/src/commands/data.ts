/** `fmnist data`: where the dataset came from, its counts and per-class counts; `--preview N` draws N images. */
import { CLASS_NAMES, classCounts, getImage } from '@fmnist/data';
import { type DataFlags, loadData } from '../dataset';
import { UsageError } from '../errors';
import { checkOutputFile } from '../files';
import { formatDuration } from '../parse';
import { imageGridSvg, svgToPng, terminalArt } from '../render';
import { colors, isInteractive, log, oneLine, printJson, table } from '../ui';

interface DataOptions extends DataFlags {
  preview?: number;
  previewOut: string;
  split: string;
  json?: boolean;
}

const ART_COUNT = 4;

export async function run(options: DataOptions): Promise<void> {
  if (options.split !== 'train' && options.split !== 'test')
    throw new UsageError(`--split must be 'train' or 'test', got '${options.split}'.`);
  // Check where the preview goes before the work, so a bad path fails at once.
  const file = options.preview ? checkOutputFile(options.previewOut, { flag: '--preview-out' }) : undefined;
  const started = performance.now();
  const data = await loadData(options);
  const loadMs = performance.now() - started;
  const summary = {
    source: data.source,
    location: data.location,
    loadMs: Math.round(loadMs),
    files: data.files.map((f) => ({ key: f.key, path: f.location, bytes: f.bytes, sha256: f.sha256 ?? null, verified: f.verified })),
    classes: [...CLASS_NAMES],
    train: { count: data.train.count, perClass: classCounts(data.train) },
    test: { count: data.test.count, perClass: classCounts(data.test) },
    preview: null as null | { file: string; split: string; count: number },
  };
  log(
    `${colors.bold('Fashion-MNIST')} from ${colors.cyan(data.source)}: ${oneLine(data.location)} ${colors.dim(`(${formatDuration(loadMs)})`)}`,
  );
  for (const f of data.files) {
    const sum = f.sha256
      ? `sha256 ${f.sha256}${f.verified ? colors.green(' ✓ verified') : ''}`
      : colors.dim('sha256 not computed (--verify)');
    log(`  ${oneLine(f.location)}  ${(f.bytes / 1e6).toFixed(1)} MB  ${sum}`);
  }
  log(`train: ${data.train.count} images, test: ${data.test.count} images, ${data.train.rows}×${data.train.cols} grayscale`);
  log('');
  log(
    table(
      [
        ['#', 'class', 'train', 'test'],
        ...CLASS_NAMES.map((name, i) => [i, name, summary.train.perClass[i] as number, summary.test.perClass[i] as number]),
      ],
      ['r', 'l', 'r', 'r'],
    ),
  );

  if (options.preview && file) {
    const split = options.split === 'train' ? data.train : data.test;
    const n = Math.min(options.preview, split.count);
    const items = Array.from({ length: n }, (_, i) => ({
      pixels: getImage(split, i),
      label: CLASS_NAMES[split.labels[i] as number] as string,
      sublabel: `${options.split} #${i}`,
    }));
    const svg = imageGridSvg(items, { columns: Math.min(10, n), title: `Fashion-MNIST ${options.split} set: first ${n} images` });
    // Atomic: a kill midway leaves the previous file (or none), never a truncated one.
    const { writeFileAtomic } = await import('@fmnist/model');
    await writeFileAtomic(file, await svgToPng(svg, 2));
    summary.preview = { file, split: options.split, count: n };
    {
      log('');
      const color = isInteractive();
      const shown = Math.min(ART_COUNT, n);
      const arts = items.slice(0, shown).map((it) => terminalArt(it.pixels, color));
      const header = items
        .slice(0, shown)
        .map((it, i) => `${i}: ${it.label}`.padEnd(30))
        .join('');
      log(header.trimEnd());
      for (let r = 0; r < (arts[0]?.length ?? 0); r++)
        log(
          arts
            .map((a) => (color ? `${a[r]}  ` : (a[r] ?? '').padEnd(30)))
            .join('')
            .trimEnd(),
        );
      log('');
      log(`${colors.green('✓')} preview of ${n} ${options.split} images: ${oneLine(file)}`);
    }
  }
  if (options.json) printJson(summary);
}
