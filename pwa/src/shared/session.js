/**
 * Who is signed in on this device, and the device's identity.
 *
 * The session (token + `me`) lives in IndexedDB so the app starts signed in
 * with no network. The device id is made once and kept across sign-outs (it
 * is the server's device and the mutations' client_id); only a revocation
 * makes the phone a new device.
 */
import { signal } from '@preact/signals';
import { getMeta, setMeta, wipeAll, closeDb } from './db.js';
import { uuidv7 } from './ids.js';
import { startSync, stopSync, resetView, flush, resync } from './sync.js';
import { pendingCount } from './sync-status.js';

/**
 * @typedef {object} Session
 * @property {string} user_id
 * @property {string} display_name
 * @property {'officer' | 'dispatcher' | 'commander' | 'admin'} role
 * @property {string} org_unit_id
 * @property {string} scope_path
 * @property {string | null} unit_id the officer's unit on this shift
 * @property {string} device_id
 */

/** @type {import('@preact/signals').Signal<Session | null>} */
export const session = signal(null);

/** The token of the signed-in session (not a signal: nothing renders it). */
let token = /** @type {string | null} */ (null);

/** Why the last session ended, for the sign-in screen: 'revoked' | 'expired' | 'signed_out' | null. */
export const endReason = signal(/** @type {string | null} */ (null));

/** True once restoreSession() has looked at IndexedDB. */
export const sessionLoaded = signal(false);

/** The device id, made on first use (kept in meta.client_id). */
export async function deviceId() {
  let id = await getMeta('client_id');
  if (!id) {
    id = crypto.randomUUID?.() ?? uuidv7();
    await setMeta('client_id', id);
  }
  return /** @type {string} */ (id);
}

export class SignInError extends Error {
  /** @param {string} code @param {string} message @param {number | null} [retryAfter] */
  constructor(code, message, retryAfter = null) {
    super(message);
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * @param {string} username @param {string} password
 * @param {{deviceLabel?: string}} [options]
 */
export async function signIn(username, password, { deviceLabel } = {}) {
  let attempt = await postLogin(username, password, deviceLabel);
  if (attempt.res.status === 403 && attempt.body.code === 'device_not_yours') {
    // The server does not know this installation's secret for the id (another installation
    // registered it first): become a new device and sign in once more. Sign-out already
    // emptied the outbox, so nothing pending belongs to the old id.
    await wipeAll({ keepDevice: false });
    attempt = await postLogin(username, password, deviceLabel);
  }
  const { res, body, device_id } = attempt;
  if (!res.ok) {
    const retry = Number(res.headers.get('retry-after')) || null;
    if (body.code === 'device_revoked') await wipeAll({ keepDevice: false });
    throw new SignInError(body.code ?? `http_${res.status}`, body.message ?? String(res.status), retry);
  }
  if (body.device_secret) await setMeta('device_secret', body.device_secret);
  const me = { ...body.me, device_id: body.me?.device_id ?? device_id };
  await setMeta('session', { token: body.token, expires_at: body.expires_at, me });
  endReason.value = null;
  await begin(body.token, me);
  return me;
}

/** @param {string} username @param {string} password @param {string | undefined} deviceLabel */
async function postLogin(username, password, deviceLabel) {
  const device_id = await deviceId();
  const device_secret = (await getMeta('device_secret')) ?? undefined;
  let res;
  try {
    res = await fetch('/api/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password, device_id, device_secret, device_label: deviceLabel ?? defaultLabel() }),
    });
  } catch {
    throw new SignInError('offline', 'offline');
  }
  const body = await res.json().catch(() => ({}));
  return { res, body, device_id };
}

function defaultLabel() {
  const ua = navigator.userAgent;
  const m = /Android[^;)]*|iPhone|iPad|Windows|Mac OS X|Linux/.exec(ua);
  return `Patrol app (${m ? m[0] : 'browser'})`;
}

/** Start from what this device remembers (works offline). */
export async function restoreSession() {
  try {
    const saved = await getMeta('session');
    if (saved?.token && saved.me) await begin(saved.token, saved.me);
  } finally {
    sessionLoaded.value = true;
  }
}

