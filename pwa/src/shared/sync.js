/**
 * The sync client both apps use: local replica + outbox, websocket with HTTP
 * fallback, optimistic view. See pwa/README.md ("Sync client") for the API.
 *
 *   mutate(name, args) ──▶ outbox (IndexedDB) ──▶ view = replica + pending, re-applied
 *                               │ ws push / HTTP push
 *                               ▼
 *   server results ──▶ confirmed | rejected | conflict (notices)
 *   ws changes / HTTP pull ──▶ replica (IndexedDB) ──▶ confirmed entries leave the outbox
 *
 * The screen never waits for the network: every mutation is applied to the
 * view at once by an optimistic reducer (optimistic.js), and after every
 * pull the view is rebuilt from the server replica plus the entries still in
 * the outbox (a rebase).
 */
import { signal, batch } from '@preact/signals';
import { createConnection } from './connection.js';
import { createClock } from './hlc.js';
import {
  getMeta, setMeta, allEntities, applyPage, allMutations, enqueueMutation, markSending, settleResults,
  requeueSending, dismissMutation, getDb,
} from './db.js';
import { applyOptimistic } from './optimistic.js';
import { clockOffset, observeRoundTrip, resetSamples } from './clock.js';
import { connectionState, pendingCount, lastSyncAt } from './sync-status.js';

const PROTOCOL = 1;
const HEARTBEAT_MS = 20_000;
const PONG_TIMEOUT_MS = 10_000;
const HTTP_FALLBACK_MS = 15_000;
const PUSH_BATCH = 200;

/** Mutations not counted in pendingCount (background data, shown elsewhere). */
const QUIET = new Set(['unit.report_location']);

/** Position batches waiting in the outbox. */
export const pendingPositions = signal(0);

/** Fields the replica must never hold (personal data that is fetched, audited, on demand). */
const STRIPPED = { incident: ['caller_name', 'caller_phone'] };

/**
 * The screen's data: Map(type → Map(id → entity)). Entities made or changed
 * by an unsent mutation carry `_pending: true`.
 * @type {import('@preact/signals').Signal<Map<string, Map<string, Record<string, any>>>>}
 */
export const view = signal(new Map());

/**
 * Outbox entries the server refused (rejected / conflict) or merged with a
 * remark, for the user to read: {seq, name, state, notice, reason_code, device_at}.
 * @type {import('@preact/signals').Signal<Array<{seq: number, name: string, state: string, notice: string | null, reason_code: string | null, device_at: number}>>}
 */
export const notices = signal([]);

/** The newest change sequence the server had when this socket said hello (`hello.head`), or null. */
export const serverHead = signal(/** @type {number | null} */ (null));

/** Listeners for server changes as they land in the replica (the console refreshes REST details from them). */
const changeListeners = new Set();
/**
 * Call `fn(changes, {snapshot, cursor})` after every pull page or live change is applied.
 * @param {(changes: Array<Record<string, any>>, info: {snapshot: boolean, cursor: number}) => void} fn
 * @returns {() => void} stop listening
 */
export function onServerChanges(fn) {
  changeListeners.add(fn);
  return () => {
    changeListeners.delete(fn);
  };
}

/** 'revoked' | 'expired' | 'protocol' | null: why the session ended (the app shows it). */
export const syncEnded = signal(/** @type {string | null} */ (null));

/** @type {Map<string, Map<string, Record<string, any>>>} */
let replica = new Map();
/** @type {import('./db.js').OutboxEntry[]} */
let outbox = [];
let cursor = 0;
/** @type {ReturnType<typeof createConnection> | null} */
let conn = null;
/** @type {{token: string, onRevoked: () => void, onExpired: () => void, onMe: (me: Record<string, unknown>) => void, fetch: typeof fetch, persist: boolean} | null} */
let ctx = null;
/** @type {ReturnType<typeof createClock> | null} */
let clock = null;
let inFlight = false;
let pushId = 0;
let awaitingPull = false;
let heartbeat = /** @type {any} */ (null);
let pongTimer = /** @type {any} */ (null);
let fallbackTimer = /** @type {any} */ (null);
let httpBusy = false;
/** @type {Promise<void>} serialises replica writes so pages land in order */
let writes = Promise.resolve();

/* ------------------------------------------------------------------ view */

/**
 * A pending mutation's times moved onto the server's clock, for the screen only: the
 * replica's times are the server's, and the outbox keeps the device's (the server corrects them).
 * @param {import('./db.js').Mutation} m @param {number} offset
 */
