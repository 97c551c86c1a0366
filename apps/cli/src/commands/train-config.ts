/** `fmnist train`'s `config.json` as written when training starts (status `running`; the result is filled in at the end). */
import type { LoadResult } from '@fmnist/data';
import type { FmnistModel } from '@fmnist/model';
import { checksums } from '../dataset';
import { describeEnvironment } from '../environment';
import type { RunConfig, RunSettings } from '../run-config';
import type { TrainFlags } from './train-settings';

/**
 * The run's config at the start of training.
 *
 * @param run - the run directory, start time, earlier config (resume), settings, model, flags, data and set sizes
 * @returns the config to write
 */
export function createRunConfig(run: {
  runDir: string;
  started: Date;
  resuming: boolean;
  previous?: RunConfig;
  settings: RunSettings;
  model: FmnistModel;
  parameters: number;
  flags: Pick<TrainFlags, 'timeBudget' | 'backend' | 'threads'>;
  data: LoadResult;
  trainExamples: number;
  testExamples: number;
}): RunConfig {
  const { settings, previous, data, flags } = run;
  return {
    format: 'fmnist-run',
    version: 1,
    run: run.runDir,
    command: ['fmnist', ...process.argv.slice(2)].join(' '),
    status: 'running',
    startTime: previous?.startTime ?? run.started.toISOString(),
    endTime: null,
    durationMs: null,
    resumedAt: [...(previous?.resumedAt ?? []), ...(run.resuming ? [run.started.toISOString()] : [])],
    model: { preset: settings.preset, parameters: run.parameters, config: run.model.config },
    settings,
    training: {
      ...(settings.optimizer === 'sgd'
        ? { optimizer: 'sgd', learningRate: settings.learningRate, lrSchedule: settings.lrSchedule, momentum: settings.momentum }
        : {
            optimizer: settings.weightDecay ? 'adamw' : 'adam',
            learningRate: settings.learningRate,
            lrSchedule: settings.lrSchedule,
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
          }),
      weightDecay: settings.weightDecay,
      labelSmoothing: settings.labelSmoothing ?? 0,
      augment: settings.augment,
      batchSize: settings.batchSize,
      epochs: settings.epochs,
      seed: settings.seed,
      initSeed: settings.initSeed,
      evalEvery: settings.evalEvery,
      loss: 'softmax cross-entropy',
      normalization: 'pixels / 255',
      trainExamples: run.trainExamples,
      testExamples: run.testExamples,
      timeBudgetMs: flags.timeBudget ?? null,
      backendRequested: flags.backend,
      threadsRequested: flags.threads ?? null,
    },
    environment: describeEnvironment(),
    dataset: {
      source: data.source,
      location: data.location,
      train: data.train.count,
      test: data.test.count,
      subset: settings.subset,
      sha256: checksums(data),
    },
    result: null,
  };
}
