"""Dotted paths into records: ``detail.order.id``.

A segment that meets a string holding JSON (a body logged as JSON-in-a-string, e.g.
``"payload": "{\\"customer\\": 42}"``) decodes it and goes on, so ``payload.customer`` works.
A key that itself contains dots (``"attrs.type"``) is found too: the literal key is tried first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

MISSING: Any = object()


def get_path(record: Any, path: str) -> Any:
    """The value at ``path`` or :data:`MISSING`."""
    if isinstance(record, dict) and path in record:
        return record[path]
    if "." not in path:
        if isinstance(record, list) and path.isdigit() and int(path) < len(record):
            return record[int(path)]
        return MISSING
    head, _, rest = path.partition(".")
    # the longest literal key prefix wins ("a.b" before "a" when both could apply)
    if isinstance(record, dict):
        parts = path.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            key = ".".join(parts[:cut])
            if key in record:
                found = get_path(_descend(record[key]), ".".join(parts[cut:]))
                if found is not MISSING:
                    return found
        return MISSING
    if isinstance(record, list) and head.isdigit() and int(head) < len(record):
        return get_path(_descend(record[int(head)]), rest)
    return MISSING


def _descend(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def compile_path(path: str) -> Callable[[Any], Any]:
    """A fast accessor equivalent to ``get_path(record, path)`` for the common case (nested objects);
    it falls back to :func:`get_path` where a key containing dots may be meant."""
    parts = path.split(".")
    if len(parts) == 1:
        def get_one(record: Any) -> Any:
            if type(record) is dict:
                return record.get(path, MISSING)
            return get_path(record, path)
        return get_one

    def get(record: Any) -> Any:
        if type(record) is dict and path in record:
            return record[path]
        value = record
        last = len(parts) - 1
        for i, part in enumerate(parts):
            if type(value) is str and value[:1] in "{[":
                value = _descend(value)
            if type(value) is dict and part in value:
                value = value[part]
            elif type(value) is list and part.isdigit() and int(part) < len(value):
                value = value[int(part)]
            else:
                return get_path(value, ".".join(parts[i:])) if i < last or type(value) is not dict else MISSING
        return value

    return get
