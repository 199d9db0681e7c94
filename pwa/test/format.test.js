import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatRelative } from '../src/shared/format.js';

test('a moment just after the ticking "now" is "now", never in the future', () => {
  // The indicator's `now` ticks every 30 s: a sync 24 s after the last tick read "in 24 sec".
  const tick = Date.UTC(2026, 11, 4, 2, 0, 0);
  for (const lang of ['en', 'sr-Latn', 'sr-Cyrl', 'sl']) {
    const now = formatRelative(tick, lang, tick);
    assert.equal(formatRelative(tick + 24_000, lang, tick), now, lang);
    assert.equal(formatRelative(tick + 5 * 60_000, lang, tick), now, lang);
  }
  assert.equal(formatRelative(tick + 24_000, 'en', tick), 'now');
});

test('past moments read as past', () => {
  const now = Date.UTC(2026, 11, 4, 2, 0, 0);
  assert.equal(formatRelative(now - 5 * 60_000, 'en', now), '5 min. ago');
  assert.match(formatRelative(now - 3 * 3_600_000, 'en', now), /3 hr\. ago/);
});