function onServerClock(m, offset) {
  if (!offset) return m;
  const args = /** @type {any} */ (m.args);
  const pings = Array.isArray(args?.pings) ? args.pings.map((/** @type {any} */ p) => ({ ...p, at: p.at + offset })) : null;
  return { ...m, device_at: m.device_at + offset, ...(pings ? { args: { ...args, pings } } : {}) };
}

function rebuild() {
  /** @type {Map<string, Map<string, Record<string, any>>>} */
  const next = new Map(replica); // inner maps are shared; reducers copy the ones they change
  const offset = clockOffset.value;
  const list = [];
  for (const e of outbox) {
    if (e.state === 'queued' || e.state === 'sending' || (e.state === 'confirmed' && !(/** @type {any} */ (e).settled))) applyOptimistic(next, onServerClock(e.mutation, offset), e.state !== 'confirmed');
    if (e.state === 'rejected' || e.state === 'conflict' || (e.state === 'confirmed' && e.notice)) {
      list.push({ seq: e.seq, name: e.mutation.name, state: e.state, notice: e.notice, reason_code: /** @type {any} */ (e).reason_code ?? null, reason_params: /** @type {any} */ (e).reason_params ?? null, device_at: e.mutation.device_at });
    }
  }
  batch(() => {
    view.value = next;
    notices.value = list;
    // Position batches are reported by the position indicator, not counted as the user's changes.
    pendingCount.value = outbox.filter((e) => (e.state === 'queued' || e.state === 'sending') && !QUIET.has(e.mutation.name)).length;
    pendingPositions.value = outbox.filter((e) => (e.state === 'queued' || e.state === 'sending') && QUIET.has(e.mutation.name)).length;
  });
}

/** @param {string} type @returns {Array<Record<string, any>>} */
export function entities(type) {
  return [...(view.value.get(type)?.values() ?? [])];
}

/** @param {string} type @param {string | null | undefined} id */
export function entity(type, id) {
  return id ? view.value.get(type)?.get(id) ?? null : null;
}

/* ------------------------------------------------------------------ replica */

/** @param {Record<string, any>} change */
function toEntity(change) {
  const data = { ...change.data };
  for (const f of STRIPPED[/** @type {keyof typeof STRIPPED} */ (change.entity)] ?? []) delete data[f];
  return { ...data, id: change.entity_id };
}

/**
 * Apply changes (one pull page or one live change) to memory and IndexedDB.
 * @param {Array<Record<string, any>>} changes
 * @param {number} newCursor
 * @param {boolean} replace the page is a snapshot: it replaces the replica
 */
function applyChanges(changes, newCursor, replace = false) {
  if (replace) replica = new Map();
  const puts = [];
  /** @type {Array<[string, string]>} */
  const deletes = [];
  for (const ch of changes) {
    if (!replica.has(ch.entity)) replica.set(ch.entity, new Map());
    const m = /** @type {Map<string, any>} */ (replica.get(ch.entity));
    if (ch.op === 'delete') {
      m.delete(ch.entity_id);
      deletes.push([ch.entity, ch.entity_id]);
    } else {
      const e = toEntity(ch);
      m.set(ch.entity_id, e);
      puts.push({ type: ch.entity, id: ch.entity_id, data: e });
    }
    observeHlc(ch.data?.hlc ?? ch.data?.status_hlc);
  }
  cursor = Math.max(replace ? 0 : cursor, newCursor);
  if (ctx?.persist !== false) {
    const page = { puts, deletes, replace, cursor };
    writes = writes.then(() => applyPage(page)).catch(() => {});
  }
  rebuild();
  for (const fn of changeListeners) {
    try {
      fn(changes, { snapshot: replace, cursor });
    } catch {
      /* a listener's bug must not stop the sync */
    }
  }
}

/** @param {unknown} stamp */
function observeHlc(stamp) {
  if (clock && typeof stamp === 'string') {
    try {
      clock.update(stamp);
    } catch {
      /* a stamp far ahead (bad server clock) must not stop the app */
    }
  }
}

/* ------------------------------------------------------------------ outbox */

async function reloadOutbox() {
  outbox = await allMutations();
  rebuild();
}

