/** Commands that fmnist prints for the user to copy, quoted so a POSIX shell reads them back unchanged. */

/** Characters a POSIX shell never treats specially inside a word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quotes one word for a POSIX shell (sh, bash, zsh): unchanged when it holds only safe characters, else inside single
 * quotes with each `'` written as `'\''`. Spaces, quotes, `$`, backticks, globs and newlines all survive.
 *
 * @param word - a path or argument
 * @returns the quoted word
 *
 * @example
 * ```ts
 * shellQuote('runs/a'); // runs/a
 * shellQuote("my runs/it's $HOME"); // 'my runs/it'\''s $HOME'
 * ```
 */
export function shellQuote(word: string): string {
  if (SAFE_WORD.test(word)) return word;
  return `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * Joins words into a command line, quoting each with {@link shellQuote}.
 *
 * @param words - the command and its arguments
 * @returns the line, ready to paste into a shell
 *
 * @example
 * ```ts
 * shellCommand(['fmnist', 'train', '--resume', 'my run']); // fmnist train --resume 'my run'
 * ```
 */
export function shellCommand(words: readonly string[]): string {
  return words.map(shellQuote).join(' ');
}
