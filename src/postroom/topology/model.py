"""The topology model shared by every topology command: what a postroom.yaml declares and what the
live endpoint holds are the same shape, so planning is a comparison of two values of it.

Resources are identified the way AWS identifies them within one account and region: queues and
topics by name (a FIFO resource's name ends in ``.fifo``, AWS's rule), subscriptions by
(topic, protocol, endpoint) — AWS returns the existing subscription when the same triple is
subscribed again, so the triple *is* the identity. For an ``sqs`` subscription the endpoint is
held as the queue's *name* (the ARN differs between accounts and environments; the name is what a
file can state), for ``http``/``https`` it is the URL.

Attribute values are held as AWS's strings exactly as ``GetQueueAttributes`` /
``GetTopicAttributes`` / ``GetSubscriptionAttributes`` return them, except the JSON-valued ones
that refer to other resources by ARN (RedrivePolicy, RedriveAllowPolicy), which are held by name so
that a declared and a live value compare equal across accounts. JSON policies (FilterPolicy,
ArchivePolicy, DeliveryPolicy) are held in canonical form (sorted keys, no spaces), so formatting
differences are not changes.

Only the attributes a file declares are compared: AWS fills in defaults for the rest, and a
file that says nothing about ``DelaySeconds`` should not fight whatever the queue has.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

# Queue attributes a file may declare (AWS's names). RedrivePolicy and RedriveAllowPolicy are
# modelled separately (they reference other queues by ARN); Policy is passed through as JSON.
QUEUE_ATTRIBUTES: tuple[str, ...] = (
    "VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds", "MaximumMessageSize",
    "ReceiveMessageWaitTimeSeconds", "ContentBasedDeduplication", "DeduplicationScope",
    "FifoThroughputLimit", "SqsManagedSseEnabled", "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "Policy",
)
# Topic attributes a file may declare.
TOPIC_ATTRIBUTES: tuple[str, ...] = (
    "DisplayName", "ContentBasedDeduplication", "ArchivePolicy", "DeliveryPolicy", "FifoThroughputScope",
    "KmsMasterKeyId", "Policy", "TracingConfig", "SignatureVersion",
)
# Subscription attributes are modelled as fields (raw, filter policy, scope, redrive DLQ).
SUBSCRIPTION_PROTOCOLS: tuple[str, ...] = ("sqs", "http", "https")


def canonical_json(value: Any) -> str:
    """JSON in one canonical spelling, so two equal policies compare equal as strings."""
    if isinstance(value, str):
        value = json.loads(value)
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def is_fifo_name(name: str) -> bool:
    """AWS: a FIFO queue's or topic's name must end in ``.fifo``; a standard one's must not."""
    return name.endswith(".fifo")


@dataclass(frozen=True)
class RedriveAllow:
    """A queue's RedriveAllowPolicy: which source queues may use it as their DLQ.
    ``permission`` is AWS's ``redrivePermission`` (allowAll | denyAll | byQueue); ``sources`` are
    queue *names* (AWS holds ARNs; at most 10 with byQueue)."""

    permission: str = "allowAll"
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Queue:
    """An SQS queue. ``dlq`` and ``max_receive_count`` together are AWS's RedrivePolicy
    (deadLetterTargetArn by name, maxReceiveCount 1..1000)."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    dlq: str | None = None
    max_receive_count: int | None = None
    redrive_allow: RedriveAllow | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # declared only: the queue this one takes over from in a migration (e.g. billing → billing.fifo)
    replaces: str | None = None
    # live only: ApproximateNumberOfMessages(+NotVisible+Delayed), for DESTRUCTIVE checks
    depth: int | None = None
    url: str | None = None
    arn: str | None = None

    @property
    def fifo(self) -> bool:
        return is_fifo_name(self.name)

    def desired(self) -> Queue:
        """The comparable part (no live-only or migration-only fields)."""
        return replace(self, replaces=None, depth=None, url=None, arn=None)


@dataclass(frozen=True)
class Topic:
    """An SNS topic."""

    name: str
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    replaces: str | None = None  # declared only: the topic this one takes over from
    arn: str | None = None  # live only

    @property
    def fifo(self) -> bool:
        return is_fifo_name(self.name)

    def desired(self) -> Topic:
        return replace(self, replaces=None, arn=None)


SubscriptionKey = tuple[str, str, str]  # (topic name, protocol, endpoint: queue name or URL)


@dataclass(frozen=True)
class Subscription:
    """An SNS subscription of a topic to a queue (protocol ``sqs``, endpoint = queue name) or to an
    HTTP(S) endpoint. ``filter_policy`` is canonical JSON or None; ``filter_scope`` is AWS's
    FilterPolicyScope (MessageAttributes, the default, or MessageBody); ``dlq`` is the
    subscription's RedrivePolicy deadLetterTargetArn, by queue name."""

    topic: str
    protocol: str
    endpoint: str
    raw: bool = False
    filter_policy: str | None = None
    filter_scope: str = "MessageAttributes"
    dlq: str | None = None
    arn: str | None = None  # live only ("PendingConfirmation" while an HTTP endpoint has not confirmed)
    replay_status: str | None = None  # live only: AWS's ReplayStatus when a replay paused it
    # live only: the subscription's ReplayPolicy (canonical JSON) — REPLAY-PAUSED reads its EndingPoint
    replay_policy: str | None = None

    @property
    def key(self) -> SubscriptionKey:
        return (self.topic, self.protocol, self.endpoint)

    def desired(self) -> Subscription:
        return replace(self, arn=None, replay_status=None, replay_policy=None)

    def describe(self) -> str:
        return f"{self.topic} → {self.protocol}:{self.endpoint}"


