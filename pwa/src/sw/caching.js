/**
 * Caching, as named functions the entry module wires up.
 *
 * - The app shell of both pages (HTML, hashed JS/CSS, icons, manifest) is
 *   precached with a revision per file; a new deploy replaces only what changed.
 * - Navigations to / and /console get the precached shell, so the app
 *   starts with no network at all.
 * - /api and /ws always go to the network and are never stored.
 */
import { precacheAndRoute, cleanupOutdatedCaches, matchPrecache } from 'workbox-precaching';
import { registerRoute } from 'workbox-routing';
import { NetworkOnly } from 'workbox-strategies';
import { setCacheNameDetails, cacheNames } from 'workbox-core';
import { shellForNavigation, isNeverCached } from './routes.js';

/**
 * Bump to drop every cache this app made (e.g. a new runtime cache layout).
 * Per-file changes don't need it: precache revisions handle those.
 */
export const CACHE_VERSION = 'v1';
const PREFIX = 'patrol';

export function nameCaches() {
  setCacheNameDetails({ prefix: PREFIX, suffix: CACHE_VERSION });
}

/**
 * @param {Array<{url: string, revision: string | null}>} manifest injected at build time
 */
export function precacheAppShell(manifest) {
  precacheAndRoute(manifest);
  // Registers its own activate listener, so it must run at start-up.
  cleanupOutdatedCaches();
}

/** Never let API calls touch a cache, whatever other routes come later. */
export function routeApiToNetwork() {
  registerRoute(({ url }) => isNeverCached(url), new NetworkOnly());
}

/** Serve / and /console from the precache, online or not. */
export function routeNavigationsToShell() {
  registerRoute(
    ({ request, url }) => request.mode === 'navigate' && shellForNavigation(url, self.location.origin) !== null,
    async ({ request, url }) => {
      const shell = /** @type {string} */ (shellForNavigation(url, self.location.origin));
      // Falls back to the network if the precache is not complete (first install interrupted).
      return (await matchPrecache(shell)) ?? fetch(request);
    },
  );
}

/**
 * On activate: delete caches of older CACHE_VERSIONs. Caches of other apps
 * on the origin (none today) are left alone.
 */
export async function deleteOldCaches() {
  const current = new Set([cacheNames.precache, cacheNames.runtime]);
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith(`${PREFIX}-`) && !current.has(name)).map((name) => caches.delete(name)));
}
