"""Where in a filter policy SNS's policy parser stopped, as AWS words it.

SNS checks a FilterPolicy with a streaming JSON parser over the policy re-serialized without
whitespace, and most of its errors end with the parser's position: ``\\n at [Source:
(String)"<compact policy>"; line: 1, column: <n>]`` (recorded against AWS: LocalStack's
test_sns_filter_policy snapshots, e.g. ``Value of < must be numeric\\n at [Source:
(String)"{"key":[{"numeric":[">",20,"<","30"]}]}"; line: 1, column: 33]``). The column is the
parser's current location when it gave up, 1-based: just past the opening quote of a string
it has only started, just past the end of a number, literal or string it has read whole, just
past a bracket. The source shown is cut after 500 characters, as the parser cuts it.

An error names its place as a :data:`Location`: a container of the parsed policy (a ``dict`` or
``list``, by identity), a key or index in it (``None``: the container's closing bracket) and
how far the parser had got with that value: ``read`` (its first token taken), ``complete`` (a
string read to its end) or ``next`` (the token after it taken).

Pure: no IO.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any, Final

__all__ = ["Location", "position_suffix"]

Location = tuple[Any, Any, str]
SNIPPET: Final = 500

_STRING: Final = "str"
_SCALAR: Final = "scalar"
_BRACKET: Final = "bracket"


class _Layout:
    """The compact serialization of a policy with its tokens: (kind, start, end) offsets, and
    per (container, key) the indexes of the first and last token of that value."""

    def __init__(self, document: Any) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.tokens: list[tuple[str, int, int]] = []
        self.values: dict[tuple[int, Any], tuple[int, int]] = {}
        self.closing: dict[int, int] = {}
        self._value(document)
        self.text = "".join(self.parts)

    def _emit(self, kind: str, text: str) -> int:
        start = self.length
        self.parts.append(text)
        self.length += len(text)
        if kind:
            self.tokens.append((kind, start, self.length))
        return len(self.tokens) - 1

    def _value(self, value: Any) -> tuple[int, int]:
        if isinstance(value, dict):
            first = self._emit(_BRACKET, "{")
            for n, (key, item) in enumerate(value.items()):
                if n:
                    self._emit("", ",")
                self._emit(_SCALAR, json.dumps(key, ensure_ascii=False))
                self._emit("", ":")
                self.values[(id(value), key)] = self._value(item)
            last = self._emit(_BRACKET, "}")
            self.closing[id(value)] = last
            return first, last
        if isinstance(value, list):
            first = self._emit(_BRACKET, "[")
            for n, item in enumerate(value):
                if n:
                    self._emit("", ",")
                self.values[(id(value), n)] = self._value(item)
            last = self._emit(_BRACKET, "]")
            self.closing[id(value)] = last
            return first, last
        if isinstance(value, str):
            index = self._emit(_STRING, json.dumps(value, ensure_ascii=False))
        elif isinstance(value, bool) or value is None:
            index = self._emit(_SCALAR, json.dumps(value))
        elif isinstance(value, Decimal):
            index = self._emit(_SCALAR, str(value))
        else:
            index = self._emit(_SCALAR, json.dumps(value))
        return index, index

    def column(self, at: Location) -> int | None:
        container, key, mode = at
        if key is None:
            index = self.closing.get(id(container))
            return None if index is None else self._read(index)
        span = self.values.get((id(container), key))
        if span is None:
            return None
        first, last = span
        if mode == "next":
            return self._read(last + 1) if last + 1 < len(self.tokens) else None
        if mode == "complete":
            return self.tokens[first][2] + 1
        return self._read(first)

    def _read(self, index: int) -> int:
        """The column after the parser took token ``index``: a string only opened, anything
        else read whole (a bracket is one character)."""
        kind, start, end = self.tokens[index]
        return start + 2 if kind in (_STRING, _BRACKET) else end + 1


def position_suffix(document: Any, at: Location) -> str:
    """``"\\n at [Source: (String)"…"; line: 1, column: N]"`` for an error at ``at`` in the
    parsed ``document``; empty when the place cannot be found."""
    layout = _Layout(document)
    column = layout.column(at)
    if column is None:
        return ""
    text = layout.text
    shown = f'"{text[:SNIPPET]}"'
    if len(text) > SNIPPET:
        shown += f"[truncated {len(text) - SNIPPET} chars]"
    return f"\n at [Source: (String){shown}; line: 1, column: {column}]"
