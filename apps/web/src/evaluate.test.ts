import { describe, expect, it, vi } from 'vitest';
import { EVAL_BATCH, predictAll } from './evaluate';

/** A fake engine: class = first pixel of the image mod 10, probability 1. Records batch sizes. */
function fakeRunner() {
  const calls: number[] = [];
  return {
    calls,
    async run(x: Float32Array, n: number) {
      calls.push(n);
      const out = new Float32Array(n * 10);
      for (let i = 0; i < n; i++) out[i * 10 + (Math.round((x[i * 784] as number) * 255) % 10)] = 1;
      return out;
    },
  };
}

describe('predictAll', () => {
  const count = 25;
  const images = new Uint8Array(count * 784);
  for (let i = 0; i < count; i++) images[i * 784] = i;

  it('runs every image in batches, reusing one buffer, and reports progress', async () => {
    const runner = fakeRunner();
    const progress: number[] = [];
    let yields = 0;
    const p = await predictAll(runner, images, 10, {
      batchSize: 10,
      yieldEveryMs: 0,
      onProgress: (done, total) => {
        expect(total).toBe(count);
        progress.push(done);
      },
      yieldBetween: async () => {
        yields++;
      },
    });
    expect(runner.calls).toEqual([10, 10, 5]);
    expect(progress).toEqual([10, 20, 25]);
    expect(yields).toBe(2);
    expect(Array.from(p.predicted)).toEqual(Array.from({ length: count }, (_, i) => i % 10));
    // each image's row in its place: probability 1 at its class, 0 elsewhere
    const expected = new Float32Array(count * 10);
    for (let i = 0; i < count; i++) expected[i * 10 + (i % 10)] = 1;
    expect(p.probabilities).toEqual(expected);
    expect(p.classes).toBe(10);
  });

  it('reports the wall time of the runs', async () => {
    // A clock that only the engine advances: 7 ms per run, so three runs take exactly 21 ms.
    let clock = 1000;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    try {
      const runner = fakeRunner();
      const slow = {
        run: async (x: Float32Array, n: number) => {
          clock += 7;
          return runner.run(x, n);
        },
      };
      const p = await predictAll(slow, images, 10, { batchSize: 10 });
      expect(runner.calls).toEqual([10, 10, 5]);
      expect(p.ms).toBe(21);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("uses the engine's preferred batch size unless told otherwise, else EVAL_BATCH", async () => {
    const preferring = { ...fakeRunner(), preferredBatch: 12 };
    await predictAll(preferring, images, 10);
    expect(preferring.calls).toEqual([12, 12, 1]);
    const told = { ...fakeRunner(), preferredBatch: 12 };
    await predictAll(told, images, 10, { batchSize: 20 });
    expect(told.calls).toEqual([20, 5]);
    const plain = fakeRunner();
    await predictAll(plain, new Uint8Array((EVAL_BATCH + 1) * 784), 10);
    expect(plain.calls).toEqual([EVAL_BATCH, 1]);
  });

  it('yields to the page at most every yieldEveryMs', async () => {
    let yields = 0;
    await predictAll(fakeRunner(), images, 10, { batchSize: 5, yieldEveryMs: 60_000, yieldBetween: async () => void yields++ });
    expect(yields).toBe(0);
  });

  it('stops when aborted and checks the batch size', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(predictAll(fakeRunner(), images, 10, { signal: controller.signal })).rejects.toThrow('stop');
    await expect(predictAll(fakeRunner(), images, 10, { batchSize: 0 })).rejects.toThrow(RangeError);
  });
});
