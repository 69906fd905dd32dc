"""The field mapping: which record fields hold a message's body, group, ids, time, attributes.

Given on the command line (``--body-field``, ``--group-field`` …) or in a small YAML file
(``--mapping``; ``--save-mapping`` writes the effective one, so a mapping worked out once is reused):

.. code-block:: yaml

    format: jsonl            # jsonl | logfmt | regex
    marker: '"msg":"published"'
    fields:
      body: payload          # dotted paths; JSON-in-a-string is decoded on the way
      group: payload.customer_id
      id: message_id
      time: ts
    attributes:
      event_type: payload.type

For a regex, fields default to the named groups ``body``, ``group``, ``dedup``, ``id``, ``time``,
``sequence``, and a named group ``attr_NAME`` becomes the attribute NAME.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from postroom.recovery import formats
from postroom.recovery.formats import LineParser, Record
from postroom.recovery.model import ORIGINAL_ID_ATTRIBUTE, RECOVERY_ID_ATTRIBUTE, AttributeValue, Recovered
from postroom.recovery.paths import MISSING, compile_path
from postroom.recovery.rules import MAX_ATTRIBUTES, TargetRules, check
from postroom.recovery.timeparse import TimeError, parse_time

FIELDS = ("body", "group", "dedup", "id", "time", "sequence")
FORMATS = ("jsonl", "logfmt", "regex")
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_\-.]{1,256}")

SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "format": {"enum": list(FORMATS)},
        "pattern": {"type": "string"},
        "marker": {"type": "string", "minLength": 1},
        "time_format": {"type": "string"},
        "fields": {"type": "object", "additionalProperties": False,
                   "properties": {name: {"type": "string", "minLength": 1} for name in FIELDS}},
        "attributes": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
    },
}


class MappingError(ValueError):
    """A mapping that cannot work (bad file, regex without a body group, a reserved attribute …)."""


class Reject(Exception):
    """A record that looked like a message but cannot be one; the message is the reason."""


@dataclass(frozen=True)
class Mapping:
    format: str = "jsonl"
    pattern: str | None = None
    marker: str | None = None
    time_format: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)

    def field_path(self, name: str) -> str | None:
        return self.fields.get(name)

    def to_yaml(self) -> str:
        doc: dict[str, Any] = {"format": self.format}
        for key in ("pattern", "marker", "time_format"):
            if getattr(self, key) is not None:
                doc[key] = getattr(self, key)
        doc["fields"] = dict(self.fields)
        if self.attributes:
            doc["attributes"] = dict(self.attributes)
        return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)


def load_mapping(path: Path) -> Mapping:
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise MappingError(f"cannot read mapping file {path}: {e}") from None
    try:
        jsonschema.validate(doc, SCHEMA)
    except jsonschema.ValidationError as e:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        raise MappingError(f"mapping file {path}: {where}: {e.message}") from None
    return Mapping(format=doc.get("format", "jsonl"), pattern=doc.get("pattern"), marker=doc.get("marker"),
                   time_format=doc.get("time_format"), fields=dict(doc.get("fields", {})),
                   attributes=dict(doc.get("attributes", {})))


def override(base: Mapping, *, format: str | None = None, pattern: str | None = None, marker: str | None = None,
             time_format: str | None = None, fields: dict[str, str | None] | None = None,
             attributes: dict[str, str] | None = None) -> Mapping:
    """Command-line options over a loaded mapping (an option given wins)."""
    merged_fields = dict(base.fields)
    for name, path in (fields or {}).items():
        if path is not None:
            merged_fields[name] = path
    return replace(base, format=format or base.format, pattern=pattern or base.pattern,
                   marker=marker or base.marker, time_format=time_format or base.time_format,
                   fields=merged_fields, attributes={**base.attributes, **(attributes or {})})


def finalize(mapping: Mapping) -> Mapping:
    """Fill the defaults (body field ``body``; a regex's named groups) and check the mapping."""
    if mapping.format not in FORMATS:
        raise MappingError(f"unknown format {mapping.format!r} (one of {', '.join(FORMATS)})")
    fields = dict(mapping.fields)
    attributes = dict(mapping.attributes)
    if mapping.format == "regex":
        if not mapping.pattern:
            raise MappingError("format regex needs a pattern (--pattern or 'pattern:' in the mapping file)")
        try:
            groups = re.compile(mapping.pattern).groupindex
        except re.error as e:
            raise MappingError(f"bad pattern: {e}") from None
        for name in FIELDS:
            if name not in fields and name in groups:
                fields[name] = name
        for group in groups:
            if group.startswith("attr_") and group[5:] not in attributes:
                attributes[group[5:]] = group
        if fields.get("body", "body") not in groups:
            raise MappingError("the pattern has no named group for the body: add (?P<body>…)")
    fields.setdefault("body", "body")
    for name in attributes:
        if name in (RECOVERY_ID_ATTRIBUTE, ORIGINAL_ID_ATTRIBUTE):
            raise MappingError(f"attribute name {name!r} is reserved for postroom recover")
        if _ATTRIBUTE_NAME.fullmatch(name) is None or name.lower().startswith(("aws.", "amazon.")):
            raise MappingError(f"attribute name {name!r} is not allowed by AWS")
    if len(attributes) + 2 > MAX_ATTRIBUTES:
        raise MappingError(f"at most {MAX_ATTRIBUTES - 2} mapped attributes (two are recover's own)")
    return replace(mapping, fields=fields, attributes=attributes)


def line_parser(mapping: Mapping) -> LineParser:
    if mapping.format == "jsonl":
        return formats.json_lines(mapping.marker)
    if mapping.format == "logfmt":
        return formats.logfmt(mapping.marker, mapping.fields["body"])
    assert mapping.pattern is not None
    return formats.regex(mapping.pattern, mapping.marker)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _attribute(value: Any) -> AttributeValue:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return ("Number", repr(value) if isinstance(value, float) else str(value))
    if isinstance(value, bool):
        return ("String", "true" if value else "false")
    return ("String", _text(value))


class Extractor:
    """record → :class:`Recovered` (or :class:`Reject`, or None when the record holds no body at all:
    a structured log line about something else)."""

    def __init__(self, mapping: Mapping, rules: TargetRules) -> None:
        self.rules = rules
        self.time_format = mapping.time_format
        f = mapping.fields
        self.fields = f
        self.body = compile_path(f["body"])
        self.group, self.dedup, self.id, self.time, self.sequence = (
            compile_path(f[name]) if name in f else None for name in ("group", "dedup", "id", "time", "sequence"))
        self.attributes = [(name, compile_path(path)) for name, path in mapping.attributes.items()]
        self.strict = mapping.marker is not None

    def extract(self, record: Record, source: int, line: int) -> Recovered | None:
        raw_body = self.body(record)
        if raw_body is MISSING:
            if self.strict:
                raise Reject(f"no body: field {self.fields['body']!r} missing")
            return None
        if raw_body is None:
            raise Reject(f"no body: field {self.fields['body']!r} is null")
        body = raw_body if type(raw_body) is str else _text(raw_body)
        group = self._optional(record, self.group, "group")
        original_id = self._optional(record, self.id, "id")
        dedup_id = self._optional(record, self.dedup, "dedup")
        when = None
        if self.time is not None:
            raw_time = self.time(record)
            if raw_time is MISSING or raw_time is None:
                raise Reject(f"no time: field {self.fields['time']!r} missing")
            try:
                when = parse_time(raw_time, self.time_format)
            except TimeError as e:
                raise Reject(f"bad time: {e}") from None
        sequence = None
        if self.sequence is not None:
            raw_seq = self.sequence(record)
            try:
                sequence = int(raw_seq)
            except (TypeError, ValueError):
                raise Reject(f"bad sequence: field {self.fields['sequence']!r} is {raw_seq!r}, "
                             "not an integer") from None
        attributes: dict[str, AttributeValue] = {}
        for name, get in self.attributes:
            value = get(record)
            if value is not MISSING and value is not None:
                attributes[name] = _attribute(value)
        reason = check(self.rules, body, group, attributes)
        if reason is not None:
            raise Reject(reason)
        return Recovered(body, group, original_id, dedup_id, when, sequence, attributes, source, line)

    def _optional(self, record: Record, get: Callable[[Any], Any] | None, what: str) -> str | None:
        if get is None:
            return None
        value = get(record)
        if value is MISSING or value is None or value == "":
            return None
        if type(value) is str:
            return value
        if isinstance(value, dict | list):
            raise Reject(f"bad {what}: field {self.fields[what]!r} is an object, not a value")
        return _text(value)
