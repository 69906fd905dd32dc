"""The live topology written as a postroom.yaml, to adopt an existing setup.

The guarantee: ``plan`` against the exported file shows no changes. A plan compares only what the
file declares, so attributes at AWS's defaults are left out for readability (a new queue's
``VisibilityTimeout: 30``, a topic's default access policy …): declaring them would change
nothing, and a file that lists every default hides the few settings someone chose on purpose.
:func:`declarable` is exactly what the file declares, and ``loads(export_yaml(t)).topology ==
declarable(t)``.

What a file cannot state is left out with a comment saying so: subscriptions with other protocols
(lambda, email, …), and references to queues or topics the endpoint did not list (a DLQ or a
subscribed queue in another account) — declaring those would make the file fail to load.
Strings that contain ``${`` are written as ``$${`` so that substitution gives them back unchanged.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Final

import yaml

from postroom.topology.model import (
    QUEUE_ATTRIBUTES,
    SUBSCRIPTION_PROTOCOLS,
    TOPIC_ATTRIBUTES,
    Queue,
    Subscription,
    Topic,
    Topology,
)
from postroom.topology.schema import (
    BOOLEAN_ATTRIBUTES,
    FIFO_ONLY_QUEUE,
    FIFO_ONLY_TOPIC,
    INTEGER_LIMITS,
    JSON_ATTRIBUTES,
    QUEUE_KEYS,
    TOPIC_KEYS,
)

QUEUE_DEFAULTS: Final[dict[str, str]] = {
    "VisibilityTimeout": "30",
    "MessageRetentionPeriod": "345600",
    "DelaySeconds": "0",
    "MaximumMessageSize": "1048576",
    "ReceiveMessageWaitTimeSeconds": "0",
    "ContentBasedDeduplication": "false",
    "DeduplicationScope": "queue",
    "FifoThroughputLimit": "perQueue",
    "SqsManagedSseEnabled": "true",
    "KmsDataKeyReusePeriodSeconds": "300",
}
"""What AWS gives a queue created without attributes (CreateQueue; MaximumMessageSize is 1 MiB since
2025 — a queue still at the old 262,144 is exported with it, since a new queue would not get it)."""

TOPIC_DEFAULTS: Final[dict[str, str]] = {
    "DisplayName": "",
    "ContentBasedDeduplication": "false",
    "FifoThroughputScope": "Topic",
    "SignatureVersion": "1",
    "TracingConfig": "PassThrough",
}
_DEFAULT_POLICY_ID: Final = "__default_policy_ID"
_DEFAULT_STATEMENT_ID: Final = "__default_statement_ID"
_QUEUE_FRIENDLY: Final = {aws: key for key, aws in QUEUE_KEYS.items()}
_TOPIC_FRIENDLY: Final = {aws: key for key, aws in TOPIC_KEYS.items()}


def is_default_topic_policy(value: str) -> bool:
    """AWS's policy for a new topic (``Id: __default_policy_ID``, only default statements)."""
    try:
        doc = json.loads(value)
    except ValueError:
        return False
    statements = doc.get("Statement") if isinstance(doc, dict) else None
    return (doc.get("Id") == _DEFAULT_POLICY_ID and isinstance(statements, list)
            and all(isinstance(s, dict) and s.get("Sid") == _DEFAULT_STATEMENT_ID for s in statements))


def _queue_attributes(q: Queue) -> dict[str, str]:
    return {k: v for k, v in q.attributes.items()
            if k in QUEUE_ATTRIBUTES and QUEUE_DEFAULTS.get(k) != v and (q.fifo or k not in FIFO_ONLY_QUEUE)}


def _topic_attributes(t: Topic) -> dict[str, str]:
    return {k: v for k, v in t.attributes.items()
            if k in TOPIC_ATTRIBUTES and TOPIC_DEFAULTS.get(k) != v and (t.fifo or k not in FIFO_ONLY_TOPIC)
            and not (k == "Policy" and is_default_topic_policy(v))}


def _exportable(live: Topology, sub: Subscription) -> str | None:
    """Why a live subscription cannot be declared, or None when it can."""
    if sub.protocol not in SUBSCRIPTION_PROTOCOLS:
        return f"protocol {sub.protocol} is not managed by postroom.yaml"
    if sub.topic not in live.topics:
        return f"topic {sub.topic} is not among the listed topics"
    if sub.protocol == "sqs" and sub.endpoint not in live.queues:
        return f"queue {sub.endpoint} is not among the listed queues"
    return None


def declarable(live: Topology) -> Topology:
    """The part of ``live`` that :func:`export_yaml` declares (desired fields only, defaults left
    out, references to unlisted resources dropped)."""
    out = Topology()
    for name, q in live.queues.items():
        dlq_ok = q.dlq is not None and q.dlq in live.queues
        redrive_allow = q.redrive_allow
        if redrive_allow is not None and any(s not in live.queues for s in redrive_allow.sources):
            redrive_allow = None
        out.queues[name] = replace(q.desired(), attributes=_queue_attributes(q), redrive_allow=redrive_allow,
                                   dlq=q.dlq if dlq_ok else None, max_receive_count=q.max_receive_count if dlq_ok
                                   else None)
    for name, t in live.topics.items():
        out.topics[name] = replace(t.desired(), attributes=_topic_attributes(t))
    for key, s in live.subscriptions.items():
        if _exportable(live, s) is None:
            dlq = s.dlq if s.dlq in live.queues else None
            out.subscriptions[key] = replace(s.desired(), dlq=dlq)
    return out


