"""Topic archives: what a topic keeps of what it received, for how long, and what it
keeps of messages that reached no one.

AWS (*Amazon SNS Developer Guide* › "Message archiving for FIFO topic owners"): a topic
with an ``ArchivePolicy`` (``{"MessageRetentionPeriod": "<days>"}``, 1–365) keeps every
message it receives for that many days; a subscription's ``ReplayPolicy`` redelivers a
time window of them. postroom extends this in two ways that decide whether the incident
this project exists for can be undone:

* every topic without a policy of its own is archived for the server's default
  (``postroom serve --default-archive-days``, 7; 0 turns it off), invisibly to the AWS
  attributes — on AWS an archive helps only if someone enabled it before the gap;
* a message that reached no one — no subscription, every filter policy rejected it, or
  every delivery failed — is kept for ``--unrouted-days`` (default 7) even when nothing
  else is archived, and counted per cause.

A retention is fixed when the message is archived: lowering a topic's retention or
clearing its policy never shortens what was already promised (see the README).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass

DAY_MS = 86_400_000

NO_SUBSCRIPTION = "no-subscription"
FILTERED = "filtered"
FAILED = "failed"
UNROUTED_CAUSES = (NO_SUBSCRIPTION, FILTERED, FAILED)
"""Why a message reached no one: the topic had no subscription, every subscription's
filter policy rejected it, or every delivery failed."""

SnsAttributes = Mapping[str, tuple[str, str | bytes]]


@dataclass(frozen=True)
class ArchiveSettings:
    """How long a topic keeps messages when it has no ArchivePolicy (0: not at all), and
    how long messages that reached no one are kept."""

    default_days: int = 7
    unrouted_days: int = 7


def retention_days(topic_attributes: Mapping[str, str], settings: ArchiveSettings) -> int:
    """The topic's ArchivePolicy retention, else the server's default."""
    text = topic_attributes.get("ArchivePolicy")
    if text:
        return int(json.loads(text)["MessageRetentionPeriod"])
    return settings.default_days


@dataclass(frozen=True)
class ArchiveRecord:
    """One published message as the archive keeps it, before its sequence number and
    its fate (routed or not) are known; the store completes and writes it in the
    publish transaction."""

    message_id: str
    published_ms: int
    message: str
    subject: str | None
    structure: str | None
    attributes: str | None
    group_id: str | None
    dedup_id: str | None
    retention_days: int
    unrouted_days: int

    def expires_ms(self, unrouted: str | None) -> int | None:
        """When the archived copy may go, or ``None`` if it is not kept at all."""
        days = max(self.retention_days, self.unrouted_days if unrouted else 0)
        return self.published_ms + days * DAY_MS if days > 0 else None


@dataclass(frozen=True)
class ArchivedMessage:
    """A message read back from the archive."""

    archive_id: int
    topic_arn: str
    message_id: str
    published_ms: int
    message: str
    subject: str | None
    structure: str | None
    attributes: dict[str, tuple[str, str | bytes]]
    group_id: str | None
    dedup_id: str | None
    sequence_number: str | None
    unrouted: str | None


def dump_attributes(attrs: SnsAttributes) -> str | None:
    """SNS message attributes as the archive stores them (binary values base64)."""
    if not attrs:
        return None
    return json.dumps({k: [t, base64.b64encode(v).decode(), "b"] if isinstance(v, bytes) else [t, v]
                       for k, (t, v) in attrs.items()}, separators=(",", ":"), ensure_ascii=False)


def load_attributes(text: str | None) -> dict[str, tuple[str, str | bytes]]:
    if not text:
        return {}
    out: dict[str, tuple[str, str | bytes]] = {}
    for name, item in json.loads(text).items():
        out[name] = (item[0], base64.b64decode(item[1]) if len(item) > 2 else item[1])
    return out


@dataclass(frozen=True)
class TopicArchiveStats:
    """What a topic's archive holds: messages, bytes of message data, the oldest
    publish time (AWS's BeginningArchiveTime), and how many reached no one."""

    topic_arn: str
    messages: int
    bytes: int
    oldest_ms: int | None
    unrouted: int


@dataclass(frozen=True)
class ArchiveWindow:
    """What a replay of a window would deliver: messages, FIFO message groups, the first and
    last publish time, and the highest archive id it covers."""

    messages: int
    groups: int
    first_ms: int | None
    last_ms: int | None
    last_id: int


@dataclass(frozen=True)
class RouteCounts:
    """Accounting summed over a time window, for a topic (``sub_arn`` None) or one route."""

    topic_arn: str
    sub_arn: str | None
    published: int = 0
    no_subscription: int = 0
    unrouted_filtered: int = 0
    unrouted_failed: int = 0
    delivered: int = 0
    filtered_out: int = 0
    failed: int = 0


@dataclass(frozen=True)
class SubscriptionEvent:
    topic_arn: str
    sub_arn: str
    protocol: str
    endpoint: str
    event: str
    at_ms: int
