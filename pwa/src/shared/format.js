/** Locale-aware formatting without message strings (Intl does the words). */

const UNITS = /** @type {const} */ ([
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
  ['second', 1000],
]);

/**
 * "5 min. ago", "juče", "pred 5 min." … in the given language.
 * @param {number} thenMs
 * @param {string} lang
 * @param {number} [nowMs]
 */
export function formatRelative(thenMs, lang, nowMs = Date.now()) {
  // A past moment is never "in 24 sec": a `now` sampled before it (a 30-second tick) reads as now.
  const diff = Math.min(0, thenMs - nowMs);
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto', style: 'short' });
  for (const [unit, ms] of UNITS) {
    if (Math.abs(diff) >= ms || unit === 'second') {
      // Under ten seconds is "now": the figure would only flicker.
      if (unit === 'second' && Math.abs(diff) < 10_000) return rtf.format(0, 'second');
      return rtf.format(Math.round(diff / ms), unit);
    }
  }
  return '';
}