def _escape(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {_escape(k): _escape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_escape(v) for v in value]
    return value


def _typed(aws: str, value: str) -> Any:
    """The file's spelling of an AWS string value: numbers, booleans, JSON as a mapping."""
    if aws in JSON_ATTRIBUTES:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if aws in BOOLEAN_ATTRIBUTES and value in ("true", "false"):
        return value == "true"
    if aws in INTEGER_LIMITS and value.lstrip("-").isdigit():
        return int(value)
    return value


def _attributes_entry(attributes: dict[str, str], friendly: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    escape_hatch: dict[str, Any] = {}
    for aws in sorted(attributes, key=lambda a: (a not in friendly, list(friendly).index(a) if a in friendly else a)):
        value = _typed(aws, attributes[aws])
        if aws in friendly:
            entry[friendly[aws]] = value
        else:
            escape_hatch[aws] = value
    if escape_hatch:
        entry["attributes"] = escape_hatch
    return entry


def _queue_entry(q: Queue) -> dict[str, Any]:
    entry = _attributes_entry(q.attributes, _QUEUE_FRIENDLY)
    if q.dlq is not None:
        entry["dlq"] = q.dlq
        entry["max_receive_count"] = q.max_receive_count
    if q.redrive_allow is not None:
        allow: dict[str, Any] = {"permission": q.redrive_allow.permission}
        if q.redrive_allow.sources:
            allow["sources"] = list(q.redrive_allow.sources)
        entry["redrive_allow"] = allow
    if q.tags:
        entry["tags"] = dict(sorted(q.tags.items()))
    return entry


def _topic_entry(t: Topic) -> dict[str, Any]:
    entry = _attributes_entry(t.attributes, _TOPIC_FRIENDLY)
    if t.tags:
        entry["tags"] = dict(sorted(t.tags.items()))
    return entry


def _subscription_entry(s: Subscription) -> dict[str, Any]:
    entry: dict[str, Any] = {"topic": s.topic}
    entry["queue" if s.protocol == "sqs" else "endpoint"] = s.endpoint
    if s.raw:
        entry["raw"] = True
    if s.filter_policy is not None:
        entry["filter_policy"] = json.loads(s.filter_policy)
    if s.filter_scope != "MessageAttributes":
        entry["filter_scope"] = s.filter_scope
    if s.dlq is not None:
        entry["dlq"] = s.dlq
    return entry


def _skipped(live: Topology) -> list[str]:
    notes = []
    for key in sorted(live.subscriptions):
        s = live.subscriptions[key]
        if (why := _exportable(live, s)) is not None:
            notes.append(f"subscription {s.topic} → {s.protocol}:{s.endpoint} left out: {why}")
    for name in sorted(live.queues):
        q = live.queues[name]
        if q.dlq is not None and q.dlq not in live.queues:
            notes.append(f"queue {name}: dead-letter queue {q.dlq} (maxReceiveCount {q.max_receive_count}) left out: "
                         "it is not among the listed queues")
        if q.redrive_allow is not None and any(s not in live.queues for s in q.redrive_allow.sources):
            notes.append(f"queue {name}: redrive_allow left out: it names queues that are not listed")
    for key in sorted(live.subscriptions):
        s = live.subscriptions[key]
        if _exportable(live, s) is None and s.dlq is not None and s.dlq not in live.queues:
            notes.append(f"subscription {s.topic} → {s.endpoint}: dead-letter queue {s.dlq} left out: not listed")
    return notes


def export_yaml(live: Topology) -> str:
    """A postroom.yaml declaring ``live`` (see the module docstring for what is left out)."""
    wanted = declarable(live)
    doc: dict[str, Any] = {"version": 1}
    if wanted.queues:
        doc["queues"] = {name: _queue_entry(wanted.queues[name]) for name in sorted(wanted.queues)}
    if wanted.topics:
        doc["topics"] = {name: _topic_entry(wanted.topics[name]) for name in sorted(wanted.topics)}
    if wanted.subscriptions:
        doc["subscriptions"] = [_subscription_entry(wanted.subscriptions[k]) for k in sorted(wanted.subscriptions)]
    header = ["# postroom.yaml exported from the live endpoint by `postroom export`.",
              "# Attributes at AWS's defaults are left out: plan compares only what the file declares.",
              "# Add consumers: and producers: to let plan check routes (MISSING-ROUTE, ORPHAN-*)."]
    header += [f"# NOTE: {note}" for note in _skipped(live)]
    body = yaml.safe_dump(_escape(doc), sort_keys=False, default_flow_style=None, allow_unicode=True, width=100)
    return "\n".join(header) + "\n" + body
