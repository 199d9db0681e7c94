"""PushSender against a local push service: encryption, VAPID, retries, queue."""

from __future__ import annotations

import asyncio
import logging
import time

import httpx
import pytest

from server.push.keys import VapidKeys, load_or_create
from server.push.sender import (
    ALERT_TTL_S,
    MAX_PAYLOAD_BYTES,
    Notification,
    PushSender,
    SendOutcome,
    VapidSigner,
    alert_notification,
    assignment_notification,
    endpoint_origin,
    parse_retry_after,
    push_topic,
)
from server.push.subscriptions import Subscription, upsert_subscription
from sync.store import Database
from tests.push.helpers import BrowserKeys, PushReceiver, verify_vapid

SUBJECT = "ops@patrol.example.org"
PAYLOAD_KEYS = {"title", "body", "tag", "url", "kind", "id", "urgency"}


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> VapidKeys:
    return load_or_create(tmp_path_factory.mktemp("vapid") / "vapid_private.pem")


class Sleeps:
    """A sleep that records the delay and only yields (tests never really wait)."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def make_sender(keys: VapidKeys, db: Database | None = None, **kw: object) -> PushSender:
    kw.setdefault("sleep", Sleeps())
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("client", httpx.AsyncClient(timeout=5, trust_env=False))
    return PushSender(keys, SUBJECT, db, **kw)  # type: ignore[arg-type]


def subscription(browser: BrowserKeys, endpoint: str) -> Subscription:
    return Subscription(endpoint=endpoint, p256dh=browser.p256dh, auth=browser.auth)


def note(n: int = 1, incident: str = "inc-1") -> Notification:
    return assignment_notification(assignment_id=f"asg-{n}", incident_id=incident,
                                   summary=f"Traffic accident #{n}", address="Zmaj Jovina 5",
                                   priority=2, public_url="https://patrol.example.org")


# -- the round trip ---------------------------------------------------------------

async def test_round_trip_decrypts_and_carries_headers_and_a_valid_vapid_token(keys: VapidKeys) -> None:
    browser = BrowserKeys()
    async with PushReceiver() as rx:
        sender = make_sender(keys)
        n = note()
        outcome = await sender.send(subscription(browser, rx.endpoint()), n.payload(),
                                    urgency="normal", ttl_s=3600, topic=n.topic)
        await sender.stop()
    assert outcome is SendOutcome.SENT
    [req] = rx.requests
    assert req.method == "POST" and req.path == "/push/sub"
    payload = browser.decrypt(req.body)
    assert payload == n.payload() and set(payload) == PAYLOAD_KEYS
    assert payload["kind"] == "assignment" and payload["tag"] == "incident:inc-1"
    assert req.headers["ttl"] == "3600"
    assert req.headers["urgency"] == "normal"
    assert req.headers["content-encoding"] == "aes128gcm"
    assert req.headers["topic"] == n.topic and len(n.topic or "") <= 32
    # The audience is the endpoint's origin *with* the port (webpush 1.0.6 drops it).
    claims, k = verify_vapid(req.headers["authorization"], f"http://127.0.0.1:{rx.port}")
    assert claims["sub"] == f"mailto:{SUBJECT}"
    assert k == keys.application_server_key
    assert sender.metrics.sent == 1 and sender.metrics.failed == 0


async def test_per_call_ttl_and_urgency_do_not_leak_into_later_sends(keys: VapidKeys) -> None:
    browser = BrowserKeys()
    async with PushReceiver() as rx:
        sender = make_sender(keys)
        sub = subscription(browser, rx.endpoint())
        await sender.send(sub, {"x": 1}, urgency="high", ttl_s=3600)
        await sender.send(sub, {"x": 2}, urgency="very-low", ttl_s=0)
        await sender.send(sub, {"x": 3}, ttl_s=60)
        await sender.stop()
    got = [(r.headers["ttl"], r.headers["urgency"], "topic" in r.headers) for r in rx.requests]
    assert got == [("3600", "high", False), ("0", "very-low", False), ("60", "normal", False)]
    assert [browser.decrypt(r.body)["x"] for r in rx.requests] == [1, 2, 3]


async def test_oversized_payload_and_bad_options_raise_value_error(keys: VapidKeys) -> None:
    sender = make_sender(keys)
    sub = subscription(BrowserKeys(), "http://127.0.0.1:9/push/x")
    with pytest.raises(ValueError, match="payload"):
        await sender.send(sub, {"body": "x" * MAX_PAYLOAD_BYTES})
    with pytest.raises(ValueError, match="urgency"):
        await sender.send(sub, {"a": 1}, urgency="urgent")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="ttl_s"):
        await sender.send(sub, {"a": 1}, ttl_s=-1)
    await sender.stop()


# -- outcomes -----------------------------------------------------------------------

async def _org_user_device(db: Database, user: str = "u1", device: str = "d1") -> None:
    async with db.transaction() as tx:
        if await tx.fetchval("SELECT COUNT(*) FROM org_units WHERE id = 'org'") == 0:
            await tx.execute("INSERT INTO org_units (id, kind, code, name, path, created_at)"
                             " VALUES ('org', 'station', 'ST', 'Station', '/ST/', 1)")
        await tx.execute("INSERT INTO users (id, username, full_name, role, org_unit_id, password_hash,"
                         " created_at, updated_at) VALUES ($1, $1, $1, 'officer', 'org', 'x', 1, 1)", user)
        await tx.execute("INSERT INTO devices (id, first_user_id, created_at) VALUES ($1, $2, 1)",
                         device, user)


async def _count(db: Database) -> int:
    async with db.read() as tx:
        return int(await tx.fetchval("SELECT COUNT(*) FROM push_subscriptions"))


@pytest.mark.parametrize("status", [410, 404])
async def test_gone_deletes_the_subscription(db: Database, keys: VapidKeys, status: int) -> None:
    browser = BrowserKeys()
    await _org_user_device(db)
    async with PushReceiver(default=(status, {})) as rx:
        sub = await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        assert await _count(db) == 1
        sender = make_sender(keys, db)
        assert await sender.send(sub, {"a": 1}) is SendOutcome.GONE
        await sender.stop()
    assert len(rx.requests) == 1          # not retried
    assert await _count(db) == 0
    assert sender.metrics.gone == 1 and sender.metrics.retried == 0


async def test_503_is_retried_honouring_retry_after_then_delivered(keys: VapidKeys) -> None:
    browser = BrowserKeys()
    sleeps = Sleeps()
    async with PushReceiver([(503, {"Retry-After": "7"}), (429, {}), (201, {})]) as rx:
        sender = make_sender(keys, sleep=sleeps, backoff_base_s=0.02, rng=lambda: 1.0)
        outcome = await sender.send(subscription(browser, rx.endpoint()), {"n": 1})
        await sender.stop()
    assert outcome is SendOutcome.SENT
    assert len(rx.requests) == 3
    assert sleeps.delays == [7.0, pytest.approx(0.04)]   # Retry-After, then backoff 2 x base
    assert [browser.decrypt(r.body) for r in rx.requests] == [{"n": 1}] * 3
    assert sender.metrics.retried == 2 and sender.metrics.sent == 1 and sender.metrics.failed == 0


async def test_503_then_201_with_real_short_backoff(keys: VapidKeys) -> None:
    async with PushReceiver([(503, {}), (201, {})]) as rx:
        sender = make_sender(keys, sleep=asyncio.sleep, backoff_base_s=0.01)
        started = time.monotonic()
        outcome = await sender.send(subscription(BrowserKeys(), rx.endpoint()), {"n": 1})
        elapsed = time.monotonic() - started
        await sender.stop()
    assert outcome is SendOutcome.SENT and len(rx.requests) == 2
    assert 0.005 <= elapsed < 1.0


async def test_endless_500_gives_up_after_bounded_attempts_without_raising(
        db: Database, keys: VapidKeys) -> None:
    browser = BrowserKeys()
    await _org_user_device(db)
    sleeps = Sleeps()
    async with PushReceiver(default=(500, {})) as rx:
        sub = await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        sender = make_sender(keys, db, sleep=sleeps, max_attempts=4, backoff_base_s=0.01,
                             backoff_max_s=0.03, rng=lambda: 0.0)
        outcome = await sender.send(sub, {"n": 1})
        await sender.stop()
    assert outcome is SendOutcome.FAILED
    assert len(rx.requests) == 4
    # equal jitter: between half and all of min(max, base * 2^(n-1))
    assert sleeps.delays == pytest.approx([0.005, 0.01, 0.015])
    assert sender.metrics.failed == 1 and sender.metrics.retried == 3
    async with db.read() as tx:
        assert await tx.fetchval("SELECT failures FROM push_subscriptions") == 1  # kept, counted


async def test_network_errors_are_retried(keys: VapidKeys) -> None:
    async with PushReceiver(["drop", "drop", (201, {})]) as rx:
        sender = make_sender(keys)
        outcome = await sender.send(subscription(BrowserKeys(), rx.endpoint()), {"n": 1})
        await sender.stop()
    assert outcome is SendOutcome.SENT and len(rx.requests) == 3
    assert sender.metrics.retried == 2


async def test_connection_refused_gives_up_quietly(keys: VapidKeys) -> None:
    async with PushReceiver() as rx:
        endpoint = rx.endpoint()
    sender = make_sender(keys, max_attempts=2)  # nothing listens on that port any more
    assert await sender.send(subscription(BrowserKeys(), endpoint), {"n": 1}) is SendOutcome.FAILED
    assert sender.metrics.failed == 1 and sender.metrics.retried == 1
    await sender.stop()


@pytest.mark.parametrize("status", [400, 403, 413])
async def test_other_client_errors_are_not_retried(keys: VapidKeys, status: int) -> None:
    async with PushReceiver(default=(status, {})) as rx:
        sender = make_sender(keys)
        assert await sender.send(subscription(BrowserKeys(), rx.endpoint()), {"n": 1}) is SendOutcome.FAILED
        await sender.stop()
    assert len(rx.requests) == 1 and sender.metrics.failed == 1


# -- the background queue -------------------------------------------------------------

async def test_enqueue_delivers_to_every_live_device_of_the_users(db: Database, keys: VapidKeys) -> None:
    phones = {"d1": BrowserKeys(), "d2": BrowserKeys(), "d3": BrowserKeys()}
    await _org_user_device(db, "u1", "d1")
    await _org_user_device(db, "u2", "d2")
    await _org_user_device(db, "u3", "d3")
    async with PushReceiver() as rx:
        for device, browser in phones.items():
            user = "u" + device[1:]
            await upsert_subscription(db, device, user, rx.endpoint(device), browser.p256dh, browser.auth)
        sender = make_sender(keys, db)
        await sender.start()
        alert = alert_notification(alert_id="al-1", call_sign="PA-12", public_url="https://p.example")
        sender.enqueue(alert, user_ids=["u1", "u2"])
        sender.enqueue(note(5), device_ids=["d3"])
        await sender.stop(timeout=5)
    assert sorted(r.path for r in rx.requests) == ["/push/d1", "/push/d2", "/push/d3"]
    for r in rx.by_path("d1") + rx.by_path("d2"):
        assert r.headers["urgency"] == "high" and "topic" not in r.headers
        assert phones[r.path[-2:]].decrypt(r.body)["kind"] == "alert"
    [r3] = rx.by_path("d3")
    assert phones["d3"].decrypt(r3.body)["id"] == "asg-5"
    assert sender.metrics.sent == 3 and sender.metrics.enqueued == 2


async def test_enqueue_never_blocks_the_caller(db: Database, keys: VapidKeys) -> None:
    browser = BrowserKeys()
    await _org_user_device(db)
    async with PushReceiver(default="hang") as rx:   # the push service never answers
        await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        sender = make_sender(keys, db, queue_size=100, max_in_flight=2)
        await sender.start()
        sender.enqueue(note(0), user_ids=["u1"])
        sender.enqueue(note(1), user_ids=["u1"])
        await asyncio.wait_for(rx.arrived.wait(), 5)  # both slots now stuck on a hanging POST
        await asyncio.sleep(0.02)
        # Structural, not timed (a timed bound flaked on a loaded machine): enqueue is a plain
        # function that never awaits, so 5,000 calls finish without yielding to the loop even
        # while both delivery slots hang; what does not fit is dropped and counted.
        assert not asyncio.iscoroutinefunction(sender.enqueue)
        for i in range(2, 5002):
            assert sender.enqueue(note(i), user_ids=["u1"]) is None
        assert sender.queue_depth == 100
        await sender.stop(timeout=0.05)
    assert sender.metrics.dropped >= 4900


def test_enqueue_without_a_database_drops_and_logs(keys: VapidKeys, caplog: pytest.LogCaptureFixture) -> None:
    sender = make_sender(keys, None)
    sender.enqueue(note(1), user_ids=["u1"])
    assert sender.queue_depth == 0 and sender.metrics.dropped == 1
    assert "no database" in caplog.text


async def test_full_queue_drops_oldest_non_alert_and_never_an_alert(
        db: Database, keys: VapidKeys, caplog: pytest.LogCaptureFixture) -> None:
    browser = BrowserKeys()
    await _org_user_device(db)
    sender = make_sender(keys, db, queue_size=3, max_in_flight=1)

    def alert(i: int) -> Notification:
        return alert_notification(alert_id=f"al-{i}", call_sign="PA-1", public_url="https://p.example")

    caplog.set_level(logging.WARNING, logger="server.push.sender")
    # Not started yet: everything stays queued.
    for n in [note(1), alert(1), note(2), note(3), alert(2), alert(3), alert(4), note(4), alert(5)]:
        sender.enqueue(n, user_ids=["u1"])
    assert sender.metrics.dropped == 4      # asg-1, asg-2, asg-3 to make room; asg-4 itself
    assert sender.queue_depth == 5          # all five alerts, over the bound
    assert "dropped assignment asg-1" in caplog.text
    async with PushReceiver() as rx:
        await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        await sender.start()
        await sender.stop(timeout=5)
    ids = [browser.decrypt(r.body)["id"] for r in rx.requests]
    assert ids == ["al-1", "al-2", "al-3", "al-4", "al-5"]


async def test_alerts_jump_ahead_of_queued_assignments(db: Database, keys: VapidKeys) -> None:
    browser = BrowserKeys()
    await _org_user_device(db)
    sender = make_sender(keys, db, queue_size=10, max_in_flight=1)
    sender.enqueue(note(1), user_ids=["u1"])
    sender.enqueue(note(2), user_ids=["u1"])
    sender.enqueue(alert_notification(alert_id="al-9", call_sign="PA-1", public_url="https://p"),
                   user_ids=["u1"])
    async with PushReceiver() as rx:
        await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        await sender.start()
        await sender.stop(timeout=5)
    assert [browser.decrypt(r.body)["id"] for r in rx.requests] == ["al-9", "asg-1", "asg-2"]


async def test_stop_gives_up_after_the_drain_timeout(keys: VapidKeys, db: Database) -> None:
    browser = BrowserKeys()
    await _org_user_device(db)
    async with PushReceiver(default="hang") as rx:
        await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        sender = make_sender(keys, db)
        await sender.start()
        sender.enqueue(note(1), user_ids=["u1"])
        await asyncio.wait_for(rx.arrived.wait(), 5)
        started = time.monotonic()
        await sender.stop(timeout=0.05)
        assert time.monotonic() - started < 1.0
    sender.enqueue(note(2), user_ids=["u1"])   # after stop: dropped, no error
    assert sender.metrics.dropped == 1


async def test_enqueue_with_a_broken_database_does_not_raise(keys: VapidKeys) -> None:
    class Broken:
        def read(self) -> None:
            raise RuntimeError("database is down")

    sender = make_sender(keys, Broken())  # type: ignore[arg-type]
    await sender.start()
    sender.enqueue(note(1), user_ids=["u1"])
    await sender.stop(timeout=1)
    assert sender.metrics.sent == 0


# -- helpers and small pieces ----------------------------------------------------------

def test_assignment_and_reassignment_share_tag_and_topic() -> None:
    first = note(1, incident="0190f0a2-7c1e-7b3a-9a11-1234567890ab")
    again = assignment_notification(assignment_id="asg-2", incident_id="0190f0a2-7c1e-7b3a-9a11-1234567890ab",
                                    summary="Moved to unit PA-3", public_url="https://patrol.example.org/",
                                    reassignment=True)
    assert first.tag == again.tag and first.topic == again.topic
    assert again.kind == "reassignment" and first.kind == "assignment"
    assert first.urgency == "normal" and first.ttl_s == 3600
    assert set(first.payload()) == PAYLOAD_KEYS
    assert again.url == "https://patrol.example.org/?assignment=asg-2"
    assert first.title.startswith("P2 · New assignment")


def test_alert_is_high_urgency_short_ttl_and_never_coalesced() -> None:
    a = alert_notification(alert_id="al-1", call_sign="PA-12", officer_name="M. Jovanović",
                           public_url="https://p.example", message="Shots fired")
    assert a.urgency == "high" and a.ttl_s == ALERT_TTL_S <= 600 and a.topic is None
    assert a.is_alert and a.payload()["kind"] == "alert" and "PA-12" in a.title
    assert a.tag == "alert:al-1"


def test_helpers_clip_long_text_to_fit_the_payload_limit() -> None:
    n = assignment_notification(assignment_id="a", incident_id="i", summary="ž" * 10_000,
                                address="x" * 5000, public_url="https://p")
    assert len(n.body) <= 400


def test_notification_validates_itself() -> None:
    with pytest.raises(ValueError, match="kind"):
        Notification(kind="memo", id="1", title="t", body="", tag="t", url="", urgency="low", ttl_s=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="payload"):
        Notification(kind="alert", id="1", title="t", body="x" * 4000, tag="t", url="", urgency="high",
                     ttl_s=1)


def test_topic_is_header_safe() -> None:
    assert push_topic("abc_DEF-1") == "abc_DEF-1"
    t = push_topic("incident:0190f0a2-7c1e-7b3a-9a11-1234567890ab")
    assert t is not None and len(t) == 32 and t.replace("-", "").replace("_", "").isalnum()
    assert push_topic(None) is None


@pytest.mark.parametrize("endpoint, origin", [
    ("https://fcm.googleapis.com/fcm/send/abc", "https://fcm.googleapis.com"),
    ("https://Push.Example.org:443/x", "https://push.example.org"),
    ("https://push.example.org:8443/x", "https://push.example.org:8443"),
    ("http://127.0.0.1:5555/push/a", "http://127.0.0.1:5555"),
    ("http://[::1]:8080/a", "http://[::1]:8080"),
])
def test_endpoint_origin_keeps_non_default_ports(endpoint: str, origin: str) -> None:
    assert endpoint_origin(endpoint) == origin


def test_vapid_tokens_are_cached_per_origin_and_renewed_before_expiry(keys: VapidKeys) -> None:
    now = [1_000_000.0]
    signer = VapidSigner(keys, SUBJECT, lifetime_s=3600, clock=lambda: now[0])
    a = signer.header("https://a.example/1")
    assert signer.header("https://a.example/2") == a
    assert signer.header("https://b.example/1") != a
    now[0] += 3600 * 0.8
    assert signer.header("https://a.example/1") != a


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)


async def test_on_done_when_nothing_more_is_needed_and_not_for_what_a_stop_cut_off(
        db: Database, keys: VapidKeys) -> None:
    """The push journal relies on this: done = delivered, given up, dropped from a full queue
    or no targets; still queued or in flight at stop = not done (sent again after a restart)."""
    browser = BrowserKeys()
    await _org_user_device(db)
    done: list[str] = []
    async with PushReceiver() as rx:
        await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        sender = make_sender(keys, db, queue_size=2, max_in_flight=1)
        sender.enqueue(note(1), user_ids=["u1"], on_done=lambda: done.append("asg-1"))
        sender.enqueue(note(2), user_ids=["u1"], on_done=lambda: done.append("asg-2"))
        # no subscription for this device; queueing it pushes asg-1 out of the full queue
        sender.enqueue(note(3), device_ids=["nobody"], on_done=lambda: done.append("asg-3"))
        assert done == ["asg-1"]
        await sender.start()
        await sender.stop(timeout=5)
    assert sorted(done) == ["asg-1", "asg-2", "asg-3"]
    assert [browser.decrypt(r.body)["id"] for r in rx.requests] == ["asg-2"]

    cut: list[str] = []
    async with PushReceiver(default="hang") as rx:
        await upsert_subscription(db, "d1", "u1", rx.endpoint(), browser.p256dh, browser.auth)
        sender = make_sender(keys, db)
        await sender.start()
        sender.enqueue(note(4), user_ids=["u1"], on_done=lambda: cut.append("asg-4"))
        await asyncio.wait_for(rx.arrived.wait(), 5)
        await sender.stop(timeout=0.05)
    assert cut == []


def test_links_open_the_right_page() -> None:
    """An assignment opens the officer app on it; an alert goes to desk staff, so it opens the console."""
    asg = assignment_notification(assignment_id="a 1", incident_id="i-1", summary="theft",
                                  public_url="https://patrol.example/")
    assert asg.url == "https://patrol.example/?assignment=a%201"
    alert = alert_notification(alert_id="al-1", call_sign="PA-12", public_url="https://patrol.example")
    assert alert.url == "https://patrol.example/console?alert=al-1"
    assert alert.payload()["kind"] == "alert" and alert.payload()["urgency"] == "high"
