import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FmnistClassifyError, type FmnistClassifyErrorCode } from './errors';
import { bundledModelPath, createClassifier, decodeImage, readImage, sniffImageFormat } from './node';
import { fixtureModel } from './test-fixtures';

async function expectCode(f: () => unknown, code: FmnistClassifyErrorCode, message?: RegExp): Promise<void> {
  let error: unknown;
  try {
    await f();
  } catch (err) {
    error = err;
  }
  // By name: the case without sharp re-imports the modules, so its error class is another instance.
  expect(error, 'expected an error').toBeInstanceOf(Error);
  expect((error as Error).name).toBe(FmnistClassifyError.name);
  expect((error as FmnistClassifyError).code, (error as Error).message).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
}

let dir: string;
const p = (...parts: string[]) => join(dir, ...parts);
const model = fixtureModel();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fmnist-classify-'));
  await writeFile(p('model.safetensors'), model);
  // A dark square on white, 64×48, as PNG and JPEG.
  const rgb = Buffer.alloc(64 * 48 * 3, 255);
  for (let y = 12; y < 36; y++) for (let x = 20; x < 44; x++) rgb.fill(30, (y * 64 + x) * 3, (y * 64 + x) * 3 + 3);
  const img = () => sharp(rgb, { raw: { width: 64, height: 48, channels: 3 } });
  await img().png().toFile(p('square.png'));
  await img().jpeg().toFile(p('square.jpg'));
  await writeFile(p('notes.txt'), 'hello');
  await writeFile(p('leak.svg'), '<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/passwd"/></svg>');
  const png = await img().png().toBuffer();
  await writeFile(p('truncated.png'), png.subarray(0, 40));
  await mkdir(p('folder'));
  execFileSync('mkfifo', [p('fifo')]);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('@fmnist/classify/node: files and encoded images', () => {
  it('classifies a path, a file: URL, the bytes, a Buffer and a Blob of the same picture alike', async () => {
    const c = await createClassifier({ model: p('model.safetensors') });
    const byPath = await c.classify(p('square.png'), { topK: 10 });
    expect(byPath).toHaveLength(10);
    const bytes = new Uint8Array(await sharp(p('square.png')).png().toBuffer());
    for (const input of [pathToFileURL(p('square.png')), bytes, Buffer.from(bytes), bytes.buffer, new Blob([bytes])]) {
      expect(await c.classify(input as never, { topK: 10 })).toEqual(byPath);
    }
    const prepared = await c.prepare(p('square.png'));
    expect(prepared).toMatchObject({ width: 64, height: 48, inverted: true, cropped: true, empty: false });
    // The dark square, cropped and inverted, fills the frame: light everywhere.
    expect(Math.min(...prepared.pixels)).toBeGreaterThan(200);
  });

  it('decodes PNG and JPEG to RGBA and names the format', async () => {
    const png = await readImage(p('square.png'));
    expect(png).toMatchObject({ width: 64, height: 48, format: 'png' });
    expect(png.data).toHaveLength(64 * 48 * 4);
    expect(Array.from(png.data.subarray(0, 4))).toEqual([255, 255, 255, 255]);
    expect((await readImage(p('square.jpg'))).format).toBe('jpeg');
    expect(sniffImageFormat(new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61]))).toBe('GIF');
    expect(sniffImageFormat(new TextEncoder().encode('<svg/>'))).toBeNull();
  });

  it('non-image bytes, SVG, empty and truncated files → E_IMAGE_DECODE naming the input', async () => {
    await expectCode(
      () => readImage(p('notes.txt')),
      'E_IMAGE_DECODE',
      /notes\.txt: not an image \(its first bytes are not those of a PNG/,
    );
    await expectCode(() => readImage(p('leak.svg')), 'E_IMAGE_DECODE', /leak\.svg: SVG and other XML\/HTML images are refused/);
    await expectCode(() => decodeImage(new Uint8Array(0)), 'E_IMAGE_DECODE', /image bytes: not an image \(it is empty\)/);
    await expectCode(() => readImage(p('truncated.png')), 'E_IMAGE_DECODE', /truncated\.png: cannot decode it as an image \(/);
    const c = await createClassifier({ model });
    await expectCode(() => c.classify(new TextEncoder().encode('GIF89a but not really')), 'E_IMAGE_DECODE', /image bytes: cannot decode/);
  });

  it('refuses a huge picture by its header, before decoding it (E_IMAGE_SIZE)', async () => {
    const { crc32, deflateSync } = await import('node:zlib');
    const chunk = (type: string, data: Buffer) => {
      const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
      const out = Buffer.alloc(8 + data.length + 4);
      out.writeUInt32BE(data.length, 0);
      body.copy(out, 4);
      out.writeUInt32BE(crc32(body), 8 + data.length);
      return out;
    };
    const ihdr = Buffer.alloc(13);
    ihdr.writeUInt32BE(20_000, 0);
    ihdr.writeUInt32BE(20_000, 4);
    ihdr.set([8, 0, 0, 0, 0], 8);
    const png = Buffer.concat([
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      chunk('IHDR', ihdr),
      chunk('IDAT', deflateSync(Buffer.alloc(10))),
      chunk('IEND', Buffer.alloc(0)),
    ]);
    await expectCode(
      () => decodeImage(png, 'huge.png'),
      'E_IMAGE_SIZE',
      /huge\.png: 20000 × 20000 pixels \(400 megapixels\) is more than the 268 megapixels/,
    );
  });

  it('missing files, folders and FIFOs → E_FILE without blocking', async () => {
    await expectCode(() => readImage(p('nope.png')), 'E_FILE', /nope\.png: no such file\. Pass the path of an image file/);
    await expectCode(() => readImage(p('folder')), 'E_FILE', /folder: is a directory/);
    await expectCode(() => readImage(p('fifo')), 'E_FILE', /fifo: is not a regular file \(a FIFO, socket or device\)/);
    await expectCode(
      () => createClassifier({ model: p('nope.safetensors') }),
      'E_FILE',
      /nope\.safetensors: no such file\. Pass the path of a model file/,
    );
    await expectCode(() => createClassifier({ model: p('square.png') }), 'E_MODEL', /square\.png: not an fmnist classifier model/);
  });

  it('the bundled model sits beside the module and loads by default', async () => {
    expect(bundledModelPath()).toMatch(/fmnist-classify\.safetensors$/);
    const c = await createClassifier();
    expect(c.info.format).toBe('fmnist-classify');
    expect(c.info.accuracy).toBeGreaterThan(0.5);
    expect(c.classNames).toHaveLength(10);
  });
});

describe('without sharp', () => {
  it('a file or encoded image → E_SHARP_MISSING naming `npm i sharp`; pixels still work', async () => {
    vi.resetModules();
    vi.doMock('sharp', () => {
      throw Object.assign(new Error("Cannot find package 'sharp' imported from node.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    try {
      const node = await import('./node');
      const c = await node.createClassifier({ model });
      await expectCode(
        () => c.classify(p('square.png')),
        'E_SHARP_MISSING',
        /needs the optional peer dependency sharp, which is not installed\. Install it: npm i sharp/,
      );
      expect(await c.classify({ data: new Uint8Array(784), width: 28, height: 28 }, { topK: 1 })).toHaveLength(1);
    } finally {
      vi.doUnmock('sharp');
      vi.resetModules();
    }
  });
});
