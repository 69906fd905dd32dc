"""Log timestamps → epoch seconds.

Accepted: ISO 8601 (``2026-11-29T08:15:02.123Z``, ``2026-11-29 08:15:02+01:00``; a time without
an offset is UTC), epoch numbers (seconds, or milliseconds/microseconds/nanoseconds when the number
is too large to be seconds), or any ``strptime`` format given as ``time_format``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class TimeError(ValueError):
    """A value that is not a time in any accepted form."""


def _from_number(n: float) -> float:
    if n > 1e17:
        return n / 1e9
    if n > 1e14:
        return n / 1e6
    if n > 1e11:
        return n / 1e3
    return n


def parse_time(value: Any, time_format: str | None = None) -> float:
    if isinstance(value, bool):
        raise TimeError(f"not a time: {value!r}")
    if isinstance(value, int | float):
        return _from_number(float(value))
    if not isinstance(value, str) or not value:
        raise TimeError(f"not a time: {value!r}")
    if time_format is not None:
        try:
            dt = datetime.strptime(value, time_format)
        except ValueError:
            raise TimeError(f"{value!r} does not match time format {time_format!r}") from None
    else:
        if value[0].isdigit() and value.replace(".", "", 1).isdigit():
            return _from_number(float(value))
        text = value[:-1] + "+00:00" if value[-1] in "Zz" else value
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            raise TimeError(f"not an ISO 8601 time or epoch number: {value!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def format_time(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
