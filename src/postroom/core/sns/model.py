"""Domain records for Amazon SNS: topics, subscriptions, and the plan a publish executes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from postroom.core.digest import md5_of_body
from postroom.core.model import NewMessage, ResourceKey
from postroom.core.sns.archive import ArchiveRecord
from postroom.core.sns.notifications import Notification


@dataclass(frozen=True)
class Topic:
    topic_id: int
    account: str
    region: str
    name: str
    attributes: dict[str, str]
    tags: dict[str, str]
    created_ms: int

    @property
    def arn(self) -> str:
        return f"arn:aws:sns:{self.region}:{self.account}:{self.name}"

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoTopic") == "true"

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.account, self.region, self.name)


@dataclass(frozen=True)
class TopicChange:
    """New ``attributes`` and/or ``tags`` for a topic (``None`` leaves that part)."""

    attributes: dict[str, str] | None = None
    tags: dict[str, str] | None = None


TopicMutation = Callable[[Topic], TopicChange]
"""A pure function of the topic as stored, applied by the store inside the transaction
that writes its result (see :data:`postroom.core.model.QueueMutation`)."""


@dataclass(frozen=True)
class Subscription:
    """``sub_id`` is the last part of the SubscriptionArn (``<topic arn>:<sub id>``).
    HTTP/HTTPS subscriptions are pending until the endpoint confirms with ``token``."""

    sub_id: str
    topic_arn: str
    owner: str
    protocol: str
    endpoint: str
    attributes: dict[str, str]
    confirmed: bool
    token: str | None = None

    @property
    def arn(self) -> str:
        return f"{self.topic_arn}:{self.sub_id}"


SubscriptionMutation = Callable[[Subscription], Subscription]
"""A pure function of the subscription as stored, applied inside the store's transaction."""


@dataclass(frozen=True)
class SubscriptionSet:
    """A topic's subscriptions as of ``version``. Every change to a topic's
    subscriptions (Subscribe, Unsubscribe, ConfirmSubscription, SetSubscriptionAttributes)
    moves the version in the same transaction, and a publish is committed only if the
    version it was planned from is still current: a publish can never miss a subscription
    whose creation had returned before the publish began, on any node."""

    version: int
    subscriptions: tuple[Subscription, ...]


class StaleSubscriptions(Exception):
    """A publish was planned from a subscription set that changed before it committed;
    the store changed nothing, and the publish is planned again from the current set."""


SEQUENCE_SLOT = "{{postroom:sequence-number}}"
"""Where a FIFO topic's sequence number goes in an envelope planned before the
transaction that assigns the number. FIFO envelopes are unsigned, so the number can be
written in afterwards; SequenceNumber precedes Message in the envelope, so the first
occurrence is always the slot, whatever the message says."""


TOPIC_SEQUENCE_STRIDE = 1000
"""A FIFO topic's n-th message gets sequence n × 1000 (formatted like SQS's, 20 digits):
SNS's SequenceNumber is its own — "a large, non-consecutive number that Amazon SNS assigns
to each message" (API Reference › Publish), growing per topic — and distinct from the
SequenceNumber the subscribed FIFO queue gives its copy (AWS-recorded snapshots show the
two differ). Counting in steps keeps the topic's numbers off the queue's small consecutive
ones, so that neither is mistaken for the other."""


def topic_sequence(taken: int) -> int:
    """The sequence a FIFO topic's message gets from the topic's counter value ``taken``."""
    return taken * TOPIC_SEQUENCE_STRIDE


def fill_sequence(body: str, sequence_number: str) -> str:
    """``body`` with its sequence slot, if any, holding ``sequence_number``."""
    return body.replace(SEQUENCE_SLOT, sequence_number, 1)


def with_sequence(message: NewMessage, sequence_number: str) -> NewMessage:
    """``message`` with its sequence slot (if any) filled and its body digest recomputed."""
    if SEQUENCE_SLOT not in message.body:
        return message
    body = fill_sequence(message.body, sequence_number)
    return replace(message, body=body, md5_of_body=md5_of_body(body))


