/** Loading the dataset for a command, with a download progress line on a TTY. */
import type { LoadResult } from '@fmnist/data';
import { isInteractive, log } from './ui';

/** Options shared by commands that read the dataset. */
export interface DataFlags {
  dir?: string;
  verify?: boolean;
  download?: boolean;
}

/**
 * Loads Fashion-MNIST as `@fmnist/data` finds it (`--dir`, `$FMNIST_DATA_DIR`, cache, system copy, download).
 *
 * @param flags - `dir`, `verify`, `download`
 * @returns the splits and where they came from
 */
export async function loadData(flags: DataFlags = {}): Promise<LoadResult> {
  const { loadFashionMnist } = await import('@fmnist/data');
  const tty = isInteractive();
  let announced = false;
  const data = await loadFashionMnist({
    dir: flags.dir,
    verify: Boolean(flags.verify),
    download: flags.download !== false,
    onProgress: (p) => {
      if (p.phase !== 'download') return;
      if (!announced) {
        log('Fashion-MNIST is not on this machine yet: downloading it (about 30 MB, checksums verified)…');
        announced = true;
      }
      if (tty && p.total) process.stderr.write(`\r  ${p.file}: ${((100 * p.loaded) / p.total).toFixed(0)}%   `);
    },
  });
  if (announced && tty) process.stderr.write('\n');
  return data;
}

/** `{ trainImages: sha256, … }` of the files that have one. */
export function checksums(data: LoadResult): Record<string, string> {
  return Object.fromEntries(data.files.filter((f) => f.sha256).map((f) => [f.key, f.sha256 as string]));
}
