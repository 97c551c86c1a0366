/**
 * The Train view's state, DOM-free: what the session's events add up to (state, figures, epochs, loss curve, the
 * finished run), which controls are enabled, and the `#train-status` hooks. The view renders it; tests drive it with a
 * fake session.
 */
import type { EpochRecord } from '@fmnist/model/core';
import { LossSeries } from './curves';
import type { DownloadProgress, FinishedRun, TrainProgress, TrainSession, TrainState } from './session-types';

/** What the view shows. */
export interface TrainSnapshot {
  state: TrainState;
  /** The failure's user-facing message (state `failed`). */
  message?: string | undefined;
  progress?: TrainProgress | undefined;
  download?: DownloadProgress | undefined;
  /** The run's epochs so far, by epoch number. */
  epochs: EpochRecord[];
  /** The latest test accuracy: of the last evaluated epoch, then the final evaluation. */
  testAccuracy?: number | undefined;
  finished?: FinishedRun | undefined;
}

/** Which controls are enabled, and the pause button's label. */
export interface TrainControls {
  /** The settings form (and Start) can be used. */
  formEnabled: boolean;
  startEnabled: boolean;
  pauseEnabled: boolean;
  pauseLabel: 'Pause' | 'Resume';
  stopEnabled: boolean;
}

/**
 * The controls in a state: the form and Start when no run is under way (idle, done, failed); Pause while running,
 * Resume while paused; Stop while a run is running or paused.
 *
 * @param state - the session's state
 * @returns the controls
 *
 * @example
 * ```ts
 * controlsFor('paused').pauseLabel; // 'Resume'
 * ```
 */
export function controlsFor(state: TrainState): TrainControls {
  const free = state === 'idle' || state === 'done' || state === 'failed';
  return {
    formEnabled: free,
    startEnabled: free,
    pauseEnabled: state === 'running' || state === 'paused',
    pauseLabel: state === 'paused' ? 'Resume' : 'Pause',
    stopEnabled: state === 'running' || state === 'paused',
  };
}

/**
 * The `data-*` attributes of `#train-status`: `state`, `epoch` and `step` (of the latest progress), `test-accuracy`
 * (a fraction, after the first evaluated epoch). Absent values are `undefined` (the attribute is removed).
 *
 * @param s - the snapshot
 * @returns attribute name (without `data-`) → value
 *
 * @example
 * ```ts
 * statusAttributes(snapshot)['test-accuracy']; // '0.8123'
 * ```
 */
export function statusAttributes(s: TrainSnapshot): Record<'state' | 'epoch' | 'step' | 'test-accuracy', string | undefined> {
  return {
    state: s.state,
    epoch: s.progress ? String(s.progress.epoch) : undefined,
    step: s.progress ? String(s.progress.step) : undefined,
    'test-accuracy': s.testAccuracy !== undefined ? String(s.testAccuracy) : undefined,
  };
}

/** What changed, for the view to redraw only that. */
export type TrainChange = 'state' | 'download' | 'progress' | 'epoch' | 'done' | 'reset';

/**
 * Follows a session's events into a {@link TrainSnapshot} and a loss curve, calling `onChange` after each.
 *
 * @example
 * ```ts
 * const tracker = new TrainTracker(session, (change) => render(tracker.snapshot, change));
 * ```
 */
export class TrainTracker {
  /** The current snapshot (replaced, never mutated in place, on each change). */
  snapshot: TrainSnapshot;
  /** The training loss per step, bounded. */
  readonly loss = new LossSeries();

  /**
   * @param session - the session to follow
   * @param onChange - called after every change
   */
  constructor(
    readonly session: TrainSession,
    private readonly onChange: (change: TrainChange) => void,
  ) {
    this.snapshot = { state: session.state, epochs: [] };
    session.addEventListener('state', (e) => {
      const { state, message } = e.detail;
      this.update(
        { state, message: state === 'failed' ? message : undefined, download: state === 'loading' ? this.snapshot.download : undefined },
        'state',
      );
    });
    session.addEventListener('download', (e) => this.update({ download: e.detail }, 'download'));
    session.addEventListener('progress', (e) => {
      const p = e.detail;
      this.loss.add((p.epoch - 1) * p.steps + p.step, p.loss);
      this.update({ progress: p }, 'progress');
    });
    session.addEventListener('epoch', (e) => {
      const record = e.detail;
      const epochs = [...this.snapshot.epochs.filter((r) => r.epoch !== record.epoch), record].sort((a, b) => a.epoch - b.epoch);
      this.update({ epochs, ...(record.testAccuracy !== undefined ? { testAccuracy: record.testAccuracy } : {}) }, 'epoch');
    });
    session.addEventListener('done', (e) => {
      const run = e.detail;
      this.update({ finished: run, epochs: [...run.epochs], testAccuracy: run.evaluation.accuracy }, 'done');
    });
  }

  /** Forgets the last run's figures (a new run starts). */
  reset(): void {
    this.loss.clear();
    this.snapshot = { state: this.session.state, epochs: [] };
    this.onChange('reset');
  }

  private update(patch: Partial<TrainSnapshot>, change: TrainChange): void {
    this.snapshot = { ...this.snapshot, ...patch };
    this.onChange(change);
  }
}
