/**
 * The console's data. Entities come from the shared sync client's `view`
 * (server replica + the dispatcher's unsent actions); `db.<type>` reads it.
 * Reference data (crews, org units, incident types, config) and the names
 * the stream does not carry (alert officers, conflict authors) come from REST.
 */
import { signal, computed } from '@preact/signals';
import { view, onServerChanges, serverHead } from '../shared/sync.js';
import { api } from '../shared/session.js';
import { serverNow } from '../shared/clock.js';
import './reducers.js';

const TYPES = /** @type {const} */ (['unit', 'incident', 'assignment', 'note', 'field_report', 'alert', 'conflict', 'unit_status_event']);
const EMPTY = /** @type {Map<string, any>} */ (new Map());

/** `db.unit`, `db.incident`, …: the view's maps (reading one inside a component subscribes it). */
export const db = /** @type {Record<typeof TYPES[number], Map<string, any>>} */ ({});
for (const type of TYPES) Object.defineProperty(db, type, { enumerable: true, get: () => view.value.get(type) ?? EMPTY });

/** Changes whenever the view does (`rev.value` in a component re-renders it on every change). */
export const rev = computed(() => view.value);
/** True once the replica has caught up with the server's head at connect time (`hello.head`). */
export const loaded = signal(false);

/** A one-second clock for "12 s ago" and the acknowledgement timer, on the server's clock. */
export const now = signal(serverNow());

export const config = signal({ tile_url: '', ack_timeout_s: 120, response_target_min: 15 });
/** @type {import('@preact/signals').Signal<Array<{code: string, default_priority: number, labels: Record<string,string>}>>} */
export const incidentTypes = signal([]);
/** @type {import('@preact/signals').Signal<any[]>} */
export const orgUnits = signal([]);
/** unit id → {crew, org_unit_code} from GET /api/units */
export const unitExtra = signal(/** @type {Map<string, any>} */ (new Map()));
/** Alerts from REST (they carry call sign and officer name). */
export const alertDetails = signal(/** @type {Map<string, any>} */ (new Map()));
/** Conflicts from REST, by id (they carry the names of who changed what and who decided). */
export const conflictNames = signal(/** @type {Map<string, any>} */ (new Map()));

/** Listeners for single live changes (e.g. an open incident detail refreshes itself). */
const listeners = new Set();
/** @param {(c: any) => void} fn */
export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * React to server changes: single-change listeners, REST refreshes, "caught up".
 * @param {Array<{entity: string, entity_id: string, op: string, data: any}>} changes
 * @param {{snapshot: boolean, cursor: number}} info
 */
export function onServerPage(changes, { snapshot, cursor }) {
  let alerts = snapshot;
  let conflicts = snapshot;
  let units = snapshot;
  for (const c of changes) {
    if (c.entity === 'alert') alerts = true;
    if (c.entity === 'conflict') conflicts = true;
    if (c.entity === 'unit' && c.op !== 'upsert') units = true;
    if (!snapshot) for (const fn of listeners) fn(c);
  }
  const head = serverHead.value;
  if (head === null || cursor >= head) loaded.value = true;
  if (alerts) refreshAlerts();
  if (conflicts) refreshConflicts();
  if (units) refreshUnits();
}
onServerChanges(onServerPage);

function debounce(/** @type {() => Promise<void>} */ fn, ms = 150) {
  let timer = /** @type {any} */ (0);
  return () => {
    clearTimeout(timer);
    timer = setTimeout(() => fn().catch(() => {}), ms);
  };
}

export const refreshAlerts = debounce(async () => {
  const list = await api('/api/alerts?open=false');
  alertDetails.value = new Map(list.map((/** @type {any} */ a) => [a.id, a]));
}, 50);

export const refreshConflicts = debounce(async () => {
  const list = await api('/api/conflicts?state=all');
  conflictNames.value = new Map(list.map((/** @type {any} */ c) => [c.id, c]));
}, 50);

export const refreshUnits = debounce(async () => {
  const list = await api('/api/units');
  unitExtra.value = new Map(list.map((/** @type {any} */ u) => [u.id, u]));
});

export async function loadReference() {
  const [cfg, types, orgs] = await Promise.all([api('/api/config'), api('/api/incident-types'), api('/api/org-units')]);
  config.value = cfg;
  incidentTypes.value = types;
  orgUnits.value = orgs;
  refreshUnits();
}

let ticker = /** @type {any} */ (0);
export function startClock() {
  clearInterval(ticker);
  ticker = setInterval(() => (now.value = serverNow()), 1000);
}

export function resetStore() {
  loaded.value = false;
  unitExtra.value = new Map();
  alertDetails.value = new Map();
  conflictNames.value = new Map();
}

// ------------------------------------------------------------ derived views

