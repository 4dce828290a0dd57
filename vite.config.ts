import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { viteStaticCopy } from 'vite-plugin-static-copy';
import { VitePWA } from 'vite-plugin-pwa';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const ortDist = fileURLToPath(new URL('./node_modules/onnxruntime-web/dist/', import.meta.url));

// Cross-origin isolation lets onnxruntime-web use WASM threads.
const isolation = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

/**
 * The WASM runtime's sha256, which the inference worker checks and stores it under
 * (workers/inference/runtime-store.ts). The runtime and the models are not precached: the worker
 * fetches each once into the Cache API, where the service worker's `/ort/` route and the model
 * store read them, instead of both downloading them on a first visit.
 */
const ortWasmSha256 = createHash('sha256')
  .update(readFileSync(`${ortDist}ort-wasm-simd-threaded.wasm`))
  .digest('hex');

const appVersion = (JSON.parse(readFileSync(fileURLToPath(new URL('./package.json', import.meta.url)), 'utf8')) as { version: string }).version;

/**
 * Puts the app's stylesheet (about 5 KB) into index.html as a <style>: as a
 * <link> in <head> it blocked the first paint for one more round trip
 * (Lighthouse's render-blocking audit). The CSP allows inline styles; the
 * file itself is dropped, so the precache does not list it either.
 */
function inlineStylesheet(): Plugin {
  return {
    name: 'wildsight-inline-stylesheet',
    apply: 'build',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const html = bundle['index.html'];
      if (!html || html.type !== 'asset') return;
      let source = String(html.source);
      for (const [name, file] of Object.entries(bundle)) {
        if (file.type !== 'asset' || !name.endsWith('.css')) continue;
        const link = new RegExp(`<link rel="stylesheet"[^>]*href="/${name.replace(/[.$]/g, '\\$&')}"[^>]*>`);
        if (!link.test(source)) continue; // a stylesheet of a lazy chunk stays a file
        source = source.replace(link, () => `<style>${String(file.source).replace(/\/\*# sourceMappingURL=.*?\*\//g, '')}</style>`);
        delete bundle[name];
        delete bundle[`${name}.map`];
      }
      html.source = source;
    },
  };
}

export default defineConfig({
  define: { __APP_VERSION__: JSON.stringify(appVersion), __ORT_WASM_SHA256__: JSON.stringify(ortWasmSha256) },
  plugins: [
    react(),
    inlineStylesheet(),
    // onnxruntime-web loads its WASM runtime at run time; ship exactly the files it asks for under /ort/.
    viteStaticCopy({
      targets: ['ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm', 'ort-wasm-simd-threaded.asyncify.mjs', 'ort-wasm-simd-threaded.asyncify.wasm'].map((f) => ({
        src: `${ortDist}${f}`,
        dest: 'ort',
      })),
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
        // The runtime's loader (24 KB) is precached; its binary is fetched once by the inference worker
        // (runtime-store), the asyncify (WebGPU) runtime is cached when a device first uses it, and models
        // are kept by the model store: none of them is downloaded a second time by the precache.
        globPatterns: ['**/*.{js,css,html,svg,png,webmanifest}', 'ort/ort-wasm-simd-threaded.mjs'],
        globIgnores: ['**/*.map', 'ort/*asyncify*'],
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
