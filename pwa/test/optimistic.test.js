import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyOptimistic, registerOptimistic } from '../src/shared/optimistic.js';

const m = (name, args, device_at = 1000) => ({ v: 1, client_id: 'c', seq: 1, name, hlc: '000000000001-0000-c', device_at, base_version: null, args });
function view() {
  return new Map([
    ['unit', new Map([['u1', { id: 'u1', status: 'available', status_at: 500, current_assignment_id: 'a1' }]])],
    ['assignment', new Map([['a1', { id: 'a1', unit_id: 'u1', incident_id: 'i1', state: 'pending' }]])],
  ]);
}

test('a status tap changes the unit and moves its assignment forward, without touching the replica maps', () => {
  const base = view();
  const v = new Map(base);
  applyOptimistic(v, m('unit.set_status', { unit_id: 'u1', status: 'en_route' }), true);
  assert.equal(v.get('unit').get('u1').status, 'en_route');
  assert.equal(v.get('unit').get('u1')._pending, true);
  assert.equal(v.get('assignment').get('a1').state, 'en_route');
  assert.equal(v.get('assignment').get('a1').en_route_at, 1000);
  assert.equal(base.get('unit').get('u1').status, 'available', 'copy on write');
});

test('acknowledge only moves a pending assignment; decline frees the unit', () => {
  const v = new Map(view());
  applyOptimistic(v, m('assignment.acknowledge', { assignment_id: 'a1' }), true);
  assert.equal(v.get('assignment').get('a1').state, 'acknowledged');
  applyOptimistic(v, m('assignment.decline', { assignment_id: 'a1', reason: 'flat tyre' }), true);
  assert.equal(v.get('assignment').get('a1').state, 'declined');
  assert.equal(v.get('unit').get('u1').current_assignment_id, null);
});

test('notes and alerts appear once; unknown names and bad args change nothing', () => {
  const v = new Map(view());
  applyOptimistic(v, m('incident.add_note', { note_id: 'n1', incident_id: 'i1', body: 'x' }), true);
  applyOptimistic(v, m('incident.add_note', { note_id: 'n1', incident_id: 'i1', body: 'x' }), true);
  assert.equal(v.get('note').size, 1);
  applyOptimistic(v, m('alert.raise', { alert_id: 'al1', unit_id: 'u1', lat: 1, lon: 2 }), true);
  assert.equal(v.get('alert').get('al1').state, 'raised');
  applyOptimistic(v, m('nope.nothing', {}), true);
  applyOptimistic(v, m('unit.report_location', { unit_id: 'u1', pings: null }), true);
  assert.equal(v.get('unit').get('u1').status, 'available');
});

test('the console can add reducers for its own mutations', () => {
  registerOptimistic('test.touch', (v, mu) => v.set('x', new Map([['1', { id: '1', at: mu.device_at }]])));
  const v = new Map();
  applyOptimistic(v, m('test.touch', {}), true);
  assert.equal(v.get('x').get('1').at, 1000);
});

test('available clears an acknowledged assignment too, as the server does (sync/machines.py)', () => {
  // One copy of this rule was wrong: the server clears acknowledged, en route and on scene.
  const v = new Map(view());
  applyOptimistic(v, m('assignment.acknowledge', { assignment_id: 'a1' }), true);
  applyOptimistic(v, m('unit.set_status', { unit_id: 'u1', status: 'available' }, 2000), true);
  assert.equal(v.get('assignment').get('a1').state, 'cleared');
  assert.equal(v.get('unit').get('u1').current_assignment_id, null);
  // A pending one is not cleared (the server neither).
  const w = new Map(view());
  applyOptimistic(w, m('unit.set_status', { unit_id: 'u1', status: 'available' }, 2000), true);
  assert.equal(w.get('assignment').get('a1').state, 'pending');
});
