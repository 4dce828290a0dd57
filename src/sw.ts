/**
 * The service worker (Workbox, injectManifest): precaches the app shell, the
 * onnxruntime-web WASM runtime and the active model, so the app opens and
 * identifies with no signal. The model registry manifest and taxonomy are
 * network-first with a cached fallback, so a new model version is seen as
 * soon as there is signal.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst, NetworkFirst } from 'workbox-strategies';
import { warmStrategyCache } from 'workbox-recipes';
import { clientsClaim } from 'workbox-core';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(self.__WB_MANIFEST);
cleanupOutdatedCaches();

registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), { denylist: [/^\/v1\//, /^\/models\//, /^\/metrics/, /^\/healthz/, /^\/readyz/] }));

const registry = new NetworkFirst({ cacheName: 'wildsight-registry', networkTimeoutSeconds: 5 });
const registryUrls = ['/models/registry/manifest.json', '/models/taxonomy.json'];
registerRoute(({ url }) => url.origin === self.location.origin && (registryUrls.includes(url.pathname) || url.pathname === '/v1/models'), registry);
warmStrategyCache({ urls: registryUrls, strategy: registry });

// The WebGPU build's runtime is only fetched on devices that use it; keep it once it was.
registerRoute(({ url }) => url.origin === self.location.origin && url.pathname.startsWith('/ort/'), new CacheFirst({ cacheName: 'wildsight-ort' }));

// registerType 'prompt': the page asks before a new version takes over (never mid-identification).
self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') void self.skipWaiting();
});
clientsClaim();
