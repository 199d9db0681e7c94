/**
 * Per-device display preferences: language and theme. They live in
 * localStorage so the very first render already uses them; the language is
 * mirrored into IndexedDB because the service worker cannot read
 * localStorage and needs it for notification texts.
 */
import { signal, computed, effect } from '@preact/signals';
import { pickLanguage, isLanguage } from '../i18n/language.js';
import { MESSAGES, onMessages, loadMessages } from '../i18n/messages.js';
import { createTranslator } from '../i18n/translate.js';
import { readLocal, writeLocal } from './storage.js';
import { setMeta } from './db.js';

const LANGUAGE_KEY = 'patrol.language';
const THEME_KEY = 'patrol.theme';

/** @typedef {'dark' | 'light'} Theme */

/** 'auto' follows the device; otherwise one of LANGUAGES. */
export const languageSetting = signal(isLanguage(readLocal(LANGUAGE_KEY)) ? /** @type {string} */ (readLocal(LANGUAGE_KEY)) : 'auto');

export const language = computed(() => {
  const chosen = languageSetting.value;
  return isLanguage(chosen) ? chosen : pickLanguage(globalThis.navigator?.languages ?? []);
});

/** Dark is the default: most patrol hours that matter are at night. */
export const theme = signal(/** @type {Theme} */ (readLocal(THEME_KEY) === 'light' ? 'light' : 'dark'));

/** Bumped when a language file arrives, so translators recompute. */
export const messagesLoaded = signal(0);
onMessages(() => messagesLoaded.value++);

const translator = computed(() => {
  void messagesLoaded.value; // a language file arrived
  const lang = language.value;
  return createTranslator(lang, MESSAGES[lang] ?? MESSAGES.en, MESSAGES.en);
});

// The chosen language's file, fetched once (the precache answers offline).
effect(() => {
  loadMessages(language.value).catch(() => {});
});

/** Resolves once the current language can be shown (or after `ms`, in English meanwhile). @param {number} ms */
export function languageReady(ms = 3000) {
  return Promise.race([loadMessages(language.value).catch(() => {}), new Promise((r) => setTimeout(r, ms))]);
}

/**
 * Translate; components that call it re-render when the language changes.
 * @type {import('../i18n/translate.js').Translate}
 */
export const t = (key, params) => translator.value(key, params);

/** @param {string} value 'auto' or a language code */
export function setLanguage(value) {
  languageSetting.value = isLanguage(value) ? value : 'auto';
  writeLocal(LANGUAGE_KEY, isLanguage(value) ? value : null);
}

/** @param {Theme} value */
export function setTheme(value) {
  theme.value = value === 'light' ? 'light' : 'dark';
  writeLocal(THEME_KEY, theme.value);
}

/** Colours for the browser chrome; must match --bg in styles/tokens.css. */
const THEME_COLOUR = { dark: '#0b1220', light: '#ffffff' };

/**
 * Keep <html lang>, data-theme, the theme-color meta and the title in step
 * with the preferences.
 * @param {string} titleKey message key for document.title
 */
export function applyDocumentPrefs(titleKey) {
  effect(() => {
    const root = document.documentElement;
    root.lang = language.value;
    root.dataset.theme = theme.value;
    document.querySelector('meta[name="theme-color"]')?.setAttribute('content', THEME_COLOUR[theme.value]);
    document.title = t(titleKey);
  });
  effect(() => {
    setMeta('language', language.value).catch(() => {});
  });
}
