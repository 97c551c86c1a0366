import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FmnistModelError } from './errors';
import { decodeSafetensors, encodeSafetensors } from './safetensors';

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
