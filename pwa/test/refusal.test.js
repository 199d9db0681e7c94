import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LIMITS, TEXT_MAX, NOTE_MAX } from '../src/shared/vocabulary.js';
import { serverLength, refusal, refusalText, counterText, nearLimit, argField, limitOf } from '../src/shared/refusal.js';
import { createTranslator } from '../src/i18n/translate.js';
import { readFileSync } from 'node:fs';

const load = (lang) => JSON.parse(readFileSync(new URL(`../src/i18n/${lang}.json`, import.meta.url), 'utf8'));
const tr = (lang) => createTranslator(lang, load(lang), load('en'));

test('the limits are the server\'s (generated vocabulary)', () => {
  assert.equal(TEXT_MAX, 20_000);
  assert.equal(NOTE_MAX, 20_000);
  assert.equal(limitOf('incident.create', 'description'), 20_000);
  assert.equal(limitOf('incident.update', 'address'), 500);
  assert.equal(limitOf('incident.add_note', 'body'), 20_000);
  assert.equal(limitOf('incident.create', 'nothing'), null);
  assert.ok(LIMITS['report.update'].summary);
});

test('lengths are counted as the server counts them (code points)', () => {
  assert.equal(serverLength('abc'), 3);
  assert.equal(serverLength('🚓🚓'), 2); // four UTF-16 units
  assert.equal(argField('args.description'), 'description');
  assert.equal(argField('type'), null);
  assert.equal(argField(undefined), null);
});

test('a refused long description: field and limit from the outcome, or found from what was sent', () => {
  const args = { description: 'x'.repeat(22_000), address: 'Glavna 1' };
  const live = refusal('incident.create', { reason_code: 'invalid', result: { field: 'args.description' } }, args);
  assert.deepEqual(live, { code: 'too_long', field: 'description', length: 22_000, max: 20_000 });
  // After a reload the outbox has the code and what was sent, not the result.
  assert.deepEqual(refusal('incident.create', { reason_code: 'invalid' }, args), live);
  // Other codes stay what they are.
  assert.deepEqual(refusal('incident.update', { reason_code: 'incident_closed', result: {} }, args), { code: 'incident_closed', field: null });
  assert.deepEqual(refusal('incident.create', { reason_code: 'invalid', result: { field: 'args.type' } }, { type: 'nope' }), { code: 'invalid', field: 'type' });
});

test('the refusal is worded in the person\'s language, with their number format', () => {
  const r = { code: 'too_long', field: 'body', length: 22_000, max: 20_000 };
  const en = refusalText(tr('en'), r, 'Note', 'The app sent an invalid value for args.body: Expected `str` of length <= 20000');
  assert.match(en, /“Note” is too long to send \(22,000\): at most 20,000 characters/);
  const sr = refusalText(tr('sr-Latn'), r, 'Beleška');
  assert.match(sr, /Beleška.*22\.000.*20\.000 znakova/);
  assert.doesNotMatch(sr, /Expected|invalid value/);
  const cyr = refusalText(tr('sr-Cyrl'), r, 'Белешка');
  assert.match(cyr, /20\.000 знакова/);
  const sl = refusalText(tr('sl'), r, 'Zapisek');
  assert.match(sl, /20\.000 znakov/);
  // A code this module does not word: the server's sentence.
  assert.equal(refusalText(tr('en'), { code: 'incident_closed', field: null }, '', 'Incident SM-1 was closed.'), 'Incident SM-1 was closed.');
  assert.equal(refusalText(tr('sl'), { code: 'invalid', field: 'type' }, 'Vrsta'), 'Polje »Vrsta« ima vrednost, ki je strežnik ne sprejme.');
});

test('the counter shows near the limit, in the person\'s format', () => {
  assert.equal(counterText(tr('en'), 19_850, 20_000), '19,850 / 20,000');
  assert.equal(counterText(tr('sr-Latn'), 19_850, 20_000), '19.850 / 20.000');
  assert.equal(nearLimit(17_999, 20_000), false);
  assert.equal(nearLimit(18_000, 20_000), true);
  assert.equal(nearLimit(449, 500), false);
  assert.equal(nearLimit(450, 500), true);
});

test('other refusal codes are worded from the outcome parameters, not the English reason', async () => {
  const { refusal: refuse, refusalText: word } = await import('../src/shared/refusal.js');
  const { createTranslator } = await import('../src/i18n/translate.js');
  const { readFileSync } = await import('node:fs');
  const sr = JSON.parse(readFileSync(new URL('../src/i18n/sr-Latn.json', import.meta.url), 'utf8'));
  const t = createTranslator('sr-Latn', sr, {});
  const r = refuse('incident.create', { reason_code: 'call_time_future', result: { field: 'args.call_received_at', max_ahead_min: 5 } }, null);
  assert.equal(word(t, r, 'Vreme poziva', 'The call time is in the future.'), 'Vreme poziva je u budućnosti: prihvata se najviše 5 minuta unapred.');
  // read back from the outbox after a reload: the parameters were stored with the outcome
  const again = refuse('incident.create', { reason_code: 'station_required', reason_params: { field: 'args.org_unit_id' } }, null);
  assert.match(word(t, again, 'Stanica', 'Choose the station'), /^Izaberite stanicu/);
  // a code the apps do not word keeps the server's sentence
  assert.equal(word(t, refuse('x', { reason_code: 'unit_busy' }, null), '', 'PA-11 is busy.'), 'PA-11 is busy.');
});
