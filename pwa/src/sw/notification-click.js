/**
 * A tap on a notification or one of its actions.
 * - "acknowledge": hand the acknowledgement to an open page (it owns the
 *   outbox and the session); with no page open, open one with #ack.
 * - "open" or the body: focus a window already showing the url, or open it.
 */
import { safeTargetUrl } from './routes.js';

/** @param {NotificationEvent} event */
export function handleNotificationClick(event) {
  event.notification.close();
  const url = safeTargetUrl(event.notification.data?.url, self.location.origin);
  event.waitUntil(event.action === 'acknowledge' ? acknowledge(url) : focusOrOpen(url));
}

async function windows() {
  return /** @type {WindowClient[]} */ (await self.clients.matchAll({ type: 'window', includeUncontrolled: true }));
}

/** @param {string} url */
async function acknowledge(url) {
  const [client] = await windows();
  if (client) {
    client.postMessage({ type: 'ACKNOWLEDGE', url });
    await client.focus();
    return;
  }
  await self.clients.openWindow(`${url.split('#')[0]}#ack`);
}

/** @param {string} url */
async function focusOrOpen(url) {
  const all = await windows();
  const same = all.find((c) => c.url === url);
  if (same) {
    await same.focus();
    return;
  }
  const [any] = all;
  if (any) {
    // Reuse the app's window rather than stacking new ones.
    const navigated = await any.navigate(url).catch(() => null);
    await (navigated ?? any).focus();
    return;
  }
  await self.clients.openWindow(url);
}