@dataclass
class Topology:
    """A set of queues, topics and subscriptions: either what a file declares (for one
    environment) or what the endpoint holds."""

    queues: dict[str, Queue] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    subscriptions: dict[SubscriptionKey, Subscription] = field(default_factory=dict)

    @classmethod
    def of(cls, *resources: Queue | Topic | Subscription) -> Topology:
        """A topology holding the given queues, topics and subscriptions, each under its identity."""
        t = cls()
        for r in resources:
            if isinstance(r, Queue):
                t.queues[r.name] = r
            elif isinstance(r, Topic):
                t.topics[r.name] = r
            else:
                t.subscriptions[r.key] = r
        return t

    def subscriptions_of(self, topic: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.topic == topic]

    def subscriptions_to_queue(self, queue: str) -> list[Subscription]:
        return [s for s in self.subscriptions.values() if s.protocol == "sqs" and s.endpoint == queue]


@dataclass(frozen=True)
class Consumer:
    """An application that reads one queue and must receive the messages of the listed topics:
    the design-time expectation MISSING-ROUTE checks."""

    name: str
    queue: str
    receives: tuple[str, ...] = ()


@dataclass(frozen=True)
class Producer:
    """An application that publishes to topics and/or sends to queues directly (so a queue it
    sends to is not an orphan)."""

    name: str
    publishes: tuple[str, ...] = ()
    sends: tuple[str, ...] = ()


@dataclass(frozen=True)
class CheckOverride:
    """A per-resource tuning of a check: a new severity, or ``off``; the reason is required so the
    silence is itself reviewable. ``resource`` is a queue/topic name, a subscription described as
    ``topic → queue-or-url``, or ``*`` for every resource."""

    check: str
    resource: str
    severity: Severity | Literal["off"]
    reason: str
    retire: bool = False  # made from a ``retire:`` entry (the reason then starts with "retired:")


@dataclass
class Declared:
    """Everything a postroom.yaml says for one environment, names already resolved."""

    topology: Topology
    consumers: dict[str, Consumer] = field(default_factory=dict)
    producers: dict[str, Producer] = field(default_factory=dict)
    overrides: tuple[CheckOverride, ...] = ()
    environment: str | None = None
    protected: bool = False
    # glob patterns of live names this file manages; live resources outside them are never deleted
    scope: tuple[str, ...] = ("*",)
    source: str = "postroom.yaml"
    # ``retire:`` entries: routes, queues and topics the file drops on purpose, each with its reason
    retired: tuple[Retirement, ...] = ()
    # ``unrelated_to:`` on a topic or queue: name → live names it must not be taken as replacing
    unrelated: dict[str, frozenset[str]] = field(default_factory=dict)
    # ``sample:`` on a subscription: the message verify --probe sends along that route
    samples: dict[SubscriptionKey, Sample] = field(default_factory=dict)


@dataclass(frozen=True)
class Retirement:
    """One ``retire:`` entry: a route (``topic`` + ``queue``/``endpoint``), a whole queue or a whole
    topic that the plan may drop, and why. ``resource`` is how findings name it (``topic → queue``,
    or the queue's / topic's name)."""

    resource: str
    reason: str
    kind: Literal["route", "queue", "topic"] = "route"


@dataclass(frozen=True)
class Sample:
    """A sample message for probing a filtered route: SNS message attributes as
    ``name → (DataType, StringValue)`` and/or a body (a JSON object, or text)."""

    attributes: tuple[tuple[str, str, str], ...] = ()
    body: dict[str, Any] | str | None = None

    def attribute_map(self) -> dict[str, tuple[str, str]]:
        return {name: (data_type, value) for name, data_type, value in self.attributes}


@dataclass(frozen=True)
class Finding:
    """The result of one check on one set of resources: an id (MIGRATION-GAP …), a severity, a
    message naming the resources, and how to fix it. ``error`` findings block apply."""

    check: str
    severity: Severity
    message: str
    resources: tuple[str, ...]
    fix: str
    # set when an override (``checks:`` or ``retire:``) changed the severity: its reason
    accepted: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"check": self.check, "severity": self.severity, "message": self.message,
                             "resources": list(self.resources), "fix": self.fix}
        if self.accepted is not None:  # absent otherwise, so plans made before it keep their hash
            d["accepted"] = self.accepted
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Finding:
        return Finding(check=d["check"], severity=d["severity"], message=d["message"],
                       resources=tuple(d["resources"]), fix=d["fix"], accepted=d.get("accepted"))


ChangeAction = Literal["create", "update", "delete"]
ResourceKind = Literal["queue", "topic", "subscription"]


@dataclass(frozen=True)
class Change:
    """One step of a plan. ``name`` is the queue/topic name, or for a subscription its
    ``topic → protocol:endpoint`` description; ``key`` identifies the resource for apply
    (for subscriptions the (topic, protocol, endpoint) triple as a list). ``before``/``after`` are
    JSON-ready dicts of the compared fields (None for create/delete respectively).
    ``destructive`` marks steps that can lose messages or deliveries: deleting a queue or a topic,
    removing a subscription."""

    action: ChangeAction
    kind: ResourceKind
    name: str
    key: tuple[str, ...]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    destructive: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "kind": self.kind, "name": self.name, "key": list(self.key),
                "before": self.before, "after": self.after, "destructive": self.destructive}

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Change:
        return Change(action=d["action"], kind=d["kind"], name=d["name"], key=tuple(d["key"]),
                      before=d["before"], after=d["after"], destructive=bool(d["destructive"]))


def in_scope(name: str, scope: tuple[str, ...]) -> bool:
    """Whether a live queue/topic name is managed by the file (fnmatch-style globs): live resources
    outside the scope are read for checks but never changed or deleted."""
    from fnmatch import fnmatchcase

    return any(fnmatchcase(name, pattern) for pattern in scope)
