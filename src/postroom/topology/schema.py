"""The postroom.yaml file format as a JSON Schema (Draft 2020-12), and the tables that map the
file's friendly keys to AWS's attribute names.

The schema checks shape and AWS's value ranges; what needs the whole file (references between
resources, FIFO-only attributes, name rules after ``${var}`` substitution) is checked by the
loader. Every mapping is closed (``additionalProperties: false``): an unknown key is an error
with a "did you mean" fix, because a misspelt ``visiblity_timeout`` that is silently ignored is
exactly the kind of quiet mistake the file exists to prevent.

Ranges are AWS's (*Amazon SQS API Reference* › SetQueueAttributes), taken from
:mod:`postroom.core.limits` so the file accepts what postroom accepts: ``MaximumMessageSize`` goes
up to 1,048,576 bytes since AWS raised the message size limit to 1 MiB in 2025.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from typing import Any, Final

from jsonschema import Draft202012Validator, ValidationError

from postroom.core import limits
from postroom.topology.model import QUEUE_ATTRIBUTES, TOPIC_ATTRIBUTES

CHECK_IDS: Final[tuple[str, ...]] = (
    "MISSING-ROUTE", "MIGRATION-GAP", "ROUTE-LOSS", "LIKELY-REPLACEMENT", "FIFO-MISMATCH", "ORPHAN-TOPIC",
    "ORPHAN-QUEUE", "NO-DLQ",
    "RAW-DELIVERY-CHANGE", "FILTER-CHANGE", "DESTRUCTIVE",
    "QUEUE-MISSING", "QUEUE-POLICY", "DLQ-TYPE", "REPLAY-PAUSED", "DRIFT",
)
"""Every check id an override may name (plan checks, then the health checks of plan and verify)."""

ROUTE_CHECKS: Final = frozenset({"ROUTE-LOSS", "MIGRATION-GAP"})
"""Checks whose findings are lost routes: they are accepted only resource by resource (a ``retire:``
entry or an override naming the route, queue or topic), never by an override on ``*``."""

QUEUE_KEYS: Final[dict[str, str]] = {
    "visibility_timeout": "VisibilityTimeout",
    "retention": "MessageRetentionPeriod",
    "delay": "DelaySeconds",
    "max_size": "MaximumMessageSize",
    "receive_wait": "ReceiveMessageWaitTimeSeconds",
    "content_based_deduplication": "ContentBasedDeduplication",
    "deduplication_scope": "DeduplicationScope",
    "fifo_throughput_limit": "FifoThroughputLimit",
    "policy": "Policy",
}
"""A queue's friendly keys → AWS attribute names (everything else via ``attributes:``)."""

TOPIC_KEYS: Final[dict[str, str]] = {
    "display_name": "DisplayName",
    "content_based_deduplication": "ContentBasedDeduplication",
    "archive_policy": "ArchivePolicy",
    "delivery_policy": "DeliveryPolicy",
    "policy": "Policy",
}

INTEGER_LIMITS: Final[dict[str, tuple[int, int]]] = {
    "VisibilityTimeout": (limits.VISIBILITY_TIMEOUT_MIN, limits.VISIBILITY_TIMEOUT_MAX),
    "MessageRetentionPeriod": (limits.RETENTION_MIN, limits.RETENTION_MAX),
    "DelaySeconds": (limits.DELAY_SECONDS_MIN, limits.DELAY_SECONDS_MAX),
    "MaximumMessageSize": (limits.MIN_MAXIMUM_MESSAGE_SIZE, limits.MAX_MESSAGE_SIZE),
    "ReceiveMessageWaitTimeSeconds": (limits.RECEIVE_WAIT_MIN, limits.RECEIVE_WAIT_MAX),
    "KmsDataKeyReusePeriodSeconds": (limits.KMS_REUSE_MIN, limits.KMS_REUSE_MAX),
    "maxReceiveCount": (limits.MAX_RECEIVE_COUNT_MIN, limits.MAX_RECEIVE_COUNT_MAX),
}
"""AWS's ranges for integer attributes (seconds, bytes, receives)."""

