import type { BatchLogs } from '@fmnist/model';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EpochProgress } from './progress';

/** Batch logs of batch `batch` of 100 in epoch 2 of 3. */
const logs = (batch: number): BatchLogs => ({
  epoch: 2,
  batch,
  batches: 100,
  loss: 0.5,
  meanLoss: 0.5,
  accuracy: 0.8,
  imagesPerSecond: 1000,
});

describe('EpochProgress off a TTY (plain lines)', () => {
  let clock: number;
  let lines: string[];
  beforeEach(() => {
    vi.stubEnv('CI', 'true'); // never a bar
    clock = 1_000_000;
    vi.spyOn(performance, 'now').mockImplementation(() => clock);
    lines = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
  });

  it('prints a line every 15 s with an ETA from the batches run so far', () => {
    const p = new EpochProgress(3);
    p.begin();
    for (let b = 1; b <= 10; b++) {
      clock += 1500; // 1.5 s per batch
      p.update(logs(b));
    }
    expect(lines).toEqual(['  epoch 2/3 step 10/100  loss 0.5000  acc 80.00%  1,000 img/s  ETA 2m15s\n']);
  });

  it('after a mid-epoch resume, the ETA counts only the batches run since begin() (not the skipped ones)', () => {
    const p = new EpochProgress(3);
    p.begin(); // the trainer then skips batches 1–40 and logs from batch 41
    for (let b = 41; b <= 50; b++) {
      clock += 1500;
      p.update(logs(b));
    }
    // 10 batches in 15 s → 1.5 s each, 50 to go: 75 s (the old count of 50 batches gave 15 s)
    expect(lines).toEqual(['  epoch 2/3 step 50/100  loss 0.5000  acc 80.00%  1,000 img/s  ETA 1m15s\n']);

    // the next epoch starts at batch 1 again
    lines.length = 0;
    p.begin();
    for (let b = 1; b <= 10; b++) {
      clock += 1500;
      p.update(logs(b));
    }
    expect(lines).toEqual(['  epoch 2/3 step 10/100  loss 0.5000  acc 80.00%  1,000 img/s  ETA 2m15s\n']);
  });
});
