import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidv7, isUuidv7, uuidv7Time } from '../src/shared/ids.js';

test('uuidv7 has the version and variant bits and the timestamp', () => {
  const ms = 0x0193a1b2c3d4;
  const id = uuidv7(ms);
  assert.ok(isUuidv7(id), id);
  assert.ok(id.startsWith('0193a1b2-c3d4-7'));
  assert.equal(uuidv7Time(id), ms);
});

test('random bits come from the random source, masked correctly', () => {
  assert.equal(uuidv7(0, (a) => a.fill(0xff)), '00000000-0000-7fff-bfff-ffffffffffff');
  assert.equal(uuidv7(0, (a) => a.fill(0)), '00000000-0000-7000-8000-000000000000');
});

test('ids are unique and sort by creation time across milliseconds', () => {
  const seen = new Set();
  let previous = '';
  for (let ms = 1_700_000_000_000; ms < 1_700_000_000_000 + 2000; ms++) {
    const id = uuidv7(ms);
    assert.ok(!seen.has(id));
    seen.add(id);
    assert.ok(id > previous);
    previous = id;
  }
  for (let i = 0; i < 5000; i++) seen.add(uuidv7());
  assert.equal(seen.size, 7000);
});

test('out-of-range timestamps are refused', () => {
  assert.throws(() => uuidv7(-1), RangeError);
  assert.throws(() => uuidv7(2 ** 48), RangeError);
  assert.equal(isUuidv7('0193a1b2-c3d4-4e5f-8a6b-7c8d9e0f1a2b'), false); // v4
});
