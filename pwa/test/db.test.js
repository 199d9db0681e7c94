import 'fake-indexeddb/auto';
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import * as db from '../src/shared/db.js';
import { isUuidv7 } from '../src/shared/ids.js';

beforeEach(async () => {
  await db.wipeAll({ keepDevice: false });
});

test('entities round-trip and list by type with filters', async () => {
  await db.putEntities([
    { type: 'unit', id: 'u1', call_sign: 'PA-11', status: 'available' },
    { type: 'unit', id: 'u2', call_sign: 'PA-12', status: 'busy' },
    { type: 'incident', id: 'u1', title: 'same id, other type' },
    { type: 'units', id: 'x' }, // a type with the first as prefix must not leak in
  ]);
  assert.equal((await db.getEntity('unit', 'u2')).call_sign, 'PA-12');
  assert.equal(await db.getEntity('unit', 'nope'), undefined);
  assert.deepEqual((await db.listEntities('unit')).map((e) => e.id), ['u1', 'u2']);
  assert.deepEqual((await db.listEntities('unit', { status: 'busy' })).map((e) => e.id), ['u2']);
  assert.deepEqual((await db.listEntities('unit', (e) => e.call_sign === 'PA-11')).map((e) => e.id), ['u1']);
  await db.putEntities([{ type: 'unit', id: 'u1', call_sign: 'PA-11', status: 'on_scene' }]);
  assert.equal((await db.getEntity('unit', 'u1')).status, 'on_scene');
});

test('a bad entity aborts the whole batch', async () => {
  await assert.rejects(db.putEntities([{ type: 'unit', id: 'ok' }, { type: 'unit' }]), TypeError);
  assert.deepEqual(await db.listEntities('unit'), []);
});

test('enqueue assigns consecutive seqs and the wire shape', async () => {
  const a = await db.enqueueMutation({ name: 'unit.set_status', args: { unit_id: 'u1', status: 'en_route' }, hlc: 'h1', device_at: 111 });
  const b = await db.enqueueMutation({ name: 'incident.add_note', args: { text: 'x' }, hlc: 'h2', base_version: 4 });
  assert.equal(a.seq, 1);
  assert.equal(b.seq, 2);
  assert.ok(isUuidv7(a.mutation.client_id));
  assert.equal(a.mutation.client_id, await db.getClientId());
  assert.deepEqual(a.mutation, {
    v: 1,
    client_id: a.mutation.client_id,
    seq: 1,
    name: 'unit.set_status',
    hlc: 'h1',
    device_at: 111,
    base_version: null,
    args: { unit_id: 'u1', status: 'en_route' },
  });
  assert.equal(b.mutation.base_version, 4);
  assert.deepEqual((await db.pendingMutations()).map((e) => [e.seq, e.state]), [[1, 'queued'], [2, 'queued']]);
});

test('concurrent enqueues never share a seq', async () => {
  const entries = await Promise.all(Array.from({ length: 50 }, (_, i) => db.enqueueMutation({ name: 'note.add', args: { i }, hlc: `h${i}` })));
  const seqs = entries.map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: 50 }, (_, i) => i + 1));
  assert.equal(new Set(entries.map((e) => e.mutation.client_id)).size, 1);
});

test('state transitions are guarded and persisted', async () => {
  const { seq } = await db.enqueueMutation({ name: 'unit.set_status', args: {}, hlc: 'h' });
  await assert.rejects(db.setMutationState(seq, 'confirmed'), /illegal outbox transition queued → confirmed/);
  assert.equal((await db.pendingMutations())[0].state, 'queued');
  await db.setMutationState(seq, 'sending');
  await db.setMutationState(seq, 'rejected', 'Assignment was given to another unit');
  const [entry] = await db.allMutations();
  assert.equal(entry.state, 'rejected');
  assert.equal(entry.notice, 'Assignment was given to another unit');
  assert.deepEqual(await db.pendingMutations(), []);
  await assert.rejects(db.setMutationState(seq, 'queued'));
  await assert.rejects(db.setMutationState(999, 'sending'), /no outbox entry/);
});

