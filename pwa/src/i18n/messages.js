/** All message files, bundled: together they are a few KB gzipped, and the app must work offline from first load. */
import en from './en.json';
import srLatn from './sr-Latn.json';
import srCyrl from './sr-Cyrl.json';
import sl from './sl.json';

/** @type {Record<import('./language.js').Language, import('./translate.js').Messages>} */
export const MESSAGES = { en, 'sr-Latn': srLatn, 'sr-Cyrl': srCyrl, sl };
