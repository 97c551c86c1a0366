import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FmnistModelError } from './errors';
import { decodeSafetensors, encodeSafetensors, fromFloat16Bits, toFloat16Bits } from './safetensors';

const tensors = {
  a: { shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, -6.5]) },
  b: { shape: [1], data: Float32Array.from([Math.PI]) },
};

describe('safetensors', () => {
  it('round-trips tensors and metadata; the header is 8-byte aligned', () => {
    const bytes = encodeSafetensors(tensors, { format: 'fmnist' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const { tensors: out, metadata } = decodeSafetensors(bytes);
    expect(metadata).toEqual({ format: 'fmnist' });
    expect(out.a?.shape).toEqual([2, 3]);
    expect(Array.from(out.a?.data ?? [])).toEqual(Array.from(tensors.a.data));
    expect(out.b?.data[0]).toBe(Math.fround(Math.PI));
  });

  it('is read identically by an independent Python reader (json + numpy)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const file = join(dir, 'x.safetensors');
    writeFileSync(file, encodeSafetensors(tensors, { k: 'v' }));
    const script = `
import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
for k in ('a', 'b'):
    s, e = h[k]['data_offsets']
    arr = np.frombuffer(b[8+n+s:8+n+e], dtype='<f4').reshape(h[k]['shape'])
    print(k, h[k]['dtype'], list(arr.shape), ' '.join(repr(float(v)) for v in arr.ravel()))
print(h['__metadata__']['k'])
`;
    const out = execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }).trim().split('\n');
    expect(out[0]).toBe('a F32 [2, 3] 1.0 2.0 3.0 4.0 5.0 -6.5');
    expect(out[1]).toMatch(/^b F32 \[1\] 3\.14159274/);
    expect(out[2]).toBe('v');
  });

  it('writes F16 on request (half the bytes) and reads it back widened to float32', () => {
    const f32 = encodeSafetensors(tensors, { k: 'v' });
    const f16 = encodeSafetensors(tensors, { k: 'v' }, { dtype: 'F16' });
    const { tensors: out, metadata } = decodeSafetensors(f16);
    expect(metadata).toEqual({ k: 'v' });
    expect(out.a?.data).toBeInstanceOf(Float32Array);
    expect(Array.from(out.a?.data ?? [])).toEqual([1, 2, 3, 4, 5, -6.5]); // exact in half precision
    expect(out.b?.data[0]).toBe(3.140625); // π rounded to 10 mantissa bits
    // 7 floats: 28 bytes of F32 data → 14 of F16.
    const dataBytes = (b: Uint8Array) => b.length - 8 - Number(new DataView(b.buffer).getBigUint64(0, true));
    expect(dataBytes(f32)).toBe(28);
    expect(dataBytes(f16)).toBe(14);
    expect(() => encodeSafetensors(tensors, {}, { dtype: 'F64' as never })).toThrow(/'F32' or 'F16', got "F64"/);
  });

  it('converts half precision like numpy.float16 (rounding, subnormals, overflow, NaN)', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [65504, 0x7bff], // largest half
      [65520, 0x7c00], // rounds up to Infinity
      [1e6, 0x7c00],
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -25, 0x0000], // ties to even → 0
      [3 * 2 ** -25, 0x0002], // ties to even → 2 ulps
      [2 ** -14, 0x0400], // smallest normal
      [1 + 2 ** -11, 0x3c00], // halfway between 1 and the next half: ties to even (down)
      [1 + 3 * 2 ** -11, 0x3c02], // halfway, odd below: up
      [Number.POSITIVE_INFINITY, 0x7c00],
    ];
    for (const [value, bits] of cases) expect(toFloat16Bits(value), String(value)).toBe(bits);
    expect(Number.isNaN(fromFloat16Bits(toFloat16Bits(Number.NaN)))).toBe(true);
    for (const [, bits] of cases) if (bits !== 0x7c00) expect(toFloat16Bits(fromFloat16Bits(bits))).toBe(bits);
    expect(fromFloat16Bits(0x7bff)).toBe(65504);
    expect(fromFloat16Bits(0x0001)).toBe(2 ** -24);
    expect(fromFloat16Bits(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('F16 files are read identically by an independent Python reader (numpy float16)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'st-'));
    const file = join(dir, 'x.safetensors');
    writeFileSync(file, encodeSafetensors(tensors, {}, { dtype: 'F16' }));
    const script = `
import json, struct, sys
import numpy as np
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
h = json.loads(b[8:8+n])
for k in ('a', 'b'):
    s, e = h[k]['data_offsets']
    arr = np.frombuffer(b[8+n+s:8+n+e], dtype='<f2').reshape(h[k]['shape'])
    print(k, h[k]['dtype'], list(arr.shape), ' '.join(repr(float(v)) for v in arr.ravel()))
print(int(np.array([np.pi], dtype=np.float32).astype(np.float16).view(np.uint16)[0]))
`;
    const out = execFileSync('python3', ['-c', script, file], { encoding: 'utf8' }).trim().split('\n');
    expect(out[0]).toBe('a F16 [2, 3] 1.0 2.0 3.0 4.0 5.0 -6.5');
    expect(out[1]).toBe('b F16 [1] 3.140625');
    expect(Number(out[2])).toBe(toFloat16Bits(Math.PI));
  });

  const corrupt: [string, Uint8Array][] = [
    ['too short', new Uint8Array(3)],
    [
      'header longer than the file',
      (() => {
        const b = encodeSafetensors(tensors);
        new DataView(b.buffer).setBigUint64(0, 10_000n, true);
        return b;
      })(),
    ],
    [
      'header not JSON',
      (() => {
        const b = encodeSafetensors(tensors);
        b[9] = 0x7b;
        b[10] = 0x7b;
        return b;
      })(),
    ],
    ['truncated data', encodeSafetensors(tensors).subarray(0, -4)],
    ['truncated F16 data', encodeSafetensors(tensors, {}, { dtype: 'F16' }).subarray(0, -2)],
    [
      'an F32 tensor declared F16 (byte count does not fit the shape)',
      (() => {
        const b = encodeSafetensors(tensors);
        const n = Number(new DataView(b.buffer).getBigUint64(0, true));
        const text = new TextDecoder().decode(b.subarray(8, 8 + n)).replaceAll('"F32"', '"F16"');
        b.set(new TextEncoder().encode(text), 8);
        return b;
      })(),
    ],
    [
      'an unsupported dtype (BF16)',
      (() => {
        const b = encodeSafetensors(tensors, {}, { dtype: 'F16' });
        const n = Number(new DataView(b.buffer).getBigUint64(0, true));
        const text = new TextDecoder().decode(b.subarray(8, 8 + n)).replace('"F16"', '"I16"');
        b.set(new TextEncoder().encode(text), 8);
        return b;
      })(),
    ],
  ];
  for (const [name, bytes] of corrupt) {
    it(`${name} → E_CHECKPOINT_CORRUPT`, () => {
      try {
        decodeSafetensors(bytes, 'w.safetensors');
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(FmnistModelError);
        expect((err as FmnistModelError).code).toBe('E_CHECKPOINT_CORRUPT');
        expect((err as Error).message).toContain('w.safetensors');
      }
    });
  }
});

describe('encodeSafetensors refuses what it could not read back', () => {
  it('a plain array as data (it would have written zeros)', () => {
    expect(() => encodeSafetensors({ a: { shape: [2], data: [1, 2] as never } })).toThrow(/Tensor 'a': 'data' must be a Float32Array/);
  });
  it('negative or fractional dims', () => {
    expect(() => encodeSafetensors({ a: { shape: [-1, -1], data: new Float32Array(1) } })).toThrow(
      /'shape' must be an array of non-negative integers/,
    );
    expect(() => encodeSafetensors({ a: { shape: [0.5, 2], data: new Float32Array(1) } })).toThrow(
      /'shape' must be an array of non-negative integers/,
    );
  });
  it('metadata that is not a string', () => {
    expect(() => encodeSafetensors({}, { step: 5 as never })).toThrow(/Metadata 'step' must be a string/);
  });
});
