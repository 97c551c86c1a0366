// The page's and the trainer's data download (through @fmnist/data's browser loader) on the real files served by a
// fake fetch: it loads and checks them; a missing file names the app's fix; a file that announces or sends more than
// the Fashion-MNIST file can hold, or another file under its name, is refused with the loader's typed error.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadSplit } from './test-set';

const DIR = '/usr/share/datasets/fashion-mnist';
const missing = !existsSync(`${DIR}/t10k-labels-idx1-ubyte.gz`);
if (missing) console.warn(`⚠ skipping the real-data download tests: ${DIR} is missing (apt-get install dataset-fashion-mnist).`);

/** Serves the real files by name; `override` replaces one response. */
function server(override?: (name: string) => Response | undefined) {
  const asked: string[] = [];
  const fetch = (async (input: RequestInfo | URL) => {
    const name = String(input).split('/').at(-1) as string;
    asked.push(name);
    return override?.(name) ?? new Response(readFileSync(`${DIR}/${name}`));
  }) as typeof globalThis.fetch;
  return { fetch, asked };
}

/** A body of `chunks` chunks of `size` bytes, counting how many were pulled and whether it was cancelled. */
function endless(size: number, chunks: number) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled++ >= chunks) controller.close();
      else controller.enqueue(new Uint8Array(size).fill(0x1f));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state };
}

describe.skipIf(missing)('loadSplit', () => {
  it('loads and verifies the test split, asks only for its two files, and sums the progress over both', async () => {
    const s = server();
    const seen: [number, number | undefined][] = [];
    const test = await loadSplit('test', { baseUrl: 'http://app/data/', fetch: s.fetch, onProgress: (l, t) => seen.push([l, t]) });
    expect([test.count, test.images.length]).toEqual([10000, 7840000]);
    expect(s.asked.sort()).toEqual(['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz']);
    expect(seen.at(-1)?.[0]).toBe(4422079 + 5125);
  });

  it("a missing file is E_NOT_FOUND with the app's fix", async () => {
    const s = server((name) => (name.includes('labels') ? new Response('no', { status: 404, statusText: 'Not Found' }) : undefined));
    await expect(loadSplit('test', { baseUrl: 'http://app/data/', fetch: s.fetch })).rejects.toMatchObject({
      code: 'E_NOT_FOUND',
      message: expect.stringMatching(/t10k-labels-idx1-ubyte\.gz: HTTP 404 .*run: pnpm --filter @fmnist\/web prepare-data, and rebuild\.$/),
    });
  });

  it('a Content-Length more than the file can be is E_TOO_LARGE before the body is read', async () => {
    const big = endless(1024, 10);
    const s = server((name) =>
      name.includes('labels') ? new Response(big.body, { headers: { 'content-length': String(5e9) } }) : undefined,
    );
    await expect(loadSplit('test', { baseUrl: 'http://app/data/', fetch: s.fetch })).rejects.toMatchObject({ code: 'E_TOO_LARGE' });
    expect(big.state.pulled).toBeLessThanOrEqual(1);
  });

  it('a body that outgrows the file (no Content-Length) is E_TOO_LARGE, and its stream is cancelled', async () => {
    const big = endless(256 * 1024, 4000);
    const s = server((name) => (name.includes('labels') ? new Response(big.body) : undefined));
    await expect(loadSplit('test', { baseUrl: 'http://app/data/', fetch: s.fetch })).rejects.toMatchObject({
      code: 'E_TOO_LARGE',
      message: expect.stringMatching(
        /t10k-labels-idx1-ubyte\.gz: the body goes on past \d+ bytes, more than the file can be; stopped reading\.$/,
      ),
    });
    expect(big.state.pulled).toBeLessThan(5);
    expect(big.state.cancelled).toBe(true);
  });

  it('another file under the name (the training labels served as the test labels) is refused by shape', async () => {
    const s = server((name) =>
      name === 't10k-labels-idx1-ubyte.gz' ? new Response(readFileSync(`${DIR}/train-labels-idx1-ubyte.gz`)) : undefined,
    );
    await expect(loadSplit('test', { baseUrl: 'http://app/data/', fetch: s.fetch })).rejects.toMatchObject({ code: 'E_SHAPE' });
  });
});
