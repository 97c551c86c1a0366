/** Learning-rate schedules: the optimizer options of every optimizer step. */
import type { UpdateOptions } from './engine';

/** The schedules `train({ lrSchedule })` accepts. */
export type LrScheduleName = 'constant' | 'cosine';

/**
 * The optimizer options for the update that follows `done` updates: `constant` keeps `adam` as it is; `cosine` anneals the
 * learning rate per step from `adam.learningRate` to 0 over `totalSteps` (`lr · ½ · (1 + cos(π · done / total))`,
 * PyTorch's `CosineAnnealingLR` with `eta_min` 0 stepped every batch), staying at 0 past the end.
 *
 * @param schedule - `'constant'` or `'cosine'`
 * @param adam - the base options (`learningRate` is the peak)
 * @param totalSteps - optimizer steps of the whole run (`ceil(trainExamples / batchSize) · epochs`)
 * @returns a function of the number of updates done
 * @internal
 *
 * @example
 * ```ts
 * const at = createLrSchedule('cosine', { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }, 100);
 * at(50).learningRate; // 0.0005
 * ```
 */
export function createLrSchedule<U extends UpdateOptions>(schedule: LrScheduleName, adam: U, totalSteps: number): (done: number) => U {
  if (schedule === 'constant') return () => adam;
  return (done) => ({
    ...adam,
    learningRate: adam.learningRate * 0.5 * (1 + Math.cos((Math.PI * Math.min(done, totalSteps)) / totalSteps)),
  });
}
