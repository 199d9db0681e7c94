"""Mutation envelopes and typed arguments; decoding and protocol upgrades.

Wire shape (protocol v1, what the PWA sends)::

    {"v": 1, "client_id": "<device uuid>", "seq": 17, "name": "unit.set_status",
     "hlc": "<hlc>", "device_at": <ms epoch>, "base_version": <int|null>, "args": {...}}

Older shapes are brought to the current one by :func:`upgrade` before
decoding, one version step at a time (``UPGRADERS[n]`` turns a vN dict into
a vN+1 dict), so a phone that stayed offline across an app update still
syncs. Decoding never raises to the caller: it returns either a
:class:`Mutation` or an :class:`Invalid` naming the offending field.

Hostile input stops here, per mutation, never per push: every number is
bounded (times are epoch ms in ``[0, 2100-01-01)``: a phone whose clock was
reset reads 1970 and its offset is corrected, but nothing beyond the year 2100
or below 0 is a time; ``seq`` and versions within ``0..2^53-1``, what a
JavaScript number holds exactly), and no text may contain U+0000, which
PostgreSQL cannot store (:func:`find_nul`; refused on SQLite too, so both
databases answer the same). A mutation that cannot even be stored as refused
(a NUL in its name, a seq or version beyond the columns) is answered without
being stored (:attr:`Invalid.client_id` is then None).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from . import hlc as hlc_mod

PROTOCOL_VERSION = 1
OLDEST_SUPPORTED = 0

# Bounds of everything numeric a client sends (shared with the REST edge in server/api).
EPOCH_MIN_MS = 0                    # device clocks are corrected by their offset; 1970 is a reset phone
EPOCH_MAX_MS = 4_102_444_800_000    # 2100-01-01T00:00:00Z: no time is later
MAX_SAFE_INT = 2**53 - 1            # Number.MAX_SAFE_INTEGER: seqs, versions, cursors
MAX_INT64 = 2**63 - 1               # what a BIGINT column holds
_MAX_INT32 = 2**31 - 1              # applied_mutations.protocol is an INTEGER

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
NewId = Annotated[str, Meta(pattern=UUID_RE)]           # an id the mutation creates (UUIDv7 from the phone)
Ref = Annotated[str, Meta(min_length=1, max_length=64)]  # a reference to an existing entity
Text = Annotated[str, Meta(max_length=20_000)]
Short = Annotated[str, Meta(max_length=500)]
Lat = Annotated[float, Meta(ge=-90, le=90)]
Lon = Annotated[float, Meta(ge=-180, le=180)]
Ms = Annotated[int, Meta(ge=EPOCH_MIN_MS, le=EPOCH_MAX_MS)]   # a time (epoch ms)
SafeInt = Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
Priority = Annotated[int, Meta(ge=1, le=4)]
UnitStatus = Literal["available", "en_route", "on_scene", "busy", "off_duty"]


class Mutation(msgspec.Struct, kw_only=True, frozen=True):
    """The decoded envelope (args still a dict until the handler's type is known)."""

    v: int
    client_id: Annotated[str, Meta(min_length=1, max_length=64)]
    seq: SafeInt
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    hlc: str
    device_at: Ms
    base_version: SafeInt | None = None
    args: dict[str, Any] = {}


# --------------------------------------------------------------------------- args


class Args(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    pass


class SetStatus(Args, kw_only=True):
    unit_id: Ref
    status: UnitStatus
    assignment_id: Ref | None = None
    event_id: NewId | None = None
    lat: Lat | None = None
    lon: Lon | None = None


class Ping(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, frozen=True):
    at: Ms
    lat: Lat
    lon: Lon
    accuracy_m: Annotated[float, Meta(ge=0, le=1_000_000)] | None = None
    heading: Annotated[float, Meta(ge=0, le=360)] | None = None
    speed_mps: Annotated[float, Meta(ge=0, le=1_000)] | None = None


class ReportLocation(Args, kw_only=True):
    unit_id: Ref
    pings: Annotated[list[Ping], Meta(min_length=1, max_length=5000)]


class IncidentCreate(Args, kw_only=True):
    incident_id: NewId
    org_unit_id: Ref | None = None
    source: Literal["112", "113", "patrol", "other"] = "112"
    call_received_at: Ms | None = None
    type: Annotated[str, Meta(min_length=1, max_length=64)]
    priority: Priority | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    address: Short | None = None
    description: Text | None = None
    hazards: Text | None = None
    caller_name: Short | None = None
    caller_phone: Short | None = None
    assignment_id: NewId | None = None  # officer-created (source 'patrol'): assign own unit


INCIDENT_FIELDS = ("type", "priority", "lat", "lon", "address", "description", "hazards",
                   "caller_name", "caller_phone")
OFFICER_INCIDENT_FIELDS = frozenset({"lat", "lon", "address", "description", "hazards"})


class IncidentUpdate(Args, kw_only=True):
    incident_id: Ref
    type: Annotated[str, Meta(min_length=1, max_length=64)] | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    lat: Lat | None | UnsetType = UNSET
    lon: Lon | None | UnsetType = UNSET
    address: Short | None | UnsetType = UNSET
    description: Text | None | UnsetType = UNSET
    hazards: Text | None | UnsetType = UNSET
    caller_name: Short | None | UnsetType = UNSET
    caller_phone: Short | None | UnsetType = UNSET


class AddNote(Args, kw_only=True):
    note_id: NewId
    incident_id: Ref
    body: Annotated[str, Meta(min_length=1, max_length=20_000)]


class IncidentClose(Args, kw_only=True):
    incident_id: Ref
    outcome: Short | None = None
    cancelled: bool = False


REPORT_FIELDS = ("summary", "actions_taken", "persons", "vehicles", "evidence")


class ReportUpdate(Args, kw_only=True):
    report_id: NewId
    incident_id: Ref
    summary: Text | None | UnsetType = UNSET
    actions_taken: Text | None | UnsetType = UNSET
    persons: Text | None | UnsetType = UNSET
    vehicles: Text | None | UnsetType = UNSET
    evidence: Text | None | UnsetType = UNSET


class AssignmentCreate(Args, kw_only=True):
    assignment_id: NewId
    incident_id: Ref
    unit_id: Ref
    additional: bool = False  # explicitly add as a second unit / second active assignment


class AssignmentReassign(Args, kw_only=True):
    assignment_id: Ref
    new_assignment_id: NewId
    unit_id: Ref
    additional: bool = False
    reason: Short | None = None


class AssignmentRef(Args, kw_only=True):
    assignment_id: Ref


class AssignmentDecline(Args, kw_only=True):
    assignment_id: Ref
    reason: Short | None = None


class AssignmentCancel(Args, kw_only=True):
    assignment_id: Ref
    reason: Short | None = None


class AlertRaise(Args, kw_only=True):
    alert_id: NewId
    unit_id: Ref | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    note: Short | None = None


class AlertAck(Args, kw_only=True):
    alert_id: Ref


class AlertEnd(Args, kw_only=True):
    alert_id: Ref
    # Required: ending an emergency (a false alarm, or over) is never silent.
    reason: Annotated[str, Meta(min_length=1, max_length=500)]


class ConflictResolve(Args, kw_only=True):
    conflict_id: Ref
    resolution: Literal["server", "client", "merged"]
    value: Any = None  # the merged value (only for resolution 'merged')


# --------------------------------------------------------------------------- decoding


class Invalid(msgspec.Struct, frozen=True):
    """What is wrong with a mutation. ``client_id`` is None when its refusal cannot be
    stored (see the module doc); ``code`` says which kind of problem it is, for the
    apps: ``invalid`` (shape or type), ``out_of_range``, ``invalid_text`` (U+0000)."""

    field: str
    message: str
    client_id: str | None = None
    seq: int | None = None
    name: str | None = None
    code: str = "invalid"


NUL = "\x00"


def _path_part(key: str) -> str:
    return key.replace(NUL, "\\u0000")


def find_nul(value: Any, prefix: str = "") -> str | None:
    """The path (``args.pings[0].note``, msgspec style) of the first text or key holding
    U+0000 in a decoded JSON value, or None. Iterative: nesting depth costs no stack."""
    if isinstance(value, str):
        return (prefix or "(value)") if NUL in value else None
    if not isinstance(value, (dict, list, tuple)):
        return None
    try:  # the common case in C: no NUL anywhere (a JSON text spells it \u0000)
        if b"\\u0000" not in msgspec.json.encode(value):
            return None
    except (TypeError, ValueError, OverflowError, RecursionError):
        pass
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                return path or "(value)"
        elif isinstance(item, dict):
            children = []
            for key, child in item.items():
                name = key if isinstance(key, str) else str(key)
                child_path = f"{path}.{_path_part(name)}" if path else _path_part(name)
                if NUL in name:
                    return child_path
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{path}[{i}]", child) for i, child in enumerate(item)]))
    return None


def find_big_int(value: Any, limit: int = MAX_INT64, prefix: str = "") -> str | None:
    """The path of the first integer beyond ``±limit`` in a decoded JSON value, or None."""
    stack: list[tuple[str, Any]] = [(prefix, value)]
    while stack:
        path, item = stack.pop()
        if isinstance(item, int) and not isinstance(item, bool):
            if not -limit - 1 <= item <= limit:
                return path or "(value)"
        elif isinstance(item, dict):
            stack.extend(reversed([(f"{path}.{_path_part(str(k))}" if path else _path_part(str(k)), v)
                                   for k, v in item.items()]))
        elif isinstance(item, (list, tuple)):
            stack.extend(reversed([(f"{path}[{i}]", v) for i, v in enumerate(item)]))
    return None


_PATH = re.compile(r" - at `\$(.*)`$")
_RANGE = re.compile(r"^Expected `(?:int|float)` (?:>=|<=|>|<) ")


def code_of(message: str) -> str:
    """``out_of_range`` for a msgspec bound violation, else ``invalid``."""
    return "out_of_range" if _RANGE.match(message) else "invalid"


def field_of(exc: msgspec.ValidationError, prefix: str = "") -> tuple[str, str]:
    """('args.unit_id', 'Expected `str`, got `int`') from a msgspec error."""
    text = str(exc)
    m = _PATH.search(text)
    path = m.group(1).lstrip(".") if m else ""
    msg = _PATH.sub("", text)
    missing = re.match(r"Object missing required field `([^`]+)`", msg)
    if missing:
        path = f"{path}.{missing.group(1)}" if path else missing.group(1)
    unknown = re.match(r"Object contains unknown field `([^`]+)`", msg)
    if unknown:
        path = f"{path}.{unknown.group(1)}" if path else unknown.group(1)
    full = ".".join(p for p in (prefix, path) if p)
    return full or prefix or "(mutation)", msg


def _upgrade_v0(raw: dict[str, Any]) -> dict[str, Any]:
    """v0 (the field-trial prototype) to v1.

    v0 named the operation ``op``, sent the device time as ``at`` in seconds,
    called the base version ``base``, and ``unit.set_status`` carried
    ``state`` where v1 has ``status``; ``assignment.ack`` was spelt short.
    """
    out = dict(raw)
    out["v"] = 1
    if "op" in out and "name" not in out:
        out["name"] = out.pop("op")
    if "at" in out and "device_at" not in out:
        at = out.pop("at")
        out["device_at"] = int(at * 1000) if isinstance(at, (int, float)) and not isinstance(at, bool) else at
    if "base" in out and "base_version" not in out:
        out["base_version"] = out.pop("base")
    if out.get("name") == "assignment.ack":
        out["name"] = "assignment.acknowledge"
    args = out.get("args")
    if out.get("name") == "unit.set_status" and isinstance(args, dict) and "state" in args:
        args = dict(args)
        args["status"] = args.pop("state")
        out["args"] = args
    return out


UPGRADERS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _upgrade_v0}


def upgrade(raw: dict[str, Any]) -> dict[str, Any]:
    """Bring a mutation dict of any supported version to PROTOCOL_VERSION."""
    v = raw.get("v", 0)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError("v")
    while v < PROTOCOL_VERSION:
        step = UPGRADERS.get(v)
        if step is None:
            raise ValueError("v")
        raw = step(raw)
        v = raw["v"]
    return raw


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _storable(raw: dict[str, Any]) -> bool:
    """Whether a refusal of this raw mutation can be stored in ``applied_mutations``
    (the engine stores its client_id, seq, name and ``v`` as sent)."""
    seq = _int(raw.get("seq"))
    v = raw.get("v", 0)
    name = raw.get("name")
    return (seq is not None and 0 <= seq <= MAX_SAFE_INT
            and (_int(v) is None or -_MAX_INT32 - 1 <= v <= _MAX_INT32)
            and not (isinstance(name, str) and NUL in name)
            and not (isinstance(raw.get("client_id"), str) and NUL in raw["client_id"]))


def decode(raw: Any) -> Mutation | Invalid:
    """Turn a wire dict (or a Mutation) into a Mutation, or say what is wrong.

    A :class:`Mutation` passed in is trusted as it is (it was made in this process)."""
    if isinstance(raw, Mutation):
        return raw
    if not isinstance(raw, dict):
        return Invalid("(mutation)", "a mutation must be a JSON object")
    cid = raw.get("client_id") if isinstance(raw.get("client_id"), str) and _storable(raw) else None
    seq = _int(raw.get("seq"))
    name = raw.get("name") if isinstance(raw.get("name"), str) and NUL not in raw["name"] else None
    nul = find_nul(raw)
    if nul is not None:
        return Invalid(nul, "text must not contain U+0000 (NUL)", cid, seq, name, code="invalid_text")
    v = raw.get("v", 0)
    if not isinstance(v, int) or isinstance(v, bool) or v < OLDEST_SUPPORTED or v > PROTOCOL_VERSION:
        shown = v if _int(v) is None or abs(v) < 10**6 else "(a huge number)"
        return Invalid("v", f"unsupported protocol version {shown!r} (this server speaks "
                       f"{OLDEST_SUPPORTED}..{PROTOCOL_VERSION})", cid, seq, name)
    try:
        raw = upgrade(raw)
    except (ValueError, KeyError, TypeError, OverflowError):
        return Invalid("v", "cannot upgrade this mutation to the current protocol", cid, seq, name)
    try:
        m = msgspec.convert(raw, Mutation)
    except msgspec.ValidationError as exc:
        f, msg = field_of(exc)
        return Invalid(f, msg, cid, seq, name, code=code_of(msg))
    if not hlc_mod.is_valid(m.hlc):
        return Invalid("hlc", "not an HLC timestamp (012x-04x-node)", m.client_id, m.seq, m.name)
    return m


def decode_args(m: Mutation, typ: type[Args]) -> Args | Invalid:
    try:
        return msgspec.convert(m.args, typ)
    except msgspec.ValidationError as exc:
        f, msg = field_of(exc, "args")
        return Invalid(f, msg, m.client_id, m.seq, m.name, code=code_of(msg))


def provided(args: Args, fields: tuple[str, ...]) -> dict[str, Any]:
    """The fields of an update that the client actually sent."""
    return {f: getattr(args, f) for f in fields if getattr(args, f) is not UNSET}


def to_wire(m: Mutation) -> dict[str, Any]:
    return msgspec.to_builtins(m)
