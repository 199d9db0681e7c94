"""The server's VAPID key pair (RFC 8292), kept as one PEM file.

The private key is created on first start and stored with mode 0600 in the
data directory; every later start reuses it, because browsers bind each push
subscription to the public key they were given (``applicationServerKey``).
Losing or replacing the file silently invalidates every stored subscription.
"""

from __future__ import annotations

import logging
import os
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from webpush.vapid import VAPID

log = logging.getLogger(__name__)


class VapidKeyError(ValueError):
    """The VAPID key file cannot be read, parsed or written; the message names the path."""


@dataclass(frozen=True)
class VapidKeys:
    path: Path
    private_key: ec.EllipticCurvePrivateKey = field(repr=False)
    private_pem: bytes = field(repr=False)
    public_pem: bytes
    # The browser's ``applicationServerKey``: base64url (no padding) of the
    # uncompressed P-256 point (65 bytes, starting 0x04).
    application_server_key: str
    created: bool = False  # True when this call generated the pair


def _from_private_pem(path: Path, pem: bytes, created: bool) -> VapidKeys:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise VapidKeyError(
            f"VAPID key file {path} is not an unencrypted PEM private key ({exc}); "
            "restore it from backup, or move it away to create a new key pair "
            "(existing push subscriptions then stop working)") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise VapidKeyError(f"VAPID key file {path} holds a {type(key).__name__}; "
                            "Web Push needs an EC P-256 (prime256v1) private key")
    public = key.public_key()
    return VapidKeys(
        path=path,
        private_key=key,
        private_pem=pem,
        public_pem=public.public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo),
        application_server_key=VAPID.get_application_server_key(public),
        created=created,
    )


def _read(path: Path) -> VapidKeys:
    try:
        pem = path.read_bytes()
        mode = path.stat().st_mode
    except OSError as exc:
        raise VapidKeyError(f"cannot read VAPID key file {path}: {exc.strerror or exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("VAPID key file %s is accessible to group/others (mode %o); chmod 600 it",
                    path, stat.S_IMODE(mode))
    return _from_private_pem(path, pem, created=False)


def _create(path: Path) -> VapidKeys | None:
    """Write a new key pair atomically; None if another process won the race."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise VapidKeyError(f"cannot create directory {path.parent} for the VAPID key: "
                            f"{exc.strerror or exc}") from None
    private_pem, _public_pem, _app_key = VAPID.generate_keys()
    try:
        # mkstemp creates the file with mode 0600; the complete file is then
        # linked into place, which never overwrites an existing key (two
        # servers starting at once both end up using the same pair).
        fd, tmp = tempfile.mkstemp(prefix=".vapid-", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise VapidKeyError(f"cannot write VAPID key file in {path.parent}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(private_pem)
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return None
        except OSError as exc:
            raise VapidKeyError(f"cannot write VAPID key file {path}: {exc.strerror or exc}") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass
    log.info("created a new VAPID key pair in %s", path)
    return _from_private_pem(path, private_pem, created=True)


def load_or_create(path: str | os.PathLike[str]) -> VapidKeys:
    """Load the VAPID private key from ``path``, creating the pair on first use.

    Raises :class:`VapidKeyError` (a ValueError naming the path) when the file
    exists but cannot be read or is not an EC P-256 private key, or when it
    cannot be created.
    """
    path = Path(path)
    if path.exists() or path.is_symlink():
        return _read(path)
    created = _create(path)
    return created if created is not None else _read(path)
