// The page's training session against a scripted trainer worker: its state machine, the events it relays, and what
// it does when the worker fails. The real worker runs in Chromium (e2e/train-parity.e2e.test.ts).
import { describe, expect, it } from 'vitest';
import type { TrainerEvent, TrainerRequest } from './protocol';
import { type TrainerPort, WorkerTrainSession } from './session';
import type { FinishedRun, StoredRun, TrainSettings } from './session-types';

const SETTINGS: TrainSettings = {
  preset: 'patch-mlp',
  epochs: 2,
  batchSize: 256,
  learningRate: 1e-3,
  lrSchedule: 'constant',
  weightDecay: 0,
  labelSmoothing: 0,
  augment: {},
  subset: 1000,
  seed: 0,
};

/** A trainer worker stand-in: records what the page asked, lets the test reply. */
class FakeTrainer implements TrainerPort {
  onmessage: TrainerPort['onmessage'] = null;
  onerror: TrainerPort['onerror'] = null;
  received: TrainerRequest[] = [];
  terminated = false;
  postMessage(message: TrainerRequest): void {
    this.received.push(message);
  }
  terminate(): void {
    this.terminated = true;
  }
  send(event: TrainerEvent): void {
    this.onmessage?.({ data: event } as MessageEvent<TrainerEvent>);
  }
}

function setup(stored?: StoredRun) {
  const workers: FakeTrainer[] = [];
  const session = new WorkerTrainSession({
    spawn: () => {
      const w = new FakeTrainer();
      workers.push(w);
      return w;
    },
    baseUrl: 'http://app.test/data/',
    storedRun: async () => stored,
    discardStoredRun: async () => undefined,
  });
  const states: string[] = [];
  const messages: (string | undefined)[] = [];
  session.addEventListener('state', (e) => {
    states.push(e.detail.state);
    messages.push(e.detail.message);
  });
  return { session, workers, states, messages };
}

const run = { settings: SETTINGS, epochs: [] } as unknown as FinishedRun;

