/**
 * The contract between the Train view (DOM, apps/web/src/views/train-view.ts) and the training session that runs
 * `@fmnist/model`'s own trainer in web workers (apps/web/src/train/session.ts). DOM-free, so the view's unit tests can
 * drive it with a fake session.
 */
import type { EpochRecord, Evaluation, ModelConfig, ParamSet, PresetName, TrainingRecord } from '@fmnist/model/core';

/** What a run is started with (the Train view's form; defaults from the preset's recipe, as `fmnist train` does). */
export interface TrainSettings {
  preset: PresetName;
  epochs: number;
  batchSize: number;
  learningRate: number;
  lrSchedule: 'constant' | 'cosine';
  weightDecay: number;
  labelSmoothing: number;
  /** Training-time augmentation, as `@fmnist/data`'s `Augmentation`. */
  augment: { shift?: number; flip?: boolean; erase?: number };
  /** Train on this many images of the 60,000 (drawn with `seed`, as `fmnist train --subset`), or all of them (null). */
  subset: number | null;
  /** Seeds the initial weights and the batch order, as `fmnist train --seed`. */
  seed: number;
  /** Worker threads doing the math. @defaultValue `navigator.hardwareConcurrency` */
  threads?: number;
}

/** The states `#train-status[data-state]` shows. */
export type TrainState = 'idle' | 'loading' | 'running' | 'paused' | 'done' | 'failed';

/** Live figures, sent at most ~10 times a second while running. */
export interface TrainProgress {
  /** 1-based epoch. */
  epoch: number;
  epochs: number;
  /** 1-based step (batch) within the epoch. */
  step: number;
  /** Steps in an epoch. */
  steps: number;
  /** The last step's training loss. */
  loss: number;
  /** Mean training loss and accuracy so far this epoch. */
  meanLoss: number;
  accuracy: number;
  /** Training images per second this epoch. */
  imagesPerSecond: number;
  /** Seconds left for the whole run, estimated from the speed so far. */
  etaSeconds: number;
}

/** The training data download (train set gz files, fetched when a run starts and cached by the browser). */
export interface DownloadProgress {
  loaded: number;
  /** Total bytes when known. */
  total: number | undefined;
}

/** A finished (completed or stopped) run: everything the view needs to install, show and download it. */
export interface FinishedRun {
  settings: TrainSettings;
  preset: PresetName;
  config: ModelConfig;
  /** The trained parameters (the model's `params`). */
  params: ParamSet;
  /** One record per epoch run (test figures where evaluated). */
  epochs: EpochRecord[];
  /** Why it ended. */
  stopReason: 'completed' | 'aborted' | 'time-budget';
  /** The hyperparameters as the checkpoint records them. */
  training: TrainingRecord;
  /** The evaluation on the 10,000 test images of `params` (always present: the session evaluates if train() did not). */
  evaluation: Evaluation;
  /** The checkpoint as the files of a Node checkpoint directory (`checkpoint.json`, `model.safetensors`, …). */
  checkpointFiles: Record<string, Uint8Array>;
  /**
   * The model as a float32 `.onnx` file, exported by the trainer worker from those files (so the page's main thread
   * does not have to); absent, the page exports it.
   */
  onnx?: Uint8Array;
  /** Engine name (`wasm-relaxed-simd`, `wasm-simd`) and threads. */
  backend: string;
  threads: number;
  /** Wall time of the run in the page, data loading excluded. */
  trainTimeMs: number;
}

/** A run kept in the browser (IndexedDB) that the next visit can resume. */
export interface StoredRun {
  /** The run's id (what the session resumes). */
  runId: string;
  settings: TrainSettings;
  /** Epochs completed (a mid-epoch checkpoint also has `step`). */
  epoch: number;
  step?: number;
  savedAt: string;
}

/** The session's events, each a `CustomEvent` with this `detail`. */
export interface TrainSessionEventMap {
  /** Every state change; `failed` carries the user-facing `message` (and the previous model stays the app's model). */
  state: { state: TrainState; message?: string };
  download: DownloadProgress;
  progress: TrainProgress;
  epoch: EpochRecord;
  done: FinishedRun;
}

/** One training run at a time in the page. */
export interface TrainSession extends EventTarget {
  readonly state: TrainState;
  /** Starts a fresh run (replacing any stored one). Resolves when the run is under way. */
  start(settings: TrainSettings): Promise<void>;
  /** Stops at the next step with a checkpoint (state `paused`); {@link resume} continues it exactly. */
  pause(): Promise<void>;
  /** Continues the paused or stored run from its checkpoint. */
  resume(): Promise<void>;
  /** Ends the run at the next step; it finishes as `done` (stopReason `aborted`) with the weights so far. */
  stop(): Promise<void>;
  /** The run stored in the browser by an earlier visit (to offer resuming it), if any. */
  storedRun(): Promise<StoredRun | undefined>;
  /** Forgets the stored run. */
  discardStoredRun(): Promise<void>;
  addEventListener<K extends keyof TrainSessionEventMap>(
    type: K,
    listener: (event: CustomEvent<TrainSessionEventMap[K]>) => void,
    options?: AddEventListenerOptions,
  ): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: AddEventListenerOptions): void;
}
