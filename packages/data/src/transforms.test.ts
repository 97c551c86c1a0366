import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { tinySplit } from './test-fixtures';
import {
  batches,
  describeAugmentation,
  type Layout,
  layoutShape,
  mirrorImages,
  normalize,
  oneHot,
  patchify,
  permutation,
  shuffle,
  subset,
  toBatch,
  trainValidationSplit,
} from './transforms';

const set = (n: number) => ({ ...tinySplit(n), count: n });

describe('normalize', () => {
  it('divides by 255 by default and standardises on request', () => {
    expect(Array.from(normalize(new Uint8Array([0, 51, 255])))).toEqual([0, 0.2, 1].map((v) => Math.fround(v)));
    const s = normalize(new Uint8Array([0, 255]), 'standard');
    expect(s[0]).toBeCloseTo(-0.286 / 0.353, 5);
    expect(s[1]).toBeCloseTo((1 - 0.286) / 0.353, 5);
    expect(() => normalize(new Uint8Array(1), { mean: 0, std: 0 })).toThrow(TypeError);
  });
});

describe('seeded randomness', () => {
  it('same seed → same permutation; different seed → different; always a permutation', () => {
    const a = permutation(1000, 1);
    expect(Array.from(a)).toEqual(Array.from(permutation(1000, 1)));
    expect(Array.from(a)).not.toEqual(Array.from(permutation(1000, 2)));
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('shuffle returns a new shuffled array and leaves the input alone', () => {
    const input = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffle(input, 3);
    expect(input[0]).toBe(0);
    expect(out).not.toEqual(input);
    expect([...out].sort((x, y) => x - y)).toEqual(input);
  });

  it('rng state round-trips: a restored generator continues the same sequence', () => {
    const rng = createRng(9);
    rng.next();
    const saved = rng.getState();
    const expected = [rng.next(), rng.next(), rng.nextUint32()];
    const again = createRng(saved);
    expect([again.next(), again.next(), again.nextUint32()]).toEqual(expected);
  });

  it('normal samples have mean ≈ 0 and std ≈ 1', () => {
    const rng = createRng(5);
    let s = 0;
    let s2 = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const v = rng.normal();
      s += v;
      s2 += v * v;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(Math.sqrt(s2 / n) - 1)).toBeLessThan(0.03);
  });
});

describe('batches', () => {
  it('covers every example once per epoch, reshuffles each epoch, and is reproducible', () => {
    const data = set(70);
    const epochs = batches(data, { batchSize: 16, shuffle: true, seed: 11 });
    expect(epochs.size).toBe(5);
    const first = [...epochs].flatMap((b) => Array.from(b.indices));
    const second = [...epochs].flatMap((b) => Array.from(b.indices));
    expect([...first].sort((a, b) => a - b)).toEqual(Array.from({ length: 70 }, (_, i) => i));
    expect(second).not.toEqual(first);
    const replay = [...batches(data, { batchSize: 16, shuffle: true, seed: 11 })].flatMap((b) => Array.from(b.indices));
    expect(replay).toEqual(first);
  });

  it('yields normalised pixels and matching labels; dropLast drops the short batch', () => {
    const data = set(20);
    const all = [...batches(data, { batchSize: 8 })];
    expect(all.map((b) => b.size)).toEqual([8, 8, 4]);
    const b = all[1];
    expect(b?.y[0]).toBe(data.labels[8]);
    expect(b?.x[0]).toBeCloseTo((data.images[8 * 784] as number) / 255, 6);
    expect([...batches(data, { batchSize: 8, dropLast: true })].map((x) => x.size)).toEqual([8, 8]);
  });

  it('works as an async iterable too', async () => {
    let n = 0;
    for await (const b of batches(set(10), { batchSize: 4 })) n += b.size;
    expect(n).toBe(10);
  });

  it('augments with seeded shifts and flips: same seed → same images, pixels only move, background stays 0', () => {
    // One image with a single bright pixel at (10, 3).
    const images = new Uint8Array(784);
    images[10 * 28 + 3] = 255;
    const one = { images, labels: new Uint8Array([4]), count: 1 };
    const seen = new Set<number>();
    const draw = (seed: number) => [...batches(one, { batchSize: 1, seed, augment: { shift: 2, flip: true } })][0]?.x as Float32Array;
    for (let seed = 0; seed < 200; seed++) {
      const x = draw(seed);
      const lit = [...x.keys()].filter((i) => (x[i] as number) > 0);
      expect(lit).toHaveLength(1);
      const r = Math.floor((lit[0] as number) / 28);
      const c = (lit[0] as number) % 28;
      expect(Math.abs(r - 10)).toBeLessThanOrEqual(2);
      // Either near column 3 (not mirrored) or near column 24 (mirrored: 27 - 3).
      expect(Math.min(Math.abs(c - 3), Math.abs(c - 24))).toBeLessThanOrEqual(2);
      seen.add(lit[0] as number);
    }
    expect(seen.size).toBeGreaterThan(30); // 5 × 5 shifts × 2 mirrorings = 50 placements
    expect(Array.from(draw(7))).toEqual(Array.from(draw(7)));
    expect(() => batches(one, { augment: { shift: 2 } })).toThrow(/'seed' is required/);
    expect(() => batches(one, { seed: 1, augment: { shift: -1 } })).toThrow(/'augment.shift'/);
    expect(() => batches(one, { seed: 1, augment: { erase: 1.5 } })).toThrow(/'augment.erase' must be a probability in \[0, 1\]/);
    expect(() => batches(one, { seed: 1, augment: { erase: Number.NaN } })).toThrow(/'augment.erase'/);
  });

  it('erases one random rectangle (2–40 % of the image) with probability `erase`, reproducibly', () => {
    const one = { images: new Uint8Array(784), labels: new Uint8Array([0]), count: 1 };
    const draw = (seed: number, erase: number) => [...batches(one, { batchSize: 1, seed, augment: { erase } })][0]?.x as Float32Array;
    let erased = 0;
    for (let seed = 0; seed < 400; seed++) {
      const x = draw(seed, 0.5);
      const lit = [...x.keys()].filter((i) => (x[i] as number) > 0);
      if (lit.length === 0) continue;
      erased++;
      const rows = lit.map((i) => Math.floor(i / 28));
      const cols = lit.map((i) => i % 28);
      const box = (Math.max(...rows) - Math.min(...rows) + 1) * (Math.max(...cols) - Math.min(...cols) + 1);
      // A rectangle of random values: nearly all of its bounding box is lit (a drawn value of 0 leaves a pixel dark).
      expect(lit.length).toBeGreaterThanOrEqual(0.9 * box);
      expect(box).toBeGreaterThanOrEqual(0.02 * 784 * 0.5);
      expect(box).toBeLessThanOrEqual(0.4 * 784 * 1.2);
    }
    expect(erased).toBeGreaterThan(160); // ≈ 200 of 400 at probability ½
    expect(erased).toBeLessThan(240);
    expect(Array.from(draw(3, 1))).toEqual(Array.from(draw(3, 1)));
    expect(draw(3, 1).some((v) => v > 0)).toBe(true);
  });

  it('adds erasing without changing the draws of shift and flip, so earlier runs reproduce', () => {
    const images = Uint8Array.from({ length: 784 * 8 }, (_, i) => (i * 37) % 256);
    const eight = { images, labels: new Uint8Array(8), count: 8 };
    const draw = (augment: object) => [...batches(eight, { batchSize: 8, shuffle: true, seed: 5, augment })][0]?.x;
    expect(draw({ shift: 2, flip: true, erase: 0 })).toEqual(draw({ shift: 2, flip: true }));
    expect(draw({ shift: 2, flip: true, erase: 1 })).not.toEqual(draw({ shift: 2, flip: true }));
  });

  it('describes an augmentation in words', () => {
    expect(describeAugmentation({ shift: 1, flip: true })).toBe('shift ±1 px + flip');
    expect(describeAugmentation({ flip: true, erase: 0.5 })).toBe('flip + erase p 0.5');
    expect(describeAugmentation({ shift: 2, flip: true, erase: 0.25 })).toBe('shift ±2 px + flip + erase p 0.25');
    for (const none of [undefined, null, {}, { shift: 0, flip: false, erase: 0 }]) expect(describeAugmentation(none)).toBe('none');
  });

  it('rejects bad options with clear messages', () => {
    expect(() => batches(set(4), { batchSize: 0 })).toThrow(/'batchSize' must be a positive integer, got 0/);
    expect(() => batches(set(4), { shuffle: true })).toThrow(/'seed' is required/);
  });
});

describe('trainValidationSplit / subset', () => {
  it('holds out a stratified fraction with no overlap', () => {
    const data = set(200);
    const { train, validation } = trainValidationSplit(data, { validationFraction: 0.1, seed: 4 });
    expect(validation.count).toBe(20);
    expect(train.count).toBe(180);
    expect(Array.from(validation.labels).sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9]);
    // Each image in tinySplit is unique by its first pixel (i*7 % 256) within 200 images? check via full content key.
    const key = (s: typeof train, i: number) => Array.from(s.images.subarray(i * 784, i * 784 + 4)).join(',') + s.labels[i];
    const seen = new Set(Array.from({ length: train.count }, (_, i) => key(train, i)));
    for (let i = 0; i < validation.count; i++) expect(seen.has(key(validation, i))).toBe(false);
  });

  it('subset copies the chosen examples in order', () => {
    const s = subset(set(10), [3, 1]);
    expect(Array.from(s.labels)).toEqual([3, 1]);
    expect(s.images[0]).toBe(21);
    expect(() => subset(set(10), [10])).toThrow(RangeError);
  });
});

