"""The push journal (server/services/notifier.py) on SQLite and PostgreSQL: new
assignments and alerts from the change log reach the sender once, what was not
delivered before a restart is sent again, one instance sends at a time, and old
changes are not pushed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from server.push.sender import Notification
from server.services.notifier import PushNotifier
from sync import engine
from sync.principal import Principal
from sync.store import Database
from tests.support.world import World, build_world


class FakeSender:
    """Records what it is given; delivers (calls on_done) only when told to."""

    def __init__(self) -> None:
        self.calls: list[tuple[Notification, list[str], Callable[[], None] | None]] = []

    def enqueue(self, notification: Notification, *, user_ids: Iterable[str] = (),
                device_ids: Iterable[str] = (), on_done: Callable[[], None] | None = None) -> None:
        self.calls.append((notification, list(user_ids), on_done))

    def deliver_all(self) -> None:
        for _, _, done in self.calls:
            assert done is not None
            done()

    def kinds(self) -> list[tuple[str, str]]:
        return [(n.kind, n.id) for n, _, _ in self.calls]


class Desk:
    def __init__(self, world: World, who: str = "dispatcher", org: str = "org-sm", path: str = "/SM/",
                 role: str = "dispatcher", unit_id: str | None = None) -> None:
        self.p = Principal(user_id=world.users[who], role=role, org_unit_id=org,  # type: ignore[arg-type]
                           scope_path=path, unit_id=unit_id, device_id=str(uuid.uuid4()))
        self.seq = 0

    async def push(self, db: Database, name: str, args: dict[str, Any]) -> None:
        self.seq += 1
        at = int(time.time() * 1000)
        m = {"v": 1, "client_id": self.p.device_id, "seq": self.seq, "name": name,
             "hlc": f"{at:012x}-{self.seq:04x}-{self.p.device_id}", "device_at": at, "base_version": None,
             "args": args}
        res = await engine.apply_batch(db, self.p, [m], at)
        assert res.results[0].outcome in ("applied", "merged"), res.results[0]

    async def assign(self, db: Database, unit_id: str = "unit-a") -> str:
        incident_id, assignment_id = str(uuid.uuid4()), str(uuid.uuid4())
        await self.push(db, "incident.create", {"incident_id": incident_id, "org_unit_id": "org-a",
                                                "type": "theft", "priority": 2, "lat": 44.98, "lon": 19.61,
                                                "address": "Glavna 1"})
        await self.push(db, "assignment.create", {"assignment_id": assignment_id, "incident_id": incident_id,
                                                  "unit_id": unit_id})
        return assignment_id


def notifier(db: Database, sender: FakeSender, instance: str = "i1",
             clock: Callable[[], int] | None = None) -> PushNotifier:
    return PushNotifier(db, sender, "https://patrol.example", instance,
                        clock=clock or (lambda: int(time.time() * 1000)))


async def saved_seq(db: Database) -> int:
    async with db.read() as tx:
        return int(await tx.fetchval("SELECT seq FROM push_journal WHERE id = 1"))


async def head(db: Database) -> int:
    async with db.read() as tx:
        return int(await tx.fetchval("SELECT COALESCE(MAX(seq), 0) FROM change_log"))


async def test_a_new_assignment_goes_to_the_crew_on_shift_once(db: Database) -> None:
    world = await build_world(db)
    asg = await Desk(world).assign(db)
    sender = FakeSender()
    n = notifier(db, sender)
    assert await n.step() == 1
    [(note, users, _)] = sender.calls
    assert (note.kind, note.id) == ("assignment", asg)
    assert sorted(users) == sorted([world.users["officer-a"], world.users["officer-a2"]])
    assert note.urgency == "high"  # priority 2
    # Handed over but not delivered: the journal does not move past it.
    assert await saved_seq(db) < await head(db)
    assert await n.step() == 0, "handed over once"
    sender.deliver_all()
    await n.step()
    assert await saved_seq(db) == await head(db)


async def test_what_was_not_delivered_before_a_restart_is_sent_again(db: Database) -> None:
    world = await build_world(db)
    desk = Desk(world)
    first = await desk.assign(db)
    before = FakeSender()
    n1 = notifier(db, before)
    assert await n1.step() == 1
    await n1.stop()  # the server stops with the push still queued (never delivered)

    second = await desk.assign(db, "unit-b")
    after = FakeSender()
    n2 = notifier(db, after)
    assert await n2.step() == 2
    assert after.kinds() == [("assignment", first), ("assignment", second)]
    after.deliver_all()
    await n2.step()
    await n2.stop()

    # Everything delivered: a third start sends nothing.
    n3 = notifier(db, FakeSender())
    assert await n3.step() == 0


async def test_one_instance_sends_and_another_takes_over_when_its_lease_runs_out(db: Database) -> None:
    world = await build_world(db)
    desk = Desk(world)
    now = [int(time.time() * 1000)]
    a_sender, b_sender = FakeSender(), FakeSender()
    a = notifier(db, a_sender, "instance-a", clock=lambda: now[0])
    b = notifier(db, b_sender, "instance-b", clock=lambda: now[0])
    assert await a.step() == 0 and await b.step() == 0  # a holds the lease
    first = await desk.assign(db)
    assert await b.step() == 0
    assert await a.step() == 1
    a_sender.deliver_all()
    assert await a.step() == 0
    # A live holder renews its lease (at half time), so nobody takes over while it works.
    now[0] += 20_000
    assert await a.step() == 0
    now[0] += 20_000
    assert await b.step() == 0, "a renewed its lease"

    # a dies with the second one undelivered; b takes over when the lease has run out.
    second = await desk.assign(db, "unit-b")
    assert await a.step() == 1
    now[0] += 10_000
    assert await b.step() == 0, "the lease still runs"
    now[0] += 30_000
    assert await b.step() == 1
    assert b_sender.kinds() == [("assignment", second)]
    assert ("assignment", first) not in b_sender.kinds()


async def test_changes_older_than_their_time_to_live_are_not_pushed(db: Database) -> None:
    world = await build_world(db)
    await Desk(world).assign(db)
    later = lambda: int(time.time() * 1000) + 2 * 3_600_000  # noqa: E731 - two hours on
    sender = FakeSender()
    n = notifier(db, sender, clock=later)
    assert await n.step() == 0
    assert await saved_seq(db) == await head(db)


async def test_an_emergency_alert_goes_to_the_desk_staff_in_scope(db: Database) -> None:
    world = await build_world(db)
    officer = Desk(world, "officer-a", org="org-a", path="/SM/SM-A/", role="officer", unit_id="unit-a")
    alert_id = str(uuid.uuid4())
    await officer.push(db, "alert.raise", {"alert_id": alert_id, "unit_id": "unit-a", "lat": 44.98, "lon": 19.61})
    sender = FakeSender()
    assert await notifier(db, sender).step() == 1
    [(note, users, _)] = sender.calls
    assert (note.kind, note.id, note.urgency) == ("alert", alert_id, "high")
    assert sorted(users) == sorted([world.users["dispatcher"], world.users["commander"]])
    assert world.users["dispatcher-x"] not in users  # another directorate


async def test_acknowledging_or_editing_sends_nothing_new(db: Database) -> None:
    world = await build_world(db)
    asg = await Desk(world).assign(db)
    sender = FakeSender()
    n = notifier(db, sender)
    assert await n.step() == 1
    officer = Desk(world, "officer-a", org="org-a", path="/SM/SM-A/", role="officer", unit_id="unit-a")
    await officer.push(db, "assignment.acknowledge", {"assignment_id": asg})
    assert await n.step() == 0
    assert len(sender.calls) == 1
