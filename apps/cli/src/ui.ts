import { stripVTControlCharacters } from 'node:util';
import pc from 'picocolors';

/** Whether human output on stderr may use colour and redraw in place: a TTY, and not disabled by `NO_COLOR`/`CI`. */
export function isInteractive(stream: NodeJS.WriteStream = process.stderr): boolean {
  if (process.env.FORCE_COLOR && process.env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY) && !process.env.NO_COLOR && !process.env.CI && process.env.TERM !== 'dumb';
}

/** Colours for stderr, switched off off-TTY. */
export const colors = pc.createColors(isInteractive());

/**
 * Characters a terminal may act on: C0 controls but tab and newline, DEL, C1 controls (U+0080–U+009F, among them the
 * one-byte CSI U+009B), bidirectional overrides and isolates (which reorder what is shown), and the line/paragraph
 * separators.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** An SGR sequence (colours, bold, dim, reset): all that our own output uses. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: an SGR sequence starts with ESC
const SGR = /\u001b\[[0-9;]*m/g;

const visible = (c: string): string => {
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** Options of {@link sanitizeForTerminal}. */
export interface SanitizeOptions {
  /** Keep SGR colour sequences (`ESC [ … m`): for lines that carry our own colours. @defaultValue false */
  keepSgr?: boolean;
}

/**
 * Makes text safe to print on a terminal: every control character but tab and newline (escape sequences, carriage
 * returns, bells, C1 controls, bidirectional overrides) is shown as a visible escape (`\x1b`, `\u202e`) instead of
 * being acted on. Class names, metadata, file names and error messages quoting a file go through it before printing,
 * so a model cannot retitle, clear or rewrite the user's terminal.
 *
 * @param text - what to print
 * @param options - `keepSgr` to let colour sequences through
 * @returns the text with nothing a terminal would interpret
 *
 * @example
 * ```ts
 * sanitizeForTerminal('Bag\x1b]0;pwned\x07'); // 'Bag\\x1b]0;pwned\\x07'
 * ```
 */
export function sanitizeForTerminal(text: string, options: SanitizeOptions = {}): string {
  const clean = (part: string) => part.replace(UNSAFE_CHARS, visible);
  if (!options.keepSgr) return clean(String(text));
  let out = '';
  let last = 0;
  for (const m of String(text).matchAll(SGR)) {
    out += clean(text.slice(last, m.index)) + m[0];
    last = (m.index as number) + m[0].length;
  }
  return out + clean(text.slice(last));
}

/**
 * {@link sanitizeForTerminal} for a value put into one line of output (a file name, a class name, a path): newlines are
 * shown as `\n` too, so a value cannot end the line and forge the next one (`a.png\nfake.png: Bag 100%`).
 *
 * @param text - the value
 * @param options - `keepSgr` to let colour sequences through
 * @returns the value on one line, with nothing a terminal would interpret
 */
export function oneLine(text: string, options: SanitizeOptions = {}): string {
  return sanitizeForTerminal(String(text), options).replace(/\n/g, '\\n');
}

let outputGone = false;
let onOutputGone: (() => void) | undefined;

/**
 * Registers what to do when the reader of stdout or stderr goes away (`fmnist train | head -3`), instead of exiting at
 * once: `fmnist train` stops like at Ctrl-C, after the batch, writing a checkpoint and marking the run stopped.
 *
 * @param handler - called once, on the first failed write; `undefined` to remove it
 */
export function whenOutputGone(handler: (() => void) | undefined): void {
  onOutputGone = handler;
}

/**
 * Called by the CLI's entry when a write to stdout or stderr fails with EPIPE: from then on output is dropped.
 *
 * @returns whether a handler took over (else the process should exit)
 */
export function outputWentAway(): boolean {
  const first = !outputGone;
  outputGone = true;
  if (!onOutputGone) return false;
  if (first) onOutputGone();
  return true;
}

/**
 * Human-readable lines go to stderr; `--json` documents go to stdout. Every line passes {@link sanitizeForTerminal}
 * (keeping colours when they are on), so text from a file is never acted on by the terminal; values from files are
 * also sanitised where they are put into a line, so that they cannot carry colours either.
 */
export const log = (line = ''): void => {
  if (outputGone) return;
  process.stderr.write(`${sanitizeForTerminal(line, { keepSgr: isInteractive() })}\n`);
};

/** JSON's escapes for what {@link sanitizeForTerminal} would escape (JSON.stringify leaves C1 and bidi controls raw). */
const escapeJsonForTerminal = (json: string): string =>
  json.replace(UNSAFE_CHARS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** Writes the command's one JSON document to stdout (the same data, with every terminal control escaped). */
export const printJson = (value: unknown): void => {
  if (outputGone) return;
  process.stdout.write(`${escapeJsonForTerminal(JSON.stringify(value, null, 2))}\n`);
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
