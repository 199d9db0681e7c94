/**
 * Message files. English is bundled (it is also every other language's fallback); the
 * other languages are separate precached files (built by build.mjs as
 * assets/i18n-<lang>-<hash>.json), fetched once when chosen: the officer app's first
 * download over EDGE carries one language, not four, and works offline from the
 * service worker's precache like the rest of the app.
 */
import en from './en.json';

/** @type {Partial<Record<import('./language.js').Language, import('./translate.js').Messages>>} */
export const MESSAGES = { en };

/** @type {Array<() => void>} called whenever a language arrives (translators recompute) */
const listeners = [];
/** @param {() => void} fn */
export function onMessages(fn) {
  listeners.push(fn);
}

/* global __I18N_URLS__ */
/** @type {Record<string, string>} the build's URLs of the other languages (none in unit tests) */
const URLS = typeof __I18N_URLS__ === 'object' ? /** @type {any} */ (__I18N_URLS__) : {};

/** Make a language's messages available now (bundles that carry them all). @param {string} lang @param {any} messages */
export function addMessages(lang, messages) {
  if (MESSAGES[/** @type {import('./language.js').Language} */ (lang)]) return;
  MESSAGES[/** @type {import('./language.js').Language} */ (lang)] = messages;
  for (const fn of listeners) fn();
}

/** @type {Map<string, Promise<void>>} */
const pending = new Map();

/**
 * Fetch a language once (from the precache when offline). Until it arrives, texts fall back
 * to English; a failure leaves English and is retried on the next call.
 * @param {string} lang
 */
export function loadMessages(lang) {
  if (MESSAGES[/** @type {import('./language.js').Language} */ (lang)] || !URLS[lang]) return Promise.resolve();
  let p = pending.get(lang);
  if (!p) {
    p = fetch(URLS[lang])
      .then((r) => (r.ok ? r.json() : Promise.reject(new Error(String(r.status)))))
      .then((messages) => addMessages(lang, messages))
      .finally(() => pending.delete(lang));
    pending.set(lang, p);
  }
  return p;
}
