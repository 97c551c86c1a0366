import { describe, expect, it } from 'vitest';
import { createSerialQueue } from './serial';

describe('createSerialQueue', () => {
  it('runs tasks one at a time in call order, and a failure does not stop the next task', async () => {
    const serial = createSerialQueue();
    const log: string[] = [];
    const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const a = serial(async () => {
      log.push('a start');
      await wait(20);
      log.push('a end');
      return 1;
    });
    const b = serial(async () => {
      log.push('b');
      throw new Error('b failed');
    });
    const c = serial(() => {
      log.push('c');
      return 3;
    });
    expect(await a).toBe(1);
    await expect(b).rejects.toThrow('b failed');
    expect(await c).toBe(3);
    expect(log).toEqual(['a start', 'a end', 'b', 'c']);
  });
});
