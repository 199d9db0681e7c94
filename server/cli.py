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
        args.func(args, settings)
    except (SettingsError, StorageError, CliError) as exc:
        print(f"patrol: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
