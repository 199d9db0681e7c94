/**
 * What the dispatcher's actions do to the screen before the server answers
 * (the shared sync client re-applies them on top of the replica until they
 * are settled). The server stays the judge: a refusal makes the guess vanish.
 */
import { registerOptimistic, patch } from '../shared/optimistic.js';

const ACTIVE = ['pending', 'acknowledged', 'en_route', 'on_scene'];
const PERSONAL = ['caller_name', 'caller_phone'];

/** @param {Map<string, Map<string, any>>} view @param {string} type @param {string} id */
const get = (view, type, id) => view.get(type)?.get(id) ?? null;

/** @param {Record<string, any>} args */
function withoutPersonal(args) {
  const out = { ...args };
  for (const k of PERSONAL) delete out[k];
  return out;
}

registerOptimistic('incident.create', (view, m, pending) => {
  const { incident_id: id, assignment_id: _a, ...fields } = withoutPersonal(/** @type {any} */ (m.args));
  if (get(view, 'incident', id)) return;
  patch(view, 'incident', id, { priority: 3, ...fields, state: 'new', number: '…', created_at: m.device_at, version: 0 }, pending);
});

registerOptimistic('incident.update', (view, m, pending) => {
  const { incident_id: id, ...fields } = withoutPersonal(/** @type {any} */ (m.args));
  if (get(view, 'incident', id)) patch(view, 'incident', id, fields, pending);
});

registerOptimistic('incident.close', (view, m, pending) => {
  const a = /** @type {any} */ (m.args);
  const inc = get(view, 'incident', a.incident_id);
  if (!inc || ['closed', 'cancelled'].includes(inc.state)) return;
  patch(view, 'incident', inc.id, { state: a.cancelled ? 'cancelled' : 'closed', outcome: a.outcome ?? null, closed_at: m.device_at }, pending);
});

/** @param {Map<string, Map<string, any>>} view @param {any} m @param {boolean} pending @param {string} id @param {string} incidentId @param {string} unitId @param {boolean} additional */
function newAssignment(view, m, pending, id, incidentId, unitId, additional) {
  if (get(view, 'assignment', id)) return;
  patch(view, 'assignment', id, { incident_id: incidentId, unit_id: unitId, state: 'pending', assigned_at: m.device_at, is_primary: additional ? 0 : 1 }, pending);
  if (get(view, 'unit', unitId)) patch(view, 'unit', unitId, { current_assignment_id: id }, pending);
  const inc = get(view, 'incident', incidentId);
  if (inc?.state === 'new') patch(view, 'incident', incidentId, { state: 'dispatched' }, pending);
}

/** @param {Map<string, Map<string, any>>} view @param {any} asg @param {string} state @param {number} at @param {boolean} pending */
function endAssignment(view, asg, state, at, pending) {
  patch(view, 'assignment', asg.id, { state, ended_at: at }, pending);
  const unit = get(view, 'unit', asg.unit_id);
  if (unit?.current_assignment_id === asg.id) patch(view, 'unit', unit.id, { current_assignment_id: null }, pending);
}

registerOptimistic('assignment.create', (view, m, pending) => {
  const a = /** @type {any} */ (m.args);
  newAssignment(view, m, pending, a.assignment_id, a.incident_id, a.unit_id, !!a.additional);
});

registerOptimistic('assignment.reassign', (view, m, pending) => {
  const a = /** @type {any} */ (m.args);
  const old = get(view, 'assignment', a.assignment_id);
  if (!old || !ACTIVE.includes(old.state)) return;
  endAssignment(view, old, 'reassigned', m.device_at, pending);
  newAssignment(view, m, pending, a.new_assignment_id, old.incident_id, a.unit_id, old.is_primary === 0);
});

registerOptimistic('assignment.cancel', (view, m, pending) => {
  const old = get(view, 'assignment', /** @type {any} */ (m.args).assignment_id);
  if (old && ACTIVE.includes(old.state)) endAssignment(view, old, 'cancelled', m.device_at, pending);
});

registerOptimistic('alert.acknowledge', (view, m, pending) => {
  const al = get(view, 'alert', /** @type {any} */ (m.args).alert_id);
  if (al?.state === 'raised') patch(view, 'alert', al.id, { state: 'acknowledged', acknowledged_at: m.device_at }, pending);
});

registerOptimistic('conflict.resolve', (view, m, pending) => {
  const a = /** @type {any} */ (m.args);
  const c = get(view, 'conflict', a.conflict_id);
  if (c?.state === 'open') patch(view, 'conflict', c.id, { state: 'resolved', resolution: a.resolution, resolved_at: m.device_at }, pending);
});
