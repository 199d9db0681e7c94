"""The ``patrol`` command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Sequence

from server import settings as settings_mod
from server.cli_support import CliError, _run, _with_db
from server.settings import Settings, SettingsError
from sync.store import Database, StorageError

# -- commands --------------------------------------------------------------

def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from server.app import create_app

    host = args.host or settings.host
    port = args.port or settings.port
    if not (settings.effective_pwa_dir / "index.html").is_file():
        print(f"warning: the front end is not built ({settings.effective_pwa_dir}); "
              "run `make run` or `npm ci && npm run build` in pwa/", file=sys.stderr)
    base = f"http://{host}:{port}"
    print(f"Patrol on {base}  (storage: {settings_mod.effective(settings)[0][1]})")
    print(f"  officer app        {base}/")
    print(f"  dispatcher console {base}/console")
    print(f"  planning, analysis {base}/analysis")
    print(f"  API docs (OpenAPI) {base}/api/docs")
    _print_demo_logins(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level,
                ws_max_size=settings.ws_max_frame_bytes, ws_per_message_deflate=False,
                proxy_headers=True, server_header=False)


def _print_demo_logins(settings: Settings) -> None:
    try:
        from server.seed.demo import DEMO_LOGINS, DEMO_PASSWORD
    except ImportError:
        return

    async def on_shift(db: Database) -> list[dict[str, Any]]:
        from server.clock import now_ms

        async with db.read() as tx:
            if not await tx.fetchval("SELECT 1 FROM users WHERE username = 'dispatcher1'"):
                return []
            return await tx.fetch(
                "SELECT us.username, u.call_sign FROM shifts s JOIN shift_members m ON m.shift_id = s.id"
                " JOIN users us ON us.id = m.user_id JOIN units u ON u.id = s.unit_id"
                " WHERE s.starts_at <= $1 AND s.ends_at > $1 ORDER BY u.call_sign, us.username", now_ms())

    try:
        crews = _run(_with_db(settings, on_shift))
    except StorageError:
        return
    if not crews:
        return
    print(f"  demo logins (password {DEMO_PASSWORD!r}):")
    for username, role, hint in DEMO_LOGINS:
        if role != "officer":
            print(f"    {username:<12} {role:<11} {hint}")
    print("    officers on shift now (an officer off shift has no unit to work with):")
    for row in crews:
        print(f"    {row['username']:<12} officer     unit {row['call_sign']}")


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> None:
    from server.storage.migrate import migrate

    applied = _run(_with_db(settings, migrate, migrate=False))
    if applied:
        for mig in applied:
            print(f"applied {mig.version:04d}_{mig.name}")
    else:
        print("schema is up to date")


def cmd_seed(args: argparse.Namespace, settings: Settings) -> None:
    if not args.demo:
        raise CliError("nothing to seed: use `patrol seed --demo`")
    from server.seed.demo import is_empty, seed_demo

    async def go(db: Database) -> None:
        if not await is_empty(db):
            if args.if_empty:
                print("database already has data; demo data not loaded")
                return
            raise CliError("the database is not empty; demo data only goes into an empty database")
        summary = await seed_demo(db, seed=args.seed)
        print(f"demo data loaded (seed {args.seed}): {summary}")

    _run(_with_db(settings, go))


def cmd_config(args: argparse.Namespace, settings: Settings) -> None:
    rows = settings_mod.effective(settings)
    width = max(len(r[0]) for r in rows)
    for var, value, doc in rows:
        print(f"{var:<{width}}  {value}")
        if args.verbose:
            print(f"{'':<{width}}  # {doc}")


def _since_ms(value: str) -> int:
    """--since: epoch milliseconds or an ISO date / date-time (local time, PATROL_TZ, if no zone)."""
    from datetime import datetime

    from sync.registry import TZ

    if value.isdigit():
        return int(value)
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        raise CliError(f"--since {value!r}: expected epoch ms, YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=TZ)
    return int(at.timestamp() * 1000)


def cmd_audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    from server import audit

    if args.file:
        try:
            with open(args.file, encoding="utf-8") as fh:
                verdict = audit.verify_rows(fh)
        except OSError as exc:
            raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    else:
        async def go(db: Database) -> audit.Verdict:
            await audit.seal(db)  # rows from before the chain existed, if no write has sealed them
            return await audit.verify(db)

        verdict = _run(_with_db(settings, go))
    print(verdict.line())
    return 0 if verdict.ok else 1


def cmd_audit_export(args: argparse.Namespace, settings: Settings) -> None:
    from server import audit

    since = _since_ms(args.since) if args.since else None

    async def go(db: Database) -> None:
        await audit.seal(db)
        async for line in audit.export(db, since):
            sys.stdout.write(line + "\n")

    _run(_with_db(settings, go))


def cmd_audit_prune(args: argparse.Namespace, settings: Settings) -> None:
    from server import audit

    days = settings.audit_retention_days if args.days is None else args.days
    if days <= 0:
        print("audit retention is off (PATROL_AUDIT_RETENTION_DAYS=0): nothing deleted")
        return

    async def go(db: Database) -> int:
        try:
            return await audit.prune(db, days)
        except audit.AuditChainBroken as exc:
            raise CliError(f"not pruned, the rows to delete do not verify: {exc}") from None

    deleted = _run(_with_db(settings, go))
    print(f"deleted {deleted} audit rows older than {days} days")


# -- parser ----------------------------------------------------------------

def _settings_epilog() -> str:
    lines = ["settings (environment variables):"]
    for var, default, doc in settings_mod.describe():
        lines.append(f"  {var} (default {default})\n      {doc}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="patrol", description="Patrol: patrol management for police forces.",
        epilog=_settings_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("serve", help="apply migrations and start the server")
    p.add_argument("--host", help="listen address (default PATROL_HOST)")
    p.add_argument("--port", type=int, help="listen port (default PATROL_PORT)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="apply pending database migrations")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("seed", help="load demo data into an empty database")
    p.add_argument("--demo", action="store_true", help="load the Sremska Mitrovica demo directorate")
    p.add_argument("--seed", type=int, default=20241218, help="random seed (same seed, same data)")
    p.add_argument("--if-empty", action="store_true", help="do nothing (successfully) if data exists")
    p.set_defaults(func=cmd_seed)

    p = sub.add_parser("config", help="print the effective settings (secrets masked)")
    p.add_argument("-v", "--verbose", action="store_true", help="also print what each setting does")
    p.set_defaults(func=cmd_config)

    p = sub.add_parser("audit", help="the tamper-evident audit trail: verify, export, prune")
    audit_sub = p.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    a = audit_sub.add_parser("verify", help="walk the hash chain; one line verdict, exit status 0 (OK) or 1")
    a.add_argument("--file", help="verify an export written by `patrol audit export` instead of the database")
    a.set_defaults(func=cmd_audit_verify)
    a = audit_sub.add_parser("export", help="write the audit rows with their hashes as JSON lines to stdout")
    a.add_argument("--since", help="rows from this time on: epoch ms, YYYY-MM-DD or YYYY-MM-DDTHH:MM")
    a.set_defaults(func=cmd_audit_export)
    a = audit_sub.add_parser("prune", help="delete rows older than PATROL_AUDIT_RETENTION_DAYS"
                                           " (the chain stays verifiable)")
    a.add_argument("--days", type=int, help="override PATROL_AUDIT_RETENTION_DAYS")
    a.set_defaults(func=cmd_audit_prune)

    from server.auth.cli import register as register_auth
    from server.push.cli import register as register_push

    register_auth(sub)
    register_push(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = settings_mod.load()
        status = args.func(args, settings)
        if isinstance(status, int):
            return status
    except (SettingsError, StorageError, CliError) as exc:
        print(f"patrol: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
