import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { VitePWA } from 'vite-plugin-pwa';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ortDist = fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url));
const registryManifest = fileURLToPath(new URL('./models/registry/manifest.json', import.meta.url));

// Cross-origin isolation lets onnxruntime-web use WASM threads.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/** The active model version, precached so the first offline start can identify; its sha256 is the revision. */
function activeModelEntry(): Array<{ url: string; revision: string }> {
  if (!existsSync(registryManifest)) {
    console.warn('models/registry/manifest.json is missing: the service worker will not precache a model (run `npm run models:build` first)');
    return [];
  }
  const manifest = JSON.parse(readFileSync(registryManifest, 'utf8'));
  const active = manifest.versions.find((v: { version: string }) => v.version === manifest.active);
  return active ? [{ url: `/models/registry/${active.file}`, revision: active.sha256 }] : [];
}

/** Files over Workbox's usual 2 MB that are precached on purpose: the WASM runtime and the model. */
const bigOnPurpose = /^(ort\/ort-wasm-simd-threaded\.(mjs|wasm)|models\/registry\/.+\.onnx)$/;

const appVersion = JSON.parse(readFileSync(fileURLToPath(new URL('./package.json', import.meta.url)), 'utf8')).version as string;

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(appVersion) },
  plugins: [
    react(),
    // onnxruntime-web loads its WASM runtime at run time; ship exactly the files it asks for under /ort/.
    viteStaticCopy({
      targets: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'].map((f) => ({ src: `${ortDist}${f}`, dest: 'ort' })),
    }),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        name: 'Wildsight',
        short_name: 'Wildsight',
        description: 'Identify animal species from a photo, on your device, even offline.',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        background_color: '#f4f1e8',
        theme_color: '#2f5d3a',
        icons: [
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png' },
          { src: '/icon-maskable-192.png', sizes: '192x192', type: 'image/png', purpose: 'maskable' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml' },
        ],
      },
      injectManifest: {
        // The asyncify (WebGPU) runtime is cached when a device first uses it, not precached everywhere.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}', 'ort/ort-wasm-simd-threaded.{mjs,wasm}'],
        globIgnores: ['**/*.map', 'ort/*asyncify*'],
        additionalManifestEntries: activeModelEntry(),
        maximumFileSizeToCacheInBytes: 32 * 1024 * 1024,
        manifestTransforms: [
          async (entries) => {
            const warnings: string[] = [];
            const manifest = entries.filter((e) => {
              const keep = e.size <= 2 * 1024 * 1024 || bigOnPurpose.test(e.url.replace(/^\//, ''));
              if (!keep) warnings.push(`${e.url} is over 2 MB and not on the precache allowlist: left out`);
              return keep;
            });
            return { manifest, warnings };
          },
        ],
      },
      devOptions: { enabled: false },
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
