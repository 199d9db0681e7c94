/**
 * The device's local store (IndexedDB through `idb`).
 *
 * - `entities`: the replica of server state, keyed [type, id]
 * - `outbox`:   mutations not yet settled with the server, keyed by seq
 * - `meta`:     small key/value facts (client_id, next_seq, cursor, …)
 *
 * The service worker opens the same database (it reads the language).
 */
import { openDB } from 'idb';
import { uuidv7 } from './ids.js';
import { transition, PENDING_STATES } from './outbox-state.js';

export const DB_NAME = 'patrol';
let dbName = DB_NAME;

/**
 * Use another database name (call before anything opens the database). The
 * console uses its own ('patrol-console') so a desk that also opens the
 * officer app in the same browser never mixes replicas, outboxes or sessions.
 * The service worker reads the language from the default database.
 * @param {string} name
 */
export function configureDb(name) {
  if (opening && name !== dbName) closeDb();
  dbName = name;
}
const DB_VERSION = 2;

/** Entity types the replica holds (the server's sync scopes use the same names). */
export const ENTITY_TYPES = /** @type {const} */ (['unit', 'incident', 'assignment', 'note', 'field_report', 'alert', 'conflict', 'unit_status_event']);

/**
 * @typedef {object} Mutation the wire shape the server's sync engine accepts
 * @property {1} v
 * @property {string} client_id
 * @property {number} seq
 * @property {string} name e.g. "unit.set_status"
 * @property {string} hlc
 * @property {number} device_at ms epoch when it happened on the device
 * @property {number | null} base_version
 * @property {Record<string, unknown>} args
 */

/**
 * @typedef {object} OutboxEntry
 * @property {number} seq
 * @property {import('./outbox-state.js').OutboxState} state
 * @property {string | null} notice reason from the server, for the officer to read
 * @property {Mutation} mutation
 */

/** @typedef {{type: string, id: string, [field: string]: unknown}} Entity */

/** @type {Promise<import('idb').IDBPDatabase> | null} */
let opening = null;

/** The open database (opened once per page or worker). */
export function getDb() {
  opening ??= openDB(dbName, DB_VERSION, {
    upgrade(db, oldVersion, _newVersion, tx) {
      // One step per schema version; never edit a past step.
      if (oldVersion < 1) {
        db.createObjectStore('entities', { keyPath: ['type', 'id'] });
        db.createObjectStore('outbox', { keyPath: 'seq' });
        db.createObjectStore('meta');
      }
      if (oldVersion >= 1 && oldVersion < 2) {
        // v2: replica records are {type, id, data} (an incident has a `type` field of its own).
        // Drop the old replica and its cursor: the next pull is a snapshot. The outbox stays.
        tx.objectStore('entities').clear();
        tx.objectStore('meta').delete('cursor');
      }
    },
    blocking() {
      // A newer tab wants to upgrade: step aside so it can.
      closeDb();
    },
  });
  return opening;
}

/** Close the connection (tests, upgrades by a newer tab). */
export function closeDb() {
  const p = opening;
  opening = null;
  p?.then((db) => db.close()).catch(() => {});
}

/**
 * Abort a transaction without leaving a rejected `done` promise unhandled.
 * @param {import('idb').IDBPTransaction<any, any, any>} tx
 */
function abort(tx) {
  tx.done.catch(() => {});
  tx.abort();
}

/* ---------- meta ---------- */

/** @param {string} key */
export async function getMeta(key) {
  return (await getDb()).get('meta', key);
}

/** @param {string} key @param {unknown} value */
export async function setMeta(key, value) {
  await (await getDb()).put('meta', value, key);
}

/**
 * This device's client id, made on first use. Kept until wipeAll(), so a
 * revoked or signed-out phone starts again as a new client.
 * @returns {Promise<string>}
 */
export async function getClientId() {
  const db = await getDb();
  const tx = db.transaction('meta', 'readwrite');
  let id = await tx.store.get('client_id');
  if (!id) {
    id = uuidv7();
    await tx.store.put(id, 'client_id');
  }
  await tx.done;
  return id;
}

/* ---------- entities ---------- */

/** @param {Entity[]} entities */
export async function putEntities(entities) {
  if (!entities.every((e) => typeof e?.type === 'string' && typeof e.id === 'string')) {
    throw new TypeError('an entity needs string "type" and "id"');
  }
  const db = await getDb();
  const tx = db.transaction('entities', 'readwrite');
  await Promise.all([...entities.map((e) => tx.store.put(e)), tx.done]);
}

