// Review: an empty test set (count 0) given to train(). Its evaluation is NaN, written to checkpoint.json as null,
// which the schema then refuses on resume (E_CHECKPOINT_CORRUPT): the run must be refused before it starts.
import { describe, expect, it } from 'vitest';
import { memoryCheckpointStore } from './checkpoint-store';
import * as core from './core';
import { synthetic } from './fixtures/synthetic';
import { createModel } from './model';

describe('train with an empty test set (review)', () => {
  it('is refused up front (RangeError), before anything is trained or written', async () => {
    const store = memoryCheckpointStore();
    const empty = { images: new Uint8Array(0), labels: new Uint8Array(0), count: 0 };
    await expect(
      core.train({
        model: createModel('patch-mlp'),
        data: { train: synthetic(100, 1), test: empty },
        epochs: 1,
        batchSize: 50,
        checkpointStore: store,
      }),
    ).rejects.toThrow(new RangeError("'data.test' is empty; pass test images, or leave 'data.test' out."));
    expect(store.files.size).toBe(0);
  });
});