@dataclass(frozen=True)
class QueueDelivery:
    """One message into one SQS queue, for one subscription; ``dlq`` is the
    subscription's dead-letter queue, used when the queue is gone or ``denied`` (its
    Policy refuses the topic: a client-side error, which AWS sends to the DLQ too)."""

    sub_arn: str
    queue: ResourceKey
    message: NewMessage
    dlq: ResourceKey | None = None
    denied: bool = False


@dataclass(frozen=True)
class HttpDelivery:
    sub_arn: str
    endpoint: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class PublishPlan:
    """What one published message does, decided by the service before any transaction:
    the deliveries that happen, and the subscriptions whose filter policy dropped the
    message. ``dedup_id`` is set on FIFO topics; a duplicate within the window executes
    nothing. Bodies of FIFO topics hold :data:`SEQUENCE_SLOT` until the store assigns the
    sequence number."""

    message_id: str
    queue_deliveries: list[QueueDelivery] = field(default_factory=list)
    http_deliveries: list[HttpDelivery] = field(default_factory=list)
    filtered_out: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dedup_id: str | None = None
    archive: ArchiveRecord | None = None
    notifications: list[Notification] = field(default_factory=list)
    """SMS, email and mobile push deliveries, for the notification outbox."""


@dataclass(frozen=True)
class PublishWriteSet:
    """Everything one Publish or PublishBatch writes, built outside the transaction and
    applied by the store in one: per entry, the FIFO deduplication check and sequence
    number, every queue delivery, every HTTP delivery, the accounting. It is applied only
    if the topic's subscription set is still at ``subscriptions_version`` (else
    :class:`StaleSubscriptions`). ``subscribed`` says whether the topic had any
    subscription, for the no-subscriber count."""

    topic: Topic
    subscriptions_version: int
    subscribed: bool
    entries: list[PublishPlan]


@dataclass(frozen=True)
class PublishResult:
    message_id: str
    sequence_number: str | None
    duplicate: bool = False


@dataclass(frozen=True)
class TopicCounts:
    """A topic's accounting: messages published, and those that reached no one, by cause."""

    published: int = 0
    no_subscribers: int = 0
    unrouted_filtered: int = 0
    unrouted_failed: int = 0


@dataclass(frozen=True)
class SubscriptionCounts:
    delivered: int = 0
    filtered_out: int = 0
    failed: int = 0


@dataclass(frozen=True)
class OutboxItem:
    item_id: int
    sub_arn: str
    endpoint: str
    body: str
    headers: dict[str, str]
    attempts: int


@dataclass(frozen=True)
class OutboxOutcome:
    """How one HTTP delivery ended, written by the store in one transaction: the outbox
    row goes, the accounting counts it (``counted``: notifications, not confirmations),
    and a notification that failed for good goes to the subscription's dead-letter queue
    (``dead_letter``), so a crash can neither lose the DLQ copy nor the count."""

    item_id: int
    topic_arn: str
    sub_arn: str
    counted: bool
    delivered: bool
    dead_letter: tuple[ResourceKey, NewMessage] | None = None


CALLER_USER = "postroom"
"""The IAM user every caller of an account is taken to be. postroom has no IAM: one
identity per account, answered the same way wherever AWS names the caller."""


def caller_arn(account: str) -> str:
    """The caller's IAM ARN: STS GetCallerIdentity's ``Arn`` and a subscription's
    ``SubscriptionPrincipal``. AWS answers ``arn:aws:iam::<account>:user/<name>`` for an IAM
    user's credentials (LocalStack's AWS-recorded snapshots of GetSubscriptionAttributes:
    ``"SubscriptionPrincipal": "arn:<partition>:iam::111111111111:user/<resource:3>"``)."""
    return f"arn:aws:iam::{account}:user/{CALLER_USER}"


def caller_user_id(account: str) -> str:
    """GetCallerIdentity's ``UserId`` for :func:`caller_arn`: an IAM user's unique id is
    ``AIDA`` and 17 more upper-case letters and digits; postroom derives one per account."""
    digest = md5_of_body(f"{account}/{CALLER_USER}").upper()
    return "AIDA" + digest[:17]
