// The data download of the page and the trainer: a file that announces or sends more than the Fashion-MNIST file it
// is named after can hold is refused (before or while reading, without holding the rest), naming the URL and the fix.
import { describe, expect, it } from 'vitest';
import { loadSplit } from './test-set';

/** A body of `chunks` chunks of `size` bytes, counting how many were pulled and whether it was cancelled. */
function endless(size: number, chunks: number) {
  const state = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (state.pulled++ >= chunks) controller.close();
      else controller.enqueue(new Uint8Array(size));
    },
    cancel() {
      state.cancelled = true;
    },
  });
  return { body, state };
}

describe('loadSplit downloads', () => {
  it('refuses a file whose Content-Length is more than the file can hold, before reading it', async () => {
    const { body, state } = endless(1024, 10);
    const fetch = (async () => new Response(body, { headers: { 'content-length': String(5e9) } })) as typeof globalThis.fetch;
    await expect(loadSplit('test', { baseUrl: 'http://app/data/', fetch })).rejects.toThrow(
      /^http:\/\/app\/data\/t10k-(images-idx3|labels-idx1)-ubyte\.gz: announces 5,000,000,000 bytes, more than the [\d,]+ bytes this Fashion-MNIST file can have; the server sent something else\. Serve the files prepare-data copies into public\/data\/\.$/,
    );
    expect(state.pulled).toBeLessThanOrEqual(1);
  });

  it('stops reading a body that outgrows the file (no Content-Length), and cancels it', async () => {
    const labels = endless(256 * 1024, 1000);
    const images = endless(16, 1);
    const fetch = (async (url: string) =>
      new Response(String(url).includes('labels') ? labels.body : images.body)) as typeof globalThis.fetch;
    await expect(loadSplit('test', { baseUrl: 'http://app/data/', fetch })).rejects.toThrow(
      'http://app/data/t10k-labels-idx1-ubyte.gz: sends more than the 1,058,584 bytes this Fashion-MNIST file can have',
    );
    expect(labels.state.cancelled).toBe(true);
    expect(labels.state.pulled).toBeLessThan(10);
  });
});
