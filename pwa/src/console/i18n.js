/**
 * Console strings: the shared messages plus pwa/src/i18n/console/*.json,
 * in the same four languages; `t` re-renders callers when the language changes.
 */
import { computed } from '@preact/signals';
import { language } from '../shared/prefs.js';
import { MESSAGES } from '../i18n/messages-all.js';
import { createTranslator } from '../i18n/translate.js';
import { dateLocale } from '../i18n/language.js';
import en from '../i18n/console/en.json';
import srLatn from '../i18n/console/sr-Latn.json';
import srCyrl from '../i18n/console/sr-Cyrl.json';
import sl from '../i18n/console/sl.json';

/** @type {Record<string, Record<string, any>>} */
export const CONSOLE_MESSAGES = { en, 'sr-Latn': srLatn, 'sr-Cyrl': srCyrl, sl };

const translator = computed(() => {
  const lang = language.value;
  return createTranslator(lang, { ...MESSAGES[lang], ...CONSOLE_MESSAGES[lang] }, { ...MESSAGES.en, ...CONSOLE_MESSAGES.en });
});

/** @type {import('../i18n/translate.js').Translate} */
export const t = (key, params) => translator.value(key, params);

/** "12 s ago", "4 min ago", "2 h ago": short and exact enough for a desk. */
export function ago(/** @type {number|null|undefined} */ then, /** @type {number} */ nowMs) {
  if (!then) return t('c.never');
  const s = Math.max(0, Math.round((nowMs - then) / 1000));
  if (s < 60) return t('c.ago_s', { n: s });
  if (s < 3600) return t('c.ago_min', { n: Math.floor(s / 60) });
  if (s < 86400) return t('c.ago_h', { n: Math.floor(s / 3600) });
  return t('c.ago_d', { n: Math.floor(s / 86400) });
}

/** "4:05" / "1:02:03" for time in status; "5 d 14 h" past a day (seconds no longer matter). */
export function duration(/** @type {number|null|undefined} */ from, /** @type {number} */ nowMs) {
  if (!from) return '—';
  const s = Math.max(0, Math.floor((nowMs - from) / 1000));
  if (s >= 86400) return t('c.duration_days', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

export function clock(/** @type {number|null|undefined} */ ms) {
  if (!ms) return '—';
  return new Intl.DateTimeFormat(language.value, { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' }).format(ms);
}

/** "14:00": hours and minutes, 24-hour. @param {number|null|undefined} ms */
export function hm(ms) {
  if (!ms) return '—';
  return new Intl.DateTimeFormat(language.value, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms);
}

export function dateTime(/** @type {number|null|undefined} */ ms) {
  if (!ms) return '—';
  return new Intl.DateTimeFormat(dateLocale(language.value), { dateStyle: 'short', timeStyle: 'medium', hourCycle: 'h23' }).format(ms);
}

/** Incident type label in the current language. */
export function typeLabel(/** @type {any[]} */ types, /** @type {string} */ code) {
  const it = types.find((x) => x.code === code);
  return it?.labels?.[language.value] ?? it?.labels?.en ?? code;
}
