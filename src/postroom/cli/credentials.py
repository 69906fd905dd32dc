"""``postroom credentials add|list|revoke``: manage the credentials file ``postroom serve
--credentials FILE`` verifies signatures against (format: ``protocol/credentials.py``).

The server re-reads the file within a second of a change, so keys added or revoked here take
effect without a restart.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from postroom.protocol.credentials import (
    Credential,
    CredentialsError,
    generate,
    load_file,
    parse_document,
    save_file,
)

DEFAULT_FILE = "postroom-credentials.yaml"
ENV_FILE = "POSTROOM_CREDENTIALS_FILE"
_file_option = click.option(
    "--file", "path", default=DEFAULT_FILE, show_default=True, envvar=ENV_FILE, metavar="FILE",
    type=click.Path(dir_okay=False, path_type=Path), help=f"The credentials file (also ${ENV_FILE}).")


def server_credentials(credentials_file: Path | None) -> tuple[tuple[str, str, str | None], ...]:
    """For ``postroom serve``: check the credentials file now (a clear error instead of a
    failed start) and read a key from the environment, if one is there."""
    if credentials_file is not None:
        try:
            load_file(credentials_file)
        except CredentialsError as exc:
            raise click.ClickException(str(exc)) from None
    key, secret = os.environ.get("POSTROOM_ACCESS_KEY_ID"), os.environ.get("POSTROOM_SECRET_ACCESS_KEY")
    if bool(key) != bool(secret):
        raise click.ClickException("POSTROOM_ACCESS_KEY_ID and POSTROOM_SECRET_ACCESS_KEY go together")
    if key and secret:
        return ((key, secret, os.environ.get("POSTROOM_SESSION_TOKEN") or None),)
    return ()


def _load(path: Path, must_exist: bool = False) -> dict[str, Credential]:
    if not path.exists() and not must_exist:
        return {}
    try:
        return load_file(path)
    except CredentialsError as exc:
        raise click.ClickException(str(exc)) from None


def _allow(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    patterns = tuple(p.strip() for p in value.split(",") if p.strip())
    for pattern in patterns:
        if pattern != "*" and ":" not in pattern:
            raise click.BadParameter(f"{pattern!r}: expected <service>:<Action> (sqs:SendMessage, sns:*) or *")
    return patterns


@click.group()
def credentials() -> None:
    """Manage the access keys a server started with --credentials FILE accepts."""


@credentials.command()
@_file_option
@click.option("--account-id", default=None, metavar="ID",
              help="The 12-digit account the key acts for (default: the server's --account-id).")
@click.option("--allow", default=None, metavar="ACTIONS",
              help="Comma-separated actions the key may call, wildcards allowed: sqs:SendMessage,sqs:Receive*,sns:* "
                   "(default: every action).")
@click.option("--description", default=None, help="A note for people: whose key this is.")
@click.option("--access-key-id", default=None, help="Register this key id instead of generating one.")
@click.option("--secret-access-key", default=None, help="Register this secret instead of generating one.")
@click.option("--session-token", default=None, help="Requests with this key must also carry this session token.")
def add(path: Path, account_id: str | None, allow: str | None, description: str | None, access_key_id: str | None,
        secret_access_key: str | None, session_token: str | None) -> None:
    """Create an access key and print it (the secret is shown only this once).

    The output is shell exports, so `eval "$(postroom credentials add)"` sets up the standard AWS
    credential chain for the SDKs and postroom's own client tools."""
    if account_id is not None and not (len(account_id) == 12 and account_id.isdigit()):
        raise click.BadParameter("must be 12 digits", param_hint="--account-id")
    keys = _load(path)
    made = generate(account_id, _allow(allow), description)
    cred = Credential(access_key_id or made.access_key_id, secret_access_key or made.secret_access_key,
                      account_id, session_token, made.allow, description)
    if cred.access_key_id in keys:
        raise click.ClickException(f"{cred.access_key_id} is already in {path}; revoke it first")
    keys[cred.access_key_id] = cred
    try:
        parse_document({"keys": {k: c.to_document() for k, c in keys.items()}}, str(path))
    except CredentialsError as exc:
        raise click.ClickException(str(exc)) from None
    save_file(path, keys)
    click.echo(f"export AWS_ACCESS_KEY_ID={cred.access_key_id}")
    click.echo(f"export AWS_SECRET_ACCESS_KEY={cred.secret_access_key}")
    if session_token:
        click.echo(f"export AWS_SESSION_TOKEN={session_token}")
    click.echo(f"# added to {path}; account {account_id or '(the server default)'}; the secret is not shown again",
               err=True)


@credentials.command(name="list")
@_file_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document.")
def list_keys(path: Path, as_json: bool) -> None:
    """List the keys (never their secrets)."""
    keys = _load(path, must_exist=True)
    rows: list[dict[str, Any]] = [
        {"access_key_id": c.access_key_id, "account_id": c.account_id, "allow": list(c.allow) if c.allow else None,
         "session_token": c.session_token is not None, "description": c.description} for c in keys.values()]
    if as_json:
        click.echo(json.dumps({"keys": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no keys in {path}")
        return
    click.echo(f"{'ACCESS KEY ID':<24} {'ACCOUNT':<14} {'ALLOW':<30} DESCRIPTION")
    for r in rows:
        allow_text = ",".join(r["allow"]) if r["allow"] else "*"
        account = r["account_id"] or "(default)"
        token = " [session token]" if r["session_token"] else ""
        click.echo(f"{r['access_key_id']:<24} {account:<14} {allow_text:<30} {r['description'] or ''}{token}")


@credentials.command()
@_file_option
@click.argument("access_key_id")
def revoke(path: Path, access_key_id: str) -> None:
    """Remove a key: the server refuses it within a second."""
    keys = _load(path, must_exist=True)
    if keys.pop(access_key_id, None) is None:
        raise click.ClickException(f"no key {access_key_id} in {path}")
    save_file(path, keys)
    click.echo(f"revoked {access_key_id}")


COMMANDS = [credentials]