BOOLEAN_ATTRIBUTES: Final = frozenset({"ContentBasedDeduplication", "SqsManagedSseEnabled"})
JSON_ATTRIBUTES: Final = frozenset({"Policy", "ArchivePolicy", "DeliveryPolicy"})
QUEUE_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "DeduplicationScope": ("queue", "messageGroup"),
    "FifoThroughputLimit": ("perQueue", "perMessageGroupId"),
}
TOPIC_CHOICES: Final[dict[str, tuple[str, ...]]] = {
    "FifoThroughputScope": ("Topic", "MessageGroup"),
    "TracingConfig": ("PassThrough", "Active"),
    "SignatureVersion": ("1", "2"),
}
FIFO_ONLY_QUEUE: Final = frozenset({"ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"})
FIFO_ONLY_TOPIC: Final = frozenset({"ContentBasedDeduplication", "ArchivePolicy", "FifoThroughputScope"})
SEVERITY_CHOICES: Final = ("error", "warning", "info", "off")
FILTER_SCOPES: Final = ("MessageAttributes", "MessageBody")
REDRIVE_PERMISSIONS: Final = ("allowAll", "denyAll", "byQueue")
MAX_DISPLAY_NAME: Final = 100

_NAME: Final = {"type": "string", "minLength": 1}
_NAMES: Final = {"type": "array", "items": _NAME}
_SCALAR: Final = {"type": ["string", "integer", "number", "boolean"]}
_JSON_DOC: Final = {"type": ["object", "string"]}
_ATTRIBUTE_VALUE: Final = {"type": ["string", "integer", "boolean", "object"]}


def _range(aws_name: str) -> dict[str, Any]:
    lo, hi = INTEGER_LIMITS[aws_name]
    return {"type": "integer", "minimum": lo, "maximum": hi}


def _closed(properties: dict[str, Any], required: Iterable[str] = (), nullable: bool = False) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": ["object", "null"] if nullable else "object", "properties": properties,
                              "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


_CHECK_OVERRIDE: Final = _closed({"severity": {"enum": list(SEVERITY_CHOICES)},
                                  "reason": {"type": "string", "minLength": 1}}, required=("severity", "reason"))
_TAGS: Final = {"type": "object", "additionalProperties": _SCALAR, "maxProperties": limits.MAX_TAGS_PER_QUEUE}

