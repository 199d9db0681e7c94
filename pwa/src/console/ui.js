/** Console UI state shared between panels, and the incident form's drafts. */
import { signal, effect } from '@preact/signals';
import { notices, dismissNotice } from '../shared/sync.js';
import { pendingCount } from '../shared/sync-status.js';
import { session, addWipeHook } from '../shared/session.js';
import { argField, outboxState } from '../shared/refusal.js';

/* ------------------------------------------------------------------ drafts */

/**
 * An incident being written (a new call, or an edit): never lost by navigating away, by a
 * reload, or by the server refusing it. It is kept here (and in this tab's sessionStorage)
 * from the first keystroke until the server has accepted it or the dispatcher discards it.
 *
 * @typedef {object} Draft
 * @property {string} id
 * @property {string | null} incident_id the incident edited; null for a new one
 * @property {string | null} user_id whose draft it is
 * @property {Record<string, any>} values the form's fields
 * @property {Record<string, any> | null} base (edits) the incident when the edit began: its version and fields
 * @property {number} saved_at
 * @property {number | null} sent_seq sent as this outbox seq, waiting for the server's answer (not offered meanwhile)
 * @property {string | null} [created_id] (new incidents) the id it was sent with
 * @property {{seq: number, reason_code: string | null, field: string | null, reason: string | null} | null} refused
 *   the server's refusal of the last send: the form says why
 */

const DRAFTS_KEY = 'patrol.console.drafts';

/** @returns {{drafts?: Draft[], open?: string | null} | null} */
function readStored() {
  try {
    return JSON.parse(globalThis.sessionStorage?.getItem(DRAFTS_KEY) ?? 'null');
  } catch {
    return null;
  }
}

const stored = readStored();
/** Every draft of this tab (unsent, sent and waiting, refused). @type {import('@preact/signals').Signal<Draft[]>} */
export const drafts = signal(Array.isArray(stored?.drafts) ? stored.drafts : []);
/** The draft the form shows (its id); kept so a reload reopens the form on it. */
export const shownDraft = signal(/** @type {string | null} */ (stored?.open ?? null));
/** A request to show this draft in the form (a notice's "Continue"): the form remounts on it. */
export const draftRequest = signal(/** @type {string | null} */ (shownDraft.value));

function persist() {
  try {
    // sessionStorage: this tab only, gone when it closes (a draft may hold a caller's name).
    if (drafts.value.length === 0) globalThis.sessionStorage?.removeItem(DRAFTS_KEY);
    else globalThis.sessionStorage?.setItem(DRAFTS_KEY, JSON.stringify({ drafts: drafts.value, open: shownDraft.value }));
  } catch {
    /* private mode or full: the draft still lives in memory */
  }
}

/** @param {string} id */
export function draftById(id) {
  return drafts.value.find((d) => d.id === id) ?? null;
}

/** The user's drafts that can be edited now (not sent and waiting). @param {string | null | undefined} userId */
export function editableDrafts(userId) {
  return drafts.value.filter((d) => d.sent_seq == null && (d.user_id ?? null) === (userId ?? null));
}

/**
 * The draft to show for an incident form: the newest editable one for it, or null.
 * @param {string | null} incidentId @param {string | null | undefined} userId
 */
export function findDraft(incidentId, userId) {
  const list = editableDrafts(userId).filter((d) => d.incident_id === incidentId);
  return list.sort((a, b) => b.saved_at - a.saved_at)[0] ?? null;
}

/** Store (or replace) a draft. @param {Omit<Draft, 'saved_at'> & {saved_at?: number}} d */
export function saveDraft(d) {
  const next = /** @type {Draft} */ ({ ...d, saved_at: Date.now() });
  drafts.value = [...drafts.value.filter((x) => x.id !== d.id), next];
  persist();
  return next;
}

/** @param {string} id */
export function discardDraft(id) {
  drafts.value = drafts.value.filter((x) => x.id !== id);
  if (shownDraft.value === id) shownDraft.value = null;
  persist();
}

/** The form shows this draft now (or none). @param {string | null} id */
export function setOpenDraft(id) {
  shownDraft.value = id;
  persist();
}

/** Forget every draft (sign-out, revoked device). */
export function clearDrafts() {
  drafts.value = [];
  shownDraft.value = null;
  draftRequest.value = null;
  persist();
}

/** Outbox seqs whose answer this page awaits itself (entry.result). */
const awaited = new Set();

/**
 * The draft was sent as outbox entry `seq`: it waits, hidden, for the server's answer.
 * @param {string} id @param {number} seq @param {Promise<any>} [result] the entry's result promise
 * @param {string | null} [createdId]
 */
