// Flushing subnormal f32s to zero.
// x86 processes subnormal floats (0 < |x| < 2^-126) up to ~100x slower than normal ones, and WebAssembly cannot set
// flush-to-zero. So no kernel writes one: each value path that can underflow flushes its result to 0 explicitly
// (changes of < 1.2e-38, far inside every tolerance). NaN and infinities pass through (their compare is false / large).

/** The smallest normal f32, 2^-126. */
const FLT_MIN: f32 = 1.17549435e-38;

/** `v` with its subnormal lanes set to +-0 (NaN, infinities and normal lanes unchanged). */
// @ts-ignore: decorator
@inline
export function flushSubnormals(v: v128): v128 {
  return v128.andnot(v, f32x4.lt(f32x4.abs(v), f32x4.splat(FLT_MIN)));
}

/** `x`, or 0 when `x` is subnormal. */
// @ts-ignore: decorator
@inline
export function flushSubnormal(x: f32): f32 {
  return Mathf.abs(x) < FLT_MIN ? <f32>0 : x;
}
