"""Log line formats: a line becomes a record (a dict), is not a message at all, or fails to parse.

Three outcomes, kept apart on purpose, because nothing may be skipped silently:

- ``None``: the line is not a candidate — other log output (a startup banner, an access log line).
  It is ignored and counted.
- :class:`ParseFailure`: the line looked like a message but did not parse (a truncated JSON
  object, an unterminated logfmt quote, a line carrying the ``marker`` that the regex does not
  match). It goes to the reject file with the reason.
- a dict: a record for :mod:`postroom.recovery.mapping` to read fields from.

What counts as a candidate: with a ``marker`` (a substring that every message line carries, e.g.
``"msg":"published"``), exactly the lines containing it. Without one, for JSON lines a line starting
with ``{``; for logfmt a line containing ``<body-field>=``; for a regex the lines it matches (a
regex cannot tell a malformed message from other output — give a marker to catch those).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

Record = dict[str, Any]
LineParser = Callable[[str], "Record | None"]

LOGFMT_PAIR = re.compile(r'\s*([^\s="]+)(?:=("(?:[^"\\]|\\.)*"|[^\s"]*))?')


class ParseFailure(Exception):
    """A candidate line that did not parse; the message is the reason written to the reject file."""


def json_lines(marker: str | None) -> LineParser:
    loads = json.loads

    def parse(line: str) -> Record | None:
        if marker is not None:
            if marker not in line:
                return None
        elif not line.lstrip().startswith("{"):
            return None
        try:
            value = loads(line)
        except ValueError as e:
            raise ParseFailure(f"invalid JSON: {e}") from None
        if not isinstance(value, dict):
            raise ParseFailure(f"invalid JSON: a {type(value).__name__}, not an object")
        return value

    return parse


def parse_logfmt(line: str) -> Record:
    """``key=value key2="quoted \\"value\\"" flag`` → dict; a bare key is ``True``."""
    out: Record = {}
    pos, end = 0, len(line)
    match = LOGFMT_PAIR.match
    while pos < end:
        m = match(line, pos)
        if m is None or m.end() == pos:
            rest = line[pos:].lstrip()
            if not rest:
                break
            if rest.startswith('"'):
                raise ParseFailure(f"logfmt: unterminated quote at column {pos + 1}")
            raise ParseFailure(f"logfmt: unexpected {rest[:20]!r} at column {pos + 1}")
        key, raw = m.group(1), m.group(2)
        if raw is None:
            out[key] = True
        elif raw.startswith('"'):
            try:
                out[key] = json.loads(raw)
            except ValueError:
                raise ParseFailure(f"logfmt: bad escape in the value of {key!r}") from None
        else:
            out[key] = raw
        pos = m.end()
        if pos < end and not line[pos].isspace():
            if line[pos] == '"':
                raise ParseFailure(f"logfmt: unterminated quote at column {pos + 1}")
            raise ParseFailure(f"logfmt: unexpected {line[pos:pos + 20]!r} at column {pos + 1}")
    return out


def format_logfmt(record: Record) -> str:
    """The inverse of :func:`parse_logfmt` for string values (used by tests and the generator)."""
    parts = []
    for key, value in record.items():
        if value is True:
            parts.append(key)
            continue
        text = str(value)
        if text == "" or any(c.isspace() or c in '="\\' for c in text) or not text.isprintable():
            text = json.dumps(text, ensure_ascii=False)
        parts.append(f"{key}={text}")
    return " ".join(parts)


def logfmt(marker: str | None, body_field: str) -> LineParser:
    probe = marker if marker is not None else f"{body_field}="

    def parse(line: str) -> Record | None:
        if probe not in line:
            return None
        return parse_logfmt(line)

    return parse


def regex(pattern: str, marker: str | None) -> LineParser:
    compiled = re.compile(pattern)

    def parse(line: str) -> Record | None:
        m = compiled.search(line)
        if m is None:
            if marker is not None and marker in line:
                raise ParseFailure("the line carries the marker but does not match the pattern")
            return None
        if marker is not None and marker not in line:
            return None
        return {k: v for k, v in m.groupdict().items() if v is not None}

    return parse
