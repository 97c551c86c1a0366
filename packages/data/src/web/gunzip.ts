import { FmnistDataError } from '../errors';
import { type GunzipStream, outputLimitError } from '../idx';

/**
 * Gunzip with the standard `DecompressionStream` (browsers, Deno, Bun, Node ≥ 18).
 * @internal
 */
export const webGunzip: GunzipStream = async function* (compressed, name, _sizeHint, maxOutputBytes = Number.POSITIVE_INFINITY) {
  let produced = 0;
  const iterator = compressed[Symbol.asyncIterator]();
  const source = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const next = await iterator.next();
        if (next.done) controller.close();
        else controller.enqueue(next.value);
      } catch (err) {
        controller.error(err);
      }
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
  const reader = source.pipeThrough(new DecompressionStream('gzip') as unknown as TransformStream<Uint8Array, Uint8Array>).getReader();
  try {
    for (;;) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (err) {
        if (err instanceof FmnistDataError) throw err;
        throw new FmnistDataError(
          'E_GZIP',
          `${name}: the gzip data is corrupt or cut short (${(err as Error)?.message ?? err}). Delete the file and fetch it again.`,
          { file: name, cause: err },
        );
      }
      if (result.done) return;
      yield result.value;
      produced += result.value.length;
      if (produced > maxOutputBytes) {
        await reader.cancel().catch(() => {});
        throw outputLimitError(name, maxOutputBytes);
      }
    }
  } finally {
    reader.releaseLock();
  }
};
