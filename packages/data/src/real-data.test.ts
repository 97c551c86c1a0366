/**
 * Integration on the real Fashion-MNIST (installed by .ci/run from Debian's dataset-fashion-mnist, or found in the
 * cache / downloaded on a machine with internet).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLASS_NAMES, classCounts, FASHION_MNIST_FILES, loadFashionMnist, patchify, SYSTEM_DATA_DIR } from './node';

const data = await loadFashionMnist({ verify: true });

describe('the real Fashion-MNIST', () => {
  it('has 60,000 / 10,000 images of 28×28 and verified checksums', () => {
    expect(data.train.count).toBe(60000);
    expect(data.test.count).toBe(10000);
    expect(data.train.images.length).toBe(60000 * 784);
    expect(data.test.images.length).toBe(10000 * 784);
    expect(data.files.map((f) => f.verified)).toEqual([true, true, true, true]);
    expect(data.files.map((f) => f.sha256)).toEqual(Object.values(FASHION_MNIST_FILES).map((f) => f.sha256));
  });

  it('has 6,000 / 1,000 examples of each of the 10 classes', () => {
    expect(classCounts(data.train)).toEqual(new Array(10).fill(6000));
    expect(classCounts(data.test)).toEqual(new Array(10).fill(1000));
    expect(CLASS_NAMES).toHaveLength(10);
  });

  it('starts with the known labels', () => {
    expect(Array.from(data.train.labels.subarray(0, 10))).toEqual([9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    expect(Array.from(data.test.labels.subarray(0, 10))).toEqual([9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
  });

  it('has the known train pixel sum 3,431,114,169 (mean 0.2860)', () => {
    let sum = 0;
    for (let i = 0; i < data.train.images.length; i++) sum += data.train.images[i] as number;
    expect(sum).toBe(3431114169);
    expect(sum / data.train.images.length / 255).toBeCloseTo(0.286, 4);
  });

  it('patchify keeps every pixel of the first test image', () => {
    const img = data.test.images.subarray(0, 784);
    const p = patchify(img);
    expect(p[0]).toBe(img[0]);
    expect(p[16 + 1]).toBe(img[5]);
    expect([...p].sort((a, b) => a - b)).toEqual([...img].sort((a, b) => a - b));
  });

  const reader = '/usr/share/doc/dataset-fashion-mnist/utils/mnist_reader.py';
  const hasNumpy = (() => {
    try {
      execFileSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!existsSync(reader) || !hasNumpy || data.location !== SYSTEM_DATA_DIR)(
    "agrees with the dataset's own Python reader (utils/mnist_reader.py) on every byte",
    () => {
      const script = `
import sys, hashlib
sys.path.insert(0, '/usr/share/doc/dataset-fashion-mnist/utils')
import mnist_reader
for kind in ('train', 't10k'):
    x, y = mnist_reader.load_mnist('${SYSTEM_DATA_DIR}', kind=kind)
    print(kind, x.shape[0], hashlib.sha256(x.tobytes()).hexdigest(), hashlib.sha256(y.tobytes()).hexdigest())
`;
      const out = execFileSync('python3', ['-c', script], { encoding: 'utf8' }).trim().split('\n');
      const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
      expect(out).toEqual([
        `train 60000 ${sha(data.train.images)} ${sha(data.train.labels)}`,
        `t10k 10000 ${sha(data.test.images)} ${sha(data.test.labels)}`,
      ]);
    },
  );
});
