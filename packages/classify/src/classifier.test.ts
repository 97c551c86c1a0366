import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FmnistClassifyError, type FmnistClassifyErrorCode } from './errors';
import { createClassifier } from './index';
import { fixtureModel } from './test-fixtures';

/** Runs `f` and returns the code of the FmnistClassifyError it throws (or rejects with). */
async function expectCode(f: () => unknown, code: FmnistClassifyErrorCode, message?: RegExp): Promise<void> {
  let error: unknown;
  try {
    await f();
  } catch (err) {
    error = err;
  }
  expect(error, 'expected an error').toBeInstanceOf(FmnistClassifyError);
  expect((error as FmnistClassifyError).code).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
}

const model = fixtureModel();
const grey = (fill: (i: number) => number, w = 28, h = 28) => ({
  data: Uint8Array.from({ length: w * h }, (_, i) => fill(i)),
  width: w,
  height: h,
});

describe('createClassifier (browser entry) on a generated model', () => {
  it('classifies grey, RGBA and float pixels alike: top-k best first, probabilities of all classes sum to 1', async () => {
    const c = await createClassifier({ model });
    expect(c.classNames).toHaveLength(10);
    expect(c.info).toMatchObject({ format: 'fmnist-classify', preset: 'patch-mlp', accuracy: 0.5 });
    const img = grey((i) => (i * 7) % 256);
    const all = await c.classify(img, { topK: 10, crop: false, invert: false });
    expect(all).toHaveLength(10);
    expect(all.reduce((s, r) => s + r.score, 0)).toBeCloseTo(1, 6);
    for (let k = 1; k < 10; k++)
      expect((all[k - 1] as { score: number }).score).toBeGreaterThanOrEqual((all[k] as { score: number }).score);
    expect(new Set(all.map((r) => r.index)).size).toBe(10);
    for (const r of all) expect(r.label).toBe(c.classNames[r.index]);
    // The same picture as RGBA bytes and as floats in [0, 1] gives the same result.
    const rgba = new Uint8ClampedArray(784 * 4);
    for (let i = 0; i < 784; i++) rgba.set([img.data[i] as number, img.data[i] as number, img.data[i] as number, 255], i * 4);
    expect(await c.classify({ data: rgba, width: 28, height: 28 }, { topK: 10, crop: false, invert: false })).toEqual(all);
    const floats = Float32Array.from(img.data, (v) => v / 255);
    const fromFloats = await c.classify({ data: floats, width: 28, height: 28 }, { topK: 10, crop: false, invert: false });
    expect(fromFloats.map((r) => r.index)).toEqual(all.map((r) => r.index));
    // classifyPixels on the 28×28 bytes is the same model pass.
    expect((await c.classifyPixels(img.data, { topK: 10 }))[0]).toEqual(all);
    // topK defaults to 5.
    expect(await c.classify(img, { crop: false, invert: false })).toEqual(all.slice(0, 5));
  });

  it('classifies a batch in one call, in order', async () => {
    const c = await createClassifier({ model });
    const a = grey((i) => i % 256);
    const b = grey((i) => (i * 13) % 256);
    const batch = await c.classify([a, b], { topK: 3 });
    expect(batch).toEqual([await c.classify(a, { topK: 3 }), await c.classify(b, { topK: 3 })]);
    expect(await c.classify([], { topK: 3 })).toEqual([]);
  });

  it('runs a given engine instead of the kernels', async () => {
    const calls: number[] = [];
    const engine = {
      predict(x: Float32Array, n: number) {
        calls.push(n, x.length);
        return Float32Array.from({ length: n * 10 }, (_, i) => (i % 10 === 3 ? 5 : 0));
      },
    };
    const c = await createClassifier({ model, engine });
    const [top] = await c.classify(
      grey(() => 0),
      { topK: 1 },
    );
    expect(top).toMatchObject({ index: 3, label: 'Dress' });
    expect(calls).toEqual([1, 784]);
    const broken = await createClassifier({ model, engine: { predict: () => new Float32Array(3) } });
    await expectCode(() => broken.classify(grey(() => 0)), 'E_MODEL', /returned 3 logits for 1 images; expected 10/);
  });

  it('refuses bad options and use after dispose', async () => {
    const c = await createClassifier({ model });
    await expect(
      c.classify(
        grey(() => 0),
        { topK: 0 },
      ),
    ).rejects.toThrow(/'topK' must be an integer from 1 to 10, got 0/);
    await expect(
      c.classify(
        grey(() => 0),
        { topK: 11 },
      ),
    ).rejects.toThrow(RangeError);
    await expect(
      c.classify(
        grey(() => 0),
        { invert: 'maybe' as never },
      ),
    ).rejects.toThrow(TypeError);
    c.dispose();
    await expectCode(() => c.classify(grey(() => 0)), 'E_DISPOSED', /disposed\. Create a new one/);
    await expectCode(() => c.classifyPixels(new Uint8Array(784)), 'E_DISPOSED');
  });
});

