"""The credentials file: who may sign requests, for which account, and for which actions.

A YAML (or JSON: YAML reads it too) document, written by ``postroom credentials add`` or by
hand::

    # postroom credentials: access key id -> secret, account, optional session token and actions
    keys:
      PRK7XQ2M4T6Y8B3N5D1C:
        secret_access_key: 9a0f…                # required
        account_id: "123456789012"               # default: the server's --account-id
        session_token: FwoGZX…                   # optional: requests must then carry exactly it
        allow: ["sqs:*", "sns:Publish"]          # optional: default every action
        description: billing service             # optional, for people

``allow`` patterns are ``<service>:<Action>`` with ``*`` and ``?`` wildcards (``sqs:Send*``,
``sns:*``, ``*``; the service prefix is ``sqs``, ``sns`` or ``sts``), matched without regard to
case, as IAM matches action names.

The server loads the file at start (an unreadable or invalid file stops it) and re-reads it
when its modification time or size changes, looking at most once a second, so ``postroom
credentials add|revoke`` takes effect within a second without a restart. A file that turns
invalid while the server runs is reported in the log and the last good version stays in force.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

log = logging.getLogger("postroom.auth")

_ACCOUNT = re.compile(r"\d{12}")
_KEY_ID = re.compile(r"[A-Za-z0-9_+=,.@-]{3,128}")
_FIELDS = {"secret_access_key", "account_id", "session_token", "allow", "description"}
RELOAD_INTERVAL_S = 1.0
KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


class CredentialsError(ValueError):
    """The credentials file cannot be used as it is."""


@dataclass(frozen=True)
class Credential:
    access_key_id: str
    secret_access_key: str
    account_id: str | None = None
    """None: the server's --account-id."""
    session_token: str | None = None
    allow: tuple[str, ...] | None = None
    """None: every action."""
    description: str | None = None

    def allows(self, service: str, action: str) -> bool:
        if self.allow is None:
            return True
        name = f"{service}:{action}".lower()
        return any(fnmatch.fnmatchcase(name, pattern.lower()) for pattern in self.allow)

    def to_document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"secret_access_key": self.secret_access_key}
        if self.account_id is not None:
            doc["account_id"] = self.account_id
        if self.session_token is not None:
            doc["session_token"] = self.session_token
        if self.allow is not None:
            doc["allow"] = list(self.allow)
        if self.description:
            doc["description"] = self.description
        return doc


def parse_document(document: Any, source: str = "credentials") -> dict[str, Credential]:
    """The credentials a loaded YAML/JSON document describes; CredentialsError if invalid."""
    if document is None:
        return {}
    if not isinstance(document, Mapping) or not isinstance(document.get("keys", {}), Mapping):
        raise CredentialsError(f"{source}: expected a mapping with a 'keys' mapping (access key id -> entry)")
    out: dict[str, Credential] = {}
    for key_id, entry in (document.get("keys") or {}).items():
        where = f"{source}: key {key_id!r}"
        if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
            raise CredentialsError(f"{where}: an access key id is 3-128 letters, digits or _+=,.@-")
        if not isinstance(entry, Mapping):
            raise CredentialsError(f"{where}: expected a mapping with secret_access_key")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise CredentialsError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        secret = entry.get("secret_access_key")
        if not isinstance(secret, str) or not secret:
            raise CredentialsError(f"{where}: secret_access_key must be a non-empty string")
        account = entry.get("account_id")
        if account is not None:
            account = str(account).zfill(12) if isinstance(account, int) else account
            if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
                raise CredentialsError(f"{where}: account_id must be 12 digits (quote it in YAML)")
        token = entry.get("session_token")
        if token is not None and (not isinstance(token, str) or not token):
            raise CredentialsError(f"{where}: session_token must be a non-empty string")
        allow = entry.get("allow")
        if allow is not None:
            if isinstance(allow, str):
                allow = [a.strip() for a in allow.split(",") if a.strip()]
            if not isinstance(allow, list) or not all(isinstance(a, str) and a for a in allow):
                raise CredentialsError(f"{where}: allow must be a list of '<service>:<Action>' patterns")
            allow = tuple(allow)
        description = entry.get("description")
        out[key_id] = Credential(key_id, secret, account, token, allow,
                                 str(description) if description is not None else None)
    return out


def load_file(path: Path) -> dict[str, Credential]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CredentialsError(f"cannot read credentials file {path}: {exc.strerror or exc}") from exc
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CredentialsError(f"{path}: not valid YAML or JSON: {exc}") from exc
    return parse_document(document, str(path))


def save_file(path: Path, credentials: Mapping[str, Credential]) -> None:
    """Write atomically (a temporary file renamed over the old one), readable by its owner only."""
    document = {"keys": {key: cred.to_document() for key, cred in credentials.items()}}
    text = ("# postroom credentials (postroom credentials add|list|revoke). Keep this file secret.\n"
            + yaml.safe_dump(document, sort_keys=False, default_flow_style=False))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def generate(account_id: str | None = None, allow: tuple[str, ...] | None = None,
             description: str | None = None) -> Credential:
    """A new key pair: an AWS-shaped 20-character access key id (``PRK`` + 17) and a 40-character
    secret."""
    key_id = "PRK" + "".join(secrets.choice(KEY_ALPHABET) for _ in range(17))
    secret = secrets.token_urlsafe(30)[:40]
    return Credential(key_id, secret, account_id, None, allow, description)


class CredentialStore:
    """The keys the server accepts: a credentials file (re-read when it changes) and/or keys
    given directly (from the environment)."""

    def __init__(self, path: Path | None = None, static: Mapping[str, Credential] | None = None,
                 clock: Any = time.monotonic) -> None:
        self.path = path
        self._static = dict(static or {})
        self._clock = clock
        self._file_keys: dict[str, Credential] = {}
        self._signature: tuple[int, int, int] | None = None
        self._checked = 0.0
        if path is not None:
            self._signature = self._stat()
            self._file_keys = load_file(path)
            self._checked = clock()

    def _stat(self) -> tuple[int, int, int] | None:
        assert self.path is not None
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size, st.st_ino

    def _maybe_reload(self) -> None:
        now = self._clock()
        if self.path is None or now - self._checked < RELOAD_INTERVAL_S:
            return
        self._checked = now
        signature = self._stat()
        if signature == self._signature:
            return
        self._signature = signature
        if signature is None:
            log.error("credentials file %s is gone; keeping the %d keys last loaded", self.path, len(self._file_keys))
            return
        try:
            self._file_keys = load_file(self.path)
        except CredentialsError as exc:
            log.error("credentials file changed but cannot be used (keeping the last good version): %s", exc)
            return
        log.info("credentials file %s reloaded: %d keys", self.path, len(self._file_keys))

    def get(self, access_key_id: str) -> Credential | None:
        self._maybe_reload()
        found = self._file_keys.get(access_key_id)
        return found if found is not None else self._static.get(access_key_id)

    def __len__(self) -> int:
        return len(self._file_keys) + len(self._static)
