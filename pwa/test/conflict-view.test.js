import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inForce } from '../src/console/conflict-view.js';

// Phone B edits the summary online (stamp 1000), phone A, offline, later (stamp 2000): the
// server keeps A's text. The conflict row's "server" side is B's (there first), "client" A's.
const row = {
  field: 'summary',
  server_value: 'B online',
  server_hlc: '0000000003e8-0000-phone-b',
  client_value: 'A offline, later',
  client_hlc: '0000000007d0-0000-phone-a',
};

test('the later edit is in force even when it is the conflict row\'s "client" side', () => {
  assert.deepEqual(inForce(row, { id: 'r', summary: 'A offline, later' }), { current: 'client' });
  // Without the entity on screen, the stored stamps decide as the merge rule did.
  assert.deepEqual(inForce(row, null), { current: 'client' });
});

test('an earlier concurrent edit loses: the value that was there stays in force', () => {
  const earlier = { ...row, client_hlc: '000000000001-0000-phone-a' };
  assert.deepEqual(inForce(earlier, null), { current: 'server' });
  assert.deepEqual(inForce(earlier, { summary: 'B online' }), { current: 'server' });
});

test('the entity is the truth: changed again since, neither side is in force', () => {
  assert.deepEqual(inForce(row, { summary: 'third text' }), { current: 'neither', value: 'third text' });
});

test('numbers and parsed values compare as stored; personal fields fall back to the stamps', () => {
  const prio = { field: 'priority', server_value: 2, client_value: 1, server_hlc: 'b', client_hlc: 'a' };
  assert.deepEqual(inForce(prio, { priority: 1 }), { current: 'client' });
  const personal = { field: 'caller_name', server_value: null, client_value: null, server_hlc: 'a', client_hlc: 'b', personal: 1 };
  assert.deepEqual(inForce(personal, { caller_name: undefined }), { current: 'client' });
  // A field the entity does not carry (a replica without it): the stamps.
  assert.deepEqual(inForce({ ...row, field: 'persons' }, { summary: 'x' }), { current: 'client' });
});
