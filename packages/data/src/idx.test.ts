import { describe, expect, it } from 'vitest';
import { FmnistDataError } from './errors';
import { decodeIdx, IdxDecoder } from './idx';
import { parseIdx as parseIdxWeb } from './index';
import { parseIdx } from './node';
import { gzip, idxBytes } from './test-fixtures';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FmnistDataError);
    return (err as FmnistDataError).code;
  }
  return undefined;
}

async function asyncCodeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(FmnistDataError);
    return (err as FmnistDataError).code;
  }
  return undefined;
}

describe('decodeIdx', () => {
  it('decodes a uint8 3-D file as a zero-copy view', () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const bytes = idxBytes([2, 3, 4], data);
    const idx = decodeIdx(bytes);
    expect(idx.dtype).toBe('uint8');
    expect(idx.dims).toEqual([2, 3, 4]);
    expect(Array.from(idx.data)).toEqual(Array.from(data));
    expect(idx.data.buffer).toBe(bytes.buffer);
  });

  it('decodes big-endian multi-byte types', () => {
    const i16 = new Uint8Array([0, 0, 0x0b, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    expect(Array.from(decodeIdx(i16).data)).toEqual([0x0102, -2]);
    const i32 = new Uint8Array([0, 0, 0x0c, 1, 0, 0, 0, 1, 0x00, 0x01, 0x00, 0x00]);
    expect(Array.from(decodeIdx(i32).data)).toEqual([65536]);
    const f32 = new Uint8Array(12);
    f32.set([0, 0, 0x0d, 1, 0, 0, 0, 1]);
    new DataView(f32.buffer).setFloat32(8, 1.5, false);
    expect(Array.from(decodeIdx(f32).data)).toEqual([1.5]);
    const f64 = new Uint8Array(16);
    f64.set([0, 0, 0x0e, 1, 0, 0, 0, 1]);
    new DataView(f64.buffer).setFloat64(8, -0.25, false);
    const d = decodeIdx(f64);
    expect(d.dtype).toBe('float64');
    expect(Array.from(d.data)).toEqual([-0.25]);
    const i8 = new Uint8Array([0, 0, 0x09, 1, 0, 0, 0, 2, 0xff, 0x01]);
    expect(Array.from(decodeIdx(i8).data)).toEqual([-1, 1]);
  });

  it('decodes the same bytes fed one at a time', () => {
    const bytes = idxBytes([3, 2], [1, 2, 3, 4, 5, 6]);
    const decoder = new IdxDecoder();
    for (const b of bytes) decoder.push(new Uint8Array([b]));
    const idx = decoder.finish();
    expect(idx.dims).toEqual([3, 2]);
    expect(Array.from(idx.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

describe('parseIdx (gzip or raw, Node and web gunzip)', () => {
  const raw = idxBytes(
    [5, 28, 28],
    Uint8Array.from({ length: 5 * 784 }, (_, i) => i % 251),
  );
  for (const [label, parse] of [
    ['node', parseIdx],
    ['web', parseIdxWeb],
  ] as const) {
    it(`${label}: gz and raw give identical arrays`, async () => {
      const a = await parse(raw);
      const b = await parse(gzip(raw), { name: 'x.gz' });
      expect(b.dims).toEqual([5, 28, 28]);
      expect(Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength).equals(Buffer.from(raw.subarray(16)))).toBe(true);
      expect(a.dims).toEqual(b.dims);
    });

    it(`${label}: a raw IDX file with a .gz name still loads (server already decompressed it)`, async () => {
      expect((await parse(raw, { name: 'train-images-idx3-ubyte.gz' })).dims).toEqual([5, 28, 28]);
    });
  }
});

describe('corrupt input: each case has its own error code', () => {
  const good = idxBytes([4, 28, 28], new Uint8Array(4 * 784));
  const cases: [string, Uint8Array, string][] = [
    ['empty file', new Uint8Array(0), 'E_EMPTY'],
    ['truncated magic (2 bytes)', new Uint8Array([0, 0]), 'E_TRUNCATED'],
    ['truncated dims header', good.subarray(0, 10), 'E_TRUNCATED'],
    ['truncated body', good.subarray(0, good.length - 1), 'E_TRUNCATED'],
    ['wrong magic', Uint8Array.from([0x12, 0x34, 0x08, 0x03, ...good.subarray(4)]), 'E_MAGIC'],
    ['HTML error page', new TextEncoder().encode('<html><body>404 Not Found</body></html>'), 'E_MAGIC'],
    ['unknown type byte', Uint8Array.from([0, 0, 0x0a, 0x03, ...good.subarray(4)]), 'E_TYPE'],
    ['zero dimensions', new Uint8Array([0, 0, 8, 0]), 'E_DIMS'],
    ['absurd dims (header claims terabytes)', idxBytes([0xffffffff, 0xffffffff], []), 'E_DIMS'],
    ['trailing bytes after the data', Uint8Array.from([...good, 1, 2, 3]), 'E_LENGTH'],
    [
      'dims vs length mismatch (header says 5 images, 4 present)',
      Uint8Array.from([...idxBytes([5, 28, 28], []), ...good.subarray(16)]),
      'E_TRUNCATED',
    ],
  ];
  for (const [name, bytes, code] of cases) {
    it(`${name} → ${code}`, () => {
      expect(codeOf(() => decodeIdx(bytes, { name: 'fixture' }))).toBe(code);
    });
  }

  it('gzip magic passed to the sync raw decoder → E_MAGIC that says to decompress', () => {
    try {
      decodeIdx(gzip(good), { name: 'x' });
      expect.unreachable();
    } catch (err) {
      expect((err as FmnistDataError).code).toBe('E_MAGIC');
      expect((err as Error).message).toMatch(/gzip-compressed/);
    }
  });

  it('not gzip (and not IDX) but named .gz → E_NOT_GZIP naming the file', async () => {
    const html = new TextEncoder().encode('<html>proxy error</html>');
    try {
      await parseIdx(html, { name: 'train-images-idx3-ubyte.gz' });
      expect.unreachable();
    } catch (err) {
      expect((err as FmnistDataError).code).toBe('E_NOT_GZIP');
      expect((err as FmnistDataError).file).toBe('train-images-idx3-ubyte.gz');
      expect((err as Error).message).toContain('train-images-idx3-ubyte.gz');
    }
  });

  it('gzip cut short → E_TRUNCATED (node) / E_GZIP (web)', async () => {
    const gz = gzip(good);
    const cut = gz.subarray(0, Math.floor(gz.length / 2));
    expect(await asyncCodeOf(parseIdx(cut, { name: 'a.gz' }))).toBe('E_TRUNCATED');
    expect(await asyncCodeOf(parseIdxWeb(cut, { name: 'a.gz' }))).toBe('E_GZIP');
  });

  it('gzip with corrupted deflate data → E_GZIP', async () => {
    const gz = gzip(
      idxBytes(
        [50, 28, 28],
        Uint8Array.from({ length: 50 * 784 }, (_, i) => (i * 31) % 256),
      ),
    );
    const bad = gz.slice();
    for (let i = 20; i < 60; i++) bad[i] = (bad[i] as number) ^ 0xa5;
    expect(await asyncCodeOf(parseIdx(bad, { name: 'b.gz' }))).toBe('E_GZIP');
  });

  it('gzipped content with a truncated IDX body inside → E_TRUNCATED', async () => {
    expect(await asyncCodeOf(parseIdx(gzip(good.subarray(0, 100)), { name: 'c.gz' }))).toBe('E_TRUNCATED');
  });
});

describe('decodeIdx: the byte fast path and hostile arguments', () => {
  const bytes = new Uint8Array([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]);
  it('honours maxBytes and checkHeader for byte data too', () => {
    expect(() => decodeIdx(bytes, { maxBytes: 1 })).toThrow(FmnistDataError);
    let seen = 0;
    expect(() =>
      decodeIdx(bytes, {
        checkHeader: () => {
          seen++;
          throw new FmnistDataError('E_DIMS', 'refused');
        },
      }),
    ).toThrow(/refused/);
    expect(seen).toBe(1);
    expect(Array.from(decodeIdx(bytes).data)).toEqual([7, 8, 9]);
  });
  it('an ArrayBuffer, an array or null is a TypeError naming the fix', () => {
    expect(() => decodeIdx(bytes.buffer as never)).toThrow(/'bytes' must be a Uint8Array \(wrap an ArrayBuffer/);
    expect(() => decodeIdx([0, 0, 8, 1] as never)).toThrow(/got an array/);
    expect(() => decodeIdx(null as never)).toThrow(/got null/);
  });
});
