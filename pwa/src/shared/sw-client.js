/**
 * The page's side of the service worker: registration, the "update
 * available" prompt, and messages the worker sends (flush the outbox,
 * acknowledge from a notification).
 */
import { Workbox } from 'workbox-window';
import { signal } from '@preact/signals';

export const SYNC_TAG = 'patrol-outbox';

/** A new version is installed and waiting for the user's consent. */
export const updateWaiting = signal(false);

/** Bumped when the worker asks the page to send the outbox now. */
export const flushRequests = signal(0);

/**
 * Set when the officer tapped "acknowledge" on a notification: the url of
 * the notification (it names the assignment). The assignment screen
 * consumes it and sets it back to null.
 * @type {import('@preact/signals').Signal<string | null>}
 */
export const acknowledgeRequest = signal(null);

/** @type {Workbox | null} */
let wb = null;
let userAccepted = false;

export function registerServiceWorker() {
  takeAckFromUrl();
  if (!('serviceWorker' in navigator)) return;
  navigator.serviceWorker.addEventListener('message', (event) => handleMessage(event.data));
  navigator.serviceWorker.startMessages();

  wb = new Workbox('/sw.js', { scope: '/' });
  // Never skip waiting on our own: a half-filled report must not be lost to a reload.
  wb.addEventListener('waiting', () => (updateWaiting.value = true));
  wb.addEventListener('controlling', () => {
    if (userAccepted) location.reload();
  });
  wb.register().catch(() => {
    /* no worker (http, private mode): the app still runs online */
  });
}

/** The user accepted the update: activate the new worker, then reload. */
export function acceptUpdate() {
  if (!wb) return;
  userAccepted = true;
  updateWaiting.value = false;
  wb.messageSkipWaiting(); // posts {type: "SKIP_WAITING"}
}

export function dismissUpdate() {
  updateWaiting.value = false;
}

/** Ask for a Background Sync when the outbox could not be sent. */
export async function requestBackgroundSync() {
  try {
    const registration = await navigator.serviceWorker.ready;
    await /** @type {any} */ (registration).sync?.register(SYNC_TAG);
  } catch {
    /* unsupported (Firefox, Safari): the page flushes on the online event instead */
  }
}

/** @param {unknown} data */
function handleMessage(data) {
  if (!data || typeof data !== 'object') return;
  const message = /** @type {{type?: unknown, url?: unknown}} */ (data);
  if (message.type === 'FLUSH_OUTBOX') flushRequests.value += 1;
  else if (message.type === 'ACKNOWLEDGE' && typeof message.url === 'string') acknowledgeRequest.value = message.url;
}

/** Opened from a notification's "acknowledge" with no window open: the url ends in #ack. */
function takeAckFromUrl() {
  if (location.hash !== '#ack') return;
  const url = location.href.slice(0, -'#ack'.length);
  history.replaceState(history.state, '', url);
  acknowledgeRequest.value = url;
}
