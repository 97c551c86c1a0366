// Linear-memory allocation. Everything is allocated once, when the model is set up, and never freed.

/** Allocates `bytes` bytes aligned to 64 bytes (one cache line). */
export function allocBytes(bytes: usize): usize {
  const p = heap.alloc(bytes + 64);
  return (p + 63) & ~(<usize>63);
}

/** Allocates `n` zeroed f32s aligned to 64 bytes. */
export function allocF32(n: i32): usize {
  const p = allocBytes(<usize>n << 2);
  memory.fill(p, 0, <usize>n << 2);
  return p;
}