export function draftSent(id, seq, result, createdId = null) {
  const d = draftById(id);
  if (!d) return;
  // Sent again after a refusal: the refused entry's text is in this one now, its notice is read.
  if (d.refused) dismissNotice(d.refused.seq).catch(() => {});
  saveDraft({ ...d, sent_seq: seq, created_id: createdId ?? d.created_id ?? null, refused: null });
  if (shownDraft.value === id) setOpenDraft(null);
  if (result) {
    awaited.add(seq);
    result.then((r) => draftAnswered(seq, r)).finally(() => awaited.delete(seq));
  }
}

/**
 * The server answered a sent draft. Accepted (or kept in a conflict, where both values are
 * kept): the draft is done. Refused: it is editable again, with the reason, and the form
 * comes back with it if the dispatcher is still looking at what was sent.
 * @param {number} seq @param {{outcome: string, reason_code?: string | null, reason?: string | null, result?: any}} r
 * @returns {Draft | null} the refused draft
 */
export function draftAnswered(seq, r) {
  const d = drafts.value.find((x) => x.sent_seq === seq);
  if (!d) return null;
  if (r.outcome !== 'rejected') {
    discardDraft(d.id);
    return null;
  }
  const refused = saveDraft({
    ...d,
    sent_seq: null,
    refused: { seq, reason_code: r.reason_code ?? null, field: argField(r.result?.field), reason: r.reason ?? null },
  });
  const p = panel.value;
  const shown = d.incident_id ?? d.created_id;
  if (p.view === 'list' || (p.view === 'detail' && p.id === shown)) openDraft(refused);
  return refused;
}

/** Show a draft in the form. @param {Draft} d */
export function openDraft(d) {
  draftRequest.value = d.id;
  setOpenDraft(d.id);
  panel.value = { view: 'form', id: d.incident_id };
}

/**
 * Answers this page did not wait for (it was reloaded after sending): read from the outbox.
 * Gone from it, or confirmed: accepted. Refused: the draft is editable again.
 */
async function settleFromOutbox() {
  for (const d of drafts.value) {
    const seq = d.sent_seq;
    if (seq == null || awaited.has(seq)) continue;
    const e = await outboxState(seq);
    if (e === null || e.state === 'confirmed' || e.state === 'conflict') draftAnswered(seq, { outcome: 'applied' });
    else if (e.state === 'rejected') draftAnswered(seq, { outcome: 'rejected', reason_code: e.reason_code, reason: e.notice, result: null });
  }
}

effect(() => {
  // Re-check when the outbox moves (a notice arrives, the pending count changes); only while
  // signed in, so the console's own database is the one read.
  notices.value;
  pendingCount.value;
  if (session.value && drafts.value.some((d) => d.sent_seq != null && !awaited.has(d.sent_seq))) settleFromOutbox().catch(() => {});
});

// Signing out (or a revoked device) wipes this browser's console data: the drafts too.
addWipeHook(() => clearDrafts());

/* ------------------------------------------------------------------ panels */

/** Right panel: the open-incident list, one incident, the incident form, or one unit. */
/** @type {import('@preact/signals').Signal<{view: 'list'} | {view: 'detail', id: string} | {view: 'form', id: string | null} | {view: 'unit', id: string}>} */
export const panel = signal(
  (() => {
    // Reloaded while writing: the form again, on the same draft.
    const d = shownDraft.value ? draftById(shownDraft.value) : null;
    return d && d.sent_seq == null ? { view: 'form', id: d.incident_id } : { view: 'list' };
  })(),
);
/** @type {import('@preact/signals').Signal<string | null>} */
export const selectedUnit = signal(null);
export const search = signal('');
export const conflictsOpen = signal(false);
/** The point being picked for the incident form (map click sets it). */
/** @type {import('@preact/signals').Signal<{lat: number, lon: number} | null>} */
export const formPoint = signal(null);
/** A map request: pan to this point. */
/** @type {import('@preact/signals').Signal<{lat: number, lon: number, at: number} | null>} */
export const focusPoint = signal(null);

/** @type {import('@preact/signals').Signal<Array<{id: number, kind: 'ok'|'error'|'warn', text: string}>>} */
export const toasts = signal([]);
let toastId = 0;
/** @param {'ok'|'error'|'warn'} kind @param {string} text */
export function toast(kind, text) {
  const id = ++toastId;
  toasts.value = [...toasts.value, { id, kind, text }];
  setTimeout(() => (toasts.value = toasts.value.filter((x) => x.id !== id)), kind === 'error' ? 10_000 : 5_000);
}

/** @param {string} id */
export function openIncident(id) {
  panel.value = { view: 'detail', id };
}

/** @param {string} id */
export function openUnit(id) {
  selectedUnit.value = id;
  panel.value = { view: 'unit', id };
}
