// Review of the transport choice (kernels/pool-browser.ts resolveTransport): a cross-origin isolated page in a browser
// without Atomics.waitAsync (Firefox before 145, e.g. ESR 140) must not pick the shared transport, whose wait needs it.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveTransport } from './kernels/pool-browser';

const atomics = Atomics as unknown as { waitAsync?: unknown };
const saved = atomics.waitAsync;
afterEach(() => {
  atomics.waitAsync = saved;
  vi.unstubAllGlobals();
});

describe('resolveTransport without Atomics.waitAsync (review)', () => {
  it("'auto' on an isolated page picks 'message'; 'shared' is E_BACKEND naming Atomics.waitAsync", () => {
    vi.stubGlobal('crossOriginIsolated', true);
    expect(resolveTransport('auto')).toBe('shared');
    delete atomics.waitAsync;
    expect(resolveTransport('auto')).toBe('message');
    expect(() => resolveTransport('shared')).toThrow(
      expect.objectContaining({ code: 'E_BACKEND', message: expect.stringContaining('Atomics.waitAsync') }),
    );
  });
});