/** @param {string} type @param {string} id @returns {Promise<Entity | undefined>} */
export async function getEntity(type, id) {
  return (await getDb()).get('entities', [type, id]);
}

/** @param {string} type @param {string} id */
export async function deleteEntity(type, id) {
  await (await getDb()).delete('entities', [type, id]);
}

/**
 * All entities of one type, optionally filtered.
 * @param {string} type
 * @param {((e: Entity) => boolean) | Record<string, unknown>} [filter] a predicate, or fields that must be equal
 * @returns {Promise<Entity[]>}
 */
export async function listEntities(type, filter) {
  // [type] sorts before every [type, id]; an array sorts after every string id.
  const range = IDBKeyRange.bound([type], [type, []]);
  const all = await (await getDb()).getAll('entities', range);
  if (!filter) return all;
  if (typeof filter === 'function') return all.filter(filter);
  const wanted = Object.entries(filter);
  return all.filter((e) => wanted.every(([k, v]) => e[k] === v));
}

/* ---------- outbox ---------- */

/**
 * Queue a mutation. The seq comes from `meta.next_seq` in the same
 * transaction that stores the entry, so two tabs can never share a seq.
 * Call it in the order the events happened: IndexedDB runs overlapping
 * read-write transactions in creation order, keeping seq and hlc in step.
 *
 * @param {{name: string, args: Record<string, unknown>, hlc: string, device_at?: number, base_version?: number | null}} m
 * @returns {Promise<OutboxEntry>}
 */
export async function enqueueMutation({ name, args, hlc, device_at = Date.now(), base_version = null }) {
  if (typeof name !== 'string' || !name.includes('.')) throw new TypeError(`mutation name must look like "unit.set_status": ${name}`);
  if (typeof hlc !== 'string') throw new TypeError('mutation needs an hlc');
  const db = await getDb();
  const tx = db.transaction(['meta', 'outbox'], 'readwrite');
  const meta = tx.objectStore('meta');
  const writes = [];
  let clientId = await meta.get('client_id');
  if (!clientId) {
    clientId = uuidv7();
    writes.push(meta.put(clientId, 'client_id'));
  }
  const seq = (await meta.get('next_seq')) ?? 1;
  writes.push(meta.put(seq + 1, 'next_seq'));
  /** @type {OutboxEntry} */
  const entry = {
    seq,
    state: 'queued',
    notice: null,
    mutation: { v: 1, client_id: clientId, seq, name, hlc, device_at, base_version, args: args ?? {} },
  };
  writes.push(tx.objectStore('outbox').add(entry));
  await Promise.all([...writes, tx.done]);
  return entry;
}

/** Entries still to be sent or awaiting an answer, oldest first. @returns {Promise<OutboxEntry[]>} */
export async function pendingMutations() {
  const all = await (await getDb()).getAll('outbox');
  return all.filter((e) => PENDING_STATES.includes(e.state));
}

/** Every outbox entry, including settled ones the officer has not dismissed. @returns {Promise<OutboxEntry[]>} */
export async function allMutations() {
  return (await getDb()).getAll('outbox');
}

/**
 * Move one entry to a new state; illegal transitions throw and change nothing.
 * @param {number} seq
 * @param {import('./outbox-state.js').OutboxState} state
 * @param {string | null} [notice]
 */
export async function setMutationState(seq, state, notice = null) {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  const entry = await tx.store.get(seq);
  if (!entry) {
    abort(tx);
    throw new Error(`no outbox entry with seq ${seq}`);
  }
  try {
    entry.state = transition(entry.state, state);
  } catch (err) {
    abort(tx);
    throw err;
  }
  entry.notice = notice;
  await Promise.all([tx.store.put(entry), tx.done]);
  return entry;
}

/** After a lost connection: everything in flight goes back to the queue. */
export async function requeueSending() {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  const writes = [];
  for (const entry of await tx.store.getAll()) {
    if (entry.state === 'sending') {
      entry.state = transition(entry.state, 'queued');
      writes.push(tx.store.put(entry));
    }
  }
  await Promise.all([...writes, tx.done]);
}

/**
 * Drop confirmed entries up to and including `upToSeq`. Rejected and
 * conflicting entries stay: the officer has to read why (dismissMutation).
 * @param {number} upToSeq
 * @returns {Promise<number>} how many were dropped
 */