/**
 * Record one user action. It is stored before this resolves (it survives a
 * reload or a closed app), shown at once, and sent when there is a link.
 * @param {string} name e.g. "unit.set_status"
 * @param {Record<string, unknown>} args
 * @param {{base_version?: number | null}} [options]
 * @returns {Promise<import('./db.js').OutboxEntry>}
 */
export async function mutate(name, args, { base_version = null } = {}) {
  if (!clock) throw new Error('sync is not started (sign in first)');
  const device_at = Date.now();
  const hlc = clock.now();
  const entry = await enqueueMutation({ name, args, hlc, device_at, base_version });
  setMeta('last_hlc', hlc).catch(() => {});
  outbox.push(entry);
  rebuild();
  /** @type {Promise<MutationResult>} */
  const result = new Promise((resolve) => waiters.set(entry.seq, resolve));
  flush();
  return Object.assign(entry, { result });
}

/**
 * @typedef {{seq: number, outcome: 'applied' | 'merged' | 'rejected' | 'conflict', reason_code: string | null, reason: string | null, result: unknown}} MutationResult
 */
/** seq → resolve of the `result` promise mutate() handed out (this page's session only). */
const waiters = new Map();

/** Read a notice: remove the refused entry (its effect already left the screen). @param {number} seq */
export async function dismissNotice(seq) {
  const e = outbox.find((x) => x.seq === seq);
  if (!e) return;
  if (e.state === 'confirmed') {
    e.notice = null;
    const db = await getDb();
    await db.put('outbox', e);
  } else {
    await dismissMutation(seq);
    outbox = outbox.filter((x) => x.seq !== seq);
  }
  rebuild();
}

/** Send what waits, now: over the socket if it is live, else over HTTP. */
export function flush() {
  if (!ctx) return;
  if (conn?.state === 'live') pushOverSocket();
  else if (navigator.onLine !== false) httpSync();
}

function queued() {
  return outbox.filter((e) => e.state === 'queued').slice(0, PUSH_BATCH);
}

function pushOverSocket() {
  if (inFlight || !conn || conn.state !== 'live') return;
  const batchToSend = queued();
  if (batchToSend.length === 0) return;
  inFlight = true;
  const seqs = batchToSend.map((e) => e.seq);
  for (const e of batchToSend) e.state = 'sending';
  const id = `r${++pushId}`;
  const sent = conn.send({ type: 'push', id, device_now: Date.now(), mutations: batchToSend.map((e) => e.mutation) });
  if (!sent) {
    for (const e of batchToSend) e.state = 'queued';
    inFlight = false;
    return;
  }
  markSending(seqs).catch(() => {});
}

/**
 * Outcomes came back (ws `results` or HTTP push response).
 * @param {{results: any[], last_seq?: number | null}} res
 */
async function onResults(res) {
  await markSending(res.results.map((r) => r.seq)).catch(() => {});
  await settleResults(res.results);
  await reloadOutbox();
  for (const r of res.results) {
    waiters.get(r.seq)?.(r);
    waiters.delete(r.seq);
  }
}

/** After a pull reached the end: confirmed entries up to the server's last_seq leave the outbox. @param {number | null | undefined} lastSeq */
async function dropSettled(lastSeq) {
  if (typeof lastSeq !== 'number') return;
  const db = await getDb();
  const tx = db.transaction('outbox', 'readwrite');
  let c = await tx.store.openCursor(IDBKeyRange.upperBound(lastSeq));
  while (c) {
    if (c.value.state === 'confirmed') {
      // With a remark (merged): kept until read, but no longer drawn over the server's state.
      if (c.value.notice) await c.update({ ...c.value, settled: true });
      else await c.delete();
    }
    c = await c.continue();
  }
  await tx.done;
  // Never hand out a seq the server has already seen (e.g. a restored phone).
  const next = (await getMeta('next_seq')) ?? 1;
  if (lastSeq >= next) await setMeta('next_seq', lastSeq + 1);
  await reloadOutbox();
}

let lastSyncStored = 0;
function synced() {
  const now = Date.now();
  lastSyncAt.value = now;
  // Live changes count as a sync too; storing it once in 10 s is enough for a reload.
  if (now - lastSyncStored > 10_000) {
    lastSyncStored = now;
    setMeta('last_sync_at', now).catch(() => {});
  }
}

/* ------------------------------------------------------------------ websocket */