describe('WorkerTrainSession', () => {
  it('starts a worker with the settings and the absolute data URL, and follows its states to done', async () => {
    const { session, workers, states } = setup();
    const done: FinishedRun[] = [];
    const epochs: number[] = [];
    const progress: number[] = [];
    session.addEventListener('done', (e) => done.push(e.detail));
    session.addEventListener('epoch', (e) => epochs.push(e.detail.epoch));
    session.addEventListener('progress', (e) => progress.push(e.detail.step));
    await session.start(SETTINGS);
    expect(session.state).toBe('loading');
    const w = workers[0] as FakeTrainer;
    expect(w.received).toEqual([
      { type: 'start', runId: expect.any(String), settings: SETTINGS, resume: false, baseUrl: 'http://app.test/data/' },
    ]);
    w.send({ type: 'state', state: 'running' });
    w.send({
      type: 'progress',
      progress: { epoch: 1, epochs: 2, step: 3, steps: 4, loss: 1, meanLoss: 1, accuracy: 0.5, imagesPerSecond: 900, etaSeconds: 2 },
    });
    w.send({ type: 'epoch', record: { epoch: 1, trainLoss: 1, trainAccuracy: 0.5, timeMs: 10, imagesPerSecond: 900 } });
    w.send({ type: 'done', run });
    expect(states).toEqual(['loading', 'running', 'done']);
    expect(progress).toEqual([3]);
    expect(epochs).toEqual([1]);
    expect(done).toEqual([run]);
    expect(w.terminated).toBe(true);
  });

  it('pauses, then resumes the same settings from the checkpoint; refuses a second start while running', async () => {
    const { session, workers, states } = setup();
    await session.start(SETTINGS);
    const first = workers[0] as FakeTrainer;
    first.send({ type: 'state', state: 'running' });
    await expect(session.start(SETTINGS)).rejects.toThrow(/A run is in progress; pause or stop it before you start another/);
    await session.pause();
    expect(first.received.at(-1)).toEqual({ type: 'pause' });
    first.send({ type: 'state', state: 'paused' });
    expect(session.state).toBe('paused');
    expect(first.terminated).toBe(true);
    await session.resume();
    const second = workers[1] as FakeTrainer;
    // the same run: the resume carries the id the start made
    const startId = (first.received[0] as { runId: string }).runId;
    expect(second.received).toEqual([
      { type: 'start', runId: startId, settings: SETTINGS, resume: true, baseUrl: 'http://app.test/data/' },
    ]);
    expect(states).toEqual(['loading', 'running', 'paused', 'loading']);
  });

  it('stop while running asks the worker to stop; stop while paused finishes from the checkpoint without training', async () => {
    const { session, workers } = setup();
    await session.start(SETTINGS);
    (workers[0] as FakeTrainer).send({ type: 'state', state: 'running' });
    await session.stop();
    expect((workers[0] as FakeTrainer).received.at(-1)).toEqual({ type: 'stop' });
    await session.pause();
    (workers[0] as FakeTrainer).send({ type: 'state', state: 'paused' });
    await session.stop();
    const startId = ((workers[0] as FakeTrainer).received[0] as { runId: string }).runId;
    expect((workers[1] as FakeTrainer).received).toEqual([
      { type: 'finish', runId: startId, settings: SETTINGS, baseUrl: 'http://app.test/data/' },
    ]);
  });

  it('resume after a reload uses the stored run; without one it says what to do', async () => {
    const stored: StoredRun = {
      runId: 'stored-run',
      settings: { ...SETTINGS, seed: 9 },
      epoch: 1,
      step: 3,
      savedAt: '2026-12-02T03:00:00.000Z',
    };
    const withRun = setup(stored);
    await withRun.session.resume();
    expect((withRun.workers[0] as FakeTrainer).received[0]).toMatchObject({
      type: 'start',
      runId: 'stored-run',
      resume: true,
      settings: { seed: 9 },
    });
    const without = setup();
    await expect(without.session.resume()).rejects.toThrow('There is no paused or stored run to resume; start a new one.');
    expect(without.workers).toHaveLength(0);
  });

  it("a failed run (the worker's message, or the worker dying) ends as failed with the message, and ignores a stale worker", async () => {
    const { session, workers, states, messages } = setup();
    await session.start(SETTINGS);
    (workers[0] as FakeTrainer).send({ type: 'failed', message: 'The training loss became NaN at epoch 1, batch 2', code: 'E_NAN' });
    expect(session.state).toBe('failed');
    expect(messages.at(-1)).toBe('The training loss became NaN at epoch 1, batch 2');
    await session.start(SETTINGS);
    const second = workers[1] as FakeTrainer;
    // the first worker is gone: whatever it still sends is ignored
    (workers[0] as FakeTrainer).send({ type: 'state', state: 'running' });
    expect(session.state).toBe('loading');
    second.onerror?.({ message: 'Uncaught RangeError: out of memory', preventDefault() {} } as ErrorEvent);
    expect(session.state).toBe('failed');
    expect(messages.at(-1)).toBe('The trainer stopped unexpectedly: Uncaught RangeError: out of memory.');
    expect(states.filter((s) => s === 'failed')).toHaveLength(2);
  });

  // Two calls racing over the await of resume() (a double click on Resume, or Start while a Resume looks up the stored
  // run) must not start two trainer workers, the second terminating the first mid-run.
  const stored: StoredRun = { runId: 'stored', settings: SETTINGS, epoch: 1, savedAt: 'x' };

  it('a second resume() while the first looks up the stored run is refused; one trainer runs', async () => {
    const { session, workers } = setup(stored);
    const first = session.resume();
    const second = session.resume();
    await first;
    await expect(second).rejects.toThrow(/A run is in progress/);
    expect(workers).toHaveLength(1);
    expect(workers[0]?.terminated).toBe(false);
  });

  it('start() while a resume() looks up the stored run is refused; the resumed run is not terminated', async () => {
    const { session, workers } = setup(stored);
    const resuming = session.resume();
    await expect(session.start(SETTINGS)).rejects.toThrow(/A run is in progress/);
    await resuming;
    expect(workers).toHaveLength(1);
    expect(workers[0]?.received[0]).toMatchObject({ type: 'start', resume: true });
    expect(workers[0]?.terminated).toBe(false);
  });
});
