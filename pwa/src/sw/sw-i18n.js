/** Translations inside the worker, in the language the page last used. */
import { getMeta } from '../shared/db.js';
import { isLanguage, pickLanguage } from '../i18n/language.js';
import { MESSAGES } from '../i18n/messages-all.js';
import { createTranslator } from '../i18n/translate.js';

/** @returns {Promise<import('../i18n/translate.js').Translate>} */
export async function workerTranslator() {
  let lang = await getMeta('language').catch(() => undefined);
  if (!isLanguage(lang)) lang = pickLanguage(self.navigator.languages ?? []);
  return createTranslator(lang, MESSAGES[lang] ?? MESSAGES.en, MESSAGES.en);
}
