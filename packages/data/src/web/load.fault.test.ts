/**
 * Fault suite of the browser loader (hardening issue, classes 1–3 where the same mechanism applies), run on Node's
 * fetch and DecompressionStream against the hostile server on 127.0.0.1.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_FILES, type FashionMnistFileKey, FILE_KEYS } from '../dataset';
import { type HostileMode, type HostileServer, startHostileServer } from '../node/hostile-server';
import { failure, gzip, tinyDataset } from '../test-fixtures';
import { loadFromSources } from './load';

const raw = tinyDataset(20, 10);
const files = Object.fromEntries(FILE_KEYS.map((k) => [FASHION_MNIST_FILES[k].name, gzip(raw[k])]));
const checksums = Object.fromEntries(FILE_KEYS.map((k) => [k, createHash('sha256').update(raw[k]).digest('hex')])) as Record<
  FashionMnistFileKey,
  string
>;
let server: HostileServer;
beforeAll(async () => {
  server = await startHostileServer({ files });
});
afterAll(() => server.close());

const CASES: [HostileMode, string][] = [
  ['reset', 'E_TRUNCATED'],
  ['huge-length', 'E_TOO_LARGE'],
  ['html', 'E_NOT_GZIP'],
  ['wrong', 'E_CHECKSUM'],
  ['bad-dims', 'E_SHAPE'],
  ['not-found', 'E_NOT_FOUND'],
  ['error', 'E_DOWNLOAD'],
  ['redirect-loop', 'E_DOWNLOAD'],
];

describe('browser loader: bad mirrors', () => {
  it.each(CASES)('a %s mirror alone → %s', async (mode, code) => {
    const err = await failure(loadFromSources({ baseUrl: server.mirror(mode), checksums, verify: true }));
    expect(err.code).toBe(code);
  });

  it.each(CASES)('a %s mirror, then a good one → loaded from the good one', async (mode) => {
    const r = await loadFromSources({ mirrors: [server.mirror(mode), server.mirror('ok')], checksums, verify: true });
    expect(r.location).toBe(server.mirror('ok'));
    expect(r.train.count).toBe(20);
  });

  it('every mirror 404 → E_NOT_FOUND listing both', async () => {
    const err = await failure(loadFromSources({ mirrors: [server.mirror('not-found'), server.mirror('gone')], checksums }));
    expect(err.code).toBe('E_NOT_FOUND');
    expect(err.message).toContain(server.mirror('gone'));
  });

  it('an unreachable host names its cause instead of a bare "fetch failed"', async () => {
    const err = await failure(loadFromSources({ baseUrl: 'http://fmnist-no-such-host.invalid/', checksums }));
    expect(err.code).toBe('E_DOWNLOAD');
    expect(err.message).toMatch(/fetch failed ← .*(ENOTFOUND|EAI_AGAIN)/);
  });
});