/** Options for startSync that the app chooses once (the console: {persist: false}). */
let syncOptions = { persist: true };
/** @param {{persist?: boolean}} options */
export function configureSession(options) {
  syncOptions = { ...syncOptions, ...options };
}

/** @param {string} t @param {Session} me */
async function begin(t, me) {
  token = t;
  session.value = me;
  await startSync({
    ...syncOptions,
    token: t,
    deviceId: me.device_id,
    onRevoked: () => {
      wipeDevice('revoked');
    },
    onMe: (fresh) => {
      adoptMe(/** @type {Partial<Session>} */ (fresh)).catch(() => {});
    },
    onExpired: () => {
      // Keep the outbox: after signing in again it is sent as if nothing happened.
      token = null;
      session.value = null;
      setMeta('session', null).catch(() => {});
      endReason.value = 'expired';
    },
  });
}

/**
 * The server's current view of this session (its unit above all) replaces the stored one:
 * an officer put on a shift after signing in gets the unit without signing in again.
 * @param {Partial<Session>} fresh
 */
export async function adoptMe(fresh) {
  const current = session.value;
  if (!current || (fresh.user_id && fresh.user_id !== current.user_id)) return;
  const next = { ...current, ...fresh, device_id: current.device_id };
  const keys = /** @type {Array<keyof Session>} */ (['unit_id', 'role', 'scope_path', 'org_unit_id', 'display_name']);
  if (keys.every((k) => next[k] === current[k])) return;
  session.value = next;
  const saved = await getMeta('session');
  if (saved?.token) await setMeta('session', { ...saved, me: next });
  // Another unit means another scope: what it had before our cursor must come too.
  if (next.unit_id !== current.unit_id) resync();
}

/** Hooks the apps add to run on wipe (push unsubscribe, position watch …). */
const onWipe = /** @type {Array<() => Promise<void> | void>} */ ([]);
/** @param {() => Promise<void> | void} fn */
export function addWipeHook(fn) {
  onWipe.push(fn);
}

/**
 * Erase this device's data and end the session.
 * @param {'revoked' | 'signed_out'} why
 */
let wiping = false;
async function wipeDevice(why) {
  if (wiping) return;
  wiping = true;
  try {
    await wipe(why);
  } finally {
    wiping = false;
  }
}

/** @param {'revoked' | 'signed_out'} why */
async function wipe(why) {
  stopSync();
  if (why === 'revoked') token = null; // the server refuses it anyway
  for (const fn of onWipe) await Promise.resolve().then(fn).catch(() => {});
  await wipeAll({ keepDevice: why !== 'revoked' });
  // Our API responses are never cached (sw routes /api to the network only); drop any runtime cache anyway.
  try {
    for (const name of await caches.keys()) if (name.includes('runtime')) await caches.delete(name);
  } catch {
    /* no CacheStorage */
  }
  resetView();
  token = null;
  session.value = null;
  endReason.value = why;
}

/** Sign out: the server forgets the session, the device forgets everything but its id. */
export async function signOut() {
  const t = token;
  if (t) {
    fetch('/api/auth/logout', { method: 'POST', headers: { authorization: `Bearer ${t}` } }).catch(() => {});
  }
  await wipeDevice('signed_out');
}

/** How many changes would be lost by signing out now. */
export function unsentCount() {
  return pendingCount.value;
}

/**
 * GET (or other) a JSON API with the session token. A revoked device is
 * wiped; an expired session asks to sign in again. Throws on other errors.
 * @param {string} path
 * @param {RequestInit} [init]
 */
export async function api(path, init = {}) {
  if (!token) throw new Error('not signed in');
  const res = await fetch(path, { ...init, headers: { ...(init.headers ?? {}), authorization: `Bearer ${token}`, ...(init.body ? { 'content-type': 'application/json' } : {}) } });
  if (res.status === 401) {
    const body = await res.json().catch(() => ({}));
    if (body.code === 'device_revoked') await wipeDevice('revoked');
    else if (token) {
      stopSync();
      token = null;
      session.value = null;
      await setMeta('session', null).catch(() => {});
      endReason.value = 'expired';
    }
    throw new Error(body.code ?? 'unauthorized');
  }
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw Object.assign(new Error(body.message ?? `HTTP ${res.status}`), { code: body.code, status: res.status });
  }
  return res.json();
}

export { flush, closeDb };
