/**
 * A small, fast, seeded random number generator (xoshiro128**) whose whole state is four 32-bit integers, so it can be
 * saved in a checkpoint and restored to continue the exact same sequence.
 */
export interface Rng {
  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number;
  /** Uniform unsigned 32-bit integer. */
  nextUint32(): number;
  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number;
  /** Standard normal sample (mean 0, std 1), Box–Muller. */
  normal(): number;
  /** A copy of the current state; pass it to {@link createRng} to resume the same sequence. */
  getState(): RngState;
  /** Replaces the state (from {@link Rng.getState}). */
  setState(state: RngState): void;
}

/** Serializable RNG state: four unsigned 32-bit integers, not all zero. */
export type RngState = [number, number, number, number];

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * Creates a seeded RNG. The same seed always gives the same sequence, on every platform.
 *
 * @param seed - an integer seed, or a state from {@link Rng.getState} to resume
 * @returns the generator
 * @throws TypeError when `seed` is not a finite integer or valid state
 *
 * @example
 * ```ts
 * const rng = createRng(42);
 * rng.next(); // same value every run
 * const saved = rng.getState();
 * const again = createRng(saved); // continues where `rng` is now
 * ```
 */
export function createRng(seed: number | RngState): Rng {
  const s = new Uint32Array(4);
  if (Array.isArray(seed)) {
    if (seed.length !== 4 || seed.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff) || seed.every((v) => v === 0)) {
      throw new TypeError(`'seed' state must be four unsigned 32-bit integers, not all zero, got [${seed.join(', ')}].`);
    }
    s.set(seed);
  } else {
    if (!Number.isFinite(seed) || !Number.isInteger(seed)) {
      throw new TypeError(`'seed' must be an integer, got ${String(seed)}.`);
    }
    const sm = splitmix32(seed);
    for (let i = 0; i < 4; i++) s[i] = sm();
  }
  let spare: number | undefined;
  const nextUint32 = (): number => {
    const result = Math.imul(rotl(Math.imul(s[1] as number, 5), 7), 9) >>> 0;
    const t = (s[1] as number) << 9;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ (s[1] as number);
    s[1] = (s[1] as number) ^ (s[2] as number);
    s[0] = (s[0] as number) ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  };
  const next = (): number => nextUint32() / 4294967296;
  return {
    next,
    nextUint32,
    int(n: number): number {
      if (!Number.isInteger(n) || n <= 0 || n > 4294967296) {
        throw new RangeError(`'n' must be an integer in [1, 2^32], got ${n}.`);
      }
      const limit = 4294967296 - (4294967296 % n);
      for (;;) {
        const v = nextUint32();
        if (v < limit) return v % n;
      }
    },
    normal(): number {
      if (spare !== undefined) {
        const v = spare;
        spare = undefined;
        return v;
      }
      let u = 0;
      while (u === 0) u = next();
      const v = next();
      const r = Math.sqrt(-2 * Math.log(u));
      spare = r * Math.sin(2 * Math.PI * v);
      return r * Math.cos(2 * Math.PI * v);
    },
    getState: () => [s[0] as number, s[1] as number, s[2] as number, s[3] as number],
    setState(state: RngState): void {
      s.set(state);
      spare = undefined;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
