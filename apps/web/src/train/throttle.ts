/** Redrawing at most ~10 times a second, however often the data changes. DOM-free (the timer is injected). */

/** Least time between two redraws of the curves. */
export const MIN_REDRAW_INTERVAL_MS = 100;

/** What a throttle needs from its environment (the page's: `performance.now` and `setTimeout`). */
export interface ThrottleClock {
  now(): number;
  /** Calls `fn` after `ms`. */
  schedule(fn: () => void, ms: number): void;
}

const pageClock: ThrottleClock = {
  now: () => performance.now(),
  schedule: (fn, ms) => void setTimeout(fn, ms),
};

/**
 * Wraps `draw` so that any number of `request()` calls draw at most once per `intervalMs`: the first request draws
 * at once, later ones within the interval are folded into one draw at its end (so the last state is always drawn).
 *
 * @param draw - the redraw
 * @param intervalMs - least time between draws @defaultValue {@link MIN_REDRAW_INTERVAL_MS}
 * @param clock - time source and timer @defaultValue the page's
 * @returns `request` (ask for a redraw) and `flush` (draw now if one is pending)
 *
 * @example
 * ```ts
 * const redraw = createThrottle(() => drawCurves());
 * session.addEventListener('progress', () => redraw.request());
 * ```
 */
export function createThrottle(
  draw: () => void,
  intervalMs = MIN_REDRAW_INTERVAL_MS,
  clock: ThrottleClock = pageClock,
): { request(): void; flush(): void } {
  let last = Number.NEGATIVE_INFINITY;
  let pending = false;
  let scheduled = false;
  const run = () => {
    pending = false;
    last = clock.now();
    draw();
  };
  return {
    request() {
      pending = true;
      if (scheduled) return;
      const wait = last + intervalMs - clock.now();
      if (wait <= 0) {
        run();
        return;
      }
      scheduled = true;
      clock.schedule(() => {
        scheduled = false;
        if (pending) run();
      }, wait);
    },
    flush() {
      if (pending) run();
    },
  };
}
