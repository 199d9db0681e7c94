import { test } from 'node:test';
import assert from 'node:assert/strict';

// A tab's sessionStorage, holding what a page wrote before it was reloaded.
const store = new Map();
globalThis.sessionStorage = /** @type {any} */ ({
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
  removeItem: (k) => store.delete(k),
});
store.set('patrol.console.drafts', JSON.stringify({
  drafts: [{ id: 'd0', incident_id: null, user_id: 'u1', values: { description: 'typed before the reload' }, base: null, saved_at: 1, sent_seq: null, refused: null }],
  open: 'd0',
}));

const ui = await import('../src/console/ui.js');

test('a reload reopens the form on the draft it showed', () => {
  assert.deepEqual(ui.panel.value, { view: 'form', id: null });
  assert.equal(ui.findDraft(null, 'u1')?.values.description, 'typed before the reload');
  assert.equal(ui.findDraft(null, 'someone else'), null, 'another account never sees it');
  ui.discardDraft('d0');
  assert.equal(store.has('patrol.console.drafts'), false, 'discarded: nothing left in the tab');
});

test('navigating away keeps the draft; only sending (accepted) or discarding ends it', async () => {
  ui.saveDraft({ id: 'd1', incident_id: null, user_id: 'u1', values: { description: 'a call' }, base: null, sent_seq: null, refused: null });
  ui.openUnit('unit-7'); // a click on a unit label on the map
  assert.equal(ui.findDraft(null, 'u1')?.id, 'd1');
  assert.match(store.get('patrol.console.drafts'), /a call/);

  let answer;
  ui.draftSent('d1', 41, new Promise((resolve) => (answer = resolve)), 'inc-1');
  assert.equal(ui.findDraft(null, 'u1'), null, 'while it waits for the server it is not offered');
  assert.equal(ui.draftById('d1')?.sent_seq, 41, 'but it is kept');
  answer({ seq: 41, outcome: 'applied' });
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(ui.draftById('d1'), null, 'accepted: done');
});

test('a refused draft comes back in the form with the reason, if the dispatcher still looks at it', async () => {
  ui.saveDraft({ id: 'd2', incident_id: null, user_id: 'u1', values: { description: 'x'.repeat(22_000) }, base: null, sent_seq: null, refused: null });
  let answer;
  ui.draftSent('d2', 42, new Promise((resolve) => (answer = resolve)), 'inc-2');
  ui.openIncident('inc-2'); // what the form does after sending
  answer({ seq: 42, outcome: 'rejected', reason_code: 'invalid', reason: 'The app sent an invalid value…', result: { field: 'args.description' } });
  await new Promise((r) => setTimeout(r, 0));
  const d = ui.findDraft(null, 'u1');
  assert.equal(d?.id, 'd2');
  assert.equal(d?.values.description.length, 22_000, 'the text is all there');
  assert.deepEqual(d?.refused, { seq: 42, reason_code: 'invalid', field: 'description', reason: 'The app sent an invalid value…' });
  assert.deepEqual(ui.panel.value, { view: 'form', id: null });
  assert.equal(ui.draftRequest.value, 'd2');
});

test('a refusal while the dispatcher is elsewhere does not take the panel away', () => {
  ui.saveDraft({ id: 'd3', incident_id: 'inc-3', user_id: 'u1', values: { address: 'Nova 1' }, base: { version: 4 }, sent_seq: null, refused: null });
  ui.draftSent('d3', 43);
  ui.openUnit('unit-9');
  ui.draftAnswered(43, { outcome: 'rejected', reason_code: 'incident_closed' });
  assert.deepEqual(ui.panel.value, { view: 'unit', id: 'unit-9' });
  assert.equal(ui.findDraft('inc-3', 'u1')?.refused?.reason_code, 'incident_closed');
  assert.equal(ui.findDraft('inc-3', 'u1')?.base?.version, 4, 'an edit keeps the version it began from');
});

test('a conflict keeps both values on the server: the draft is done', () => {
  ui.saveDraft({ id: 'd4', incident_id: 'inc-4', user_id: 'u1', values: { address: 'X' }, base: { version: 1 }, sent_seq: null, refused: null });
  ui.draftSent('d4', 44);
  ui.draftAnswered(44, { outcome: 'conflict', reason_code: 'concurrent_edit' });
  assert.equal(ui.draftById('d4'), null);
});

test('signing out forgets every draft', () => {
  ui.clearDrafts();
  assert.equal(ui.drafts.value.length, 0);
  assert.equal(store.has('patrol.console.drafts'), false);
});
