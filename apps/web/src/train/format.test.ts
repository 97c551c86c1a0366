import { describe, expect, it } from 'vitest';
import { describeStoredRun, formatDuration, formatSavedAt, formatSpeed, formatStatus } from './format';
import { TEST_RUN_SETTINGS } from './test-run';

const progress = {
  epoch: 1,
  epochs: 3,
  step: 120,
  steps: 235,
  loss: 0.5,
  meanLoss: 0.6,
  accuracy: 0.7,
  imagesPerSecond: 8123.4,
  etaSeconds: 70,
};

describe('formatting', () => {
  it.each([
    [0, '0 s'],
    [42.4, '42 s'],
    [185, '3 min 05 s'],
    [3599, '59 min 59 s'],
    [3720, '1 h 02 min'],
    [Number.POSITIVE_INFINITY, '—'],
    [Number.NaN, '—'],
    [-1, '—'],
  ])('formatDuration(%s) = %s', (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  it('formatSpeed rounds with separators, — when unknown', () => {
    expect([formatSpeed(12345.6), formatSpeed(0), formatSpeed(Number.NaN)]).toEqual(['12,346 img/s', '—', '—']);
  });

  it('the status line names the state, epoch e/E, step s/S, img/s and the ETA while running', () => {
    expect(formatStatus({ state: 'idle' })).toBe('Ready');
    expect(formatStatus({ state: 'running', progress })).toBe('Training · epoch 1/3 · step 120/235 · 8,123 img/s · ETA 1 min 10 s');
    expect(formatStatus({ state: 'paused', progress, testAccuracy: 0.81234 })).toBe(
      'Paused · epoch 1/3 · step 120/235 · test accuracy 81.23 %',
    );
    expect(formatStatus({ state: 'loading', download: { loaded: 1024 * 1024, total: 26 * 1024 * 1024 } })).toBe(
      'Loading the training images · 1.0 MiB of 26.0 MiB',
    );
    expect(formatStatus({ state: 'loading', download: { loaded: 2048, total: undefined } })).toBe('Loading the training images · 2 KiB');
    expect(formatStatus({ state: 'failed', progress })).toBe('Failed');
  });

  it('the stored run offer gives the date and where it resumes', () => {
    expect(formatSavedAt('2026-12-02T03:30:00Z', 'en-GB')).toMatch(/^2 Dec 2026, \d\d:30$/);
    expect(formatSavedAt('not a date')).toBe('not a date');
    const run = { runId: 'r1', settings: { ...TEST_RUN_SETTINGS, epochs: 3 }, epoch: 2, savedAt: '2026-12-02T03:30:00Z' };
    expect(describeStoredRun(run, 'en-GB')).toMatch(/^Resume the run from 2 Dec 2026, \d\d:30 \(patch-mlp, after epoch 2 of 3\)\?$/);
    expect(describeStoredRun({ ...run, step: 40 }, 'en-GB')).toMatch(/\(patch-mlp, epoch 3 of 3, step 40\)\?$/);
  });
});
