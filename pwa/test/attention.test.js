import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newsAmong, FRESH_MS, REMEMBER } from '../src/officer/lib/attention-rule.js';

const NOW = 1_800_000_000_000;
const asg = (id, state = 'pending', ago = 5_000) => ({ id, state, assigned_at: NOW - ago });

test('a fresh pending assignment not announced before is news, once', () => {
  const first = newsAmong([asg('a1')], [], NOW);
  assert.deepEqual(first.news, ['a1']);
  const again = newsAmong([asg('a1')], first.announced, NOW + 1000);
  assert.deepEqual(again.news, [], 'a reload or a re-sync does not buzz again');
});

test('acknowledged, old or undated assignments are not news', () => {
  const active = [asg('ack', 'acknowledged'), asg('old', 'pending', FRESH_MS + 1), { id: 'undated', state: 'pending' }];
  assert.deepEqual(newsAmong(active, [], NOW).news, []);
});

test('a reassignment to this unit is news even if another one is open', () => {
  const { news } = newsAmong([asg('a1', 'acknowledged'), asg('a2')], ['a1'], NOW);
  assert.deepEqual(news, ['a2']);
});

test('the memory is bounded and keeps the newest', () => {
  const many = Array.from({ length: REMEMBER }, (_, i) => `old${i}`);
  const { announced } = newsAmong([asg('new')], many, NOW);
  assert.equal(announced.length, REMEMBER);
  assert.equal(announced.at(-1), 'new');
  assert.ok(!announced.includes('old0'));
});
