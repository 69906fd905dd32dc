"""Compact JSON encoding of message attributes for storage (shared by every store)."""

from __future__ import annotations

import base64
import json
from typing import Any

from postroom.core.model import MessageAttributes, MessageAttributeValue


def dump_attributes(attrs: MessageAttributes) -> str | None:
    if not attrs:
        return None
    out: dict[str, list[Any]] = {}
    for name, v in attrs.items():
        if v.binary_value is not None:
            out[name] = [v.data_type, None, base64.b64encode(v.binary_value).decode()]
        else:
            out[name] = [v.data_type, v.string_value]
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def load_attributes(text: str | None) -> MessageAttributes:
    if not text:
        return {}
    out: MessageAttributes = {}
    for name, item in json.loads(text).items():
        if len(item) > 2:
            out[name] = MessageAttributeValue(item[0], None, base64.b64decode(item[2]))
        else:
            out[name] = MessageAttributeValue(item[0], item[1])
    return out


def dump_map(d: dict[str, str]) -> str:
    return json.dumps(d, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def load_map(text: str) -> dict[str, str]:
    loaded: dict[str, str] = json.loads(text)
    return loaded
