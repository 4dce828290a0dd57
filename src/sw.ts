/**
 * The service worker (Workbox, injectManifest): precaches the app shell and
 * the WASM runtime's loader, so the app opens with no signal. The runtime's
 * binary and the models are not precached: the inference worker downloads
 * each once, checks its sha256 and keeps it in the Cache API
 * (workers/inference/runtime-store.ts, model-store.ts), which is what makes
 * identification work offline. Precaching them too downloaded both twice on
 * a first visit, since the worker starts before this one controls it. The
 * model registry manifest and taxonomy are network-first with a cached
 * fallback, so a new model version is seen as soon as there is signal.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkFirst } from 'workbox-strategies';
import { warmStrategyCache } from 'workbox-recipes';
import { clientsClaim } from 'workbox-core';
import { RUNTIME_CACHE, adoptPrecachedRuntime } from '../workers/inference/runtime-store.ts';

declare const self: ServiceWorkerGlobalScope;

// Before this version's activation drops an older build's precached runtime, keep its bytes (runtime-store).
self.addEventListener('install', (event) => event.waitUntil(adoptPrecachedRuntime()));
precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/v1\//, /^\/models\//, /^\/metrics/, /^\/healthz/, /^\/readyz/] }));

const registry = new NetworkFirst({ cacheName: 'wildsight-registry', networkTimeoutSeconds: 5 });
const registryUrls = ['/models/registry/manifest.json', '/models/taxonomy.json'];
registerRoute(({ url }) => url.origin === self.location.origin && (registryUrls.includes(url.pathname) || url.pathname === '/v1/models'), registry);
warmStrategyCache({ urls: registryUrls, strategy: registry });

// The runtime binaries, from the cache the inference worker fills (runtime-store), so a fetch of one it
// already holds never reaches the network; the WebGPU build's runtime is kept here once a device used it.
registerRoute(({ url }) => url.origin === self.location.origin && url.pathname.startsWith('/ort/'), new CacheFirst({ cacheName: RUNTIME_CACHE }));

// registerType 'prompt': the page asks before a new version takes over (never mid-identification).
self.addEventListener('message', (event) => {
  if ((event.data as { type?: unknown } | null)?.type === 'SKIP_WAITING') void self.skipWaiting();
});
clientsClaim();
