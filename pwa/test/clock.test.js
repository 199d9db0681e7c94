import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { clockOffset, observeRoundTrip, resetSamples, serverNow } from '../src/shared/clock.js';

beforeEach(() => {
  resetSamples();
  clockOffset.value = 0;
});

test('a symmetric round trip gives the offset exactly', () => {
  // Device sent at 1000, server (an hour ahead) stamped 3_600_000 + 1050, answer back at 1100.
  assert.equal(observeRoundTrip(1000, 3_601_050, 1100), 3_600_000);
  assert.ok(Math.abs(serverNow() - (Date.now() + 3_600_000)) < 50);
});

test('the shortest round trip of the recent samples wins', () => {
  observeRoundTrip(0, 10_000, 2000); // rtt 2 s, offset 9,000 (a slow, lopsided path)
  assert.equal(clockOffset.value, 9_000);
  observeRoundTrip(5000, 15_000 + 60, 5100); // rtt 100 ms, offset 10,010
  assert.equal(clockOffset.value, 10_010);
  observeRoundTrip(8000, 8000 + 10_000 + 1500, 11_000); // rtt 3 s: worse, ignored
  assert.equal(clockOffset.value, 10_010);
});

test('changes under half a second do not move the estimate (no jittering labels)', () => {
  observeRoundTrip(0, 5000 + 50, 100);
  assert.equal(clockOffset.value, 5000);
  observeRoundTrip(1000, 1000 + 5300 + 25, 1050); // better rtt, offset 5,300: within 500 ms
  assert.equal(clockOffset.value, 5000);
});

test('nonsense samples are ignored', () => {
  assert.equal(observeRoundTrip(2000, 99_999, 1000), 0); // answer before the question
  assert.equal(observeRoundTrip(Number.NaN, 1, 2), 0);
  assert.equal(observeRoundTrip(1, Number.NaN, 2), 0);
  assert.equal(clockOffset.value, 0);
});

test('only the last eight samples count', () => {
  observeRoundTrip(0, 20_000 + 5, 10); // rtt 10 ms, offset 20,000
  for (let i = 1; i <= 8; i++) observeRoundTrip(i * 1000, i * 1000 + 2000 + 50, i * 1000 + 100); // rtt 100, offset 2,000
  assert.equal(clockOffset.value, 2000);
});
