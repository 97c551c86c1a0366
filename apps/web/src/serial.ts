/** Running async tasks one at a time. DOM-free. */

/** Runs the task it is given after every task given before it has settled. */
export type SerialQueue = <T>(task: () => T | Promise<T>) => Promise<T>;

/**
 * A queue that runs tasks one at a time, in call order; a task that fails rejects its own promise only, and the next
 * task still runs. Engines use it so that runs (and their disposal) never overlap, the app so that model switches
 * never interleave, the kernels worker so that `run` waits for `init`.
 *
 * @returns the function that queues a task and resolves with its result
 *
 * @example
 * ```ts
 * const serial = createSerialQueue();
 * void serial(() => slowSetup());
 * const result = await serial(() => useTheSetup()); // starts once slowSetup() has settled
 * ```
 */
export function createSerialQueue(): SerialQueue {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => T | Promise<T>): Promise<T> => {
    const run = tail.then(task);
    tail = run.catch(() => undefined);
    return run;
  };
}
