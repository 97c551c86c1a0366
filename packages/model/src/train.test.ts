import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BackendName } from './backend';
import { loadCheckpoint } from './checkpoint-node';
import { FmnistModelError } from './errors';
import { evaluate } from './evaluate';
import { synthetic } from './fixtures/synthetic';
import { createModel } from './model';
import { tf } from './tfjs-backend';
import { train } from './train';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-train-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const data = { train: synthetic(300, 1), test: synthetic(100, 2) };
/** A narrow patch-MLP so the TensorFlow.js paths (slow cpu backend included) finish in seconds. */
const tiny = { preset: 'patch-mlp' as const, dim: 16, tokenHidden: 16, channelHidden: 16 };

describe.each<[string, BackendName, Parameters<typeof createModel>[0]]>([
  ['tfjs cpu', 'cpu', tiny],
  ['tfjs wasm', 'wasm', tiny],
  ['kernels', 'kernels', 'patch-mlp'],
])('train() on %s', (_, backend, preset) => {
  it('learns, records every epoch, and is deterministic for the same seed', async () => {
    const run = () => train({ model: createModel(preset), data, epochs: 3, batchSize: 32, learningRate: 1e-2, seed: 5, backend });
    const a = await run();
    const b = await run();
    expect(a.epochs).toHaveLength(3);
    expect(a.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy])).toEqual(
      b.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy]),
    );
    expect(a.epochs[2]?.trainLoss).toBeLessThan(a.epochs[0]?.trainLoss as number);
    expect(a.epochs[2]?.testAccuracy).toBeGreaterThan(0.5);
    expect(a.backend).toMatch(backend === 'kernels' ? /^wasm-(relaxed-)?simd$/ : new RegExp(`^tfjs-${backend}$`));
    for (const e of a.epochs) expect(e.imagesPerSecond).toBeGreaterThan(0);
  });
});

