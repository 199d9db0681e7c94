import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { LANGUAGES } from '../src/i18n/language.js';

const DIR = new URL('../src/i18n/console/', import.meta.url);
const SRC = new URL('../src/console/', import.meta.url);
const files = Object.fromEntries(LANGUAGES.map((l) => [l, JSON.parse(readFileSync(new URL(`${l}.json`, DIR), 'utf8'))]));
const shared = JSON.parse(readFileSync(new URL('../src/i18n/en.json', import.meta.url), 'utf8'));
const texts = (m) => (typeof m === 'string' ? [m] : Object.values(m));
const placeholders = (s) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const FORMS = { en: ['one', 'other'], 'sr-Latn': ['one', 'few', 'other'], 'sr-Cyrl': ['one', 'few', 'other'], sl: ['one', 'two', 'few', 'other'] };

test('console strings: every language has exactly the English keys', () => {
  const keys = Object.keys(files.en).sort();
  for (const l of LANGUAGES) assert.deepEqual(Object.keys(files[l]).sort(), keys, l);
});

test('console strings: non-empty, same placeholders, all plural forms', () => {
  for (const l of LANGUAGES) {
    for (const [k, m] of Object.entries(files[l])) {
      const english = placeholders(texts(files.en[k])[0]);
      for (const s of texts(m)) {
        assert.ok(s.trim(), `${l} ${k} empty`);
        assert.deepEqual(placeholders(s), english, `${l} ${k}`);
      }
      if (typeof m === 'object') for (const f of FORMS[l]) assert.ok(m[f], `${l} ${k} lacks ${f}`);
    }
  }
});

test('console strings: Cyrillic file has no Latin words (keys, units and placeholders aside)', () => {
  for (const [k, m] of Object.entries(files['sr-Cyrl'])) {
    for (const s of texts(m)) {
      const rest = s.replace(/\{\w+\}/g, '').replace(/\b(km|Esc|Enter|N|C)\b/g, '');
      assert.doesNotMatch(rest, /[A-Za-zČĆŽŠĐčćžšđ]/, `${k}: ${s}`);
    }
  }
});

test('every literal key the console asks for exists', () => {
  const used = new Set();
  for (const name of readdirSync(SRC)) {
    if (!/\.(js|jsx)$/.test(name)) continue;
    for (const m of readFileSync(new URL(name, SRC), 'utf8').matchAll(/\bt\(\s*'([\w.]+)'/g)) used.add(m[1]);
  }
  assert.ok(used.size > 50);
  for (const k of used) assert.ok(k in files.en || k in shared, `missing ${k}`);
});

test('dynamic keys: every status, state, timeline kind and outcome has a label', () => {
  for (const s of ['pending', 'acknowledged', 'declined', 'en_route', 'on_scene', 'cleared', 'reassigned', 'cancelled']) assert.ok(files.en[`astate.${s}`], s);
  for (const s of ['new', 'dispatched', 'in_progress', 'closed', 'cancelled']) assert.ok(files.en[`istate.${s}`], s);
  for (const k of ['call_received', 'created', 'assigned', 'acknowledged', 'declined', 'en_route', 'on_scene', 'action', 'cleared', 'reassigned', 'cancelled', 'note', 'closed']) assert.ok(files.en[`tl.${k}`], k);
  for (const s of ['112', '113', 'patrol', 'other']) assert.ok(files.en[`source.${s}`], s);
});
