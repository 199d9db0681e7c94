/**
 * What the officer screens derive from the sync view: the unit, its current
 * assignment and incident, notes, report, alerts; plus incident-type labels.
 */
import { computed, signal } from '@preact/signals';
import { view, entities, entity } from '../../shared/sync.js';
import { session, api } from '../../shared/session.js';
import { getMeta, setMeta } from '../../shared/db.js';
import { language } from '../../shared/prefs.js';

const ACTIVE = ['pending', 'acknowledged', 'en_route', 'on_scene'];

export const myUnit = computed(() => {
  view.value; // dependency
  const me = session.value;
  if (!me?.unit_id) return null;
  return entity('unit', me.unit_id);
});

/** The unit's assignments still open, newest first. */
export const activeAssignments = computed(() => {
  view.value;
  const unitId = session.value?.unit_id;
  if (!unitId) return [];
  return entities('assignment')
    .filter((a) => a.unit_id === unitId && ACTIVE.includes(a.state))
    .sort((a, b) => (b.assigned_at ?? 0) - (a.assigned_at ?? 0));
});

/** Set from a push link (/?assignment=<id>): shows that one even if it ended (so the officer sees why). */
export const focusAssignmentId = signal(/** @type {string | null} */ (null));

export const currentAssignment = computed(() => {
  view.value;
  const focused = focusAssignmentId.value ? entity('assignment', focusAssignmentId.value) : null;
  if (focused) return focused;
  const unit = myUnit.value;
  const cur = unit?.current_assignment_id ? entity('assignment', unit.current_assignment_id) : null;
  if (cur && ACTIVE.includes(cur.state)) return cur;
  return activeAssignments.value[0] ?? null;
});

/** Ended-assignment notices the officer dismissed (ids), kept across reloads. */
export const dismissedEnded = signal(/** @type {string[]} */ ([]));
getMeta('dismissed_ended')
  .then((ids) => {
    if (Array.isArray(ids)) dismissedEnded.value = ids;
  })
  .catch(() => {});

/** @param {string} id */
export function dismissEnded(id) {
  dismissedEnded.value = [...dismissedEnded.value.slice(-50), id];
  setMeta('dismissed_ended', dismissedEnded.value).catch(() => {});
}

const ENDED_NOTICE_MS = 2 * 3_600_000;

/**
 * Assignments dispatch took away from this unit (reassigned, cancelled) in the last two
 * hours that the officer has not dismissed, newest first: the officer is told what
 * happened and why instead of the assignment just vanishing from the screen.
 */
export const endedAssignments = computed(() => {
  view.value;
  const unitId = session.value?.unit_id;
  if (!unitId) return [];
  const dismissed = new Set(dismissedEnded.value);
  const since = Date.now() - ENDED_NOTICE_MS;
  return entities('assignment')
    .filter((a) => a.unit_id === unitId && (a.state === 'reassigned' || a.state === 'cancelled'))
    .filter((a) => !dismissed.has(a.id) && (a.ended_at ?? 0) > since)
    .sort((a, b) => (b.ended_at ?? 0) - (a.ended_at ?? 0));
});

const WORKED_MS = 12 * 3_600_000;

/**
 * Incidents this unit finished in the last 12 hours (cleared assignments), newest first:
 * the officer may still add notes and complete the report after tapping Available.
 */
export const workedIncidents = computed(() => {
  view.value;
  const unitId = session.value?.unit_id;
  if (!unitId) return [];
  const since = Date.now() - WORKED_MS;
  const seen = new Set();
  return entities('assignment')
    .filter((a) => a.unit_id === unitId && a.state === 'cleared' && (a.cleared_at ?? a.ended_at ?? 0) > since)
    .sort((a, b) => (b.cleared_at ?? 0) - (a.cleared_at ?? 0))
    .filter((a) => (seen.has(a.incident_id) ? false : (seen.add(a.incident_id), true)))
    .map((a) => ({ assignment: a, incident: entity('incident', a.incident_id) }))
    .filter((w) => w.incident);
});

/** The finished incident the officer picked on the notes screen (null: the newest). */
export const pickedWorked = signal(/** @type {string | null} */ (null));

export const currentIncident = computed(() => {
  const a = currentAssignment.value;
  return a ? entity('incident', a.incident_id) : null;
});

/** @param {string | null | undefined} incidentId */
export function notesFor(incidentId) {
  if (!incidentId) return [];
  return entities('note').filter((n) => n.incident_id === incidentId).sort((a, b) => (a.event_at ?? 0) - (b.event_at ?? 0));
}

/** @param {string | null | undefined} incidentId */
export function reportFor(incidentId) {
  if (!incidentId) return null;
  return entities('field_report').find((r) => r.incident_id === incidentId) ?? null;
}

/** This unit's emergencies not yet ended: raised (waiting) or acknowledged by dispatch. */
export const activeAlerts = computed(() => {
  view.value;
  const unitId = session.value?.unit_id;
  const userId = session.value?.user_id;
  return entities('alert')
    .filter((a) => (a.state === 'raised' || a.state === 'acknowledged') && (a.unit_id === unitId || a.user_id === userId))
    .sort((a, b) => (b.raised_at ?? 0) - (a.raised_at ?? 0));
});

/** Alerts of this unit not yet acknowledged by a dispatcher. */
export const openAlerts = computed(() => {
  view.value;
  const unitId = session.value?.unit_id;
  return entities('alert').filter((a) => a.state === 'raised' && (!unitId || a.unit_id === unitId || a.unit_id === null));
});

/* ---------- incident types (labels per language), cached for offline ---------- */

/** @type {import('@preact/signals').Signal<Array<{code: string, default_priority: number, labels: Record<string, string>}>>} */
export const incidentTypes = signal([]);

export async function loadIncidentTypes() {
  const cached = await getMeta('incident_types').catch(() => null);
  if (Array.isArray(cached)) incidentTypes.value = cached;
  try {
    const fresh = await api('/api/incident-types');
    incidentTypes.value = fresh;
    await setMeta('incident_types', fresh);
  } catch {
    /* offline: keep the cached list */
  }
}

/** @param {string | null | undefined} code */
export function typeLabel(code) {
  if (!code) return '';
  const t = incidentTypes.value.find((x) => x.code === code);
  return t?.labels?.[language.value] ?? t?.labels?.en ?? code;
}
