/**
 * What the sync-state indicator shows: network and server connection,
 * how many changes wait in the outbox, when we last synced.
 * The sync engine (not written yet) drives `connectionState` from
 * connection.js and calls refreshPending() after outbox changes.
 */
import { signal } from '@preact/signals';
import { pendingMutations, getMeta } from './db.js';

/** Whether the browser believes it has a network at all. */
export const networkOnline = signal(globalThis.navigator?.onLine ?? true);

/** @type {import('@preact/signals').Signal<import('./connection.js').ConnectionState>} */
export const connectionState = signal('stopped');

export const pendingCount = signal(0);

/** @type {import('@preact/signals').Signal<number | null>} ms epoch */
export const lastSyncAt = signal(null);

/** A clock for "5 min ago" labels; ticks slowly to spare the battery. */
export const minuteTick = signal(Date.now());

export async function refreshPending() {
  try {
    pendingCount.value = (await pendingMutations()).length;
  } catch {
    /* IndexedDB unavailable (private mode on some browsers): keep 0 */
  }
}

export function startSyncStatus() {
  addEventListener('online', () => (networkOnline.value = true));
  addEventListener('offline', () => (networkOnline.value = false));
  setInterval(() => (minuteTick.value = Date.now()), 30_000);
  refreshPending();
  getMeta('last_sync_at')
    .then((at) => {
      if (typeof at === 'number') lastSyncAt.value = at;
    })
    .catch(() => {});
}
