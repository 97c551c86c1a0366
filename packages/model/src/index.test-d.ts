/**
 * Type tests of the public API (`@fmnist/model` and its browser-safe `@fmnist/model/core`): run by `pnpm test`
 * through vitest's typecheck mode (`vitest.config.ts`).
 */
import type { ExampleSet } from '@fmnist/data';
import { describe, expectTypeOf, it } from 'vitest';
import * as core from './core';
import {
  type BatchLogs,
  type Checkpoint,
  createModel,
  createPredictor,
  type EpochRecord,
  type Evaluation,
  evaluate,
  type FinalEvaluation,
  type FmnistModel,
  type FmnistModelError,
  type FmnistModelErrorCode,
  type History,
  loadCheckpoint,
  type ModelConfig,
  type ParamSet,
  PRESETS,
  type Predictor,
  type PresetAlias,
  type PresetName,
  type TrainCallbacks,
  type TrainOptions,
  train,
} from './index';

describe('@fmnist/model types', () => {
  it('presets are a closed union, and PRESETS maps each to a readonly config', () => {
    expectTypeOf<PresetName>().toEqualTypeOf<
      'coursework' | 'patch-mlp' | 'mixer-s' | 'mixer-s7' | 'mixer-s7-long' | 'mixer-m' | 'mixer-l'
    >();
    expectTypeOf(PRESETS).toEqualTypeOf<Readonly<Record<PresetName, Readonly<ModelConfig>>>>();
    expectTypeOf<ModelConfig['norm']>().toEqualTypeOf<'none' | 'layernorm'>();
  });

  it('createModel takes a preset or config fields over a preset and returns a FmnistModel', () => {
    expectTypeOf(createModel)
      .parameter(0)
      .toEqualTypeOf<PresetName | PresetAlias | (Partial<ModelConfig> & { preset?: PresetName | PresetAlias }) | undefined>();
    expectTypeOf<PresetAlias>().toEqualTypeOf<'seed'>();
    expectTypeOf(createModel).returns.toEqualTypeOf<FmnistModel>();
    expectTypeOf<FmnistModel['params']>().toEqualTypeOf<ParamSet>();
    expectTypeOf<ParamSet>().toEqualTypeOf<Record<string, Float32Array>>();
    expectTypeOf<FmnistModel['preset']>().toEqualTypeOf<PresetName | undefined>();
    // @ts-expect-error: not a preset
    createModel('mixer-xl');
  });

  it('train resolves to a History; options and callbacks are typed', () => {
    expectTypeOf(train).parameter(0).toEqualTypeOf<TrainOptions>();
    expectTypeOf(train).returns.resolves.toEqualTypeOf<History>();
    expectTypeOf<History['stopReason']>().toEqualTypeOf<'completed' | 'aborted' | 'time-budget'>();
    expectTypeOf<History['epochs']>().toEqualTypeOf<EpochRecord[]>();
    expectTypeOf<History['finalEvaluation']>().toEqualTypeOf<FinalEvaluation | undefined>();
    expectTypeOf<FinalEvaluation>().toExtend<Evaluation>();
    expectTypeOf<FinalEvaluation['epoch']>().toEqualTypeOf<number>();
    expectTypeOf<TrainOptions['signal']>().toEqualTypeOf<AbortSignal | undefined>();
    expectTypeOf<TrainOptions['data']['train']>().toEqualTypeOf<ExampleSet>();
    expectTypeOf<NonNullable<TrainCallbacks['onBatchEnd']>>().parameter(0).toEqualTypeOf<BatchLogs>();
    expectTypeOf<NonNullable<TrainCallbacks['onBatchEnd']>>().returns.toEqualTypeOf<void | Promise<void>>();
  });

  it('evaluate, the predictor and checkpoints return their documented shapes', () => {
    expectTypeOf(evaluate).returns.resolves.toEqualTypeOf<Evaluation>();
    expectTypeOf<Evaluation['confusion']>().toEqualTypeOf<number[][]>();
    expectTypeOf<Evaluation['predictions']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf(createPredictor).returns.resolves.toEqualTypeOf<Predictor>();
    expectTypeOf<Predictor['predict']>().toEqualTypeOf<(x: Float32Array, n?: number) => Float32Array>();
    expectTypeOf(loadCheckpoint).returns.resolves.toEqualTypeOf<Checkpoint>();
    expectTypeOf<Checkpoint['params']>().toEqualTypeOf<ParamSet>();
  });

  it('errors carry a typed code', () => {
    expectTypeOf<FmnistModelError['code']>().toEqualTypeOf<FmnistModelErrorCode>();
    expectTypeOf<'E_NAN'>().toExtend<FmnistModelErrorCode>();
    expectTypeOf<'E_NOPE'>().not.toExtend<FmnistModelErrorCode>();
  });

  it('the browser-safe core entry has the same model API and a trainer of the same signature, without the Node file functions', () => {
    expectTypeOf(core.createModel).toEqualTypeOf(createModel);
    expectTypeOf(core.createPredictor).toEqualTypeOf(createPredictor);
    expectTypeOf(core.train).toEqualTypeOf(train);
    expectTypeOf(core).not.toHaveProperty('loadCheckpoint');
    expectTypeOf(core).not.toHaveProperty('directoryCheckpointStore');
    // A DOM Worker is what kernels.spawn returns, without a cast (the package's own types need no DOM lib).
    expectTypeOf<() => Worker>().toExtend<core.SpawnKernelsWorker>();
  });
});
