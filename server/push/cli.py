"""``patrol vapid``: print the Web Push public key (creating the key pair if missing)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from server.cli_support import CliError
from server.push.keys import VapidKeyError, load_or_create


def cmd_vapid(args: argparse.Namespace, settings: Any) -> None:
    path = settings.effective_vapid_key_path
    try:
        keys = load_or_create(path)
    except VapidKeyError as exc:
        raise CliError(str(exc)) from None
    if keys.created:
        print(f"created a new VAPID key pair in {path} (keep it: browsers' subscriptions "
              "depend on it)", file=sys.stderr)
    elif args.verbose:
        print(f"VAPID key file: {path}", file=sys.stderr)
    print(keys.application_server_key)


def register(subparsers: Any) -> None:
    """Add ``patrol vapid`` to the CLI's subparsers."""
    p = subparsers.add_parser(
        "vapid", help="print the Web Push public key (applicationServerKey), creating the key pair if missing",
        description="Print the VAPID public key that browsers use as applicationServerKey "
                    "(base64url, uncompressed P-256 point). The private key is created on first "
                    "use at PATROL_VAPID_KEY_PATH (default: <PATROL_DATA_DIR>/vapid_private.pem), mode 0600.")
    p.add_argument("-v", "--verbose", action="store_true", help="also print the key file's path (to stderr)")
    p.set_defaults(func=cmd_vapid)
