"""Typed settings from ``PATROL_*`` environment variables.

Each field has a default and a one-line doc (its ``description``). A value that
does not parse stops the start with the variable's name and what was expected.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

import msgspec

from server.storage import mask_url, parse_database_url

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "PATROL_"


def _doc(text: str, **constraints: Any) -> msgspec.Meta:
    return msgspec.Meta(description=text, **constraints)


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: Annotated[str, _doc(
        "Database URL: sqlite:///path.db (relative to the working directory) or postgresql://user@host:5432/db")] = ""
    host: Annotated[str, _doc("Interface the HTTP server listens on")] = "127.0.0.1"
    port: Annotated[int, _doc("TCP port of the HTTP server", ge=1, le=65535)] = 8000
    data_dir: Annotated[str, _doc("Directory for the SQLite database and the VAPID keys")] = "data"
    vapid_key_path: Annotated[str, _doc(
        "PEM file with the Web Push VAPID private key (created on first start)")] = ""
    vapid_subject: Annotated[str, _doc(
        "Contact e-mail sent to push services with every push (no mailto: prefix)")] = "ops@patrol.example.org"
    log_level: Annotated[Literal["debug", "info", "warning", "error"], _doc("Log level")] = "info"
    pwa_dir: Annotated[str, _doc("Directory of the built front end (npm run build in pwa/)")] = ""
    public_url: Annotated[str, _doc(
        "Public base URL, used in push notification links (default: http://HOST:PORT from"
        " PATROL_HOST and PATROL_PORT)")] = ""
    session_ttl_hours: Annotated[int, _doc(
        "How long a device's sign-in stays valid without use", ge=1, le=24 * 365)] = 24 * 30
    login_max_failures: Annotated[int, _doc(
        "Failed logins for one username within the lockout window before it is throttled", ge=1)] = 5
    login_lockout_s: Annotated[int, _doc("Lockout window for failed logins, seconds", ge=1)] = 300
    max_request_bytes: Annotated[int, _doc(
        "Largest accepted HTTP request body, bytes", ge=1024)] = 1_048_576
    ws_max_frame_bytes: Annotated[int, _doc(
        "Largest accepted websocket frame, bytes (bigger frames close the socket with 1009)", ge=1024)] = 262_144
    ws_queue_size: Annotated[int, _doc(
        "Per-connection outgoing frame queue; at least twice the hub's page of 500 changes."
        " Positions are coalesced when it fills; a console that falls further behind catches up"
        " from the change log", ge=8)] = 1024
    channels_backend: Annotated[Literal["auto", "memory", "postgres"], _doc(
        "Live fan-out between server instances: memory (one instance) or postgres (LISTEN/NOTIFY); auto picks by database")] = "auto"
    push_allow_local_endpoints: Annotated[bool, _doc(
        "Accept push subscriptions whose endpoint is on this host or a private network (tests only)")] = False
    tile_url: Annotated[str, _doc(
        "Map tile URL template for the console map ({z}/{x}/{y}); empty disables tiles")] = \
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
    ack_timeout_s: Annotated[int, _doc(
        "Seconds after which an unacknowledged assignment is highlighted on the console", ge=10)] = 120
    location_retention_days: Annotated[int, _doc(
        "Location pings older than this many days are deleted (privacy by design)", ge=1)] = 30
    audit_retention_days: Annotated[int, _doc(
        "Audit rows older than this many days are deleted by `patrol audit prune` (the chain still"
        " verifies); 0 keeps them all", ge=0)] = 0
    response_target_min: Annotated[int, _doc(
        "Response-time target for urgent (priority 1-2) calls, minutes, for the analysis view", ge=1)] = 15

    # -- derived values -------------------------------------------------
    @property
    def data_path(self) -> Path:
        path = Path(self.data_dir)
        return path if path.is_absolute() else Path.cwd() / path

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_path / 'patrol.db'}"

    @property
    def effective_public_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        # Listening on every interface says nothing about the name people use: loopback then.
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def effective_vapid_key_path(self) -> Path:
        return Path(self.vapid_key_path) if self.vapid_key_path else self.data_path / "vapid_private.pem"

    @property
    def effective_pwa_dir(self) -> Path:
        return Path(self.pwa_dir) if self.pwa_dir else PROJECT_ROOT / "pwa" / "dist"


class SettingsError(ValueError):
    """A PATROL_* variable has a value that cannot be used."""


def _fields() -> list[tuple[str, Any, str]]:
    info = msgspec.inspect.type_info(Settings)
    assert isinstance(info, msgspec.inspect.StructType)
    out = []
    for f in info.fields:
        schema = getattr(f.type, "extra_json_schema", None) or {}
        out.append((f.name, f.default, str(schema.get("description", ""))))
    return out


def describe() -> list[tuple[str, str, str]]:
    """(variable, default, doc) for every setting, for `patrol config --help`."""
    return [(PREFIX + name.upper(), repr(default), doc) for name, default, doc in _fields()]


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Read settings from the environment; raise SettingsError naming the variable."""
    env = os.environ if env is None else env
    raw: dict[str, Any] = {}
    for name, _default, _doc_text in _fields():
        var = PREFIX + name.upper()
        if var in env:
            raw[name] = env[var]
    # Convert one field at a time so the error names exactly one variable.
    for name, value in list(raw.items()):
        try:
            msgspec.convert({name: value}, Settings, strict=False)
        except msgspec.ValidationError as exc:
            msg = str(exc).split(" - at ", 1)[0]
            raise SettingsError(f"{PREFIX}{name.upper()}={value!r}: {msg}") from None
    settings = msgspec.convert(raw, Settings, strict=False)
    try:
        parse_database_url(settings.effective_database_url)
    except ValueError as exc:
        raise SettingsError(f"{PREFIX}DATABASE_URL={settings.database_url!r}: {exc}") from None
    # One hub page is offered to a socket at once: a queue that cannot hold two would put
    # even a fast, idle console into resync (catch-up from the log) on every busy moment.
    from server.realtime import hub  # read at call time: the page size is the hub's

    if settings.ws_queue_size < 2 * hub.TAIL_PAGE:
        raise SettingsError(
            f"{PREFIX}WS_QUEUE_SIZE={settings.ws_queue_size!r}: must be at least {2 * hub.TAIL_PAGE}"
            f" (twice the {hub.TAIL_PAGE} changes the hub delivers at once)")
    return settings


_SECRET_WORDS = ("password", "secret", "token", "key_material")


def effective(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, effective value with secrets masked, doc) for `patrol config`."""
    rows = []
    for name, _default, doc in _fields():
        value: Any = getattr(settings, name)
        if name == "database_url":
            value = mask_url(settings.effective_database_url)
        elif name == "vapid_key_path":
            value = str(settings.effective_vapid_key_path)
        elif name == "pwa_dir":
            value = str(settings.effective_pwa_dir)
        elif any(w in name for w in _SECRET_WORDS):
            value = "***"
        rows.append((PREFIX + name.upper(), str(value), doc))
    return rows
