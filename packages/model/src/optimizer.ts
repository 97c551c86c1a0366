import type { AdamOptions, SgdOptions, UpdateOptions } from './engine';
import { FmnistModelError } from './errors';

/**
 * The optimizer of a training run, as `TrainOptions.optimizer` takes it: Adam (the default) or SGD with momentum.
 * Values left out take the defaults below (Adam's from the top-level `beta1`, `beta2`, `epsilon` when set).
 *
 * @example
 * ```ts
 * await train({ model, data, epochs: 10, optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true }, learningRate: 0.05 });
 * ```
 */
export type OptimizerOptions =
  | {
      kind: 'adam';
      /** @defaultValue 0.9 */
      beta1?: number;
      /** @defaultValue 0.999 */
      beta2?: number;
      /** PyTorch's default (tfjs's own default is 1e-7). @defaultValue 1e-8 */
      epsilon?: number;
    }
  | {
      kind: 'sgd';
      /** In [0, 1); 0 is plain SGD. @defaultValue 0.9 */
      momentum?: number;
      /** In [0, 1]. @defaultValue 0 */
      dampening?: number;
      /** Nesterov momentum (needs `momentum` > 0 and `dampening` 0). @defaultValue false */
      nesterov?: boolean;
    };

/** The hyperparameters that describe a run's optimizer in its checkpoint (part of `TrainingRecord`). */
export interface OptimizerRecord {
  /** `adamw` for Adam with weight decay. Absent in checkpoints written before 0.2: Adam. */
  optimizer?: 'adam' | 'adamw' | 'sgd';
  /** Adam's β1, β2 and ε (absent for SGD). */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** SGD's momentum, dampening and Nesterov flag (absent for Adam). */
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  /** Weight decay (absent: none): decoupled (AdamW) for Adam, coupled (L2 in the gradient) for SGD. */
  weightDecay?: number;
}

const bad = (what: string, value: unknown, range: string, fix: string) =>
  new FmnistModelError('E_CONFIG', `'${what}' must be ${range}, got ${String(value)}. ${fix}`);

function checkRange(what: string, value: number, ok: boolean, range: string, fix: string): void {
  if (typeof value !== 'number' || !ok) throw bad(what, value, range, fix);
}

/**
 * Resolves and checks a run's optimizer: `optimizer` (or Adam) with the top-level Adam values, the learning rate and
 * weight decay, into the {@link UpdateOptions} the engines receive.
 *
 * @param options - `optimizer`, `learningRate`, `beta1`, `beta2`, `epsilon`, `weightDecay` as {@link TrainOptions} has them
 * @returns the update options (before any learning-rate schedule)
 * @throws FmnistModelError `E_CONFIG` naming the value and its range: an unknown `kind`, `momentum` outside [0, 1),
 *   `dampening` outside [0, 1], Nesterov without momentum or with dampening, β outside [0, 1), ε ≤ 0, or Adam's
 *   `beta1`/`beta2`/`epsilon` given together with SGD
 * @internal
 */
export function resolveOptimizer(options: {
  optimizer?: OptimizerOptions;
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  weightDecay: number;
}): UpdateOptions {
  const spec = options.optimizer ?? { kind: 'adam' };
  const { learningRate, weightDecay } = options;
  if (typeof spec !== 'object' || spec === null || (spec.kind !== 'adam' && spec.kind !== 'sgd')) {
    const kind = typeof spec === 'object' && spec !== null ? (spec as { kind?: unknown }).kind : spec;
    throw new FmnistModelError('E_CONFIG', `'optimizer.kind' must be 'adam' or 'sgd', got ${JSON.stringify(kind)}.`);
  }
  if (spec.kind === 'sgd') {
    for (const name of ['beta1', 'beta2', 'epsilon'] as const) {
      if (options[name] !== undefined) {
        throw new FmnistModelError(
          'E_CONFIG',
          `'${name}' is an Adam setting, but 'optimizer' is SGD (got ${name} ${options[name]}). Leave '${name}' out, or use { kind: 'adam' }.`,
        );
      }
    }
    const momentum = spec.momentum ?? 0.9;
    const dampening = spec.dampening ?? 0;
    const nesterov = spec.nesterov ?? false;
    checkRange('optimizer.momentum', momentum, momentum >= 0 && momentum < 1, 'a number in [0, 1)', 'Use e.g. 0.9, or 0 for plain SGD.');
    checkRange('optimizer.dampening', dampening, dampening >= 0 && dampening <= 1, 'a number in [0, 1]', 'Use 0 (PyTorch’s default).');
    if (typeof nesterov !== 'boolean') throw bad('optimizer.nesterov', nesterov, 'true or false', '');
    if (nesterov && (momentum === 0 || dampening !== 0)) {
      throw new FmnistModelError(
        'E_CONFIG',
        `Nesterov momentum needs 'optimizer.momentum' > 0 and 'optimizer.dampening' 0 (as PyTorch), got momentum ${momentum} and dampening ${dampening}.`,
      );
    }
    const sgd: SgdOptions = { kind: 'sgd', learningRate, momentum, weightDecay };
    if (dampening !== 0) sgd.dampening = dampening;
    if (nesterov) sgd.nesterov = true;
    return sgd;
  }
  const beta1 = spec.beta1 ?? options.beta1 ?? 0.9;
  const beta2 = spec.beta2 ?? options.beta2 ?? 0.999;
  const epsilon = spec.epsilon ?? options.epsilon ?? 1e-8;
  checkRange('beta1', beta1, beta1 >= 0 && beta1 < 1, 'a number in [0, 1)', 'Use e.g. 0.9 (PyTorch’s default).');
  checkRange('beta2', beta2, beta2 >= 0 && beta2 < 1, 'a number in [0, 1)', 'Use e.g. 0.999 (PyTorch’s default).');
  checkRange('epsilon', epsilon, epsilon > 0 && epsilon <= 1, 'a number in (0, 1]', 'Use e.g. 1e-8 (PyTorch’s default).');
  const adam: AdamOptions = { learningRate, beta1, beta2, epsilon, weightDecay };
  return adam;
}

/**
 * What a checkpoint records of an update's optimizer (the learning rate is recorded beside it).
 * @internal
 */
export function recordOptimizer(update: UpdateOptions): OptimizerRecord {
  const wd = update.weightDecay ? { weightDecay: update.weightDecay } : {};
  if (update.kind === 'sgd') {
    return {
      optimizer: 'sgd',
      momentum: update.momentum,
      ...(update.dampening ? { dampening: update.dampening } : {}),
      ...(update.nesterov ? { nesterov: true } : {}),
      ...wd,
    };
  }
  return { optimizer: update.weightDecay ? 'adamw' : 'adam', beta1: update.beta1, beta2: update.beta2, epsilon: update.epsilon, ...wd };
}

/** The optimizer kind a recorded run used (`adam` for `adam`, `adamw` and checkpoints without the field). @internal */
export function recordedOptimizerKind(record: { optimizer?: string }): 'adam' | 'sgd' {
  return record.optimizer === 'sgd' ? 'sgd' : 'adam';
}
