"""`patrol user …` and `patrol device …`."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from server import cli_support as cli
from server.auth import sessions, users
from server.settings import Settings
from sync.store import Database


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> None:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.username}: ")
        if getpass.getpass("again: ") != password:
            raise cli.CliError("the passwords differ")

    async def go(db: Database) -> Any:
        try:
            return await users.create_user(db, username=args.username, password=password, role=args.role,
                                           full_name=args.name, org_code=args.org, badge_no=args.badge)
        except users.UserError as exc:
            raise cli.CliError(exc.message) from None

    user = cli._run(cli._with_db(settings, go))
    print(f"created {user.role} {user.username} ({user.full_name}) in {user.org_unit_code}, id {user.id}")


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> None:

    async def go(db: Database) -> Any:
        return await users.list_users(db, "/")

    for u in cli._run(cli._with_db(settings, go)):
        state = "" if u.active else "  (disabled)"
        print(f"{u.username:<16} {u.role:<11} {u.org_unit_code:<8} {u.full_name}{state}")


def cmd_device_list(args: argparse.Namespace, settings: Settings) -> None:

    async def go(db: Database) -> Any:
        async with db.read() as tx:
            return await tx.fetch(
                "SELECT d.id, d.label, d.last_seen_at, d.revoked_at, u.username FROM devices d"
                " LEFT JOIN users u ON u.id = d.first_user_id ORDER BY d.last_seen_at DESC")

    rows = cli._run(cli._with_db(settings, go))
    if not rows:
        print("no devices have signed in yet")
    for r in rows:
        state = "REVOKED" if r["revoked_at"] else "active"
        print(f"{r['id']}  {state:<8} {r['username'] or '-':<14} {r['label'] or ''}")


def cmd_device_revoke(args: argparse.Namespace, settings: Settings) -> None:

    async def go(db: Database) -> bool:
        return await sessions.revoke_device(db, args.device_id, None)

    if not cli._run(cli._with_db(settings, go)):
        raise cli.CliError(f"no device with id {args.device_id}")
    print(f"device {args.device_id} revoked: its sessions are ended and it can no longer sync")


def cmd_device_restore(args: argparse.Namespace, settings: Settings) -> None:

    async def go(db: Database) -> bool:
        return await sessions.restore_device(db, args.device_id, None)

    if not cli._run(cli._with_db(settings, go)):
        raise cli.CliError(f"no device with id {args.device_id}")
    print(f"device {args.device_id} may sign in again")


def register(sub: Any) -> None:
    user = sub.add_parser("user", help="manage user accounts")
    user_sub = user.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    p = user_sub.add_parser("add", help="create a user (asks for the password)")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["officer", "dispatcher", "commander", "admin"])
    p.add_argument("--org", required=True, help="org unit code, e.g. SM or SM-RU")
    p.add_argument("--name", required=True, help="full name")
    p.add_argument("--badge", help="badge number")
    p.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    p.set_defaults(func=cmd_user_add)
    p = user_sub.add_parser("list", help="list users")
    p.set_defaults(func=cmd_user_list)

    device = sub.add_parser("device", help="manage devices (revoke a lost phone)")
    device_sub = device.add_subparsers(dest="device_command", metavar="ACTION", required=True)
    p = device_sub.add_parser("list", help="list devices that have signed in")
    p.set_defaults(func=cmd_device_list)
    p = device_sub.add_parser("revoke", help="revoke a device: it stops syncing at once")
    p.add_argument("device_id")
    p.set_defaults(func=cmd_device_revoke)
    p = device_sub.add_parser("restore", help="allow a revoked device to sign in again")
    p.add_argument("device_id")
    p.set_defaults(func=cmd_device_restore)
