/**
 * Web Push: show what the server sent (server/push/sender.py, Notification.payload):
 *   { "title", "body", "tag", "url", "kind": "assignment" | "reassignment" | "alert", "id",
 *     "urgency": "high" | "normal" | … }
 * The texts come from the server in the officer's language; our own
 * strings only fill in for a missing title/body and label the actions.
 */
import { workerTranslator } from './sw-i18n.js';
import { safeTargetUrl } from './routes.js';
import { VIBRATION } from '../shared/vibration.js';

/**
 * @param {PushMessageData | null} data
 * @returns {Record<string, unknown>}
 */
function readPayload(data) {
  if (!data) return {};
  try {
    const value = data.json();
    return value && typeof value === 'object' ? value : {};
  } catch {
    return { body: data.text() };
  }
}

/** @param {PushEvent} event */
export function handlePush(event) {
  event.waitUntil(showPushNotification(readPayload(event.data)));
}

/** @param {Record<string, unknown>} payload */
export async function showPushNotification(payload) {
  const t = await workerTranslator();
  const str = (/** @type {unknown} */ v) => (typeof v === 'string' && v.trim() ? v : null);
  const tag = str(payload.tag);
  const alert = payload.kind === 'alert';
  /** @type {NotificationOptions & {actions: unknown[], vibrate: number[], renotify: boolean}} */
  const options = {
    body: str(payload.body) ?? t('push.default_body'),
    tag: tag ?? undefined,
    // Same tag = same assignment updated: replace the old one but still alert.
    renotify: tag !== null,
    // Urgent ones (emergencies, P1/P2 calls) stay on screen until someone taps them.
    requireInteraction: payload.urgency === 'high',
    vibrate: VIBRATION,
    icon: '/icons/icon-192.png',
    badge: '/icons/icon-192.png',
    // An emergency is looked at before it is acknowledged: no acknowledge-from-the-lock-screen.
    actions: alert
      ? [{ action: 'open', title: t('push.action_open') }]
      : [
          { action: 'open', title: t('push.action_open') },
          { action: 'acknowledge', title: t('push.action_acknowledge') },
        ],
    data: { url: safeTargetUrl(payload.url, self.location.origin), tag },
  };
  await self.registration.showNotification(str(payload.title) ?? t('push.default_title'), options);
}
