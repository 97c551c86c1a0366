import { describe, expect, it } from 'vitest';
import { sanitizeForTerminal } from './ui';

describe('sanitizeForTerminal', () => {
  it('keeps plain text, tabs, newlines and non-Latin letters', () => {
    expect(sanitizeForTerminal('T-shirt/top\tBag\nÄrmel 靴 👟')).toBe('T-shirt/top\tBag\nÄrmel 靴 👟');
  });
  it.each([
    ['OSC window title', 'Bag\x1b]0;pwned\x07', 'Bag\\x1b]0;pwned\\x07'],
    ['clear screen', '\x1b[2J\x1b[HBag', '\\x1b[2J\\x1b[HBag'],
    ['carriage return overwriting the line', 'accuracy 10%\rAccuracy 99%', 'accuracy 10%\\x0dAccuracy 99%'],
    ['OSC 8 hyperlink', '\x1b]8;;http://evil\x1b\\Bag\x1b]8;;\x1b\\', '\\x1b]8;;http://evil\\x1b\\Bag\\x1b]8;;\\x1b\\'],
    ['C1 CSI (U+009B)', '\u009b2J', '\\x9b2J'],
    ['bell, backspace, DEL', 'a\x07b\x08c\x7f', 'a\\x07b\\x08c\\x7f'],
    ['bidi override (Trojan Source)', 'Bag\u202eedoc', 'Bag\\u202eedoc'],
    ['bidi isolates and marks', '\u2066x\u2069\u200f\u061c', '\\u2066x\\u2069\\u200f\\u061c'],
    ['line separator', 'a\u2028b', 'a\\u2028b'],
    ['NUL', 'a\0b', 'a\\x00b'],
  ])('%s', (_, input, expected) => {
    expect(sanitizeForTerminal(input)).toBe(expected);
  });
  it('keepSgr lets colours through and nothing else', () => {
    expect(sanitizeForTerminal('\x1b[1mBag\x1b[22m \x1b[38;2;1;2;3m▀\x1b[0m', { keepSgr: true })).toBe(
      '\x1b[1mBag\x1b[22m \x1b[38;2;1;2;3m▀\x1b[0m',
    );
    expect(sanitizeForTerminal('\x1b[1mok\x1b[2J\x1b]0;t\x07', { keepSgr: true })).toBe('\x1b[1mok\\x1b[2J\\x1b]0;t\\x07');
    // Without keepSgr even colours are shown, not applied (used for values from files).
    expect(sanitizeForTerminal('\x1b[8mhidden')).toBe('\\x1b[8mhidden');
  });
  it('leaves no character a terminal acts on, for every code point below U+00A0 and the bidi range', () => {
    let all = '';
    for (let c = 0; c < 0xa0; c++) all += String.fromCharCode(c);
    all += '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    const out = sanitizeForTerminal(all);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(out).toContain('\t\n');
  });
});
