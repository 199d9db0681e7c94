"""Find a Chromium for Playwright: a system one, or Playwright's own.

``python -m e2e.browser`` prints what will be used and exits 0, or explains
what to install and exits 1. The Makefile uses it before `make test`.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags for a headless Chromium on a closed network (no background fetches).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def system_chromium() -> str | None:
    explicit = os.environ.get("PATROL_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def playwright_chromium() -> str | None:
    """Playwright's downloaded browser, if `playwright install chromium` was run."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    try:
        with sync_playwright() as pw:
            path = pw.chromium.executable_path
    except Exception:
        return None
    return path if path and Path(path).is_file() else None


def find() -> str | None:
    """The executable to launch (a system Chromium first)."""
    return system_chromium() or playwright_chromium()


HOW_TO_INSTALL = (
    "No Chromium found for the browser tests. Install one of:\n"
    "  Debian/Ubuntu:  sudo apt-get install chromium\n"
    "  any OS:         .venv/bin/playwright install chromium\n"
    "or point PATROL_CHROMIUM at a Chromium/Chrome executable."
)


if __name__ == "__main__":
    exe = find()
    if exe is None:
        print(HOW_TO_INSTALL, file=sys.stderr)
        sys.exit(1)
    print(exe)