SCHEMA: Final[dict[str, Any]] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://postroom.dev/schemas/postroom.yaml/v1",
    "title": "postroom.yaml",
    "description": "Queues, topics, subscriptions, consumers and producers of one SNS/SQS topology.",
    "type": "object",
    "additionalProperties": False,
    "required": ["version"],
    "properties": {
        "version": {"const": 1},
        "variables": {"$ref": "#/$defs/variables"},
        "environments": {"type": "object", "additionalProperties": {"$ref": "#/$defs/environment"}},
        "queues": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/queue"}},
        "topics": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/topic"}},
        "subscriptions": {"type": ["array", "null"], "items": {"$ref": "#/$defs/subscription"}},
        "consumers": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/consumer"}},
        "producers": {"type": ["object", "null"], "additionalProperties": {"$ref": "#/$defs/producer"}},
        "checks": {"type": ["array", "null"], "items": {"$ref": "#/$defs/file_check"}},
        "retire": {"type": ["array", "null"], "items": {"$ref": "#/$defs/retire"}},
    },
    "$defs": {
        "variables": {"type": "object", "additionalProperties": _SCALAR,
                      "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}},
        "environment": _closed({
            "variables": {"$ref": "#/$defs/variables"},
            "scope": {"type": "array", "items": _NAME, "minItems": 1},
            "protected": {"type": "boolean"},
        }, nullable=True),
        "checks": {"type": "object", "additionalProperties": _CHECK_OVERRIDE},
        "queue": _closed({
            "visibility_timeout": _range("VisibilityTimeout"),
            "retention": _range("MessageRetentionPeriod"),
            "delay": _range("DelaySeconds"),
            "max_size": _range("MaximumMessageSize"),
            "receive_wait": _range("ReceiveMessageWaitTimeSeconds"),
            "content_based_deduplication": {"type": "boolean"},
            "deduplication_scope": {"enum": list(QUEUE_CHOICES["DeduplicationScope"])},
            "fifo_throughput_limit": {"enum": list(QUEUE_CHOICES["FifoThroughputLimit"])},
            "policy": _JSON_DOC,
            "attributes": _closed({name: _ATTRIBUTE_VALUE for name in QUEUE_ATTRIBUTES}),
            "dlq": _NAME,
            "max_receive_count": _range("maxReceiveCount"),
            "redrive_allow": _closed({
                "permission": {"enum": list(REDRIVE_PERMISSIONS)},
                "sources": {**_NAMES, "maxItems": limits.MAX_REDRIVE_ALLOW_SOURCE_ARNS},
            }, required=("permission",)),
            "tags": _TAGS,
            "replaces": _NAME,
            "unrelated_to": _NAMES,
            "checks": {"$ref": "#/$defs/checks"},
        }, nullable=True),
        "topic": _closed({
            "display_name": {"type": "string", "maxLength": MAX_DISPLAY_NAME},
            "content_based_deduplication": {"type": "boolean"},
            "archive_policy": _JSON_DOC,
            "delivery_policy": _JSON_DOC,
            "policy": _JSON_DOC,
            "attributes": _closed({name: _ATTRIBUTE_VALUE for name in TOPIC_ATTRIBUTES}),
            "tags": _TAGS,
            "replaces": _NAME,
            "unrelated_to": _NAMES,
            "checks": {"$ref": "#/$defs/checks"},
        }, nullable=True),
        "subscription": _closed({
            "topic": _NAME,
            "queue": _NAME,
            "endpoint": _NAME,
            "raw": {"type": "boolean"},
            "filter_policy": _JSON_DOC,
            "filter_scope": {"enum": list(FILTER_SCOPES)},
            "dlq": _NAME,
            "sample": _closed({
                "attributes": {"type": "object", "maxProperties": 9,
                               "additionalProperties": {"type": ["string", "number", "array"]}},
                "body": {"type": ["object", "string"]},
            }),
            "checks": {"$ref": "#/$defs/checks"},
        }, required=("topic",)),
        "retire": _closed({
            "topic": _NAME,
            "queue": _NAME,
            "endpoint": _NAME,
            "reason": {"type": "string", "minLength": 1},
        }, required=("reason",)),
        "consumer": _closed({"queue": _NAME, "receives": _NAMES}, required=("queue",)),
        "producer": _closed({"publishes": _NAMES, "sends": _NAMES}, nullable=True),
        "file_check": _closed({
            "check": _NAME,
            "resource": _NAME,
            "severity": {"enum": list(SEVERITY_CHOICES)},
            "reason": {"type": "string", "minLength": 1},
        }, required=("check", "severity", "reason")),
    },
}

