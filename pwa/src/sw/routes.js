/**
 * Which requests the service worker handles, as pure functions of a URL
 * (tested under node). Kept apart from Workbox so the rules are readable.
 */

/** Pages the worker serves from its precache, by path. */
export const SHELL_PAGES = /** @type {const} */ ({ officer: '/index.html', console: '/console/index.html' });

/**
 * Live data and the websocket: always the network, never a cache. (A
 * websocket upgrade never reaches a service worker anyway; /ws is listed so
 * that no future route catches it by accident.)
 * @param {URL} url
 */
export function isNeverCached(url) {
  return url.pathname === '/api' || url.pathname.startsWith('/api/') || url.pathname === '/ws' || url.pathname.startsWith('/ws/');
}

/**
 * The app shell a navigation should get, or null to leave it to the network.
 * @param {URL} url
 * @param {string} origin the worker's own origin
 * @returns {string | null}
 */
export function shellForNavigation(url, origin) {
  if (url.origin !== origin || isNeverCached(url)) return null;
  const path = url.pathname;
  if (path === '/' || path === '/index.html') return SHELL_PAGES.officer;
  if (path === '/console' || path === '/console/' || path === '/console/index.html') return SHELL_PAGES.console;
  return null;
}

/**
 * A notification's target, reduced to a same-origin URL: a push payload
 * must not be able to open an arbitrary site.
 * @param {unknown} raw
 * @param {string} origin
 */
export function safeTargetUrl(raw, origin) {
  try {
    const url = new URL(typeof raw === 'string' && raw ? raw : '/', origin);
    return url.origin === origin ? url.href : new URL('/', origin).href;
  } catch {
    return new URL('/', origin).href;
  }
}
