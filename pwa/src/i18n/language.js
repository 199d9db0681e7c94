/**
 * Which of our languages to show, from the browser's preference list.
 * Serbian without a script tag means Latin (the common choice on phones in
 * Serbia); only an explicit Cyrillic tag picks Cyrillic.
 */

export const LANGUAGES = /** @type {const} */ (['en', 'sr-Latn', 'sr-Cyrl', 'sl']);
export const DEFAULT_LANGUAGE = 'en';

/**
 * The locale for dates: English means British usage here (25/11/2026, day first, as
 * everywhere in Europe), not American (11/25/26). @param {string} lang
 */
export function dateLocale(lang) {
  return lang === 'en' ? 'en-GB' : lang;
}

/** @typedef {typeof LANGUAGES[number]} Language */

/**
 * @param {string} tag one BCP 47 tag, e.g. "sr-Cyrl-RS"
 * @returns {Language | null}
 */
export function matchLanguage(tag) {
  const parts = String(tag).toLowerCase().split(/[-_]/);
  switch (parts[0]) {
    case 'sr':
      return parts.includes('cyrl') ? 'sr-Cyrl' : 'sr-Latn';
    case 'sl':
      return 'sl';
    case 'en':
      return 'en';
    default:
      return null;
  }
}

/**
 * @param {readonly string[]} preferred e.g. navigator.languages
 * @returns {Language}
 */
export function pickLanguage(preferred) {
  for (const tag of preferred ?? []) {
    const lang = matchLanguage(tag);
    if (lang) return lang;
  }
  return DEFAULT_LANGUAGE;
}

/** @param {unknown} value @returns {value is Language} */
export function isLanguage(value) {
  return LANGUAGES.includes(/** @type {Language} */ (value));
}

/**
 * A language's own name ("srpski (latinica)"), from the browser's data so no
 * language names need translating.
 * @param {Language} lang
 */
export function languageName(lang) {
  try {
    const name = new Intl.DisplayNames([lang], { type: 'language' }).of(lang) ?? lang;
    return name.charAt(0).toLocaleUpperCase(lang) + name.slice(1);
  } catch {
    return lang;
  }
}