_VALIDATOR: Final = Draft202012Validator(SCHEMA)
_FRIENDLY: Final = {**QUEUE_KEYS, "max_receive_count": "maxReceiveCount"}
_REQUIRED_FIXES: Final = {
    "version": "add 'version: 1' as the file's first line",
    "reason": "add reason: \"…\" saying why the check does not apply here (silences are reviewed too)",
    "severity": "add severity: error | warning | info | off",
    "topic": "add topic: <declared topic name>",
    "queue": "add queue: <declared queue name> (the queue this consumer reads)",
    "check": "add check: <CHECK-ID>",
    "permission": "add permission: allowAll | denyAll | byQueue",
}
_REQUIRED_FIXES_RETIRE: Final = "add reason: \"…\" saying why this route may be dropped (it is reviewed with the plan)"
_RENAMED: Final[dict[str, str]] = {
    **{aws: key for key, aws in {**TOPIC_KEYS, **QUEUE_KEYS}.items()},
    "maxReceiveCount": "max_receive_count", "deadLetterTargetArn": "dlq", "RawMessageDelivery": "raw",
    "FilterPolicy": "filter_policy", "FilterPolicyScope": "filter_scope",
}
"""AWS's spellings a user may reach for → the file's key for the same thing (where that key is allowed)."""
_NOT_DECLARABLE: Final[dict[str, str]] = {
    "RedrivePolicy": "declare dlq: <queue> and max_receive_count: <1..1000> on the queue",
    "RedriveAllowPolicy": "declare redrive_allow: {permission: byQueue, sources: [<queue>]} on the queue",
    "FifoQueue": "a queue is FIFO when its name ends in .fifo",
    "FifoTopic": "a topic is FIFO when its name ends in .fifo",
}
_TYPE_WORDS: Final = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "a whole number",
                      "number": "a number", "boolean": "true or false", "null": "nothing"}


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """The closest choice to a misspelt ``word``, if one is close enough (difflib's ratio ≥ 0.6)."""
    choices = list(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        if word.lower() in lowered:
            return lowered[word.lower()]
    return close[0] if close else None


def choice_fix(word: str, choices: Iterable[str], what: str = "one of") -> str:
    choices = list(choices)
    close = did_you_mean(word, choices)
    listing = ", ".join(choices)
    if close is not None:
        return f"did you mean '{close}'?" + (f" ({what}: {listing})" if len(choices) <= 6 else "")
    return f"use {what}: {listing}" if listing else "remove it"


def schema_problems(document: Any) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """(path, message, fix) for every way ``document`` breaks the schema; an unknown key is
    reported at the key itself."""
    for error in _VALIDATOR.iter_errors(document):
        yield from _explain(error)


def _explain(error: ValidationError) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    path = tuple(error.absolute_path)
    here = path[-1] if path else None
    schema: dict[str, Any] = error.schema if isinstance(error.schema, dict) else {}
    expected: Any = error.validator_value
    validator = str(error.validator)
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        known = list(schema.get("properties", {}))
        for key in error.instance:
            if key not in known:
                if key in _NOT_DECLARABLE:
                    fix = _NOT_DECLARABLE[key]
                elif _RENAMED.get(key) in known:
                    fix = f"write it as {_RENAMED[key]}: (the file's name for {key})"
                else:
                    fix = choice_fix(key, known, "allowed keys")
                yield (*path, key), f"unknown key '{key}'", fix
        return
    if validator == "required" and isinstance(error.instance, dict):
        for key in expected:
            if key not in error.instance:
                fix = _REQUIRED_FIXES_RETIRE if path[:1] == ("retire",) and key == "reason" else \
                    _REQUIRED_FIXES.get(key, f"add '{key}:'")
                yield path, f"'{key}' is required here", fix
        return
    if validator in ("minimum", "maximum"):
        lo, hi = schema["minimum"], schema["maximum"]
        aws = _FRIENDLY.get(str(here), str(here))
        yield path, f"{error.instance} is outside AWS's range for {aws} ({lo}..{hi})", f"use a value from {lo} to {hi}"
        return
    if validator == "enum":
        choices = [str(c) for c in expected]
        yield path, f"{error.instance!r} is not allowed here", choice_fix(str(error.instance), choices)
        return
    if validator == "type":
        wanted = expected if isinstance(expected, list) else [expected]
        words = " or ".join(_TYPE_WORDS.get(str(w), str(w)) for w in wanted if w != "null")
        got = _TYPE_WORDS.get(_json_type(error.instance), type(error.instance).__name__)
        yield path, f"expected {words}, got {got} ({_short(error.instance)})", f"write {words} here"
        return
    if validator == "const":
        yield path, f"unsupported version {error.instance!r}", "this postroom reads 'version: 1'"
        return
    if validator == "minLength":
        yield path, "must not be empty", "write a value, or remove the key"
        return
    if validator == "maxLength":
        yield path, f"longer than {expected} characters", "shorten it"
        return
    if validator == "minItems":
        yield path, "must list at least one entry", "add an entry, or remove the key"
        return
    if validator in ("maxItems", "maxProperties"):
        yield path, f"AWS allows at most {expected} entries here", "remove entries"
        return
    if validator == "propertyNames":
        yield path, f"invalid variable name: {error.message}", "variable names are letters, digits and '_'"
        return
    yield path, error.message, "see docs/topology-file.md for the format"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
