/** Text of the Train view: durations, the ETA, the status line, the stored-run offer. DOM-free. */
import { formatBytes } from '../model-info';
import type { DownloadProgress, StoredRun, TrainProgress, TrainState } from './session-types';

/** What each state is called in the status line. */
export const STATE_LABELS: Readonly<Record<TrainState, string>> = Object.freeze({
  idle: 'Ready',
  loading: 'Loading the training images',
  running: 'Training',
  paused: 'Paused',
  done: 'Done',
  failed: 'Failed',
});

/**
 * A duration in words for people: `42 s`, `3 min 05 s`, `1 h 02 min`; `—` when unknown (not finite or negative).
 *
 * @param seconds - the duration
 * @returns the text
 *
 * @example
 * ```ts
 * formatDuration(185); // '3 min 05 s'
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/**
 * Images per second, rounded, with thousands separators.
 *
 * @param imagesPerSecond - the speed
 * @returns e.g. `12,345 img/s`, or `—` when unknown
 *
 * @example
 * ```ts
 * formatSpeed(12345.6); // '12,346 img/s'
 * ```
 */
export function formatSpeed(imagesPerSecond: number): string {
  if (!Number.isFinite(imagesPerSecond) || imagesPerSecond <= 0) return '—';
  return `${Math.round(imagesPerSecond).toLocaleString('en-US')} img/s`;
}

/** What the status line shows. */
export interface StatusInput {
  state: TrainState;
  progress?: TrainProgress | undefined;
  download?: DownloadProgress | undefined;
  /** The latest test accuracy (fraction). */
  testAccuracy?: number | undefined;
}

/**
 * The status line's text: the state, and while a run is under way the epoch, step, speed and ETA; while loading, the
 * bytes fetched.
 *
 * @param s - state and figures
 * @returns e.g. `Training · epoch 1/3 · step 120/235 · 8,123 img/s · ETA 1 min 10 s`
 *
 * @example
 * ```ts
 * formatStatus({ state: 'idle' }); // 'Ready'
 * ```
 */
export function formatStatus(s: StatusInput): string {
  const parts = [STATE_LABELS[s.state]];
  if (s.state === 'loading' && s.download) {
    const { loaded, total } = s.download;
    parts.push(total ? `${formatBytes(loaded)} of ${formatBytes(total)}` : formatBytes(loaded));
  }
  const p = s.progress;
  if (p && (s.state === 'running' || s.state === 'paused' || s.state === 'done')) {
    parts.push(`epoch ${p.epoch}/${p.epochs}`, `step ${p.step}/${p.steps}`);
    if (s.state === 'running') parts.push(formatSpeed(p.imagesPerSecond), `ETA ${formatDuration(p.etaSeconds)}`);
  }
  if (s.testAccuracy !== undefined) parts.push(`test accuracy ${(s.testAccuracy * 100).toFixed(2)} %`);
  return parts.join(' · ');
}

/**
 * A stored run's time for the resume offer, in the reader's locale; the text as given when it is not a date.
 *
 * @param iso - `StoredRun.savedAt`
 * @param locale - the locale @defaultValue the browser's
 * @returns e.g. `2 Dec 2026, 03:30`
 *
 * @example
 * ```ts
 * formatSavedAt('2026-12-02T03:30:00Z', 'en-GB'); // '2 Dec 2026, 03:30' (in UTC)
 * ```
 */
export function formatSavedAt(iso: string, locale?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toLocaleString(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/**
 * The resume offer for a run an earlier visit kept.
 *
 * @param run - the stored run
 * @param locale - the locale @defaultValue the browser's
 * @returns e.g. `Resume the run from 2 Dec 2026, 03:30 (patch-mlp, after epoch 2 of 3)?`
 *
 * @example
 * ```ts
 * describeStoredRun({ settings, epoch: 2, savedAt: '2026-12-02T03:30:00Z' });
 * ```
 */
export function describeStoredRun(run: StoredRun, locale?: string): string {
  const where = run.step
    ? `epoch ${run.epoch + 1} of ${run.settings.epochs}, step ${run.step}`
    : `after epoch ${run.epoch} of ${run.settings.epochs}`;
  return `Resume the run from ${formatSavedAt(run.savedAt, locale)} (${run.settings.preset}, ${where})?`;
}