test('connection loss puts in-flight entries back in the queue', async () => {
  for (let i = 0; i < 3; i++) await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' });
  await db.setMutationState(1, 'sending');
  await db.setMutationState(2, 'sending');
  await db.setMutationState(2, 'confirmed');
  await db.requeueSending();
  assert.deepEqual((await db.allMutations()).map((e) => e.state), ['queued', 'confirmed', 'queued']);
});

test('dropConfirmed removes only confirmed entries up to the seq', async () => {
  for (let i = 0; i < 4; i++) await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' });
  for (const seq of [1, 2, 3, 4]) await db.setMutationState(seq, 'sending');
  await db.setMutationState(1, 'confirmed');
  await db.setMutationState(2, 'conflict', 'both edited the description');
  await db.setMutationState(4, 'confirmed');
  assert.equal(await db.dropConfirmed(3), 1);
  assert.deepEqual((await db.allMutations()).map((e) => [e.seq, e.state]), [[2, 'conflict'], [3, 'sending'], [4, 'confirmed']]);
  await assert.rejects(db.dismissMutation(3));
  await db.dismissMutation(2);
  assert.deepEqual((await db.allMutations()).map((e) => e.seq), [3, 4]);
  // seqs are never reused after entries are dropped
  assert.equal((await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' })).seq, 5);
});

test('wipeAll on sign-out keeps the device id and never reuses a seq', async () => {
  const before = await db.getClientId();
  await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' });
  await db.putEntities([{ type: 'unit', id: 'u1' }]);
  await db.wipeAll();
  assert.deepEqual(await db.listEntities('unit'), []);
  assert.deepEqual(await db.allMutations(), []);
  assert.equal(await db.getClientId(), before);
  assert.equal((await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' })).seq, 2);
});

test('settleResults and markSending record the server outcomes', async () => {
  for (let i = 0; i < 3; i++) await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' });
  await db.markSending([1, 2]);
  const changed = await db.settleResults([
    { seq: 1, outcome: 'applied' },
    { seq: 2, outcome: 'rejected', reason_code: 'assignment_reassigned', reason: 'This assignment was given to PA-12 at 10:12.' },
    { seq: 3, outcome: 'merged', reason: 'Kept in history' },
  ]);
  assert.deepEqual(changed.map((e) => e.state), ['confirmed', 'rejected', 'confirmed']);
  const all = await db.allMutations();
  assert.equal(all[1].notice, 'This assignment was given to PA-12 at 10:12.');
  assert.equal(all[2].notice, 'Kept in history');
  assert.equal(all[0].notice, null);
});

test('applyPage writes a pull page and the cursor atomically; replace clears first', async () => {
  await db.putEntities([{ type: 'unit', id: 'old' }]);
  await db.applyPage({ puts: [{ type: 'unit', id: 'u1', status: 'busy' }], deletes: [], cursor: 7 });
  assert.equal((await db.allEntities()).length, 2);
  await db.applyPage({ puts: [{ type: 'unit', id: 'u2' }], deletes: [['unit', 'u1']], replace: true, cursor: 9 });
  assert.deepEqual((await db.allEntities()).map((e) => e.id), ['u2']);
  assert.equal(await db.getMeta('cursor'), 9);
});

test('wipeAll for a revoked device forgets everything, including the client id', async () => {
  const before = await db.getClientId();
  await db.putEntities([{ type: 'unit', id: 'u1' }]);
  await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' });
  await db.setMutationState(1, 'sending');
  await db.setMeta('cursor', 42);
  await db.wipeAll({ keepDevice: false });
  assert.deepEqual(await db.listEntities('unit'), []);
  assert.deepEqual(await db.allMutations(), []);
  assert.equal(await db.getMeta('cursor'), undefined);
  assert.notEqual(await db.getClientId(), before);
  assert.equal((await db.enqueueMutation({ name: 'a.b', args: {}, hlc: 'h' })).seq, 1);
});

test('mutation names are checked', async () => {
  await assert.rejects(db.enqueueMutation({ name: 'nodot', args: {}, hlc: 'h' }), TypeError);
  await assert.rejects(db.enqueueMutation({ name: 'a.b', args: {} }), TypeError);
});