describe('train() checkpoints, resume and guards', () => {
  it.each<[string, BackendName, Parameters<typeof createModel>[0]]>([
    ['tfjs cpu', 'cpu', tiny],
    ['kernels', 'kernels', 'patch-mlp'],
  ])('%s: resume after an abort mid-epoch reproduces the uninterrupted run exactly', async (_, backend, preset) => {
    const opts = { data, epochs: 3, batchSize: 64, seed: 3, backend };
    const full = createModel(preset);
    const fullHistory = await train({ ...opts, model: full });

    const controller = new AbortController();
    const interrupted = createModel(preset);
    const h1 = await train({
      ...opts,
      model: interrupted,
      checkpointDir: dir,
      signal: controller.signal,
      callbacks: { onBatchEnd: (l) => void (l.epoch === 2 && l.batch === 2 && controller.abort()) },
    });
    expect(h1.stopReason).toBe('aborted');
    expect((await loadCheckpoint(dir)).meta.epoch).toBe(1);

    const resumed = createModel(preset);
    const h2 = await train({ ...opts, model: resumed, checkpointDir: dir, resume: true });
    expect(h2.stopReason).toBe('completed');
    expect(h2.epochs.map((e) => e.trainLoss)).toEqual(fullHistory.epochs.map((e) => e.trainLoss));
    for (const k of Object.keys(full.params)) {
      expect(Array.from(resumed.params[k] as Float32Array), k).toEqual(Array.from(full.params[k] as Float32Array));
    }
  });

  it.each<[string, BackendName, Parameters<typeof createModel>[0]]>([
    ['tfjs cpu', 'cpu', tiny],
    ['kernels', 'kernels', 'patch-mlp'],
  ])(
    '%s: SGD with momentum — recorded in the checkpoint, its momentum saved, resumed exactly; resuming as Adam is refused',
    async (_, backend, preset) => {
      const optimizer = { kind: 'sgd' as const, momentum: 0.9, nesterov: true };
      const opts = { data, epochs: 2, batchSize: 64, seed: 5, backend, optimizer, learningRate: 0.05, weightDecay: 1e-3 };
      const full = createModel(preset);
      const fullHistory = await train({ ...opts, model: full });
      expect(fullHistory.training).toMatchObject({
        optimizer: 'sgd',
        learningRate: 0.05,
        momentum: 0.9,
        nesterov: true,
        weightDecay: 1e-3,
      });
      expect(fullHistory.training).not.toHaveProperty('beta1');
      expect(fullHistory.epochs[1]!.trainLoss).toBeLessThan(fullHistory.epochs[0]!.trainLoss);

      const controller = new AbortController();
      await train({
        ...opts,
        model: createModel(preset),
        checkpointDir: dir,
        signal: controller.signal,
        callbacks: { onBatchEnd: (l) => void (l.epoch === 2 && l.batch === 2 && controller.abort()) },
      });
      const saved = await loadCheckpoint(dir);
      expect(saved.meta.training.optimizer).toBe('sgd');
      expect(saved.optimizer?.kind).toBe('sgd');
      expect(saved.optimizer?.step).toBe(7);
      expect(Object.keys(saved.optimizer ?? {}).sort()).toEqual(['kind', 'momentum', 'step']);

      const asAdam = await train({ ...opts, optimizer: undefined, model: createModel(preset), checkpointDir: dir, resume: true }).catch(
        (e) => e,
      );
      expect(asAdam).toBeInstanceOf(FmnistModelError);
      expect(asAdam.code).toBe('E_CHECKPOINT_MISMATCH');
      expect(asAdam.message).toMatch(/was trained with sgd; this run asks for adam/);

      const resumed = createModel(preset);
      const h = await train({ ...opts, model: resumed, checkpointDir: dir, resume: true });
      expect(h.epochs.map((e) => e.trainLoss)).toEqual(fullHistory.epochs.map((e) => e.trainLoss));
      for (const k of Object.keys(full.params))
        expect(Array.from(resumed.params[k] as Float32Array), k).toEqual(Array.from(full.params[k] as Float32Array));
    },
  );

  it('checkpointEvery: a crash mid-epoch loses at most N steps, and resuming reproduces the uninterrupted run', async () => {
    const opts = { data, epochs: 3, batchSize: 64, seed: 4, backend: 'kernels' as const, weightDecay: 0.05 };
    const full = createModel('patch-mlp');
    const fullHistory = await train({ ...opts, model: full });
    expect(fullHistory.training.optimizer).toBe('adamw');
    expect(fullHistory.training.weightDecay).toBe(0.05);

    const crash = new Error('simulated crash');
    const err = await train({
      ...opts,
      model: createModel('patch-mlp'),
      checkpointDir: dir,
      checkpointEvery: 2,
      callbacks: {
        onBatchEnd: (l) => {
          if (l.epoch === 2 && l.batch === 3) throw crash; // step 8 of 5 per epoch; the last checkpoint is after step 6
        },
      },
    }).catch((e) => e);
    expect(err).toBe(crash);
    const saved = await loadCheckpoint(dir);
    expect(saved.meta.step).toBe(6);
    expect(saved.meta.epoch).toBe(1);

    const resumed = createModel('patch-mlp');
    const h = await train({ ...opts, model: resumed, checkpointDir: dir, resume: true });
    expect(h.epochs.map((e) => e.trainLoss)).toEqual(fullHistory.epochs.map((e) => e.trainLoss));
    for (const k of Object.keys(full.params))
      expect(Array.from(resumed.params[k] as Float32Array), k).toEqual(Array.from(full.params[k] as Float32Array));
  });

  it('a mid-epoch checkpoint resumed with another batch size or other data → E_CHECKPOINT_MISMATCH, nothing trained', async () => {
    const controller = new AbortController();
    await train({
      model: createModel(tiny),
      data,
      epochs: 2,
      batchSize: 32,
      backend: 'cpu',
      checkpointDir: dir,
      signal: controller.signal,
      callbacks: { onBatchEnd: ({ batch }) => (batch === 3 ? controller.abort() : undefined) },
    });
    const saved = await loadCheckpoint(dir);
    expect((saved.meta as { resumeAt?: { batch: number } }).resumeAt?.batch).toBe(3);
    for (const other of [
      { batchSize: 64, data },
      { batchSize: 32, data: { ...data, train: synthetic(200, 1) } },
    ]) {
      const err = await train({ model: createModel(tiny), epochs: 2, backend: 'cpu', checkpointDir: dir, resume: true, ...other }).catch(
        (e) => e,
      );
      expect(err).toBeInstanceOf(FmnistModelError);
      expect(err.code).toBe('E_CHECKPOINT_MISMATCH');
      expect(err.message).toMatch(/stopped at batch 3 of an epoch of 300 examples in batches of 32/);
    }
    expect((await loadCheckpoint(dir)).meta.step).toBe(saved.meta.step);
  });

  it('an absurd learning rate → E_NAN; the checkpoint of the last good epoch is kept', async () => {
    const model = createModel(tiny);
    await train({ model, data, epochs: 1, batchSize: 64, backend: 'cpu', checkpointDir: dir });
    const good = (await loadCheckpoint(dir)).meta.step;
    const err = await train({
      model,
      data,
      epochs: 3,
      batchSize: 64,
      backend: 'cpu',
      checkpointDir: dir,
      resume: true,
      learningRate: 1e30,
    }).catch((e) => e);
    expect(err).toBeInstanceOf(FmnistModelError);
    expect(err.code).toBe('E_NAN');
    expect(err.message).toMatch(/Lower the learning rate/);
    expect((await loadCheckpoint(dir)).meta.step).toBe(good);
    for (const v of Object.values(model.params)) expect(v.every(Number.isFinite)).toBe(true);
  });

  it('cosine schedule and augmentation: still deterministic, resumable exactly, and recorded', async () => {
    const opts = {
      data,
      epochs: 2,
      batchSize: 64,
      seed: 9,
      backend: 'kernels' as const,
      lrSchedule: 'cosine' as const,
      augment: { shift: 2, flip: true, erase: 0.5 },
    };
    const full = createModel('patch-mlp');
    const h = await train({ ...opts, model: full });
    expect(h.training.lrSchedule).toBe('cosine');
    expect(h.training.augment).toEqual({ shift: 2, flip: true, erase: 0.5 });
    const controller = new AbortController();
    await train({
      ...opts,
      model: createModel('patch-mlp'),
      checkpointDir: dir,
      signal: controller.signal,
      callbacks: { onBatchEnd: (l) => void (l.epoch === 2 && l.batch === 1 && controller.abort()) },
    });
    const resumed = createModel('patch-mlp');
    await train({ ...opts, model: resumed, checkpointDir: dir, resume: true });
    for (const k of Object.keys(full.params))
      expect(Array.from(resumed.params[k] as Float32Array), k).toEqual(Array.from(full.params[k] as Float32Array));
  });

  it('tf.memory().numTensors is flat across epochs', async () => {
    const counts: number[] = [];
    await train({
      model: createModel({ preset: 'mixer-s', dim: 16, tokenHidden: 8, channelHidden: 32, blocks: 1 }),
      data,
      epochs: 3,
      batchSize: 100,
      backend: 'cpu',
      callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
    });
    expect(counts[2]).toBe(counts[0]);
    expect(counts[1]).toBe(counts[0]);
  });

  it('stops on the time budget with a resumable checkpoint', async () => {
    // A clock that only the batches advance (100 ms each): a 250 ms budget runs out after batch 3 of 10, in epoch 1.
    let clock = 0;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => clock);
    const opts = { data, epochs: 2, batchSize: 32, backend: 'cpu' as const, seed: 3 };
    let h: Awaited<ReturnType<typeof train>>;
    try {
      h = await train({
        ...opts,
        model: createModel(tiny),
        timeBudgetMs: 250,
        checkpointDir: dir,
        callbacks: { onBatchEnd: () => void (clock += 100) },
      });
    } finally {
      spy.mockRestore();
    }
    expect(h.stopReason).toBe('time-budget');
    expect(h.epochs).toEqual([]);
    const saved = await loadCheckpoint(dir);
    expect(saved.meta.epoch).toBe(0);
    expect(saved.meta.step).toBe(3);
    expect((saved.meta as { resumeAt?: { batch: number } }).resumeAt?.batch).toBe(3);

    // Resuming without a budget finishes the run exactly as one uninterrupted run does.
    const resumed = createModel(tiny);
    const rest = await train({ ...opts, model: resumed, checkpointDir: dir, resume: true });
    expect(rest.stopReason).toBe('completed');
    expect(rest.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    const full = createModel(tiny);
    const whole = await train({ ...opts, model: full });
    expect(rest.epochs.map((e) => [e.trainLoss, e.testLoss])).toEqual(whole.epochs.map((e) => [e.trainLoss, e.testLoss]));
    for (const k of Object.keys(full.params))
      expect(Array.from(resumed.params[k] as Float32Array), k).toEqual(Array.from(full.params[k] as Float32Array));
  });

  it('rejects bad options with clear messages', async () => {
    await expect(train({ model: createModel('seed'), data, epochs: 0 })).rejects.toThrow(/'epochs' must be a positive integer, got 0/);
    await expect(train({ model: createModel('seed'), data, epochs: 1, resume: true })).rejects.toThrow(/'resume' needs 'checkpointDir'/);
    await expect(train({ model: createModel('seed'), data, epochs: 1, checkpointEvery: 10 })).rejects.toThrow(/'checkpointEvery' needs/);
    await expect(train({ model: createModel('seed'), data, epochs: 1, checkpointEvery: 0, checkpointDir: dir })).rejects.toThrow(
      /'checkpointEvery' must be a positive integer/,
    );
    await expect(train({ model: createModel('seed'), data, epochs: 1, weightDecay: -1 })).rejects.toThrow(
      /'weightDecay' must be a finite number ≥ 0/,
    );
  });

  it('trains an MLP-Mixer on the kernels (any config; deterministic)', async () => {
    const mixer = { preset: 'mixer-s' as const, dim: 32, tokenHidden: 16, channelHidden: 64, blocks: 2 };
    const run = () => train({ model: createModel(mixer), data, epochs: 5, batchSize: 32, learningRate: 1e-2, seed: 5, backend: 'kernels' });
    const a = await run();
    const b = await run();
    expect(a.backend).toMatch(/^wasm-(relaxed-)?simd$/);
    expect(a.epochs).toHaveLength(5);
    expect(a.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy])).toEqual(
      b.epochs.map((e) => [e.trainLoss, e.testLoss, e.testAccuracy]),
    );
    expect(a.epochs[4]?.trainLoss).toBeLessThan(a.epochs[0]?.trainLoss as number);
    expect(a.epochs[4]?.testAccuracy).toBeGreaterThan(0.5);
  });
});

