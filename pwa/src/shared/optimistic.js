/**
 * Optimistic reducers: what a mutation does to the screen before the server
 * answers. They work on the view (a copy of the replica) and must be pure
 * functions of (view, mutation): after every pull the view is rebuilt from
 * the replica and the pending mutations are re-applied in seq order.
 *
 * The server stays the judge: these only guess the likely result, so a
 * refusal simply makes the guess disappear on the next rebuild.
 *
 * `registerOptimistic(name, fn)` lets the console add reducers for its own
 * mutations (incident.create, assignment.create, …) without editing this file.
 */

import { ACTIVE_ASSIGNMENT_STATES, CLEARED_BY_AVAILABLE } from './vocabulary.js';

/** @typedef {Map<string, Map<string, Record<string, any>>>} View */
/** @typedef {(view: View, m: import('./db.js').Mutation, pending: boolean) => void} Reducer */

/** Per view: the entity types whose map the reducers already copied. @type {WeakMap<View, Set<string>>} */
const OWNED = new WeakMap();

/** @param {View} view @param {string} type @param {string} id */
function get(view, type, id) {
  return view.get(type)?.get(id) ?? null;
}

/** @param {View} view @param {string} type @param {string} id @param {Record<string, any>} fields @param {boolean} pending */
export function patch(view, type, id, fields, pending) {
  // Copy on write: the view shares the replica's maps until a reducer changes one.
  let owned = OWNED.get(view);
  if (!owned) OWNED.set(view, (owned = new Set()));
  if (!owned.has(type)) {
    view.set(type, new Map(view.get(type) ?? []));
    owned.add(type);
  }
  const m = /** @type {Map<string, Record<string, any>>} */ (view.get(type));
  const old = m.get(id);
  m.set(id, { ...(old ?? { id }), ...fields, ...(pending ? { _pending: true } : {}) });
}

// From the server's rules (generated): a copy by hand once cleared only en route / on scene.
const ACTIVE = ACTIVE_ASSIGNMENT_STATES;

/** @type {Record<string, Reducer>} */
const REDUCERS = {
  'unit.set_status'(view, m, pending) {
    const a = /** @type {any} */ (m.args);
    const unit = get(view, 'unit', a.unit_id);
    if (!unit || (unit.status_at ?? 0) <= m.device_at || pending) {
      patch(view, 'unit', a.unit_id, { status: a.status, status_at: m.device_at, status_hlc: m.hlc }, pending);
    }
    const asgId = a.assignment_id ?? unit?.current_assignment_id;
    const asg = asgId ? get(view, 'assignment', asgId) : null;
    if (asg && ACTIVE.includes(asg.state)) {
      if (a.status === 'en_route' || a.status === 'on_scene') {
        const col = `${a.status}_at`;
        const forward = a.status === 'on_scene' || asg.state !== 'on_scene';
        patch(view, 'assignment', asg.id, {
          ...(forward ? { state: a.status } : {}),
          [col]: asg[col] ?? m.device_at,
          acknowledged_at: asg.acknowledged_at ?? m.device_at,
        }, pending);
      } else if (a.status === 'available' && CLEARED_BY_AVAILABLE.includes(asg.state)) {
        patch(view, 'assignment', asg.id, { state: 'cleared', cleared_at: m.device_at, ended_at: m.device_at }, pending);
        patch(view, 'unit', a.unit_id, { current_assignment_id: null }, pending);
      }
    }
    if (typeof a.lat === 'number') patch(view, 'unit', a.unit_id, { last_lat: a.lat, last_lon: a.lon, last_position_at: m.device_at }, pending);
  },
  'unit.report_location'(view, m, pending) {
    const a = /** @type {any} */ (m.args);
    const last = a.pings.reduce((x, y) => (y.at > x.at ? y : x), a.pings[0]);
    const unit = get(view, 'unit', a.unit_id);
    if (last && (!unit || (unit.last_position_at ?? 0) <= last.at)) {
      patch(view, 'unit', a.unit_id, { last_lat: last.lat, last_lon: last.lon, last_accuracy_m: last.accuracy_m ?? null, last_position_at: last.at }, false);
    }
  },
  'assignment.acknowledge'(view, m, pending) {
    const asg = get(view, 'assignment', /** @type {any} */ (m.args).assignment_id);
    if (asg && asg.state === 'pending') patch(view, 'assignment', asg.id, { state: 'acknowledged', acknowledged_at: m.device_at }, pending);
  },
  'assignment.decline'(view, m, pending) {
    const a = /** @type {any} */ (m.args);
    const asg = get(view, 'assignment', a.assignment_id);
    if (!asg || !['pending', 'acknowledged'].includes(asg.state)) return;
    patch(view, 'assignment', asg.id, { state: 'declined', declined_at: m.device_at, ended_at: m.device_at, decline_reason: a.reason ?? null }, pending);
    const unit = get(view, 'unit', asg.unit_id);
    if (unit?.current_assignment_id === asg.id) patch(view, 'unit', unit.id, { current_assignment_id: null }, pending);
  },
  'incident.add_note'(view, m, pending) {
    const a = /** @type {any} */ (m.args);
    if (get(view, 'note', a.note_id)) return; // already on the server
    patch(view, 'note', a.note_id, { incident_id: a.incident_id, body: a.body, device_at: m.device_at, event_at: m.device_at, hlc: m.hlc }, pending);
  },
  'report.update'(view, m, pending) {
    const { report_id: id, incident_id, ...fields } = /** @type {any} */ (m.args);
    // Another report for the incident may exist on the server under another id: edit that one.
    const existing = get(view, 'field_report', id) ?? [...(view.get('field_report')?.values() ?? [])].find((r) => r.incident_id === incident_id);
    patch(view, 'field_report', existing?.id ?? id, { incident_id, ...fields }, pending);
  },
  'alert.raise'(view, m, pending) {
    const a = /** @type {any} */ (m.args);
    if (get(view, 'alert', a.alert_id)) return;
    patch(view, 'alert', a.alert_id, { unit_id: a.unit_id ?? null, lat: a.lat ?? null, lon: a.lon ?? null, raised_at: m.device_at, device_at: m.device_at, state: 'raised', note: a.note ?? null }, pending);
  },
};

/** @param {string} name @param {Reducer} fn */
export function registerOptimistic(name, fn) {
  REDUCERS[name] = fn;
}

/**
 * Apply one mutation to the view. Unknown names change nothing (the server's answer will).
 * @param {View} view @param {import('./db.js').Mutation} m @param {boolean} pending
 */
export function applyOptimistic(view, m, pending) {
  try {
    REDUCERS[m.name]?.(view, m, pending);
  } catch {
    /* a malformed old entry must not blank the screen */
  }
}
