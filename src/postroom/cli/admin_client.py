"""What the operator commands (``archive``, ``replay``, ``audit``) share: the server's own
HTTP API (``postroom.server.admin``), its address, and times given on the command line."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
import httpx

DEFAULT_SERVER = "http://127.0.0.1:9700"
F = TypeVar("F", bound=Callable[..., Any])


def server_option(f: F) -> F:
    option = click.option("--server", default=lambda: os.environ.get("POSTROOM_SERVER", DEFAULT_SERVER),
                          show_default="$POSTROOM_SERVER or " + DEFAULT_SERVER,
                          help="The postroom server (any node of a PostgreSQL bus).")
    return option(f)


def call(server: str, method: str, path: str, **kwargs: Any) -> Any:
    try:
        response = httpx.request(method, server.rstrip("/") + path, timeout=60, **kwargs)
    except httpx.HTTPError as exc:
        raise click.ClickException(f"cannot reach {server}: {exc}") from None
    if response.status_code != 200:
        try:
            doc = response.json()
            detail = f"{doc.get('error')}: {doc.get('message')}"
        except ValueError:
            detail = response.text[:300]
        raise click.ClickException(f"{method} {path}: HTTP {response.status_code} {detail}")
    return response.json()


def parse_time(value: str | None) -> int | None:
    """ISO 8601 (``2024-05-01T12:00:00Z``), epoch milliseconds, or relative (``-2h``, ``-30m``, ``-1d``)."""
    if value is None:
        return None
    text = value.strip()
    units = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
    if text.startswith("-") and text[-1:] in units and text[1:-1].isdigit():
        return int(datetime.now(UTC).timestamp() * 1000) - int(text[1:-1]) * units[text[-1]]
    if text.isdigit():
        return int(text)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time (ISO 8601, epoch ms, or -2h / -30m / -1d)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def iso(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
