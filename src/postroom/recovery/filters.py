"""Selecting exactly the lost window: ``--since``/``--until`` on the time field and ``--where``
field filters on the record.

``--since`` is inclusive, ``--until`` exclusive (``[since, until)``), so consecutive windows never
overlap. ``--where path=value`` keeps records whose field equals the value (numbers and booleans
compare by their JSON text: ``status=200``, ``retry=true``); ``path!=value`` keeps the others,
including records without the field. Several ``--where`` must all hold.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from postroom.recovery.formats import Record
from postroom.recovery.paths import MISSING, get_path


class FilterError(ValueError):
    """A --where that is not ``path=value`` or ``path!=value``."""


@dataclass(frozen=True)
class Where:
    path: str
    value: str
    negate: bool

    def matches(self, record: Record) -> bool:
        found = get_path(record, self.path)
        equal = found is not MISSING and _text(found) == self.value
        return equal != self.negate


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def parse_where(items: Sequence[str]) -> list[Where]:
    out = []
    for item in items:
        if "!=" in item:
            path, _, value = item.partition("!=")
            negate = True
        elif "=" in item:
            path, _, value = item.partition("=")
            negate = False
        else:
            raise FilterError(f"--where {item!r}: expected path=value or path!=value")
        if not path:
            raise FilterError(f"--where {item!r}: empty field path")
        out.append(Where(path, value, negate))
    return out


@dataclass(frozen=True)
class Window:
    since: float | None = None
    until: float | None = None

    @property
    def active(self) -> bool:
        return self.since is not None or self.until is not None

    def contains(self, t: float) -> bool:
        return (self.since is None or t >= self.since) and (self.until is None or t < self.until)
