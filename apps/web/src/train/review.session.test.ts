// Review of the page's training session (session.ts): two calls that race over the await of resume() (a double click
// on Resume, or Start while a Resume looks up the stored run) must not start two trainer workers, the second one
// terminating the first mid-run.
import { describe, expect, it } from 'vitest';
import type { TrainerEvent, TrainerRequest } from './protocol';
import { type TrainerPort, WorkerTrainSession } from './session';
import type { StoredRun, TrainSettings } from './session-types';

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

function setup() {
  const workers: FakeTrainer[] = [];
  const stored: StoredRun = { runId: 'stored', settings: SETTINGS, epoch: 1, savedAt: 'x' };
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
  return { session, workers };
}

describe('WorkerTrainSession races (review)', () => {
  it('a second resume() while the first looks up the stored run is refused; one trainer runs', async () => {
    const { session, workers } = setup();
    const first = session.resume();
    const second = session.resume();
    await first;
    await expect(second).rejects.toThrow(/A run is in progress/);
    expect(workers).toHaveLength(1);
    expect(workers[0]?.terminated).toBe(false);
  });

  it('start() while a resume() looks up the stored run is refused; the resumed run is not terminated', async () => {
    const { session, workers } = setup();
    const resuming = session.resume();
    await expect(session.start(SETTINGS)).rejects.toThrow(/A run is in progress/);
    await resuming;
    expect(workers).toHaveLength(1);
    expect(workers[0]?.received[0]).toMatchObject({ type: 'start', resume: true });
    expect(workers[0]?.terminated).toBe(false);
  });
});