describe('patchify', () => {
  it('cuts 28×28 into 49 row-major 4×4 patches with row-major pixels', () => {
    const img = Float32Array.from({ length: 784 }, (_, i) => i); // value = r * 28 + c
    const out = patchify(img);
    // patch 0 = rows 0-3, cols 0-3
    expect(Array.from(out.subarray(0, 16))).toEqual([0, 1, 2, 3, 28, 29, 30, 31, 56, 57, 58, 59, 84, 85, 86, 87]);
    // patch 1 = rows 0-3, cols 4-7
    expect(Array.from(out.subarray(16, 20))).toEqual([4, 5, 6, 7]);
    // patch 7 = rows 4-7, cols 0-3
    expect(out[7 * 16]).toBe(4 * 28);
    // last patch, last pixel = (27, 27)
    expect(out[48 * 16 + 15]).toBe(783);
    // a permutation of the input
    expect([...out].sort((a, b) => a - b)).toEqual(Array.from(img));
  });

  it('handles several images and other patch sizes; rejects ones that do not divide 28', () => {
    const two = new Uint8Array(2 * 784).map((_, i) => (i < 784 ? 1 : 2));
    const out = patchify(two, { patchSize: 7 });
    expect(out[783]).toBe(1);
    expect(out[784]).toBe(2);
    expect(() => patchify(two, { patchSize: 5 })).toThrow(RangeError);
    expect(() => patchify(new Uint8Array(100))).toThrow(RangeError);
  });
});

