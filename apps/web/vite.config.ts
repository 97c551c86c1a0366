import { defaultClientConditions, defineConfig } from 'vite';

/**
 * Cross-origin isolation (needed for SharedArrayBuffer, hence onnxruntime-web's wasm threads). Static hosts get the same
 * headers from `public/_headers`.
 */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export default defineConfig({
  // Relative asset URLs: the built site works from any sub-path of any static host.
  base: './',
  resolve: {
    // onnxruntime-web's "extern wasm" builds load their Emscripten glue (.mjs) and binary (.wasm) from URLs we give them
    // (the hashed copies Vite emits from `?url` imports), instead of inlining the glue into our bundle.
    conditions: ['onnxruntime-web-use-extern-wasm', ...defaultClientConditions],
  },
  optimizeDeps: {
    // Pre-bundling would rewrite onnxruntime-web's import.meta.url-relative loading.
    exclude: ['onnxruntime-web'],
  },
  build: {
    target: 'es2022',
    // The .wasm files are large by nature; they are fetched only when a session is created.
    chunkSizeWarningLimit: 600,
    assetsInlineLimit: 0,
  },
  // The trainer worker starts kernels workers of its own and shares chunks with them: module workers.
  worker: { format: 'es' },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
});
