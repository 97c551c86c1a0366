// a * b + c on f32x4, shared by the GEMM (gemm.ts) and the element-wise kernels (ops.ts). The relaxed-SIMD build
// (ASC_FEATURE_RELAXED_SIMD) uses one fused multiply-add: one rounding instead of two, so its results differ from the
// baseline build's in the last bits, and it is faster where the CPU has FMA.

// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}
