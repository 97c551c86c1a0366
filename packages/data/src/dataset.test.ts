import { describe, expect, it } from 'vitest';
import { CLASS_NAMES, classCounts, createSplit, getImage, hasControlCharacters } from './dataset';
import { FmnistDataError } from './errors';
import { decodeIdx } from './idx';
import { idxBytes, tinySplit } from './test-fixtures';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FmnistDataError);
    return (err as FmnistDataError).code;
  }
};

describe('createSplit', () => {
  const { images, labels } = tinySplit(12);
  const img = decodeIdx(idxBytes([12, 28, 28], images));
  const lab = decodeIdx(idxBytes([12], labels));

  it('builds a split sharing memory with the decoded arrays', () => {
    const split = createSplit(img, lab);
    expect(split.count).toBe(12);
    expect(split.rows).toBe(28);
    expect(split.images).toBe(img.data);
    expect(Array.from(getImage(split, 1).subarray(0, 3))).toEqual([7, 8, 9]);
    expect(classCounts(split)).toEqual([2, 2, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('label out of range → E_LABEL_RANGE naming the index', () => {
    const bad = decodeIdx(idxBytes([12], [...labels.subarray(0, 11), 10]));
    expect(codeOf(() => createSplit(img, bad, { labels: 'lab.gz' }))).toBe('E_LABEL_RANGE');
    expect(() => createSplit(img, bad, { labels: 'lab.gz' })).toThrow(/label 10 at index 11/);
  });

  it('image/label count mismatch → E_COUNT_MISMATCH', () => {
    expect(codeOf(() => createSplit(img, decodeIdx(idxBytes([11], labels.subarray(0, 11)))))).toBe('E_COUNT_MISMATCH');
  });

  it('images that are not 28×28 → E_SHAPE; labels passed as images → E_SHAPE', () => {
    expect(codeOf(() => createSplit(decodeIdx(idxBytes([3, 27, 29], new Uint8Array(3 * 27 * 29))), lab))).toBe('E_SHAPE');
    expect(codeOf(() => createSplit(lab, lab))).toBe('E_SHAPE');
    expect(codeOf(() => createSplit(img, img))).toBe('E_SHAPE');
  });

  it('getImage rejects out-of-range indices', () => {
    expect(() => getImage(createSplit(img, lab), 12)).toThrow(RangeError);
  });

  it('has the ten official class names in label order', () => {
    expect(CLASS_NAMES).toHaveLength(10);
    expect(CLASS_NAMES[0]).toBe('T-shirt/top');
    expect(CLASS_NAMES[9]).toBe('Ankle boot');
  });
});

describe('hasControlCharacters', () => {
  it('is false for every class name and for text in other scripts', () => {
    for (const name of [...CLASS_NAMES, 'Hose (lang)', 'فستان', '外套', 'Stiefelette – kurz'])
      expect(hasControlCharacters(name)).toBe(false);
  });
  it.each([
    ['a newline', 'Bag\nfake'],
    ['a carriage return', 'Bag\r'],
    ['a tab', 'Bag\t'],
    ['NUL', 'Bag\u0000'],
    ['ESC', 'Bag\u001b[2J'],
    ['DEL', 'Bag\u007f'],
    ['a C1 CSI', 'Bag\u009b'],
    ['an Arabic letter mark', 'Bag\u061c'],
    ['a right-to-left override', 'Bag\u202e'],
    ['an isolate', 'Bag\u2066'],
    ['a line separator', 'Bag\u2028'],
    ['a paragraph separator', 'Bag\u2029'],
  ])('is true for %s', (_what, text) => {
    expect(hasControlCharacters(text)).toBe(true);
  });
});
