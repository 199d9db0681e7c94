import { test } from 'node:test';
import assert from 'node:assert/strict';
import { view, serverHead } from '../src/shared/sync.js';
import { applyOptimistic } from '../src/shared/optimistic.js';
import {
  db, openIncidents, recentlyClosed, unitList, openAlerts, overdueAssignments, config, now, assignmentsOf,
  onServerPage, loaded, onChange, unitHistory, startOfDay, conflictList, conflictNames,
} from '../src/console/store.js';

globalThis.fetch = async () => new Response('[]', { headers: { 'content-type': 'application/json' } });

/** Put entities in the shared view, as the sync client does after a pull. @param {Record<string, any[]>} byType */
function setView(byType) {
  view.value = new Map(Object.entries(byType).map(([type, list]) => [type, new Map(list.map((e) => [e.id, e]))]));
}
const m = (name, args, device_at = 1000) => ({ v: 1, client_id: 'c', seq: 1, name, hlc: '000000000001-0000-c', device_at, base_version: null, args });

test('db.<type> reads the shared view; unit list sorted, inactive hidden', () => {
  setView({ unit: [{ id: 'u1', call_sign: 'B-2', active: 1 }, { id: 'u0', call_sign: 'A-1', active: 1 }, { id: 'u9', call_sign: 'Z', active: 0 }] });
  assert.deepEqual(unitList.value.map((u) => u.call_sign), ['A-1', 'B-2']);
  assert.equal(db.unit.get('u1').call_sign, 'B-2');
  assert.equal(db.incident.size, 0, 'a type the view lacks reads as empty');
});

test('open incidents: priority first, newest call first; closed ones in recentlyClosed, newest close first', () => {
  setView({
    incident: [
      { id: 'a', state: 'new', priority: 3, call_received_at: 10 },
      { id: 'b', state: 'dispatched', priority: 1, call_received_at: 5 },
      { id: 'c', state: 'closed', priority: 1, call_received_at: 50, closed_at: 60 },
      { id: 'e', state: 'cancelled', priority: 1, call_received_at: 40, closed_at: 70 },
      { id: 'd', state: 'new', priority: 3, call_received_at: 20 },
    ],
  });
  assert.deepEqual(openIncidents.value.map((i) => i.id), ['b', 'd', 'a']);
  assert.deepEqual(recentlyClosed.value.map((i) => i.id), ['e', 'c']);
});

test('raised alerts are open; acknowledged ones are not', () => {
  setView({ alert: [{ id: 'x', state: 'raised', raised_at: 2 }, { id: 'y', state: 'acknowledged', raised_at: 1 }] });
  assert.deepEqual(openAlerts.value.map((a) => a.id), ['x']);
});

test('a pending assignment past ack_timeout_s is overdue; an acknowledged one never', () => {
  config.value = { ...config.value, ack_timeout_s: 120 };
  now.value = 1_000_000;
  setView({
    assignment: [
      { id: 'p-old', incident_id: 'i', state: 'pending', assigned_at: 1_000_000 - 121_000 },
      { id: 'p-new', incident_id: 'i', state: 'pending', assigned_at: 1_000_000 - 60_000 },
      { id: 'ack', incident_id: 'i', state: 'acknowledged', assigned_at: 0 },
    ],
  });
  assert.deepEqual(overdueAssignments.value.map((a) => a.id), ['p-old']);
  now.value = 1_000_000 + 61_000;
  assert.deepEqual(overdueAssignments.value.map((a) => a.id).sort(), ['p-new', 'p-old']);
  assert.deepEqual(assignmentsOf('i').map((a) => a.id), ['ack', 'p-old', 'p-new']);
});

test('loaded once the replica reaches the head the server said hello with; live changes reach listeners', () => {
  loaded.value = false;
  serverHead.value = 100;
  onServerPage([], { snapshot: true, cursor: 40 });
  assert.equal(loaded.value, false);
  onServerPage([], { snapshot: false, cursor: 100 });
  assert.equal(loaded.value, true);
  const seen = [];
  const off = onChange((c) => seen.push(c.entity_id));
  onServerPage([{ entity: 'unit', entity_id: 'u1', op: 'upsert', data: {} }], { snapshot: true, cursor: 101 });
  onServerPage([{ entity: 'unit', entity_id: 'u2', op: 'upsert', data: {} }], { snapshot: false, cursor: 102 });
  off();
  assert.deepEqual(seen, ['u2'], 'snapshot pages are not single changes');
});