export const ACTIVE_ASSIGNMENT = new Set(['pending', 'acknowledged', 'en_route', 'on_scene']);
export const OPEN_INCIDENT = (/** @type {any} */ i) => !['closed', 'cancelled'].includes(i.state);

export const unitList = computed(() =>
  [...db.unit.values()].filter((u) => u.active !== 0 && u.call_sign).sort((a, b) => a.call_sign.localeCompare(b.call_sign)),
);

export const openIncidents = computed(() =>
  [...db.incident.values()].filter(OPEN_INCIDENT).sort((a, b) => a.priority - b.priority || b.call_received_at - a.call_received_at),
);

/** Closed or cancelled incidents the replica holds (the desk snapshot keeps the last 24 h), newest first. */
export const recentlyClosed = computed(() =>
  [...db.incident.values()].filter((i) => !OPEN_INCIDENT(i)).sort((a, b) => (b.closed_at ?? b.call_received_at) - (a.closed_at ?? a.call_received_at)),
);

/** @param {string} incidentId */
export function assignmentsOf(incidentId) {
  return [...db.assignment.values()].filter((a) => a.incident_id === incidentId).sort((a, b) => a.assigned_at - b.assigned_at);
}

/** @param {string} unitId */
export function assignmentsOfUnit(unitId) {
  return [...db.assignment.values()].filter((a) => a.unit_id === unitId).sort((a, b) => a.assigned_at - b.assigned_at);
}

export const openAlerts = computed(() => [...db.alert.values()].filter((a) => a.state === 'raised').sort((a, b) => a.raised_at - b.raised_at));

/** Alerts ended with a reason in the last half hour (a false alarm the crew called off), newest first. */
export const endedAlerts = computed(() => {
  rev.value;
  const since = now.value - 30 * 60_000;
  return [...db.alert.values()]
    .filter((a) => a.state === 'resolved' && a.end_reason && (a.resolved_at ?? 0) > since)
    .sort((a, b) => (b.resolved_at ?? 0) - (a.resolved_at ?? 0));
});

/** Conflicts (live from the replica, names from REST), newest first. */
export const conflictList = computed(() => {
  const names = conflictNames.value;
  return [...db.conflict.values()].map((c) => ({ ...names.get(c.id), ...c, ...nameFields(names.get(c.id)) })).sort((a, b) => b.created_at - a.created_at);
});

/** @param {any} rest */
function nameFields(rest) {
  return rest ? { server_by_name: rest.server_by_name, client_by_name: rest.client_by_name, resolved_by_name: rest.resolved_by_name } : {};
}

export const openConflicts = computed(() => conflictList.value.filter((c) => c.state === 'open'));

/** Pending assignments past the acknowledgement timeout. */
export const overdueAssignments = computed(() => {
  const limit = config.value.ack_timeout_s * 1000;
  const t = now.value;
  return [...db.assignment.values()].filter((a) => a.state === 'pending' && t - a.assigned_at > limit);
});

/** Midnight today, local time. @param {number} ms */
export function startOfDay(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * Today's status history of one unit: its entries in the timelines of the incidents it was assigned
 * to today (REST), plus the unit_status_event entities the change stream delivered; one row per
 * (kind, minute) so the same step from both sources shows once. Newest first.
 * @param {string} unitId @param {number} since @param {any[]} timelines @param {Iterable<any>} statusEvents
 * @returns {Array<{at: number, kind: string, incident_id?: string, number?: string}>}
 */
export function unitHistory(unitId, since, timelines, statusEvents, alerts = []) {
  /** @type {Map<string, {at: number, kind: string, incident_id?: string, number?: string, text?: string}>} */
  const rows = new Map();
  /**
   * A milestone and the status event that made it are one step (same kind, same minute);
   * notes and alerts are each their own row, however close together.
   * @param {{at: number, kind: string, incident_id?: string, number?: string, text?: string}} r @param {string} [identity]
   */
  const add = (r, identity) => {
    const key = identity ?? `${r.kind}|${Math.floor(r.at / 60_000)}`;
    if (r.at >= since && !rows.has(key)) rows.set(key, r);
  };
  for (const d of timelines) {
    for (const e of d.timeline ?? []) {
      if (e.unit_id !== unitId) continue;
      const row = { at: e.at, kind: e.kind, incident_id: d.incident.id, number: d.incident.number, text: e.text ?? undefined };
      add(row, e.kind === 'note' ? `note|${e.at}|${e.text}` : undefined);
    }
  }
  for (const ev of statusEvents) {
    if (ev.unit_id === unitId) add({ at: ev.event_at ?? ev.device_at, kind: ev.status });
  }
  for (const a of alerts) {
    if (a.unit_id === unitId) add({ at: a.raised_at, kind: 'emergency' }, `alert|${a.id}`);
  }
  return [...rows.values()].sort((a, b) => b.at - a.at);
}
