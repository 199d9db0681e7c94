"""Web Push: VAPID keys, stored subscriptions and a background sender.

Officers' phones get assignments and emergency alerts as Web Push messages
when the app is closed. The pieces:

* :mod:`server.push.keys` — the VAPID key pair, created on first start;
* :mod:`server.push.subscriptions` — subscriptions over the storage port;
* :mod:`server.push.sender` — encryption (RFC 8291), VAPID (RFC 8292),
  delivery with retries, and a bounded background queue;
* :mod:`server.push.cli` — ``patrol vapid``.
"""

from server.push.keys import VapidKeyError, VapidKeys, load_or_create
from server.push.sender import (
    Notification,
    PushMetrics,
    PushSender,
    SendOutcome,
    alert_notification,
    assignment_notification,
)
from server.push.subscriptions import (
    Subscription,
    delete_subscription,
    subscriptions_for_devices,
    subscriptions_for_users,
    upsert_subscription,
)

__all__ = [
    "Notification", "PushMetrics", "PushSender", "SendOutcome", "Subscription",
    "VapidKeyError", "VapidKeys", "alert_notification", "assignment_notification",
    "delete_subscription", "load_or_create", "subscriptions_for_devices",
    "subscriptions_for_users", "upsert_subscription",
]