/** @param {Record<string, any>} frame */
async function onFrame(frame) {
  switch (frame.type) {
    case 'hello':
      if (typeof frame.head === 'number') serverHead.value = frame.head;
      // Who the server says we are now: the unit of the shift a commander planned after
      // sign-in arrives here, on every connect, without signing in again.
      if (frame.me && typeof frame.me === 'object') ctx?.onMe(frame.me);
      conn?.authenticated();
      // A first round trip at once, so "how long ago" is on the server's clock from the start.
      resetSamples();
      conn?.send({ type: 'ping', t: Date.now() });
      return;
    case 'changes':
      applyChanges(frame.changes ?? [], frame.cursor ?? cursor, frame.snapshot === true);
      if (!frame.more) {
        await writes;
        synced();
        await dropSettled(frame.last_seq);
        awaitingPull = false;
        pushOverSocket();
      } else if (frame.id) {
        conn?.send({ type: 'pull', cursor });
      }
      return;
    case 'change':
      applyChanges([frame.change], frame.cursor ?? cursor);
      synced();
      return;
    case 'me':
      // The crew changed while connected (a shift planned, moved or ended).
      if (frame.me && typeof frame.me === 'object') ctx?.onMe(frame.me);
      return;
    case 'results':
      inFlight = false;
      await onResults(frame);
      synced();
      // Pull so the replica holds what the server made of them; then they leave the outbox.
      awaitingPull = true;
      conn?.send({ type: 'pull', cursor, id: `p${pushId}` });
      return;
    case 'pong':
      roundTrip(frame.t, frame.server_now);
      clearTimeout(pongTimer);
      pongTimer = null;
      return;
    default:
  }
}

/** A clock sample; pending edits are redrawn when the estimate moves. @param {unknown} sentAt @param {unknown} serverAt */
function roundTrip(sentAt, serverAt) {
  if (typeof sentAt !== 'number' || typeof serverAt !== 'number') return;
  const before = clockOffset.value;
  if (observeRoundTrip(sentAt, serverAt, Date.now()) !== before) rebuild();
}

function startHeartbeat() {
  stopHeartbeat();
  heartbeat = setInterval(() => {
    if (conn?.state !== 'live') return;
    conn.send({ type: 'ping', t: Date.now() });
    if (pongTimer === null) {
      pongTimer = setTimeout(() => {
        pongTimer = null;
        conn?.reconnect(); // the link is dead even if the socket says open
      }, PONG_TIMEOUT_MS);
    }
  }, HEARTBEAT_MS);
}

function stopHeartbeat() {
  clearInterval(heartbeat);
  clearTimeout(pongTimer);
  heartbeat = pongTimer = null;
}

/** @param {number} code */
function onClose(code) {
  if (code === 4403) {
    ended('revoked');
    return true;
  }
  if (code === 4401) {
    ended('expired');
    return true;
  }
  if (code === 4426) {
    ended('protocol');
    return true;
  }
  return false; // 1001, 4429, 1006 …: reconnect with backoff and resume from the cursor
}

/** @param {'revoked' | 'expired' | 'protocol'} why */
function ended(why) {
  const c = ctx;
  stopSync();
  syncEnded.value = why;
  if (why === 'revoked') c?.onRevoked();
  else if (why === 'expired') c?.onExpired();
}

/* ------------------------------------------------------------------ HTTP fallback */

