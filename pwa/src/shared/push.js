/**
 * Web Push on/off. subscribe() is wrapped in a timeout: without a reachable
 * push service it fails at once or never settles (STACK-NOTES), and the
 * user must be told plainly that notifications then only arrive while the page is open.
 * Used by the officer app (assignments) and the console (emergency alerts).
 *
 * pushState: 'off' | 'working' | 'on' | 'denied' | 'unsupported' | 'failed'
 */
import { signal } from '@preact/signals';
import { api } from './session.js';
import { readLocal, writeLocal } from './storage.js';

export const SUBSCRIBE_TIMEOUT_MS = 8000;
const KEY = 'patrol.push';

export const pushState = signal(readLocal(KEY) === 'on' ? 'on' : 'off');

/** @param {string} b64 base64url */
function toBytes(b64) {
  const s = atob(b64.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** @template T @param {Promise<T>} p @param {number} ms */
function withTimeout(p, ms) {
  return Promise.race([p, new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), ms))]);
}

export async function enablePush() {
  if (!('serviceWorker' in navigator) || !('PushManager' in globalThis) || !('Notification' in globalThis)) {
    pushState.value = 'unsupported';
    return;
  }
  pushState.value = 'working';
  try {
    const permission = await Notification.requestPermission();
    if (permission !== 'granted') {
      pushState.value = 'denied';
      return;
    }
    const { public_key: key } = await api('/api/push/key');
    const reg = await withTimeout(navigator.serviceWorker.ready, SUBSCRIBE_TIMEOUT_MS);
    const sub = /** @type {PushSubscription} */ (
      await withTimeout(reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: toBytes(key) }), SUBSCRIBE_TIMEOUT_MS)
    );
    const json = sub.toJSON();
    await api('/api/push/subscriptions', { method: 'POST', body: JSON.stringify({ endpoint: json.endpoint, keys: json.keys }) });
    pushState.value = 'on';
    writeLocal(KEY, 'on');
  } catch {
    pushState.value = 'failed';
    writeLocal(KEY, null);
  }
}

export async function disablePush() {
  pushState.value = 'working';
  try {
    const reg = await withTimeout(navigator.serviceWorker.ready, 3000);
    const sub = await reg.pushManager.getSubscription();
    if (sub) {
      await api('/api/push/subscriptions', { method: 'DELETE', body: JSON.stringify({ endpoint: sub.endpoint }) }).catch(() => {});
      await sub.unsubscribe();
    }
  } catch {
    /* nothing subscribed */
  }
  pushState.value = 'off';
  writeLocal(KEY, null);
}
