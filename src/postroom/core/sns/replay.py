"""Replays: redelivering a time window of a topic's archive to a subscription.

AWS (*Amazon SNS Developer Guide* › "Message replay for FIFO topic subscribers"): a
subscription's ``ReplayPolicy`` is ``{"PointType": "Timestamp", "StartingPoint":
"<ISO 8601>", "EndingPoint": "<ISO 8601>"}`` (EndingPoint optional); the replay starts
as soon as the policy is set, on Subscribe or SetSubscriptionAttributes, and "starting a
replay will supersede an existing replay". ``ReplayStatus`` reads ``Pending``, ``In
progress``, ``Completed`` or ``Failed``. "A replayed message retains the same content,
MessageId, and Timestamp as the original", carries a ``Replayed`` attribute, and passes
the subscription's filter policy like any other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from postroom.core.model import NewMessage, ResourceKey
from postroom.core.sns.model import HttpDelivery
from postroom.core.sns.notifications import Notification
from postroom.errors import InvalidParameter

PENDING = "Pending"
IN_PROGRESS = "In progress"
COMPLETED = "Completed"
FAILED = "Failed"
SUPERSEDED = "Superseded"
CANCELLED = "Cancelled"
ACTIVE = (PENDING, IN_PROGRESS)

REPLAYED = "Replayed"
"""The marker: a key of the JSON envelope, a message attribute on raw delivery."""

ALL_MESSAGES = "all"
UNROUTED_ONLY = "unrouted"


@dataclass(frozen=True)
class ReplayWindow:
    start_ms: int
    end_ms: int | None


def parse_timestamp(text: str, what: str, prefix: str) -> int:
    """An ISO 8601 instant (``2024-05-01T12:00:00.000Z``, an offset, or none meaning UTC) in ms."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        raise InvalidParameter(f"{prefix}ReplayPolicy: {what} must be an ISO 8601 timestamp.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def canonical_replay_policy(text: str, prefix: str) -> str:
    """Validate a ReplayPolicy and return it as stored (compact JSON, keys as given)."""
    try:
        loaded: Any = json.loads(text)
    except (ValueError, RecursionError):
        raise InvalidParameter(f"{prefix}ReplayPolicy: failed to parse JSON.") from None
    if not isinstance(loaded, dict):
        raise InvalidParameter(f"{prefix}ReplayPolicy: must be a JSON object.")
    unknown = sorted(set(loaded) - {"PointType", "StartingPoint", "EndingPoint"})
    if unknown:
        raise InvalidParameter(f"{prefix}ReplayPolicy: unknown key {unknown[0]}.")
    if loaded.get("PointType") != "Timestamp":
        raise InvalidParameter(f"{prefix}ReplayPolicy: PointType must be Timestamp.")
    if not isinstance(loaded.get("StartingPoint"), str):
        raise InvalidParameter(f"{prefix}ReplayPolicy: StartingPoint is required.")
    start = parse_timestamp(loaded["StartingPoint"], "StartingPoint", prefix)
    if "EndingPoint" in loaded:
        if not isinstance(loaded["EndingPoint"], str):
            raise InvalidParameter(f"{prefix}ReplayPolicy: EndingPoint must be an ISO 8601 timestamp.")
        if parse_timestamp(loaded["EndingPoint"], "EndingPoint", prefix) < start:
            raise InvalidParameter(f"{prefix}ReplayPolicy: EndingPoint must not be before StartingPoint.")
    return json.dumps(loaded, separators=(",", ":"))


def replay_window(policy_text: str) -> ReplayWindow:
    loaded = json.loads(policy_text)
    end = loaded.get("EndingPoint")
    return ReplayWindow(parse_timestamp(loaded["StartingPoint"], "StartingPoint", ""),
                        parse_timestamp(end, "EndingPoint", "") if end else None)


@dataclass(frozen=True)
class QueueTarget:
    """A replay straight into a queue (``postroom replay --to QUEUE``), not through a
    subscription: ``raw`` delivers the message itself, else SNS's envelope."""

    queue_arn: str
    raw: bool = False


@dataclass(frozen=True)
class Replay:
    """One replay, as the store keeps it (any node resumes it from ``cursor_id``).

    ``last_id`` bounds the archive rows it covers (fixed when it is first picked up);
    ``end_ms`` the publish times (EndingPoint, else when the replay was asked for)."""

    replay_id: str
    topic_arn: str
    sub_arn: str | None
    queue: QueueTarget | None
    start_ms: int
    end_ms: int
    selection: str
    rate: int | None
    status: str
    requested_by: str
    origin: str
    created_ms: int
    updated_ms: int = 0
    cursor_id: int = 0
    last_id: int = 0
    total: int = 0
    delivered: int = 0
    skipped: int = 0
    failure: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


def replay_dedup_id(original_dedup_id: str | None, message_id: str) -> str:
    """The MessageDeduplicationId a replayed message carries into a FIFO queue: exactly the
    one its live delivery carried (the topic's deduplication id, else its MessageId), so a
    replayed copy of a message delivered minutes ago, or a second replay of the same window,
    is dropped by the queue's 5-minute deduplication."""
    return original_dedup_id or message_id


@dataclass(frozen=True)
class ReplayStep:
    """One batch of a replay, written in one transaction with the replay's progress:
    the deliveries into queues and the HTTP outbox, the cursor it moves to, how many
    messages it delivered and how many the subscription's filter policy skipped."""

    cursor_id: int
    inserts: list[tuple[ResourceKey, NewMessage]]
    outbox: list[HttpDelivery]
    delivered: int
    skipped: int
    notifications: list[Notification] = field(default_factory=list)
    """SMS, email and push deliveries, for the notification outbox."""
