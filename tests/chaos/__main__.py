"""``python -m tests.chaos``: run fault scenarios against real servers and print what survived.

Exit status 0 when every check of every run passed (and, with
``--negative-control``, when the checks caught the injected faults);
1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from tests.chaos.harness import Options, details, run_all, summarize, table
from tests.chaos.scenarios import FULL, SCENARIOS


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", action="append", choices=[*SCENARIOS, "all"],
                    help="scenario to run (repeatable; default all: " + ", ".join(FULL) + ")")
    ap.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    ap.add_argument("--scale", type=int, default=1, help="12 phones per unit of scale (3 desks; 4 consoles, 8 from scale 3)")
    ap.add_argument("--seconds", type=float, default=20.0, help="duration of the load (the fault is inside it)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--negative-control", action="store_true",
                    help="delete one confirmed note and drop one live frame on a console; succeed only "
                         "if the checks report both (default scenario: none)")
    ap.add_argument("--keep", action="store_true", help="keep every run's directory (server logs, SQLite file)")
    ap.add_argument("--server-root", metavar="DIR",
                    help="run the servers from another checkout (A/B against e.g. `git archive HEAD`)")
    ap.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="log the phases of each run to stderr")
    args = ap.parse_args(argv)

    if args.server_root:
        import os

        os.environ["PATROL_CHAOS_SERVER_ROOT"] = args.server_root
    names = args.scenario or (["none"] if args.negative_control else ["all"])
    if "all" in names:
        names = FULL
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    opts = Options(scale=args.scale, seconds=args.seconds, negative_control=args.negative_control,
                   seed=args.seed, keep=args.keep, verbose=args.verbose)
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    t0 = time.monotonic()
    print(f"chaos: {', '.join(names)} on {', '.join(kinds)}, scale {args.scale}, {args.seconds:g} s of load"
          f"{', negative control' if args.negative_control else ''} ({started})", flush=True)
    results = asyncio.run(run_all(names, kinds, opts))
    print()
    print(table(results))
    print()
    print(details(results))
    counts = summarize(results)
    print(f"\n{counts['ok']} passed, {counts['fail']} failed, "
          f"{sum(1 for r in results if r.skipped)} skipped in {time.monotonic() - t0:.0f} s")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump([_jsonable(r) for r in results], fh, indent=1, default=str)
    return 0 if counts["fail"] == 0 else 1


def _jsonable(r: object) -> dict[str, object]:
    import dataclasses

    out = dataclasses.asdict(r)  # type: ignore[call-overload]
    out["ok"] = r.ok  # type: ignore[attr-defined]
    out["failures"] = r.failures  # type: ignore[attr-defined]
    return out


if __name__ == "__main__":
    sys.exit(main())