describe('mirrorImages', () => {
  it('mirrors each row of each image, and twice gives the images back', () => {
    const images = new Uint8Array(2 * 784).map((_, i) => (i * 7) % 251);
    const m = mirrorImages(images);
    for (const [img, r, c] of [
      [0, 0, 0],
      [0, 5, 3],
      [1, 27, 27],
      [1, 13, 20],
    ] as const) {
      expect(m[img * 784 + r * 28 + c]).toBe(images[img * 784 + r * 28 + (27 - c)]);
    }
    expect(mirrorImages(m)).toEqual(images);
    expect(images[1]).toBe(7); // the input is untouched
    expect(mirrorImages(new Uint8Array(6), { rows: 2, cols: 3 })).toEqual(new Uint8Array(6));
    expect(Array.from(mirrorImages(Uint8Array.from([1, 2, 3, 4, 5, 6]), { rows: 2, cols: 3 }))).toEqual([3, 2, 1, 6, 5, 4]);
    expect(() => mirrorImages(new Uint8Array(785))).toThrow(/multiple of 784/);
  });
});

describe('framework adapters: oneHot, layout, toBatch', () => {
  it('oneHot puts a single 1 per row at the label', () => {
    expect(Array.from(oneHot(new Uint8Array([2, 0]), 3))).toEqual([0, 0, 1, 1, 0, 0]);
    const ten = oneHot([9]);
    expect(ten.length).toBe(10);
    expect(ten[9]).toBe(1);
    expect(ten.reduce((a, b) => a + b, 0)).toBe(1);
    expect(oneHot([]).length).toBe(0);
  });

  it('oneHot refuses labels outside [0, numClasses) naming the index, and a bad numClasses', () => {
    expect(() => oneHot([1, 10])).toThrow(new RangeError(`'labels[1]' must be an integer in [0, 9], got 10.`));
    expect(() => oneHot([0.5])).toThrow(RangeError);
    expect(() => oneHot([0], 0)).toThrow(`'numClasses' must be a positive integer, got 0.`);
  });

  it('layoutShape gives the documented shapes and refuses others', () => {
    expect(layoutShape(5)).toEqual([5, 784]);
    expect(layoutShape(5, 'nhwc')).toEqual([5, 28, 28, 1]);
    expect(layoutShape(5, 'nchw')).toEqual([5, 1, 28, 28]);
    expect(() => layoutShape(5, 'hwc' as Layout)).toThrow(`'layout' must be 'flat', 'nhwc' or 'nchw', got "hwc".`);
  });

  it('batches report the shape of their layout; the pixels are the same in every layout', () => {
    const { images, labels } = tinySplit(5);
    const set = { images, labels, count: 5 };
    const [flat] = [...batches(set, { batchSize: 3 })];
    const [nchw, last] = [...batches(set, { batchSize: 3, layout: 'nchw' })];
    const [nhwc] = [...batches(set, { batchSize: 3, layout: 'nhwc' })];
    expect(flat?.shape).toEqual([3, 784]);
    expect(nchw?.shape).toEqual([3, 1, 28, 28]);
    expect(last?.shape).toEqual([2, 1, 28, 28]);
    expect(nhwc?.shape).toEqual([3, 28, 28, 1]);
    expect(nchw?.x).toEqual(flat?.x);
    expect(nhwc?.x).toEqual(flat?.x);
    expect(() => batches(set, { layout: 'chw' as Layout })).toThrow(TypeError);
  });

  it('toBatch turns a whole set into one normalised batch in order', () => {
    const { images, labels } = tinySplit(4);
    const b = toBatch({ images, labels, count: 4 }, { layout: 'nchw', normalization: 'standard' });
    expect(b.shape).toEqual([4, 1, 28, 28]);
    expect(b.size).toBe(4);
    expect(Array.from(b.y)).toEqual([0, 1, 2, 3]);
    expect(Array.from(b.indices)).toEqual([0, 1, 2, 3]);
    expect(b.x).toEqual(normalize(images, 'standard'));
    expect(() => toBatch({ images: new Uint8Array(10), labels, count: 4 })).toThrow(RangeError);
  });
});