describe('hostile pixel inputs', () => {
  let c: Awaited<ReturnType<typeof createClassifier>>;
  beforeAll(async () => {
    c = await createClassifier({ model });
  });
  it('zero, fractional, negative and huge sizes → E_IMAGE_SIZE', async () => {
    await expectCode(
      () => c.classify({ data: new Uint8Array(0), width: 0, height: 0 }),
      'E_IMAGE_SIZE',
      /positive integer width and height, got 0×0/,
    );
    await expectCode(() => c.classify({ data: new Uint8Array(4), width: -2, height: -2 }), 'E_IMAGE_SIZE');
    await expectCode(() => c.classify({ data: new Uint8Array(4), width: 1.5, height: 2 }), 'E_IMAGE_SIZE');
    await expectCode(() => c.classify({ data: new Uint8Array(4), width: Number.NaN, height: 2 }), 'E_IMAGE_SIZE');
    await expectCode(
      () => c.classify({ data: new Uint8Array(4), width: 1e6, height: 1e6 }),
      'E_IMAGE_SIZE',
      /more than the 268 megapixels/,
    );
  });
  it('a data length that is neither grey nor RGBA → E_IMAGE_DATA naming both counts', async () => {
    await expectCode(
      () => c.classify({ data: new Uint8Array(784 * 3), width: 28, height: 28 }),
      'E_IMAGE_DATA',
      /holds 2352 values, but a 28×28 picture has 784 \(grey\) or 3136 \(RGBA\)/,
    );
  });
  it('NaN, infinite or out-of-range floats → E_IMAGE_DATA naming the index and value', async () => {
    const f = new Float32Array(784);
    f[100] = Number.NaN;
    await expectCode(
      () => c.classify({ data: f, width: 28, height: 28 }),
      'E_IMAGE_DATA',
      /'image\.data\[100\]' is NaN; float pixels must be numbers in \[0, 1\]/,
    );
    f[100] = 255;
    await expectCode(() => c.classify({ data: f, width: 28, height: 28 }), 'E_IMAGE_DATA', /is 255;.*Scale bytes by 1\/255/);
    const d = new Float64Array(784 * 4);
    d[7] = Number.POSITIVE_INFINITY;
    await expectCode(() => c.classify({ data: d, width: 28, height: 28 }), 'E_IMAGE_DATA', /Infinity/);
  });
  it('wrong types → TypeError; strings in the browser entry → E_IMAGE_UNSUPPORTED', async () => {
    await expect(c.classify({ data: [1, 2, 3, 4] as never, width: 2, height: 2 })).rejects.toThrow(/must be a Uint8Array.*got an Array/);
    await expect(c.classify(42 as never)).rejects.toThrow(TypeError);
    await expect(c.classify(null as never)).rejects.toThrow(/got null/);
    await expectCode(() => c.classify('shoe.png' as never), 'E_IMAGE_UNSUPPORTED', /reads no files or URLs.*@fmnist\/classify\/node/);
  });
  it('encoded images without createImageBitmap (Node) → E_IMAGE_UNSUPPORTED pointing at the node entry', async () => {
    await expectCode(() => c.classify(new Blob([new Uint8Array(8)])), 'E_IMAGE_UNSUPPORTED', /createImageBitmap.*@fmnist\/classify\/node/);
    await expectCode(() => c.classify(new Uint8Array([0x89, 0x50])), 'E_IMAGE_UNSUPPORTED');
  });
  it('classifyPixels takes whole 28×28 byte images only', async () => {
    await expectCode(() => c.classifyPixels(new Uint8Array(100)), 'E_IMAGE_DATA', /multiple of 784 bytes\), got 100 bytes/);
  });
});

describe('model from a URL (local server)', () => {
  let server: Server;
  let base: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/model.safetensors') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.from(model));
      } else if (req.url === '/huge') {
        res.writeHead(200, { 'content-length': String(2 ** 30) });
        res.write('x'); // the headers go out; the body never comes
        setTimeout(() => res.destroy(), 100);
      } else if (req.url === '/page.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<!doctype html><title>not a model</title>');
      } else {
        res.writeHead(404, 'Not Found');
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  it('fetches a model URL (string or URL)', async () => {
    const c = await createClassifier({ model: `${base}/model.safetensors` });
    expect(c.info.preset).toBe('patch-mlp');
    expect((await createClassifier({ model: new URL(`${base}/model.safetensors`) })).config).toEqual(c.config);
  });
  it('an HTTP error, a refused connection and a page that is not a model are coded errors naming the URL', async () => {
    await expectCode(() => createClassifier({ model: `${base}/nope` }), 'E_MODEL_FETCH', /\/nope: the server answered HTTP 404 Not Found/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await expectCode(
      () => createClassifier({ model: `http://127.0.0.1:${port}/m` }),
      'E_MODEL_FETCH',
      /could not be fetched \(fetch failed: .*ECONNREFUSED/,
    );
    await expectCode(() => createClassifier({ model: `${base}/page.html` }), 'E_MODEL', /page\.html: not an fmnist classifier model/);
    await expectCode(
      () => createClassifier({ model: `${base}/huge` }),
      'E_MODEL',
      /announces 1073741824 bytes, more than the 268435456.*not downloaded/,
    );
  });
  it('refuses a model source of the wrong type', async () => {
    await expect(createClassifier({ model: 42 as never })).rejects.toThrow(TypeError);
  });
});
