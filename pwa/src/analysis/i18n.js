/**
 * Analysis page strings (pwa/src/i18n/analysis/*.json) in the four languages,
 * following the language preference shared with the other pages.
 * The translator is called `L` (not `t`): these keys live in their own files.
 */
import { computed } from '@preact/signals';
import { language } from '../shared/prefs.js';
import { createTranslator } from '../i18n/translate.js';
import { dateLocale } from '../i18n/language.js';
import en from '../i18n/analysis/en.json';
import srLatn from '../i18n/analysis/sr-Latn.json';
import srCyrl from '../i18n/analysis/sr-Cyrl.json';
import sl from '../i18n/analysis/sl.json';

/** @type {Record<string, Record<string, any>>} */
export const ANALYSIS_MESSAGES = { en, 'sr-Latn': srLatn, 'sr-Cyrl': srCyrl, sl };

const translator = computed(() => createTranslator(language.value, ANALYSIS_MESSAGES[language.value] ?? en, en));

/** @type {import('../i18n/translate.js').Translate} */
export const L = (key, params) => translator.value(key, params);

const TZ = 'Europe/Belgrade';

/** Minutes with one decimal from ms ("7.5"), or an em dash. */
export function minutes(/** @type {number|null|undefined} */ ms) {
  if (ms === null || ms === undefined) return '—';
  return new Intl.NumberFormat(language.value, { maximumFractionDigits: 1, minimumFractionDigits: 1 }).format(ms / 60000);
}

export function percent(/** @type {number|null|undefined} */ share) {
  if (share === null || share === undefined) return '—';
  return new Intl.NumberFormat(language.value, { style: 'percent', maximumFractionDigits: 0 }).format(share);
}

export function hours(/** @type {number} */ ms) {
  return new Intl.NumberFormat(language.value, { maximumFractionDigits: 1 }).format(ms / 3_600_000);
}

export function timeOfDay(/** @type {number} */ ms) {
  return new Intl.DateTimeFormat(language.value, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZone: TZ }).format(ms);
}

export function dateTime(/** @type {number} */ ms) {
  return new Intl.DateTimeFormat(dateLocale(language.value), { dateStyle: 'short', timeStyle: 'short', hourCycle: 'h23', timeZone: TZ }).format(ms);
}

export function weekdayDate(/** @type {number} */ ms) {
  return new Intl.DateTimeFormat(dateLocale(language.value), { weekday: 'short', day: 'numeric', month: 'numeric', timeZone: TZ }).format(ms);
}
