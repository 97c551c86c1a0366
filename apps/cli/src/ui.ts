import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';

/** Whether human output on stderr may use colour and redraw in place: a TTY, and not disabled by `NO_COLOR`/`CI`. */
export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && !process.env.CI && process.env.TERM !== 'dumb';
}

/** Colours for stderr, switched off off-TTY. */
export const colors = pc.createColors(isInteractive());

/** Human-readable lines go to stderr; `--json` documents go to stdout. */
export const log = (line = ''): void => {
  process.stderr.write(`${line}\n`);
};

/** Writes the command's one JSON document to stdout. */
export const printJson = (value: unknown): void => {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
};

/** Pads a table: rows of cells, the first row is the header; numbers right-aligned. */
export function table(rows: (string | number)[][], align?: ('l' | 'r')[]): string {
  const widths: number[] = [];
  const width = (c: string | number) => stripVTControlCharacters(String(c)).length;
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, width(c));
    });
  }
  return rows
    .map((row, r) =>
      row
        .map((c, i) => {
          const s = String(c);
          const right = align ? align[i] === 'r' : typeof c === 'number';
          const pad = ' '.repeat(Math.max(0, (widths[i] as number) - width(c)));
          const cell = right ? pad + s : s + pad;
          return r === 0 ? colors.bold(cell) : cell;
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
