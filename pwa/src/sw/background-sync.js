/**
 * Background Sync: the browser wakes the worker when connectivity returns.
 * The outbox is sent by the page (it holds the session and the socket), so
 * the worker only tells every open page to flush.
 */
export const OUTBOX_SYNC_TAG = 'patrol-outbox';

/** @param {Event & {tag: string, waitUntil(p: Promise<unknown>): void}} event */
export function handleSync(event) {
  if (event.tag !== OUTBOX_SYNC_TAG) return;
  event.waitUntil(askPagesToFlush());
}

async function askPagesToFlush() {
  const clients = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  for (const client of clients) client.postMessage({ type: 'FLUSH_OUTBOX' });
}
