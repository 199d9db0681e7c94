import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OUTBOX_STATES, canTransition, transition, isTerminal } from '../src/shared/outbox-state.js';

const LEGAL = new Set([
  'queued>sending',
  'sending>queued',
  'sending>confirmed',
  'sending>rejected',
  'sending>conflict',
]);

test('exactly the documented transitions are legal', () => {
  for (const from of OUTBOX_STATES) {
    for (const to of OUTBOX_STATES) {
      const legal = LEGAL.has(`${from}>${to}`);
      assert.equal(canTransition(from, to), legal, `${from} → ${to}`);
      if (legal) assert.equal(transition(from, to), to);
      else assert.throws(() => transition(from, to), /illegal outbox transition/);
    }
  }
});

test('unknown states are illegal, not crashes', () => {
  assert.equal(canTransition('nope', 'sending'), false);
  assert.equal(canTransition('queued', 'toString'), false);
  assert.equal(canTransition('toString', 'queued'), false);
  assert.throws(() => transition('queued', 'done'));
});

test('terminal states', () => {
  assert.deepEqual(OUTBOX_STATES.filter(isTerminal), ['confirmed', 'rejected', 'conflict']);
});
