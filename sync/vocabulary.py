"""The words and limits the apps share with the server, written once here and generated for JS.

The server's rules are the source: argument length limits from the mutation
argument types (``sync/mutations.py``), states from the state machines
(``sync/machines.py``), roles from ``sync/principal.py``. ``python -m
sync.vocabulary --write`` writes them to ``pwa/src/shared/vocabulary.js``
(committed, so the front-end build needs no Python); ``--check`` exits 1 when
that file is out of date, and ``tests/sync/test_vocabulary.py`` fails then.

Lengths: the server counts a text's length in Unicode code points; a
browser's ``maxlength`` and ``String.length`` count UTF-16 code units, never
fewer, so a text kept within ``maxlength`` is always short enough.
"""

from __future__ import annotations

import argparse
import json
import sys
import typing
from pathlib import Path
from typing import Any

import msgspec

from . import handlers as _handlers  # noqa: F401  (registers the mutations)
from . import machines, mutations, principal
from .registry import REGISTRY

JS_PATH = Path(__file__).resolve().parent.parent / "pwa" / "src" / "shared" / "vocabulary.js"


def _str_max(t: msgspec.inspect.Type) -> int | None:
    """The max_length of a string type, or of the string member of a union (``Text | None``)."""
    if isinstance(t, msgspec.inspect.StrType):
        return t.max_length
    if isinstance(t, msgspec.inspect.UnionType):
        found = [m for m in (_str_max(x) for x in t.types) if m is not None]
        return max(found) if found else None
    return None


def text_limits() -> dict[str, dict[str, int]]:
    """Mutation name -> argument -> the longest string it may carry (string arguments only,
    ids included: a client never needs to guess which)."""
    out: dict[str, dict[str, int]] = {}
    for name in sorted(REGISTRY):
        info = msgspec.inspect.type_info(REGISTRY[name].args)
        assert isinstance(info, msgspec.inspect.StructType)
        fields = {f.name: m for f in info.fields if (m := _str_max(f.type)) is not None}
        if fields:
            out[name] = fields
    return out


def _struct_field_max(struct: type, name: str) -> int:
    info = msgspec.inspect.type_info(struct)
    assert isinstance(info, msgspec.inspect.StructType)
    m = next(_str_max(f.type) for f in info.fields if f.name == name)
    assert m is not None
    return m


def _alias_max(alias: Any) -> int:
    """max_length of an ``Annotated[str, Meta(max_length=...)]`` alias (``Text``, ``Short``)."""
    for meta in typing.get_args(alias)[1:]:
        if isinstance(meta, msgspec.Meta) and meta.max_length is not None:
            return meta.max_length
    raise ValueError(f"{alias!r} has no max_length")


def _ordered(machine: machines.Machine, subset: frozenset[str] | None = None) -> list[str]:
    """A machine's states in the order its table names them (stable, readable)."""
    order = list(dict.fromkeys([*machine.transitions, *sorted(machine.states)]))
    return [s for s in order if subset is None or s in subset]


def vocabulary() -> dict[str, Any]:
    return {
        "TEXT_MAX": _alias_max(mutations.Text),
        "SHORT_MAX": _alias_max(mutations.Short),
        "NOTE_MAX": _struct_field_max(mutations.AddNote, "body"),
        "LIMITS": text_limits(),
        "UNIT_STATUSES": list(typing.get_args(mutations.UnitStatus)),
        "ASSIGNMENT_STATES": _ordered(machines.ASSIGNMENT),
        "ACTIVE_ASSIGNMENT_STATES": _ordered(machines.ASSIGNMENT, machines.ACTIVE_ASSIGNMENT),
        "VISIBLE_ASSIGNMENT_STATES": _ordered(machines.ASSIGNMENT, machines.VISIBLE_ASSIGNMENT),
        "INCIDENT_STATES": _ordered(machines.INCIDENT),
        "TERMINAL_INCIDENT_STATES": _ordered(machines.INCIDENT, machines.INCIDENT.terminal),
        # Read off the rule itself, so the apps' optimistic view clears what the server clears.
        "CLEARED_BY_AVAILABLE": [s for s in _ordered(machines.ASSIGNMENT)
                                 if machines.milestone_target("available", s) == "cleared"],
        "ROLES": list(principal.ROLES),
        "DESK_ROLES": [r for r in principal.ROLES if r in principal.DESK_ROLES],
    }


DOCS = {
    "TEXT_MAX": "Longest free text (description, hazards, report fields), in characters.",
    "SHORT_MAX": "Longest short text (address, caller name and phone, reasons), in characters.",
    "NOTE_MAX": "Longest note body, in characters.",
    "LIMITS": "Mutation name -> argument -> longest string the server accepts.",
    "UNIT_STATUSES": "Unit statuses, in the order the apps show them.",
    "ASSIGNMENT_STATES": "Every assignment state.",
    "ACTIVE_ASSIGNMENT_STATES": "Assignments a unit is working on now.",
    "VISIBLE_ASSIGNMENT_STATES": "Assignments whose incident the unit's officers may read.",
    "INCIDENT_STATES": "Every incident state.",
    "TERMINAL_INCIDENT_STATES": "Incident states after which its details no longer change.",
    "CLEARED_BY_AVAILABLE": "Assignment states that a unit's 'available' clears (the server's milestone rule).",
    "ROLES": "Account roles.",
    "DESK_ROLES": "Roles that use the console.",
}

HEADER = """\
// GENERATED FILE, DO NOT EDIT. Written by `python -m sync.vocabulary --write` from
// sync/mutations.py, sync/machines.py and sync/principal.py: change the Python, then run
// the command again (tests/sync/test_vocabulary.py fails while this file is out of date).
//
// Lengths are what the server accepts, counted in Unicode code points; `maxlength` and
// String.length count UTF-16 code units (never fewer), so text within maxlength always fits.
"""


def render() -> str:
    parts = [HEADER]
    for key, value in vocabulary().items():
        text = json.dumps(value, indent=2, ensure_ascii=False)
        parts.append(f"\n/** {DOCS[key]} */\nexport const {key} = Object.freeze({text});\n"
                     if isinstance(value, (dict, list)) else f"\n/** {DOCS[key]} */\nexport const {key} = {text};\n")
    return "".join(parts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sync.vocabulary", description=__doc__.split("\n")[0])
    g = p.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help=f"write {JS_PATH.name} into pwa/src/shared")
    g.add_argument("--check", action="store_true", help="exit 1 if the committed file is out of date")
    args = p.parse_args(argv)
    text = render()
    if args.write:
        JS_PATH.write_text(text, encoding="utf-8")
        print(f"wrote {JS_PATH}")
        return 0
    if args.check:
        current = JS_PATH.read_text(encoding="utf-8") if JS_PATH.is_file() else ""
        if current != text:
            print(f"{JS_PATH} is out of date: run `python -m sync.vocabulary --write`", file=sys.stderr)
            return 1
        return 0
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