describe('train() returns its last evaluation', () => {
  const opts = { data, batchSize: 64, seed: 2, backend: 'kernels' as const, threads: 2 };

  it('a completed run: the evaluation of the final parameters, equal to evaluate() on them and to the last epoch record', async () => {
    const model = createModel('patch-mlp');
    const h = await train({ ...opts, model, epochs: 2 });
    const final = h.finalEvaluation;
    expect(final?.epoch).toBe(2);
    expect(final?.loss).toBe(h.epochs[1]?.testLoss);
    expect(final?.accuracy).toBe(h.epochs[1]?.testAccuracy);
    expect(final?.predictions).toHaveLength(data.test.count);
    expect(final?.confusion.flat().reduce((a, b) => a + b, 0)).toBe(data.test.count);
    const again = await evaluate(model, data.test, { backend: 'kernels', threads: 2 });
    expect(Array.from(final?.predictions ?? [])).toEqual(Array.from(again.predictions));
    expect(final?.confusion).toEqual(again.confusion);
    expect(final?.accuracy).toBe(again.accuracy);
    expect(final?.loss).toBeCloseTo(again.loss, 5);
  });

  it('stopped after an evaluated epoch: that epoch; after an unevaluated one, or mid-epoch: none', async () => {
    const stopAfter = async (epoch: number, batch?: number) => {
      const controller = new AbortController();
      return train({
        ...opts,
        model: createModel('patch-mlp'),
        epochs: 3,
        evalEvery: 2,
        signal: controller.signal,
        callbacks: {
          onEpochEnd: (r) => void (batch === undefined && r.epoch === epoch && controller.abort()),
          onBatchEnd: (l) => void (l.epoch === epoch && l.batch === batch && controller.abort()),
        },
      });
    };
    const afterTwo = await stopAfter(2);
    expect(afterTwo.stopReason).toBe('aborted');
    expect(afterTwo.finalEvaluation?.epoch).toBe(2);
    expect(afterTwo.finalEvaluation?.accuracy).toBe(afterTwo.epochs[1]?.testAccuracy);
    const afterOne = await stopAfter(1);
    expect(afterOne.stopReason).toBe('aborted');
    expect(afterOne.epochs).toHaveLength(1);
    expect(afterOne.finalEvaluation).toBeUndefined();
    const midThree = await stopAfter(3, 2);
    expect(midThree.stopReason).toBe('aborted');
    expect(midThree.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(midThree.finalEvaluation).toBeUndefined();
  });

  it('no test set, or a resumed run with nothing left to train: none', async () => {
    const noTest = await train({ ...opts, model: createModel('patch-mlp'), data: { train: data.train }, epochs: 1 });
    expect(noTest.epochs).toHaveLength(1);
    expect(noTest.finalEvaluation).toBeUndefined();
    const done = await train({ ...opts, model: createModel('patch-mlp'), epochs: 1, checkpointDir: dir });
    expect(done.finalEvaluation?.epoch).toBe(1);
    const resumed = await train({ ...opts, model: createModel('patch-mlp'), epochs: 1, checkpointDir: dir, resume: true });
    expect(resumed.epochs).toHaveLength(1);
    expect(resumed.finalEvaluation).toBeUndefined();
  });
});

describe('train() seeds: the batch order defaults to the model’s init seed; both are recorded', () => {
  const opts = { data, epochs: 1, batchSize: 64, backend: 'kernels' as const, threads: 1 };
  const same = (a: Record<string, Float32Array>, b: Record<string, Float32Array>) =>
    Object.keys(a).every((k) => Array.from(a[k] as Float32Array).join() === Array.from(b[k] as Float32Array).join());

  it('createModel({ seed }) alone seeds the whole run; an explicit train seed changes only the batch order', async () => {
    const a = createModel({ preset: 'patch-mlp', seed: 4 });
    const b = createModel({ preset: 'patch-mlp', seed: 5 });
    expect(same(a.params, b.params)).toBe(false);
    const implicit = await train({ ...opts, model: a });
    expect(implicit.training).toMatchObject({ seed: 4, initSeed: 4 });
    const explicit = createModel({ preset: 'patch-mlp', seed: 4 });
    await train({ ...opts, model: explicit, seed: 4 });
    expect(same(a.params, explicit.params)).toBe(true);
    const otherOrder = createModel({ preset: 'patch-mlp', seed: 4 });
    const h = await train({ ...opts, model: otherOrder, seed: 9 });
    expect(h.training).toMatchObject({ seed: 9, initSeed: 4 });
    expect(same(a.params, otherOrder.params)).toBe(false);
  });

  it('a resume records the init seed of the checkpoint’s run; an older checkpoint’s is its config.seed', async () => {
    const controller = new AbortController();
    await train({
      ...opts,
      epochs: 2,
      model: createModel({ preset: 'patch-mlp', seed: 6 }),
      checkpointDir: dir,
      signal: controller.signal,
      callbacks: { onEpochEnd: () => controller.abort() },
    });
    const file = join(dir, 'checkpoint.json');
    const meta = JSON.parse(await readFile(file, 'utf8'));
    expect(meta.training).toMatchObject({ seed: 6, initSeed: 6 });
    expect(meta.config.seed).toBe(6);
    delete meta.training.initSeed;
    await writeFile(file, JSON.stringify(meta));
    // The weights come from the checkpoint, so its init seed is recorded, not the one of the model passed in.
    const h = await train({ ...opts, epochs: 2, model: createModel('patch-mlp'), checkpointDir: dir, resume: true });
    expect(h.epochs).toHaveLength(2);
    expect(h.training).toMatchObject({ seed: 6, initSeed: 6 });
  });
});
