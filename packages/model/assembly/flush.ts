// Flushing subnormal f32s to zero.
// x86 processes subnormal floats (0 < |x| < 2^-126) up to ~100x slower than normal ones, and WebAssembly cannot set
// flush-to-zero. So no kernel writes one: each value path that can underflow flushes its result to 0 explicitly
// (changes of < 1.2e-38, far inside every tolerance). NaN and infinities pass through (their compare is false / large).

/** The smallest normal f32, 2^-126. */
const FLT_MIN: f32 = 1.17549435e-38;

// FLT_MIN in 4 lanes, in linear memory: read with one load, where a v128.const is rebuilt from immediates at every use
// (see ops.ts, GELU_K).
const FLT_MIN_X4: usize = memory.data<f32>([FLT_MIN, FLT_MIN, FLT_MIN, FLT_MIN], 16);

/** `v` with its subnormal lanes set to +-0 (NaN, infinities and normal lanes unchanged). */
// @ts-ignore: decorator
@inline
export function flushSubnormals(v: v128): v128 {
  return v128.andnot(v, f32x4.lt(f32x4.abs(v), v128.load(FLT_MIN_X4)));
}

/** `x`, or 0 when `x` is subnormal. */
// @ts-ignore: decorator
@inline
export function flushSubnormal(x: f32): f32 {
  return Mathf.abs(x) < FLT_MIN ? <f32>0 : x;
}
