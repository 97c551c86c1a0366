import { describe, expect, it } from 'vitest';
import type { TrainProgress } from './session-types';
import { FakeSession, trainTestRun } from './test-run';
import { controlsFor, statusAttributes, type TrainChange, TrainTracker } from './view-state';

const progress = (epoch: number, step: number, loss = 1): TrainProgress => ({
  epoch,
  epochs: 2,
  step,
  steps: 10,
  loss,
  meanLoss: loss,
  accuracy: 0.5,
  imagesPerSecond: 1000,
  etaSeconds: 5,
});
const record = (epoch: number, testAccuracy?: number) => ({
  epoch,
  trainLoss: 0.5,
  trainAccuracy: 0.8,
  timeMs: 100,
  imagesPerSecond: 1000,
  ...(testAccuracy === undefined ? {} : { testLoss: 0.4, testAccuracy }),
});

function track() {
  const session = new FakeSession();
  const changes: TrainChange[] = [];
  const tracker = new TrainTracker(session, (c) => changes.push(c));
  return { session, tracker, changes };
}

describe('controlsFor', () => {
  it.each([
    ['idle', { formEnabled: true, startEnabled: true, pauseEnabled: false, pauseLabel: 'Pause', stopEnabled: false }],
    ['loading', { formEnabled: false, startEnabled: false, pauseEnabled: false, pauseLabel: 'Pause', stopEnabled: false }],
    ['running', { formEnabled: false, startEnabled: false, pauseEnabled: true, pauseLabel: 'Pause', stopEnabled: true }],
    ['paused', { formEnabled: false, startEnabled: false, pauseEnabled: true, pauseLabel: 'Resume', stopEnabled: true }],
    ['done', { formEnabled: true, startEnabled: true, pauseEnabled: false, pauseLabel: 'Pause', stopEnabled: false }],
    ['failed', { formEnabled: true, startEnabled: true, pauseEnabled: false, pauseLabel: 'Pause', stopEnabled: false }],
  ] as const)('%s', (state, controls) => {
    expect(controlsFor(state)).toEqual(controls);
  });
});

describe('TrainTracker with a scripted session', () => {
  it('follows a run: loading with download figures, progress, epochs, the status hooks', () => {
    const { session, tracker, changes } = track();
    expect(statusAttributes(tracker.snapshot)).toEqual({ state: 'idle', epoch: undefined, step: undefined, 'test-accuracy': undefined });
    session.emit('state', { state: 'loading' });
    session.emit('download', { loaded: 10, total: 100 });
    expect(tracker.snapshot.download).toEqual({ loaded: 10, total: 100 });
    session.emit('state', { state: 'running' });
    expect(tracker.snapshot.download).toBeUndefined();
    session.emit('progress', progress(1, 4, 2));
    session.emit('progress', progress(1, 10, 1));
    expect(statusAttributes(tracker.snapshot)).toEqual({ state: 'running', epoch: '1', step: '10', 'test-accuracy': undefined });
    session.emit('epoch', record(1, 0.8123));
    expect(statusAttributes(tracker.snapshot)['test-accuracy']).toBe('0.8123');
    session.emit('progress', progress(2, 3, 0.5));
    session.emit('epoch', record(2));
    // An epoch without evaluation keeps the last test accuracy.
    expect(tracker.snapshot.testAccuracy).toBe(0.8123);
    expect(tracker.snapshot.epochs.map((r) => r.epoch)).toEqual([1, 2]);
    // Loss at global steps (epoch − 1) × steps + step.
    expect(tracker.loss.points()).toEqual([
      { x: 4, y: 2 },
      { x: 10, y: 1 },
      { x: 13, y: 0.5 },
    ]);
    expect(changes).toEqual(['state', 'download', 'state', 'progress', 'progress', 'epoch', 'progress', 'epoch']);
  });

  it('a repeated epoch record replaces the earlier one (a resumed run)', () => {
    const { session, tracker } = track();
    session.emit('epoch', record(1, 0.7));
    session.emit('epoch', record(1, 0.75));
    expect(tracker.snapshot.epochs).toEqual([record(1, 0.75)]);
  });

  it('failed: the message is kept until the next state; controls free the form', () => {
    const { session, tracker } = track();
    session.emit('state', { state: 'running' });
    session.emit('state', { state: 'failed', message: 'The loss became NaN at step 3. Lower the learning rate. [E_NAN]' });
    expect(tracker.snapshot.message).toBe('The loss became NaN at step 3. Lower the learning rate. [E_NAN]');
    expect(controlsFor(tracker.snapshot.state).startEnabled).toBe(true);
    session.emit('state', { state: 'loading' });
    expect(tracker.snapshot.message).toBeUndefined();
  });

  it('done: the finished run, its epochs and the final test accuracy; reset() forgets them', async () => {
    const run = await trainTestRun();
    const { session, tracker, changes } = track();
    session.emit('progress', progress(1, 3));
    session.emit('done', run);
    session.emit('state', { state: 'done' });
    expect(tracker.snapshot.finished).toBe(run);
    expect(tracker.snapshot.epochs).toEqual(run.epochs);
    expect(statusAttributes(tracker.snapshot)['test-accuracy']).toBe(String(run.evaluation.accuracy));
    tracker.reset();
    expect(tracker.snapshot).toEqual({ state: 'done', epochs: [] });
    expect(tracker.loss.points()).toEqual([]);
    expect(changes.at(-1)).toBe('reset');
  }, 60_000);
});