/** @param {string} path @param {unknown} body */
async function post(path, body) {
  if (!ctx) throw new Error('stopped');
  const res = await ctx.fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ctx.token}` },
    body: JSON.stringify(body),
  });
  if (res.status === 401 || res.status === 403) {
    const err = await res.json().catch(() => ({}));
    ended(err.code === 'device_revoked' ? 'revoked' : 'expired');
    throw new Error(err.code ?? 'unauthorized');
  }
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

/** Push the outbox and pull to the end over HTTP (networks that break websockets; Background Sync). */
export async function httpSync() {
  if (httpBusy || !ctx || conn?.state === 'live') return;
  httpBusy = true;
  try {
    await requeueSending();
    await reloadOutbox();
    for (let round = 0; round < 20; round++) {
      const send = queued();
      if (send.length === 0) break;
      await markSending(send.map((e) => e.seq));
      const sentAt = Date.now();
      const res = await post('/api/sync/push', { mutations: send.map((e) => e.mutation), device_now: sentAt });
      roundTrip(sentAt, res.server_now);
      await onResults(res);
    }
    let lastSeq = null;
    for (let page = 0; page < 50; page++) {
      const res = await post('/api/sync/pull', { cursor, limit: 500 });
      applyChanges(res.changes ?? [], res.cursor ?? cursor, res.snapshot === true);
      lastSeq = res.last_seq;
      if (!res.more) break;
    }
    await writes;
    await dropSettled(lastSeq);
    synced();
  } catch {
    await requeueSending().catch(() => {});
    await reloadOutbox().catch(() => {});
  } finally {
    httpBusy = false;
  }
}

/* ------------------------------------------------------------------ life cycle */

/**
 * Load the replica and outbox from IndexedDB (works offline), then connect.
 * @param {object} options
 * @param {string} options.token session token
 * @param {string} options.deviceId the device id sent at sign-in (also the mutation client_id and HLC node)
 * @param {() => void} [options.onRevoked] the server revoked this device: the caller wipes and signs out
 * @param {() => void} [options.onExpired] the session is no longer valid: ask to sign in again (outbox kept)
 * @param {(me: Record<string, unknown>) => void} [options.onMe] the server's view of who we are (role, unit of
 *   the shift now), on every connect and whenever it changes
 * @param {string} [options.url] websocket URL (default: same origin /ws)
 * @param {typeof fetch} [options.fetch]
 * @param {boolean} [options.persist] keep the replica in IndexedDB (default true). A desk with a
 *   large scope can pass false: it starts from a snapshot each time; the outbox is always stored.
 */
export async function startSync({ token, deviceId, onRevoked = () => {}, onExpired = () => {}, onMe = () => {}, url, fetch: f = globalThis.fetch.bind(globalThis), persist = true }) {
  stopSync();
  syncEnded.value = null;
  ctx = { token, onRevoked, onExpired, onMe, fetch: f, persist };
  clock = createClock(deviceId);
  const lastHlc = await getMeta('last_hlc');
  observeHlc(lastHlc); // never stamp behind what we stamped before a reload
  cursor = persist ? (await getMeta('cursor')) ?? 0 : 0;
  const last = await getMeta('last_sync_at');
  if (typeof last === 'number') lastSyncAt.value = last;
  replica = new Map();
  for (const e of persist ? await allEntities() : []) {
    if (!replica.has(e.type)) replica.set(e.type, new Map());
    /** @type {Map<string, any>} */ (replica.get(e.type)).set(e.id, /** @type {any} */ (e).data ?? e);
  }
  await requeueSending();
  await reloadOutbox();
  if (!ctx) return; // stopped meanwhile

  const wsUrl = url ?? `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
  conn = createConnection({
    socketFactory: () => /** @type {any} */ (new WebSocket(wsUrl)),
    handlers: {
      onOpen: (c) => c.send({ type: 'auth', token, cursor, protocol: PROTOCOL }),
      onMessage: (frame) => {
        onFrame(frame).catch(() => {});
      },
      onClose: (code) => onClose(code),
      onStateChange: (state) => {
        connectionState.value = state;
        if (state === 'live') startHeartbeat();
        else {
          stopHeartbeat();
          if (inFlight || awaitingPull) {
            inFlight = awaitingPull = false;
            requeueSending().then(reloadOutbox).catch(() => {});
          }
        }
      },
    },
  });
  conn.start();
  // A socket that cannot get through (a proxy, a captive network): HTTP instead, now and then.
  fallbackTimer = setInterval(() => {
    if (conn && conn.state !== 'live' && navigator.onLine !== false && pendingCount.value > 0) httpSync();
  }, HTTP_FALLBACK_MS);
}

/**
 * Pull the whole scope again (a snapshot replaces the replica). Used when what this device
 * may see changed under it (an officer's unit changed): changes of the new unit from before
 * our cursor would otherwise never arrive. Over the socket when live; else at the next connect.
 */
export function resync() {
  cursor = 0;
  if (conn?.state === 'live') conn.send({ type: 'pull', cursor: 0, id: 'resync' });
}

/** Close the link and forget the in-memory state (IndexedDB is left as is). */
export function stopSync() {
  conn?.stop();
  conn = null;
  ctx = null;
  clock = null;
  inFlight = awaitingPull = false;
  stopHeartbeat();
  clearInterval(fallbackTimer);
  fallbackTimer = null;
  connectionState.value = 'stopped';
}

/** Forget the in-memory replica (after a wipe). */
export function resetView() {
  replica = new Map();
  outbox = [];
  cursor = 0;
  rebuild();
}
