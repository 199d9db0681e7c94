"""Throttling failed sign-ins by source (issue 12.19): five wrong passwords typed at a
dispatcher's username from anywhere used to lock that dispatcher out of every device for
five minutes — during an emergency, anyone could do it."""

from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

from server.auth.sessions import USERNAME_WIDE_FACTOR, throttle_state
from server.clock import ManualClock
from server.settings import load
from sync.store import Database
from tests.server.conftest import DEVICE_SECRETS, sign_in
from tests.support.world import PASSWORD, build_world, new_device


async def _attempt(api: AsyncTestClient, username: str, password: str, device: str) -> Any:
    from server.clock import current

    current().advance(ms=10)  # type: ignore[attr-defined]  # attempts a moment apart, as people make them
    body = {"username": username, "password": password, "device_id": device}
    if device in DEVICE_SECRETS:
        body["device_secret"] = DEVICE_SECRETS[device]
    return await api.post("/api/auth/login", json=body)


async def test_a_strangers_guesses_do_not_lock_out_the_dispatchers_own_console(
        clock: ManualClock, api: AsyncTestClient) -> None:
    console = new_device()
    await sign_in(api, "dispatcher", console)           # the console is known from now on
    stranger = new_device()
    for _ in range(3):                                   # PATROL_LOGIN_MAX_FAILURES=3 in the fixture
        assert (await _attempt(api, "dispatcher", "guess", stranger)).status_code == 401
    assert (await _attempt(api, "dispatcher", PASSWORD, stranger)).status_code == 429, \
        "the guessing source is throttled, right password or not"
    r = await _attempt(api, "dispatcher", PASSWORD, console)
    assert r.status_code == 200, r.text

    # The known console's own failures still count against it.
    for _ in range(3):
        assert (await _attempt(api, "dispatcher", "typo", console)).status_code == 401
    assert (await _attempt(api, "dispatcher", PASSWORD, console)).status_code == 429
    clock.advance(seconds=api.app.state.settings.login_lockout_s + 1)
    assert (await _attempt(api, "dispatcher", PASSWORD, console)).status_code == 200


async def test_failures_count_per_address_with_a_username_wide_ceiling(db: Database, clock: ManualClock) -> None:
    settings = load({"PATROL_LOGIN_MAX_FAILURES": "3"})
    await build_world(db)
    now = clock.now_ms()

    async def fail(ip: str, n: int) -> None:
        async with db.transaction() as tx:
            for i in range(n):
                await tx.execute("INSERT INTO login_attempts (username, ip, at, ok, device_id)"
                                 " VALUES ('dispatcher', $1, $2, 0, NULL)", ip, now - 1000 + i)

    async def count(ip: str, known: bool = False, device: str = "d") -> int:
        async with db.read() as tx:
            n, _ = await throttle_state(tx, settings, username="dispatcher", ip=ip, device_id=device,
                                        known_device=known, now=now)
        return n

    await fail("10.0.0.66", 3)
    assert await count("10.0.0.66") == 3
    assert await count("10.0.0.7") == 0, "another address is not throttled by the first one's guesses"
    for k in range(USERNAME_WIDE_FACTOR * 3 // 3):
        await fail(f"10.9.0.{k}", 3)
    assert await count("10.0.0.8") >= 3 * USERNAME_WIDE_FACTOR, "many sources together throttle the username"
    assert await count("10.0.0.8", known=True) == 0, "a known device counts only its own failures"
