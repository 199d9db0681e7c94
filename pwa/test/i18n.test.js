import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LANGUAGES, pickLanguage, matchLanguage } from '../src/i18n/language.js';
import { createTranslator } from '../src/i18n/translate.js';

const I18N = new URL('../src/i18n/', import.meta.url);
const SRC = new URL('../src/', import.meta.url).pathname;
/** @type {Record<string, Record<string, string | Record<string, string>>>} */
const files = Object.fromEntries(LANGUAGES.map((lang) => [lang, JSON.parse(readFileSync(new URL(`${lang}.json`, I18N), 'utf8'))]));

/** Latin words allowed in the Cyrillic file: the product name only. */
const LATIN_ALLOWED = new Set(['Patrol']);

/** @param {string | Record<string, string>} message @returns {string[]} */
const texts = (message) => (typeof message === 'string' ? [message] : Object.values(message));
/** @param {string} text */
const placeholders = (text) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

test('every language has exactly the English keys', () => {
  const keys = Object.keys(files.en).sort();
  for (const lang of LANGUAGES) {
    assert.deepEqual(Object.keys(files[lang]).sort(), keys, lang);
  }
});

test('messages are non-empty and keep the English placeholders', () => {
  for (const lang of LANGUAGES) {
    for (const [key, message] of Object.entries(files[lang])) {
      const english = texts(files.en[key]).map(placeholders)[0];
      for (const text of texts(message)) {
        assert.ok(typeof text === 'string' && text.trim() !== '', `${lang} ${key} is empty`);
        assert.deepEqual(placeholders(text), english, `${lang} ${key} placeholders`);
      }
    }
  }
});

test('plural messages have every form the language needs', () => {
  for (const lang of LANGUAGES) {
    const needed = new Intl.PluralRules(lang).resolvedOptions().pluralCategories;
    for (const [key, message] of Object.entries(files[lang])) {
      if (typeof message === 'string') continue;
      assert.equal(typeof files.en[key], 'object', `${key} is plural in ${lang} but not in en`);
      for (const form of needed) assert.ok(form in message, `${lang} ${key} lacks "${form}"`);
      for (const form of Object.keys(message)) assert.ok(needed.includes(/** @type {any} */ (form)), `${lang} ${key} has unused "${form}"`);
    }
  }
});

test('the Cyrillic file has no Latin-script words except allowed names and placeholders', () => {
  for (const [key, message] of Object.entries(files['sr-Cyrl'])) {
    for (const text of texts(message)) {
      const words = text.replace(/\{\w+\}/g, '').match(/\p{Script=Latin}+/gu) ?? [];
      const bad = words.filter((w) => !LATIN_ALLOWED.has(w));
      assert.deepEqual(bad, [], `sr-Cyrl ${key}: ${text}`);
    }
  }
});

test('Latin-script files have no Cyrillic', () => {
  for (const lang of ['en', 'sr-Latn', 'sl']) {
    for (const [key, message] of Object.entries(files[lang])) {
      for (const text of texts(message)) assert.doesNotMatch(text, /\p{Script=Cyrillic}/u, `${lang} ${key}`);
    }
  }
});

test('every key the code asks for by name exists', () => {
  /** @param {string} dir @returns {string[]} */
  const walk = (dir) => readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : /\.(m?js|jsx)$/.test(name) ? [path] : [];
  });
  const used = new Set();
  for (const file of walk(SRC)) {
    for (const m of readFileSync(file, 'utf8').matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]);
  }
  assert.ok(used.size > 10, 'found the t() calls');
  // The console keeps its own strings in i18n/console/ (its engineer's files).
  let consoleEn = {};
  try {
    consoleEn = JSON.parse(readFileSync(new URL('console/en.json', I18N), 'utf8'));
  } catch {
    /* no console strings yet */
  }
  for (const key of used) assert.ok(key in files.en || key in consoleEn, `missing key ${key}`);
});

test('language choice from navigator.languages', () => {
  assert.equal(pickLanguage(['sr']), 'sr-Latn');
  assert.equal(pickLanguage(['sr-RS']), 'sr-Latn');
  assert.equal(pickLanguage(['sr-Latn-RS']), 'sr-Latn');
  assert.equal(pickLanguage(['sr-Cyrl']), 'sr-Cyrl');
  assert.equal(pickLanguage(['sr-Cyrl-RS', 'en']), 'sr-Cyrl');
  assert.equal(pickLanguage(['sl-SI']), 'sl');
  assert.equal(pickLanguage(['de-DE', 'sl', 'en']), 'sl');
  assert.equal(pickLanguage(['de-DE', 'fr']), 'en');
  assert.equal(pickLanguage([]), 'en');
  assert.equal(matchLanguage('SR_cyrl'), 'sr-Cyrl');
});

test('t() interpolates and picks plural forms per language', () => {
  const en = createTranslator('en', files.en);
  assert.equal(en('sync.pending', { count: 1 }), '1 change waiting to send');
  assert.equal(en('sync.pending', { count: 1200 }), '1,200 changes waiting to send');
  assert.equal(en('sync.last', { time: '5 min ago' }), 'Last sync 5 min ago');
  assert.equal(en('no.such.key'), 'no.such.key');

  const sr = createTranslator('sr-Latn', files['sr-Latn'], files.en);
  assert.equal(sr('sync.pending', { count: 1 }), '1 izmena čeka slanje');
  assert.equal(sr('sync.pending', { count: 3 }), '3 izmene čekaju slanje');
  assert.equal(sr('sync.pending', { count: 5 }), '5 izmena čeka slanje');
  assert.equal(sr('sync.pending', { count: 21 }), '21 izmena čeka slanje');

  const sl = createTranslator('sl', files.sl, files.en);
  assert.equal(sl('sync.pending', { count: 2 }), '2 spremembi čakata na pošiljanje');
  assert.equal(sl('sync.pending', { count: 4 }), '4 spremembe čakajo na pošiljanje');
  assert.equal(sl('sync.pending', { count: 5 }), '5 sprememb čaka na pošiljanje');

  const partial = createTranslator('sl', {}, files.en);
  assert.equal(partial('nav.home'), 'Home', 'falls back to English');
});

test('dates in English are day first (British usage), the other languages keep their own', async () => {
  const { dateLocale } = await import('../src/i18n/language.js');
  const day = Date.UTC(2026, 10, 25, 12);
  const fmt = (lang) => new Intl.DateTimeFormat(dateLocale(lang), { dateStyle: 'short', timeZone: 'UTC' }).format(day);
  assert.equal(fmt('en'), '25/11/2026');
  assert.match(fmt('sr-Latn'), /^25\. ?11\. ?2026\.?$/);
  assert.equal(dateLocale('sl'), 'sl');
});
