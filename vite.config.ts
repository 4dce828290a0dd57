import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { fileURLToPath } from 'node:url';

const ortDist = fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url));

// Cross-origin isolation lets onnxruntime-web use WASM threads.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  plugins: [
    react(),
    // onnxruntime-web loads its WASM runtime at run time; ship exactly the files it asks for under /ort/.
    viteStaticCopy({
      targets: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'].map((f) => ({ src: `${ortDist}${f}`, dest: 'ort' })),
    }),
  ],
  resolve: {
    // The builds that load their WASM runtime from wasmPaths, rather than inlining a loader that
    // re-imports our whole worker chunk for each WASM thread.
    alias: {
      'onnxruntime-web/wasm': `${ortDist}ort.wasm.min.mjs`,
      'onnxruntime-web/webgpu': `${ortDist}ort.webgpu.min.mjs`,
    },
  },
  worker: { format: 'es' },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  build: { target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 1024 },
  server: { headers: isolation, proxy: { '/models': 'http://localhost:8080', '/v1': 'http://localhost:8080' } },
  preview: { headers: isolation },
});
