/**
 * A tiny message formatter: `{name}` placeholders and plural forms chosen by
 * Intl.PluralRules (Serbian has one/few/other, Slovenian one/two/few/other).
 *
 * A message is either a string or an object of plural forms:
 *   "sync.pending": { "one": "{count} change …", "other": "{count} changes …" }
 */

/** @typedef {string | Record<string, string>} Message */
/** @typedef {Record<string, Message>} Messages */
/** @typedef {(key: string, params?: Record<string, unknown>) => string} Translate */

/**
 * @param {string} lang BCP 47 tag, e.g. "sr-Latn"
 * @param {Messages} messages
 * @param {Messages} [fallback] used for keys the language lacks (English)
 * @returns {Translate}
 */
export function createTranslator(lang, messages, fallback = {}) {
  const plural = new Intl.PluralRules(lang);
  const number = new Intl.NumberFormat(lang);
  return function t(key, params = {}) {
    let message = messages[key] ?? fallback[key];
    if (message === undefined) return key; // visible, so a missing key is noticed
    if (typeof message === 'object') {
      const count = Number(params.count);
      message = message[plural.select(count)] ?? message.other ?? '';
    }
    return message.replace(/\{(\w+)\}/g, (whole, name) => {
      const value = params[name];
      if (value === undefined || value === null) return whole;
      return typeof value === 'number' ? number.format(value) : String(value);
    });
  };
}
