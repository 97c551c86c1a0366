import { describe, expect, it } from 'vitest';
import { createThrottle, type ThrottleClock } from './throttle';

/** A clock the test moves by hand. */
function manualClock(): ThrottleClock & { advance(ms: number): void } {
  let t = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => t,
    schedule: (fn, ms) => void timers.push({ at: t + ms, fn }),
    advance(ms) {
      t += ms;
      const due = timers.filter((x) => x.at <= t);
      timers = timers.filter((x) => x.at > t);
      for (const x of due) x.fn();
    },
  };
}

describe('createThrottle', () => {
  it('draws at once, then folds the requests of the next 100 ms into one draw at its end', () => {
    const clock = manualClock();
    let draws = 0;
    const t = createThrottle(() => draws++, 100, clock);
    t.request();
    expect(draws).toBe(1);
    for (let i = 0; i < 50; i++) {
      clock.advance(1);
      t.request();
    }
    expect(draws).toBe(1);
    clock.advance(50);
    expect(draws).toBe(2);
    clock.advance(1000);
    expect(draws).toBe(2);
  });

  it('a request every millisecond: draws 100 ms apart, the last request drawn too', () => {
    const clock = manualClock();
    const times: number[] = [];
    const t = createThrottle(() => times.push(clock.now()), 100, clock);
    for (let ms = 0; ms < 1000; ms++) {
      t.request();
      clock.advance(1);
    }
    clock.advance(100);
    expect(times).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]);
  });

  it('flush() draws a pending request now and the timer then has nothing left to draw', () => {
    const clock = manualClock();
    let draws = 0;
    const t = createThrottle(() => draws++, 100, clock);
    t.request();
    clock.advance(10);
    t.request();
    t.flush();
    expect(draws).toBe(2);
    clock.advance(200);
    expect(draws).toBe(2);
    t.flush();
    expect(draws).toBe(2);
  });
});
