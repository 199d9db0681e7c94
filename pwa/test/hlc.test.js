import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createClock, parseHlc, formatHlc, compareHlc, HlcDriftError } from '../src/shared/hlc.js';

const NODE = '0193a1b2-c3d4-7e5f-8a6b-7c8d9e0f1a2b';

test('encoding is fixed width lowercase hex', () => {
  const text = formatHlc({ physical: 0x192f3a4b5c6, logical: 0, node: NODE });
  assert.equal(text, `0192f3a4b5c6-0000-${NODE}`);
  assert.deepEqual(parseHlc(text), { physical: 0x192f3a4b5c6, logical: 0, node: NODE });
  assert.equal(formatHlc({ physical: 1, logical: 0xab, node: 'n' }), '000000000001-00ab-n');
});

test('parse rejects malformed timestamps', () => {
  for (const bad of ['', '0192F3A4B5C6-0000-x', '192f3a4b5c6-0000-x', '0192f3a4b5c6-000-x', '0192f3a4b5c6-0000-', '0192f3a4b5c6-0000-a b', null, 42]) {
    assert.throws(() => parseHlc(/** @type {any} */ (bad)), TypeError, String(bad));
  }
});

test('format rejects out-of-range fields', () => {
  assert.throws(() => formatHlc({ physical: 2 ** 48, logical: 0, node: 'n' }), RangeError);
  assert.throws(() => formatHlc({ physical: 1, logical: 0x10000, node: 'n' }), RangeError);
  assert.throws(() => formatHlc({ physical: -1, logical: 0, node: 'n' }), RangeError);
  assert.throws(() => formatHlc({ physical: 1, logical: 0, node: '' }), TypeError);
});

test('string order equals (physical, logical, node) order', () => {
  const values = [];
  for (const physical of [0, 1, 0xff, 0x100, 0x192f3a4b5c6, 2 ** 48 - 1]) {
    for (const logical of [0, 1, 0xf, 0x10, 0xffff]) {
      for (const node of ['a', 'b', 'ba']) values.push({ physical, logical, node });
    }
  }
  const tuple = (a, b) => a.physical - b.physical || a.logical - b.logical || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0);
  for (const a of values) {
    for (const b of values) {
      assert.equal(Math.sign(compareHlc(formatHlc(a), formatHlc(b))), Math.sign(tuple(a, b)));
    }
  }
});

test('local events advance with the wall clock and count within one ms', () => {
  let wall = 1000;
  const clock = createClock('n', () => wall);
  assert.equal(clock.peek(), null);
  assert.equal(clock.now(), formatHlc({ physical: 1000, logical: 0, node: 'n' }));
  assert.equal(clock.now(), formatHlc({ physical: 1000, logical: 1, node: 'n' }));
  wall = 1005;
  assert.equal(clock.now(), formatHlc({ physical: 1005, logical: 0, node: 'n' }));
  assert.equal(clock.peek(), formatHlc({ physical: 1005, logical: 0, node: 'n' }));
});

test('a wall clock going backwards never makes timestamps go backwards', () => {
  let wall = 5000;
  const clock = createClock('n', () => wall);
  const a = clock.now();
  wall = 4000;
  const b = clock.now();
  assert.ok(compareHlc(a, b) < 0);
  assert.deepEqual(parseHlc(b), { physical: 5000, logical: 1, node: 'n' });
});

test('receive follows the Kulkarni rules', () => {
  let wall = 1000;
  const clock = createClock('n', () => wall);
  clock.now(); // (1000, 0)

  // remote ahead of us: adopt its physical time, counter + 1
  assert.deepEqual(parseHlc(clock.update(formatHlc({ physical: 2000, logical: 7, node: 'r' }))), { physical: 2000, logical: 8, node: 'n' });
  // remote equal physical: max of counters + 1
  assert.deepEqual(parseHlc(clock.update(formatHlc({ physical: 2000, logical: 3, node: 'r' }))), { physical: 2000, logical: 9, node: 'n' });
  assert.deepEqual(parseHlc(clock.update(formatHlc({ physical: 2000, logical: 20, node: 'r' }))), { physical: 2000, logical: 21, node: 'n' });
  // remote behind us: our counter + 1
  assert.deepEqual(parseHlc(clock.update(formatHlc({ physical: 10, logical: 99, node: 'r' }))), { physical: 2000, logical: 22, node: 'n' });
  // wall clock ahead of both: reset the counter
  wall = 3000;
  assert.deepEqual(parseHlc(clock.update(formatHlc({ physical: 2500, logical: 5, node: 'r' }))), { physical: 3000, logical: 0, node: 'n' });
});

test('every event is strictly after the events it has seen', () => {
  let wall = 100;
  const a = createClock('a', () => wall);
  const b = createClock('b', () => wall - 50); // b's wall clock is 50 ms slow
  let previous = '';
  for (let i = 0; i < 200; i++) {
    wall += i % 3 === 0 ? 1 : 0;
    const sent = a.now();
    assert.ok(compareHlc(sent, previous || sent) >= 0);
    const received = b.update(sent);
    assert.ok(compareHlc(received, sent) > 0, `${received} > ${sent}`);
    previous = b.now();
    a.update(previous);
  }
});

test('counter overflow throws instead of wrapping', () => {
  const clock = createClock('n', () => 1);
  for (let i = 0; i <= 0xffff; i++) clock.now();
  assert.throws(() => clock.now(), RangeError);
  const other = createClock('m', () => 1);
  assert.throws(() => other.update(formatHlc({ physical: 1, logical: 0xffff, node: 'r' })), RangeError);
});

test('a clock needs a usable node id', () => {
  assert.throws(() => createClock(''), TypeError);
  assert.throws(() => createClock('has space'), TypeError);
});

test('same results as the server clock (golden vectors from sync/hlc.py)', () => {
  const { node, steps } = JSON.parse(readFileSync(new URL('./fixtures/hlc-vectors.json', import.meta.url), 'utf8'));
  let wall = 0;
  let clock = createClock(node, () => wall);
  let errors = 0;
  for (const step of steps) {
    wall = step.wall;
    const run = () => (step.op === 'now' ? clock.now() : clock.update(step.remote));
    if (step.error) {
      assert.throws(run, RangeError, JSON.stringify(step));
      clock = createClock(node, () => wall);
      errors += 1;
    } else {
      assert.equal(run(), step.out, JSON.stringify(step));
    }
  }
  assert.ok(steps.length >= 400 && errors > 0, 'the vectors cover overflow too');
});

test('optional drift limit refuses remote stamps far ahead, like the server', () => {
  const clock = createClock('n', () => 1000, { maxDriftMs: 500 });
  assert.equal(clock.update(formatHlc({ physical: 1500, logical: 0, node: 'r' })), formatHlc({ physical: 1500, logical: 1, node: 'n' }));
  assert.throws(() => clock.update(formatHlc({ physical: 1501 + 1000, logical: 0, node: 'r' })), HlcDriftError);
  assert.throws(() => createClock('x'.repeat(65)), TypeError);
  assert.throws(() => parseHlc(`000000000001-0000-${'x'.repeat(65)}`), TypeError);
});