describe('hostile sizes and labels', () => {
  it('mirrorImages refuses sizes that are not positive integers (a negative width looped forever)', () => {
    for (const cols of [-1, 0, 0.5, Number.NaN]) {
      expect(() => mirrorImages(new Uint8Array(784), { cols })).toThrow(/'cols' must be a positive integer/);
    }
    expect(() => mirrorImages(new Uint8Array(784), { rows: -28 })).toThrow(/'rows' must be a positive integer/);
  });
  it('trainValidationSplit keeps labels of 10 and more (more classes than Fashion-MNIST), stratified like the others', () => {
    const count = 40;
    const set = { images: new Uint8Array(count * 784), labels: Uint8Array.from({ length: count }, (_, i) => i % 20), count };
    const { train, validation } = trainValidationSplit(set, { validationFraction: 0.5, seed: 1 });
    expect(train.count + validation.count).toBe(count);
    expect(new Set(validation.labels).size).toBe(20);
  });
  it('trainValidationSplit of labels 0–9 still puts the same fraction of every class in validation', () => {
    const set = { ...tinySplit(200), count: 200 };
    const { validation } = trainValidationSplit(set, { validationFraction: 0.25, seed: 7 });
    expect(validation.count).toBe(50);
    for (let c = 0; c < 10; c++) expect(Array.from(validation.labels).filter((l) => l === c)).toHaveLength(5);
  });
});

describe('normalize with a hostile std', () => {
  it.each([
    ['Infinity', Number.POSITIVE_INFINITY],
    ['1e-320', 1e-320],
    ['0', 0],
    ['NaN', Number.NaN],
  ])('std %s is refused (it would give zeros, Infinity or NaN)', (_what, std) => {
    expect(() => normalize(new Uint8Array([0, 255]), { mean: 0, std })).toThrow(/std \(finite, ≥ 1e-6\)/);
  });
  it('null is refused with the same message', () => {
    expect(() => normalize(new Uint8Array([0]), null as never)).toThrow(/'normalization' must be/);
  });
});
