/** What the page's training session and the trainer worker (trainer-worker.ts) say to each other. */
import type { EpochRecord } from '@fmnist/model/core';
import type { DownloadProgress, FinishedRun, TrainProgress, TrainSettings, TrainState } from './session-types';

/** Page → trainer worker. */
export type TrainerRequest =
  /** Start a fresh run (`resume: false`) or continue the stored one. */
  | { type: 'start'; runId: string; settings: TrainSettings; resume: boolean; baseUrl?: string }
  /** Stop at the next step with a checkpoint, to resume later. */
  | { type: 'pause' }
  /** Stop at the next step and finish the run with the weights so far. */
  | { type: 'stop' }
  /** Finish the stored (paused) run from its checkpoint, without training: evaluate it and end as `done`. */
  | { type: 'finish'; runId: string; settings: TrainSettings; baseUrl?: string };

/** Trainer worker → page. */
export type TrainerEvent =
  | { type: 'state'; state: Exclude<TrainState, 'idle' | 'done' | 'failed'> }
  | { type: 'download'; progress: DownloadProgress }
  | { type: 'progress'; progress: TrainProgress }
  | { type: 'epoch'; record: EpochRecord }
  | { type: 'done'; run: FinishedRun }
  | { type: 'failed'; message: string; code?: string };
