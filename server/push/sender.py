"""Deliver Web Push messages: encrypt, sign, POST, retry; a bounded background queue.

Encryption (RFC 8291, ``aes128gcm``) is done by the ``webpush`` package; the
request headers are set here, because ``webpush`` 1.0.6 gets some of them
wrong for our use (measured, see STACK-NOTES): its default ``TTL`` is 0, a
per-call ``ttl``/``subscriber`` overwrites the instance's value for later
calls (and a per-call ttl of 0 is ignored), and its VAPID token's audience
drops the endpoint's port. So only ``WebPush.get(...).encrypted`` is used;
``TTL``, ``Urgency``, ``Topic`` and the VAPID ``Authorization`` (RFC 8292,
audience = the endpoint's origin, tokens cached per origin) are built here.

Outcomes of one delivery: 2xx → sent; 404/410 → the subscription is gone
and deleted; 408/429/5xx/network error → retried with exponential backoff
and jitter (``Retry-After`` honoured), up to ``max_attempts``; any other
status → failed at once. Nothing of this raises into the caller.

The background side: :meth:`PushSender.enqueue` returns at once; a
dispatcher task feeds a bounded number of in-flight deliveries. The queue is
bounded; when it is full the oldest non-alert notification is dropped (and
logged). Alerts are never dropped and are always taken before other
notifications.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import httpx
import jwt
from webpush import WebPush
from webpush.types import WebPushSubscription

from server.push.keys import VapidKeys
from server.push.subscriptions import (
    Subscription,
    delete_subscription,
    record_delivery,
    subscriptions_for_devices,
    subscriptions_for_users,
)
from sync.clock import now_ms
from sync.store import Database

log = logging.getLogger(__name__)

Urgency = Literal["very-low", "low", "normal", "high"]
Kind = Literal["assignment", "reassignment", "alert"]
URGENCIES: tuple[str, ...] = ("very-low", "low", "normal", "high")
KINDS: tuple[str, ...] = ("assignment", "reassignment", "alert")

# Push services refuse bodies over 4,096 bytes; encryption adds 86 bytes of
# header, 1 padding delimiter and a 16-byte tag. Stay well below.
MAX_PAYLOAD_BYTES = 3000
MAX_TTL_S = 28 * 24 * 3600          # push services keep messages at most ~4 weeks
ASSIGNMENT_TTL_S = 3600
ALERT_TTL_S = 300
_MAX_TEXT = 400                      # characters of title/body kept by the helpers
_TOPIC_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
_RECORD_SUCCESS_EVERY_MS = 3600_000  # refresh last_success_at at most hourly per subscription


class SendOutcome(str, Enum):
    SENT = "sent"
    GONE = "gone"        # 404/410: subscription deleted
    FAILED = "failed"    # permanent error, or retries exhausted


@dataclass
class PushMetrics:
    """Counters since start, for observability (read them, don't write them)."""

    sent: int = 0        # deliveries the push service accepted (2xx)
    failed: int = 0      # deliveries given up (permanent error or retries exhausted)
    gone: int = 0        # subscriptions deleted after 404/410
    retried: int = 0     # retry attempts made
    enqueued: int = 0    # notifications accepted by enqueue()
    dropped: int = 0     # notifications dropped (queue full, or enqueued after stop)
    expired: int = 0     # deliveries skipped because the TTL ran out while queued

    def snapshot(self) -> dict[str, int]:
        return asdict(self)


# -- notifications -----------------------------------------------------------

def encode_payload(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; ValueError if it exceeds MAX_PAYLOAD_BYTES."""
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if len(data) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"payload: {len(data)} bytes of JSON, more than the {MAX_PAYLOAD_BYTES} allowed")
    return data


def push_topic(value: str | None) -> str | None:
    """A valid ``Topic`` header (≤ 32 base64url characters) for any string key."""
    if value is None or value == "":
        return None
    if _TOPIC_RE.match(value):
        return value
    digest = hashlib.sha256(value.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:32]


def _check_urgency(urgency: str) -> None:
    if urgency not in URGENCIES:
        raise ValueError(f"urgency: must be one of {', '.join(URGENCIES)}, got {urgency!r}")


def _check_ttl(ttl_s: Any) -> None:
    if not isinstance(ttl_s, int) or isinstance(ttl_s, bool) or not 0 <= ttl_s <= MAX_TTL_S:
        raise ValueError(f"ttl_s: must be an integer from 0 to {MAX_TTL_S} seconds, got {ttl_s!r}")


@dataclass(frozen=True)
class Notification:
    """One message for the service worker, plus its delivery options.

    ``payload()`` is what the service worker receives:
    ``{"title", "body", "tag", "url", "kind", "id", "urgency"}``.
    """

    kind: Kind
    id: str
    title: str
    body: str
    tag: str
    url: str
    urgency: Urgency
    ttl_s: int
    topic: str | None = None   # push-service side replacement of a pending message

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"kind: must be one of {', '.join(KINDS)}, got {self.kind!r}")
        _check_urgency(self.urgency)
        _check_ttl(self.ttl_s)
        for name in ("id", "title", "tag"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValueError(f"{name}: required")
        encode_payload(self.payload())

    @property
    def is_alert(self) -> bool:
        return self.kind == "alert"

    def payload(self) -> dict[str, Any]:
        return {"title": self.title, "body": self.body, "tag": self.tag, "url": self.url,
                "kind": self.kind, "id": self.id, "urgency": self.urgency}


def _clip(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _link(public_url: str, key: str, value: str, page: str = "/") -> str:
    return f"{public_url.rstrip('/')}{page}?{key}={quote(value, safe='')}"


def assignment_notification(*, assignment_id: str, incident_id: str, summary: str,
                            public_url: str, address: str | None = None,
                            priority: int | None = None, incident_number: str | None = None,
                            reassignment: bool = False, urgency: Urgency = "normal",
                            ttl_s: int = ASSIGNMENT_TTL_S) -> Notification:
    """A (re)assignment for the officers of a unit.

    The tag and the push topic are per incident, so a reassignment replaces
    the earlier notification on the phone (tag) and, if still undelivered,
    at the push service (topic).
    """
    head = "Assignment changed" if reassignment else "New assignment"
    if priority is not None:
        head = f"P{priority} · {head}"
    if incident_number:
        head = f"{head} · {incident_number}"
    body = summary if not address else f"{summary} — {address}"
    return Notification(
        kind="reassignment" if reassignment else "assignment",
        id=assignment_id,
        title=_clip(head, 120),
        body=_clip(body),
        tag=f"incident:{incident_id}",
        url=_link(public_url, "assignment", assignment_id),
        urgency=urgency,
        ttl_s=ttl_s,
        topic=push_topic(f"incident:{incident_id}"),
    )


def alert_notification(*, alert_id: str, call_sign: str, public_url: str,
                       message: str | None = None, officer_name: str | None = None,
                       ttl_s: int = ALERT_TTL_S) -> Notification:
    """An emergency alert: urgency high, short TTL, never coalesced (no topic)."""
    who = f"{call_sign} ({officer_name})" if officer_name else call_sign
    return Notification(
        kind="alert",
        id=alert_id,
        title=_clip(f"EMERGENCY · {who}", 120),
        body=_clip(message or "Officer needs urgent assistance"),
        tag=f"alert:{alert_id}",
        # Alerts go to the desk staff: the link opens the console, not the officer app.
        url=_link(public_url, "alert", alert_id, "/console"),
        urgency="high",
        ttl_s=ttl_s,
        topic=None,
    )


# -- VAPID ---------------------------------------------------------------------

def endpoint_origin(endpoint: str) -> str:
    """RFC 6454 origin of the endpoint: scheme://host[:port unless default]."""
    parts = urlsplit(endpoint)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    default = {"https": 443, "http": 80}.get(scheme)
    return f"{scheme}://{host}" if port is None or port == default else f"{scheme}://{host}:{port}"


def vapid_sub(subject: str) -> str:
    """``mailto:`` for a bare e-mail (as the settings hold it); https:/mailto: kept."""
    subject = subject.strip()
    if subject.startswith(("mailto:", "https://")):
        return subject
    if "@" not in subject:
        raise ValueError(f"vapid_subject: expected a contact e-mail, got {subject!r}")
    return f"mailto:{subject}"


class VapidSigner:
    """``Authorization: vapid t=<ES256 JWT>, k=<public key>``, cached per audience."""

    def __init__(self, keys: VapidKeys, subject: str, *, lifetime_s: int = 12 * 3600,
                 clock: Callable[[], float] = time.time) -> None:
        if not 600 <= lifetime_s <= 24 * 3600:
            raise ValueError("lifetime_s: VAPID tokens must live between 10 minutes and 24 hours")
        self._keys = keys
        self._sub = vapid_sub(subject)
        self._lifetime = lifetime_s
        self._clock = clock
        self._cache: dict[str, tuple[str, int]] = {}

    def header(self, endpoint: str) -> str:
        aud = endpoint_origin(endpoint)
        now = int(self._clock())
        cached = self._cache.get(aud)
        if cached is not None and cached[1] - now > self._lifetime // 4:
            return cached[0]
        exp = now + self._lifetime
        token = jwt.encode({"aud": aud, "exp": exp, "sub": self._sub},
                           self._keys.private_key, algorithm="ES256")
        value = f"vapid t={token}, k={self._keys.application_server_key}"
        if len(self._cache) > 1000:
            self._cache.clear()
        self._cache[aud] = (value, exp)
        return value


# -- the queue -----------------------------------------------------------------

@dataclass
class _Item:
    notification: Notification
    user_ids: tuple[str, ...]
    device_ids: tuple[str, ...]
    enqueued_at: float = field(default_factory=time.monotonic)
    on_done: Callable[[], None] | None = None  # delivered, refused, gone, expired or dropped: not to be resent


class _PushQueue:
    """Bounded FIFO with two lanes: alerts (never dropped, served first) and the rest."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._alerts: deque[_Item] = deque()
        self._other: deque[_Item] = deque()
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._alerts) + len(self._other)

    def put(self, item: _Item) -> _Item | None:
        """Add an item; return the item dropped to make room, if any."""
        dropped = None
        if len(self) >= self.maxsize:
            if self._other:
                dropped = self._other.popleft()
            elif not item.notification.is_alert:
                return item  # only alerts queued: the newcomer is the only non-alert
        (self._alerts if item.notification.is_alert else self._other).append(item)
        self._ready.set()
        return dropped

    async def get(self) -> _Item:
        while not len(self):
            self._ready.clear()
            await self._ready.wait()
        return self._alerts.popleft() if self._alerts else self._other.popleft()


def _finished(item: _Item) -> None:
    if item.on_done is not None:
        try:
            item.on_done()
        except Exception:
            log.exception("push: on_done callback failed")


def _host(endpoint: str) -> str:
    """For logs: the push service's host, never the full (secret-ish) endpoint."""
    return urlsplit(endpoint).hostname or "?"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# -- the sender ------------------------------------------------------------------

class PushSender:
    """Sends Web Push messages; owns an ``httpx.AsyncClient`` unless given one.

    ``db`` is needed for :meth:`enqueue` (targets are resolved to stored
    subscriptions) and to delete gone subscriptions; :meth:`send` works
    without it. Call everything from the event loop's thread.
    """

    def __init__(self, keys: VapidKeys, subject: str, db: Database | None = None, *,
                 client: httpx.AsyncClient | None = None,
                 queue_size: int = 1000,
                 max_in_flight: int = 32,
                 max_attempts: int = 5,
                 backoff_base_s: float = 0.5,
                 backoff_max_s: float = 30.0,
                 max_retry_after_s: float = 300.0,
                 timeout_s: float = 10.0,
                 drain_timeout_s: float = 5.0,
                 rng: Callable[[], float] = random.random,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep) -> None:
        if queue_size < 1 or max_in_flight < 1 or max_attempts < 1:
            raise ValueError("queue_size, max_in_flight and max_attempts must be at least 1")
        self.keys = keys
        self.db = db
        self.metrics = PushMetrics()
        self.max_attempts = max_attempts
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.max_retry_after_s = max_retry_after_s
        self.drain_timeout_s = drain_timeout_s
        self._signer = VapidSigner(keys, subject)
        # Only used to encrypt; its own (wrong-audience) Authorization is discarded.
        self._webpush = WebPush(private_key=keys.private_pem, public_key=keys.public_pem,
                                subscriber=self._signer._sub.removeprefix("mailto:"))
        self._client = client
        self._owns_client = client is None
        self._timeout_s = timeout_s
        self._rng = rng
        self._sleep = sleep
        self._queue = _PushQueue(queue_size)
        self._max_in_flight = max_in_flight
        self._slots: asyncio.Semaphore | None = None
        self._inflight: set[asyncio.Task[None]] = set()
        self._dispatcher: asyncio.Task[None] | None = None
        self._stopped = False

    # -- one delivery ----------------------------------------------------------

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout_s, follow_redirects=False)
        return self._client

    @property
    def queue_depth(self) -> int:
        return len(self._queue)

    def _encrypt(self, body: bytes, sub: Subscription) -> bytes:
        message = self._webpush.get(body, WebPushSubscription.model_validate(sub.as_webpush()))
        return message.encrypted

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_retry_after_s)
        ceiling = min(self.backoff_max_s, self.backoff_base_s * (2 ** (attempt - 1)))
        return ceiling / 2 + self._rng() * ceiling / 2   # "equal jitter"

    async def send(self, subscription: Subscription, payload: Mapping[str, Any], *,
                   urgency: Urgency = "normal", ttl_s: int = ASSIGNMENT_TTL_S,
                   topic: str | None = None) -> SendOutcome:
        """Deliver one message to one subscription, with retries.

        Raises ValueError only for bad arguments (payload too big, unknown
        urgency, bad TTL); delivery problems become the returned outcome.
        """
        body = encode_payload(payload)
        _check_urgency(urgency)
        _check_ttl(ttl_s)
        topic_header = push_topic(topic)
        endpoint = subscription.endpoint
        try:
            encrypted = self._encrypt(body, subscription)
        except Exception as exc:  # noqa: BLE001 - a stored subscription with unusable keys
            log.warning("push to %s: cannot encrypt (%s); giving up", _host(endpoint), exc)
            return await self._failed(subscription)

        for attempt in range(1, self.max_attempts + 1):
            headers = {
                "Content-Type": "application/octet-stream",
                "Content-Encoding": "aes128gcm",
                "TTL": str(ttl_s),
                "Urgency": urgency,
                "Authorization": self._signer.header(endpoint),
            }
            if topic_header:
                headers["Topic"] = topic_header
            retry_after: float | None = None
            try:
                async with self.client.stream("POST", endpoint, content=encrypted,
                                              headers=headers) as resp:
                    status = resp.status_code
                    if 200 <= status < 300:
                        await self._succeeded(subscription)
                        return SendOutcome.SENT
                    detail = (await self._peek(resp)) or resp.reason_phrase
                    retry_after = parse_retry_after(resp.headers.get("retry-after"))
            except httpx.HTTPError as exc:
                status, detail = None, f"{type(exc).__name__}: {exc}"
            if status in (404, 410):
                return await self._gone(subscription, status)
            retryable = status is None or status in (408, 429) or status >= 500
            if not retryable:
                log.warning("push to %s refused with %s (%s); not retried",
                            _host(endpoint), status, detail)
                return await self._failed(subscription)
            if attempt == self.max_attempts:
                log.warning("push to %s failed after %d attempts (last: %s %s)",
                            _host(endpoint), attempt, status or "network error", detail)
                break
            delay = self._delay(attempt, retry_after)
            self.metrics.retried += 1
            log.info("push to %s: %s %s; retry %d in %.2fs", _host(endpoint),
                     status or "network error", detail, attempt, delay)
            await self._sleep(delay)
        return await self._failed(subscription)

    @staticmethod
    async def _peek(resp: httpx.Response, limit: int = 300) -> str:
        try:
            chunks = []
            size = 0
            async for chunk in resp.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size >= limit:
                    break
            return b"".join(chunks)[:limit].decode("utf-8", "replace").strip()
        except httpx.HTTPError:
            return ""

    async def _succeeded(self, sub: Subscription) -> None:
        self.metrics.sent += 1
        if self.db is None:
            return
        now = now_ms()
        stale = sub.last_success_at is None or now - sub.last_success_at > _RECORD_SUCCESS_EVERY_MS
        if sub.failures or stale:
            await self._db_quietly(record_delivery(self.db, sub.endpoint, True), "record success")

    async def _failed(self, sub: Subscription) -> SendOutcome:
        self.metrics.failed += 1
        if self.db is not None:
            await self._db_quietly(record_delivery(self.db, sub.endpoint, False), "record failure")
        return SendOutcome.FAILED

    async def _gone(self, sub: Subscription, status: int) -> SendOutcome:
        self.metrics.gone += 1
        log.info("push subscription %s at %s is gone (%d); deleting it",
                 sub.id or "-", _host(sub.endpoint), status)
        if self.db is not None:
            await self._db_quietly(delete_subscription(self.db, sub.endpoint), "delete subscription")
        return SendOutcome.GONE

    @staticmethod
    async def _db_quietly(coro: Awaitable[Any], what: str) -> None:
        try:
            await coro
        except Exception:
            log.exception("push: could not %s", what)

    # -- background queue --------------------------------------------------------

    def enqueue(self, notification: Notification, *, user_ids: Iterable[str] = (),
                device_ids: Iterable[str] = (), on_done: Callable[[], None] | None = None) -> None:
        """Queue a notification for these users' and devices' phones; returns at once.

        Never raises and never blocks: when the queue is full the oldest
        non-alert notification is dropped (logged); alerts are never dropped.
        ``on_done`` is called once the notification needs nothing more: every
        delivery ended (sent, refused, gone, given up), it expired, had no
        targets, or was dropped from a full queue. It is *not* called for what
        is still queued or in flight when the sender stops, so a caller that
        keeps a journal (``server/services/notifier.py``) sends it again.
        """
        try:
            item = _Item(notification, tuple(user_ids), tuple(device_ids), on_done=on_done)
            if self._stopped:
                self.metrics.dropped += 1
                log.warning("push sender stopped; %s %s not sent", notification.kind, notification.id)
                return
            if not item.user_ids and not item.device_ids:
                _finished(item)
                return
            if self.db is None:
                self.metrics.dropped += 1
                log.error("push sender has no database; %s %s not sent", notification.kind, notification.id)
                return
            self.metrics.enqueued += 1
            dropped = self._queue.put(item)
            if dropped is not None:
                self.metrics.dropped += 1
                log.warning("push queue full (%d); dropped %s %s", self._queue.maxsize,
                            dropped.notification.kind, dropped.notification.id)
                _finished(dropped)
        except Exception:
            log.exception("push: enqueue failed")

    async def start(self) -> None:
        if self._dispatcher is not None:
            return
        self._stopped = False
        self._slots = asyncio.Semaphore(self._max_in_flight)
        self._dispatcher = asyncio.create_task(self._dispatch(), name="push-dispatcher")

    async def stop(self, timeout: float | None = None) -> None:
        """Stop taking work, drain the queue for up to ``timeout`` seconds, close."""
        self._stopped = True
        timeout = self.drain_timeout_s if timeout is None else timeout
        if self._dispatcher is not None:
            try:
                await asyncio.wait_for(self._drain(), timeout)
            except TimeoutError:
                pass
            lost = len(self._queue) + len(self._inflight)
            if lost:
                log.warning("push sender stopped with %d notifications undelivered", lost)
                self.metrics.dropped += len(self._queue)
            tasks = [self._dispatcher, *self._inflight]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._dispatcher = None
        if self._owns_client and self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _drain(self) -> None:
        while len(self._queue) or self._inflight:
            if self._inflight:
                await asyncio.wait(set(self._inflight))
            else:
                await asyncio.sleep(0.005)

    async def _dispatch(self) -> None:
        assert self._slots is not None
        while True:
            await self._slots.acquire()  # take an item only when it can start now
            try:
                item = await self._queue.get()
            except BaseException:
                self._slots.release()
                raise
            task = asyncio.create_task(self._deliver(item))
            self._inflight.add(task)
            task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if self._slots is not None:
            self._slots.release()

    async def _deliver(self, item: _Item) -> None:
        n = item.notification
        try:
            ttl = n.ttl_s
            if ttl:
                ttl -= int(time.monotonic() - item.enqueued_at)
                if ttl <= 0:
                    self.metrics.expired += 1
                    log.warning("push %s %s expired in the queue", n.kind, n.id)
                    _finished(item)
                    return
            assert self.db is not None
            subs: dict[str, Subscription] = {}
            if item.user_ids:
                for s in await subscriptions_for_users(self.db, item.user_ids):
                    subs[s.endpoint] = s
            if item.device_ids:
                for s in await subscriptions_for_devices(self.db, item.device_ids):
                    subs[s.endpoint] = s
            if not subs:
                log.info("push %s %s: no live subscriptions for the targets", n.kind, n.id)
                _finished(item)
                return
            payload = n.payload()
            results = await asyncio.gather(
                *(self.send(s, payload, urgency=n.urgency, ttl_s=ttl, topic=n.topic)
                  for s in subs.values()), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    log.error("push %s %s: send raised", n.kind, n.id, exc_info=result)
            _finished(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            # (e.g. the database was unreachable): not finished, a journal sends it again
            log.exception("push %s %s: delivery failed", n.kind, n.id)