export async function dropConfirmed(upToSeq) {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  let dropped = 0;
  let cursor = await tx.store.openCursor(IDBKeyRange.upperBound(upToSeq));
  while (cursor) {
    if (cursor.value.state === 'confirmed') {
      await cursor.delete();
      dropped += 1;
    }
    cursor = await cursor.continue();
  }
  await tx.done;
  return dropped;
}

/** Remove a rejected or conflicting entry once its notice was read. @param {number} seq */
export async function dismissMutation(seq) {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  const entry = await tx.store.get(seq);
  if (entry && entry.state !== 'rejected' && entry.state !== 'conflict') {
    abort(tx);
    throw new Error(`outbox entry ${seq} is ${entry.state}, not a settled failure`);
  }
  await Promise.all([entry && tx.store.delete(seq), tx.done]);
}

/**
 * Erase everything on this device (sign-out, device revoked).
 * Sign-out keeps the device identity: `client_id` (the server's device id),
 * its `device_secret` (the proof that this installation owns the id) and
 * `next_seq`, because the server remembers (client_id, seq) forever and
 * would answer a reused seq with the old outcome instead of applying it.
 * A revoked device passes keepDevice=false and becomes a new device.
 * @param {{keepDevice?: boolean}} [options]
 */
export async function wipeAll({ keepDevice = true } = {}) {
  const db = await getDb();
  const tx = db.transaction(['entities', 'outbox', 'meta'], 'readwrite');
  const meta = tx.objectStore('meta');
  const identity = ['client_id', 'next_seq', 'device_secret'];
  const kept = keepDevice ? await Promise.all(identity.map(async (k) => [k, await meta.get(k)])) : [];
  await Promise.all([tx.objectStore('entities').clear(), tx.objectStore('outbox').clear(), meta.clear()]);
  await Promise.all([...kept.filter(([, v]) => v !== undefined).map(([k, v]) => meta.put(v, k)), tx.done]);
}

/** Every replica entity (start-up). @returns {Promise<Entity[]>} */
export async function allEntities() {
  return (await getDb()).getAll('entities');
}

/**
 * Apply one pull page to the replica in one transaction, with the new cursor.
 * Replica records are `{type: <entity kind>, id, data: <server fields>}`.
 * @param {{puts: Array<{type: string, id: string, data: Record<string, unknown>}>, deletes: Array<[string, string]>, replace?: boolean, cursor: number}} page
 */
export async function applyPage({ puts, deletes, replace = false, cursor }) {
  const db = await getDb();
  const tx = db.transaction(['entities', 'meta'], 'readwrite');
  const store = tx.objectStore('entities');
  if (replace) await store.clear();
  const writes = [...deletes.map((key) => store.delete(key)), ...puts.map((e) => store.put(e)), tx.objectStore('meta').put(cursor, 'cursor')];
  await Promise.all([...writes, tx.done]);
}

/**
 * Record the server's outcomes for sent entries in one transaction.
 * Applied and merged become `confirmed` (kept until a later pull shows the
 * server state), rejected and conflict keep the server's readable reason.
 * @param {Array<{seq: number, outcome: string, reason_code?: string | null, reason?: string | null}>} results
 * @returns {Promise<OutboxEntry[]>} the entries that changed
 */
export async function settleResults(results) {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  const changed = [];
  for (const r of results) {
    const entry = await tx.store.get(r.seq);
    if (!entry || (entry.state !== 'sending' && entry.state !== 'queued')) continue;
    const to = r.outcome === 'rejected' ? 'rejected' : r.outcome === 'conflict' ? 'conflict' : 'confirmed';
    if (entry.state === 'queued') entry.state = transition('queued', 'sending');
    entry.state = transition(entry.state, to);
    entry.notice = to === 'confirmed' ? (r.outcome === 'merged' ? r.reason ?? null : null) : r.reason ?? r.reason_code ?? null;
    entry.reason_code = r.reason_code ?? null;
    // The outcome's parameters (field, limits, times): the apps word the refusal from them.
    entry.reason_params = r.result && typeof r.result === 'object' ? r.result : null;
    entry.outcome = r.outcome;
    await tx.store.put(entry);
    changed.push(entry);
  }
  await tx.done;
  return changed;
}

/**
 * Mark entries as sent (one transaction).
 * @param {number[]} seqs
 */
export async function markSending(seqs) {
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  for (const seq of seqs) {
    const entry = await tx.store.get(seq);
    if (entry && entry.state === 'queued') {
      entry.state = transition('queued', 'sending');
      await tx.store.put(entry);
    }
  }
  await tx.done;
}