test('conflicts: live state from the replica, names from REST', () => {
  setView({ conflict: [{ id: 'k', state: 'resolved', created_at: 1, resolved_by: 'u7' }] });
  conflictNames.value = new Map([['k', { id: 'k', state: 'open', resolved_by_name: 'Ana A.', client_by_name: 'B' }]]);
  const [c] = conflictList.value;
  assert.equal(c.state, 'resolved', 'the replica is newer than the REST row');
  assert.equal(c.resolved_by_name, 'Ana A.');
});

test('console reducers: assign, reassign, cancel, close, create draw at once without personal data', () => {
  setView({
    unit: [{ id: 'u1', call_sign: 'A', current_assignment_id: null }, { id: 'u2', call_sign: 'B', current_assignment_id: null }],
    incident: [{ id: 'i1', state: 'new', priority: 2 }],
  });
  const v = new Map(view.value);
  applyOptimistic(v, m('assignment.create', { assignment_id: 'a1', incident_id: 'i1', unit_id: 'u1' }), true);
  assert.equal(v.get('assignment').get('a1').state, 'pending');
  assert.equal(v.get('unit').get('u1').current_assignment_id, 'a1');
  assert.equal(v.get('incident').get('i1').state, 'dispatched');
  assert.equal(view.value.get('unit').get('u1').current_assignment_id, null, 'the replica maps are not touched');

  applyOptimistic(v, m('assignment.reassign', { assignment_id: 'a1', new_assignment_id: 'a2', unit_id: 'u2' }, 2000), true);
  assert.equal(v.get('assignment').get('a1').state, 'reassigned');
  assert.equal(v.get('unit').get('u1').current_assignment_id, null);
  assert.equal(v.get('assignment').get('a2').state, 'pending');
  assert.equal(v.get('unit').get('u2').current_assignment_id, 'a2');

  applyOptimistic(v, m('assignment.cancel', { assignment_id: 'a2' }), true);
  assert.equal(v.get('assignment').get('a2').state, 'cancelled');
  assert.equal(v.get('unit').get('u2').current_assignment_id, null);

  applyOptimistic(v, m('incident.close', { incident_id: 'i1', outcome: 'resolved' }), true);
  assert.equal(v.get('incident').get('i1').state, 'closed');
  assert.equal(v.get('incident').get('i1').outcome, 'resolved');

  applyOptimistic(v, m('incident.create', { incident_id: 'i2', type: 'theft', priority: 3, source: '112', caller_name: 'X', caller_phone: '1' }), true);
  const created = v.get('incident').get('i2');
  assert.equal(created.state, 'new');
  assert.equal('caller_name' in created || 'caller_phone' in created, false);
});

test('unit history: its timeline entries and status events of today, one row per step, newest first', () => {
  const day = startOfDay(Date.UTC(2025, 0, 2, 12));
  const timelines = [
    {
      incident: { id: 'i1', number: 'I-1' },
      timeline: [
        { at: day - 1000, kind: 'assigned', unit_id: 'u1' },
        { at: day + 60_000, kind: 'assigned', unit_id: 'u1' },
        { at: day + 120_000, kind: 'en_route', unit_id: 'u1' },
        { at: day + 130_000, kind: 'en_route', unit_id: 'u2' },
      ],
    },
  ];
  const events = [
    { id: 's1', unit_id: 'u1', status: 'en_route', event_at: day + 125_000 },
    { id: 's2', unit_id: 'u1', status: 'available', event_at: day + 600_000 },
  ];
  const h = unitHistory('u1', day, timelines, events);
  assert.deepEqual(h.map((r) => r.kind), ['available', 'en_route', 'assigned']);
  assert.equal(h[2].number, 'I-1');
});

test('unit history keeps two notes of one minute and lists the emergency (issue 12.13)', () => {
  const day = startOfDay(Date.UTC(2025, 0, 2, 12));
  const timelines = [
    {
      incident: { id: 'i1', number: 'I-1' },
      timeline: [
        { at: day + 60_000, kind: 'note', unit_id: 'u1', text: 'first' },
        { at: day + 61_000, kind: 'note', unit_id: 'u1', text: 'second' },
      ],
    },
  ];
  const alerts = [{ id: 'a1', unit_id: 'u1', raised_at: day + 70_000 }, { id: 'a2', unit_id: 'u2', raised_at: day + 80_000 }];
  const h = unitHistory('u1', day, timelines, [], alerts);
  assert.deepEqual(h.map((r) => r.kind), ['emergency', 'note', 'note']);
  assert.deepEqual(h.filter((r) => r.kind === 'note').map((r) => r.text), ['second', 'first']);
});
