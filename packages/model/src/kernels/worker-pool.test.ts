import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { workerUrl } from './worker-pool';

describe('the worker module', () => {
  it('is a file the pool starts by URL (from the sources: the bundle build-wasm writes into generated/)', () => {
    const url = workerUrl();
    expect(url.protocol).toBe('file:');
    expect(url.pathname.endsWith('/src/kernels/generated/worker.mjs')).toBe(true);
    expect(existsSync(fileURLToPath(url))).toBe(true);
  });

  const dist = new URL('../../dist/', import.meta.url);
  it.skipIf(!existsSync(dist))('dist/ holds worker.js and worker.cjs, and no bundle evaluates code from a string', () => {
    const files = readdirSync(dist).filter((f) => /\.(c?js)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['worker.js', 'worker.cjs']));
    for (const file of files) {
      const text = readFileSync(new URL(file, dist), 'utf8');
      expect(text, file).not.toMatch(/\beval\s*[(:]|new Function\s*\(|\.toString\(\)\s*[,)}]?\s*\{\s*eval/);
      expect(text, file).not.toMatch(/eval: true/);
    }
    expect(readFileSync(new URL('index.cjs', dist), 'utf8')).toContain('"./worker.cjs"');
  });
});
