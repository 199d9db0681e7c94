import { language } from '../../shared/prefs.js';

/** "14:05": 24-hour time in the app's language (police and dispatch never use AM/PM). @param {number | null | undefined} ms */
export function hhmm(ms) {
  return ms ? new Intl.DateTimeFormat(language.value, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(ms) : '';
}

/** "12 min" / "1 h 5 min" @param {number} ms */
export function duration(ms) {
  const m = Math.max(0, Math.floor(ms / 60_000));
  // Intl's unit names: "6 min", "6 мин" in Cyrillic (a Latin "min" there read as a slip).
  const f = (/** @type {number} */ n, /** @type {string} */ unit) =>
    new Intl.NumberFormat(language.value, { style: 'unit', unit, unitDisplay: 'short' }).format(n);
  return m < 60 ? f(m, 'minute') : `${f(Math.floor(m / 60), 'hour')} ${f(m % 60, 'minute')}`;
}
