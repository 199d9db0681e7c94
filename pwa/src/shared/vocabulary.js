// GENERATED FILE, DO NOT EDIT. Written by `python -m sync.vocabulary --write` from
// sync/mutations.py, sync/machines.py and sync/principal.py: change the Python, then run
// the command again (tests/sync/test_vocabulary.py fails while this file is out of date).
//
// Lengths are what the server accepts, counted in Unicode code points; `maxlength` and
// String.length count UTF-16 code units (never fewer), so text within maxlength always fits.

/** Longest free text (description, hazards, report fields), in characters. */
export const TEXT_MAX = 20000;

/** Longest short text (address, caller name and phone, reasons), in characters. */
export const SHORT_MAX = 500;

/** Longest note body, in characters. */
export const NOTE_MAX = 20000;

/** Mutation name -> argument -> longest string the server accepts. */
export const LIMITS = Object.freeze({
  "alert.acknowledge": {
    "alert_id": 64
  },
  "alert.end": {
    "alert_id": 64,
    "reason": 500
  },
  "alert.raise": {
    "unit_id": 64,
    "note": 500
  },
  "assignment.acknowledge": {
    "assignment_id": 64
  },
  "assignment.cancel": {
    "assignment_id": 64,
    "reason": 500
  },
  "assignment.create": {
    "incident_id": 64,
    "unit_id": 64
  },
  "assignment.decline": {
    "assignment_id": 64,
    "reason": 500
  },
  "assignment.reassign": {
    "assignment_id": 64,
    "unit_id": 64,
    "reason": 500
  },
  "conflict.resolve": {
    "conflict_id": 64
  },
  "incident.add_note": {
    "incident_id": 64,
    "body": 20000
  },
  "incident.close": {
    "incident_id": 64,
    "outcome": 500
  },
  "incident.create": {
    "org_unit_id": 64,
    "type": 64,
    "address": 500,
    "description": 20000,
    "hazards": 20000,
    "caller_name": 500,
    "caller_phone": 500
  },
  "incident.update": {
    "incident_id": 64,
    "type": 64,
    "address": 500,
    "description": 20000,
    "hazards": 20000,
    "caller_name": 500,
    "caller_phone": 500
  },
  "report.update": {
    "incident_id": 64,
    "summary": 20000,
    "actions_taken": 20000,
    "persons": 20000,
    "vehicles": 20000,
    "evidence": 20000
  },
  "unit.report_location": {
    "unit_id": 64
  },
  "unit.set_status": {
    "unit_id": 64,
    "assignment_id": 64
  }
});

/** Unit statuses, in the order the apps show them. */
export const UNIT_STATUSES = Object.freeze([
  "available",
  "en_route",
  "on_scene",
  "busy",
  "off_duty"
]);

/** Every assignment state. */
export const ASSIGNMENT_STATES = Object.freeze([
  "pending",
  "acknowledged",
  "en_route",
  "on_scene",
  "declined",
  "cleared",
  "reassigned",
  "cancelled"
]);

/** Assignments a unit is working on now. */
export const ACTIVE_ASSIGNMENT_STATES = Object.freeze([
  "pending",
  "acknowledged",
  "en_route",
  "on_scene"
]);

/** Assignments whose incident the unit's officers may read. */
export const VISIBLE_ASSIGNMENT_STATES = Object.freeze([
  "pending",
  "acknowledged",
  "en_route",
  "on_scene",
  "cleared"
]);

/** Every incident state. */
export const INCIDENT_STATES = Object.freeze([
  "new",
  "dispatched",
  "in_progress",
  "closed",
  "cancelled"
]);

/** Incident states after which its details no longer change. */
export const TERMINAL_INCIDENT_STATES = Object.freeze([
  "closed",
  "cancelled"
]);

/** Assignment states that a unit's 'available' clears (the server's milestone rule). */
export const CLEARED_BY_AVAILABLE = Object.freeze([
  "acknowledged",
  "en_route",
  "on_scene"
]);

/** Account roles. */
export const ROLES = Object.freeze([
  "officer",
  "dispatcher",
  "commander",
  "admin"
]);

/** Roles that use the console. */
export const DESK_ROLES = Object.freeze([
  "dispatcher",
  "commander",
  "admin"
]);
