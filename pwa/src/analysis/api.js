/**
 * REST access for the analysis page. Someone signed in on /console in this
 * browser is signed in here too: the page borrows the console's session from
 * the console's IndexedDB (read only; the console owns it). Otherwise the page
 * signs in on its own (kept in localStorage, as a device of its own).
 */
import { signal } from '@preact/signals';
import { uuidv7 } from '../shared/ids.js';
import { readLocal, writeLocal } from '../shared/storage.js';
import { configureDb, getMeta } from '../shared/db.js';

const SESSION_KEY = 'patrol.console.session';
const DEVICE_KEY = 'patrol.console.device';
/** The secret the server gave this device id at its first sign-in (proves the id is ours). */
const SECRET_KEY = 'patrol.console.device_secret';

function loadSession() {
  try {
    const s = JSON.parse(readLocal(SESSION_KEY) ?? 'null');
    if (s && s.token && s.expires_at > Date.now()) return s;
  } catch {
    /* corrupt: sign in again */
  }
  return null;
}

/** @type {import('@preact/signals').Signal<{token: string, expires_at: number, me: any} | null>} */
export const session = signal(loadSession());
/** False until the console's session has been looked for (the page waits rather than flash a login). */
export const sessionChecked = signal(session.value !== null);

/** Borrow the console's session in this browser, if it has a live one. */
export async function adoptConsoleSession() {
  try {
    if (!session.value) {
      configureDb('patrol-console');
      const s = /** @type {any} */ (await getMeta('session'));
      if (s?.token && s.expires_at > Date.now() && s.me) session.value = { token: s.token, expires_at: s.expires_at, me: s.me };
    }
  } catch {
    /* no IndexedDB (private mode): sign in here */
  } finally {
    sessionChecked.value = true;
  }
}

function deviceId() {
  let id = readLocal(DEVICE_KEY);
  if (!id) {
    id = uuidv7();
    writeLocal(DEVICE_KEY, id);
  }
  return id;
}

export class ApiError extends Error {
  /** @param {number} status @param {string} code @param {string} message @param {string} [field] */
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

/** @param {Record<string, unknown>} [params] */
export function query(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** @param {string} path @param {{method?: string, body?: unknown, auth?: boolean, raw?: boolean}} [opts] */
export async function api(path, { method = 'GET', body, auth = true, raw = false } = {}) {
  /** @type {Record<string, string>} */
  const headers = { accept: raw ? '*/*' : 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const s = session.value;
  if (auth && s) headers.authorization = `Bearer ${s.token}`;
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    if (res.status === 401 && auth) signOutLocal();
    throw new ApiError(res.status, data?.code ?? 'http_error', data?.message ?? res.statusText, data?.field);
  }
  if (raw) return res;
  if (res.status === 204) return null;
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

/** @param {string} username @param {string} password */
export async function signIn(username, password) {
  const login = () =>
    api('/api/auth/login', {
      method: 'POST',
      auth: false,
      body: {
        username,
        password,
        device_id: deviceId(),
        device_secret: readLocal(SECRET_KEY) ?? undefined,
        device_label: 'Analysis (desk)',
      },
    });
  let data;
  try {
    data = await login();
  } catch (err) {
    if (!(err instanceof ApiError && err.code === 'device_not_yours')) throw err;
    // Another installation owns this id (the server never saw our secret): become a new device.
    writeLocal(DEVICE_KEY, null);
    writeLocal(SECRET_KEY, null);
    data = await login();
  }
  if (data.device_secret) writeLocal(SECRET_KEY, data.device_secret);
  delete data.device_secret;
  writeLocal(SESSION_KEY, JSON.stringify(data));
  session.value = data;
  return data;
}

function signOutLocal() {
  writeLocal(SESSION_KEY, null);
  session.value = null;
}

export async function signOut() {
  try {
    await api('/api/auth/logout', { method: 'POST' });
  } catch {
    /* signed out locally either way */
  }
  signOutLocal();
}

/**
 * Download a report as CSV: fetched with the bearer token (a plain link
 * could not send it), saved under the server's file name.
 * @param {string} path e.g. /api/analytics/response-times/csv?from=…
 */
export async function downloadCsv(path) {
  const res = /** @type {Response} */ (await api(path, { raw: true }));
  const disposition = res.headers.get('content-disposition') ?? '';
  const name = /filename="([^"]+)"/.exec(disposition)?.[1] ?? 'report.csv';
  const blob = await res.blob();
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.hidden = true;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
