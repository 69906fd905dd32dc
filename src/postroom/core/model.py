"""Domain records for queues and messages: frozen, typed, free of HTTP and SQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple


class ResourceKey(NamedTuple):
    """Who owns a resource and where it lives: AWS scopes every queue and topic by
    account *and* region ("Amazon SQS queues and Amazon SNS topics are regional
    resources"), so two regions may each have a queue called ``orders`` and they are
    different queues. Every store key, cache, change notice and ARN is built from it.
    (A named tuple: it is built and hashed on every request.)"""

    account: str
    region: str
    name: str

    def arn(self, service: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{self.name}"


@dataclass(frozen=True)
class MessageAttributeValue:
    """One SQS message attribute: ``DataType`` is String, Number or Binary, optionally
    followed by ``.custom-type`` (e.g. ``Number.float``)."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None


MessageAttributes = dict[str, MessageAttributeValue]


@dataclass(frozen=True)
class Queue:
    """A queue as stored: identity plus its settable attributes in AWS's string form.

    ``attributes`` holds only attributes a user can set (``VisibilityTimeout``,
    ``FifoQueue`` …) with every default filled in, so two CreateQueue calls can be
    compared for idempotency and GetQueueAttributes can answer without translation.
    """

    queue_id: int
    account: str
    region: str
    name: str
    attributes: dict[str, str]
    tags: dict[str, str]
    created_ms: int
    modified_ms: int

    @property
    def fifo(self) -> bool:
        return self.attributes.get("FifoQueue") == "true"

    @property
    def arn(self) -> str:
        return f"arn:aws:sqs:{self.region}:{self.account}:{self.name}"

    @property
    def key(self) -> ResourceKey:
        return ResourceKey(self.account, self.region, self.name)

    def int_attr(self, name: str) -> int:
        return int(self.attributes[name])


@dataclass(frozen=True)
class QueueChange:
    """What a mutation makes of a queue's settable state: new ``attributes`` and/or
    ``tags`` (``None`` leaves that part as it is). Changing attributes moves the
    queue's LastModifiedTimestamp; tags do not."""

    attributes: dict[str, str] | None = None
    tags: dict[str, str] | None = None


QueueMutation = Callable[[Queue], QueueChange]
"""A pure function from the queue as currently stored to the change to make. The store
calls it on the current row inside the transaction that writes the change, so two
concurrent mutations each see the other's result and neither is lost."""


@dataclass(frozen=True)
class NewMessage:
    """A validated message ready to enqueue. ``delay_ms`` is already resolved
    against the queue's DelaySeconds; ``dedup_id`` is already resolved for
    content-based deduplication."""

    message_id: str
    body: str
    md5_of_body: str
    attributes: MessageAttributes
    md5_of_attributes: str | None
    system_attributes: MessageAttributes
    md5_of_system_attributes: str | None
    sender_id: str
    delay_ms: int = 0
    group_id: str | None = None
    dedup_id: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What a send did: ``duplicate`` is true when the dedup window swallowed it and
    ``message_id`` / ``sequence_number`` are those of the original."""

    message_id: str
    sequence_number: str | None
    duplicate: bool = False


@dataclass(frozen=True)
class StoredMessage:
    """A message as a receive hands it out."""

    message_id: str
    receipt_handle: str
    body: str
    md5_of_body: str
    attributes: MessageAttributes
    md5_of_attributes: str | None
    system_attributes: MessageAttributes
    md5_of_system_attributes: str | None
    sender_id: str
    sent_ms: int
    first_receive_ms: int
    receive_count: int
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    dead_letter_source_arn: str | None = None


@dataclass(frozen=True)
class ReceiveOutcome:
    """Messages handed out, and when the next message could become receivable
    (``None`` if no message is waiting at all) so a long poll can sleep exactly that long."""

    messages: list[StoredMessage]
    next_visible_ms: int | None = None
    moved_to_dlq: int = 0


@dataclass(frozen=True)
class QueueCounts:
    """ApproximateNumberOfMessages(/NotVisible/Delayed), and when the oldest message still in
    the queue was sent (for ApproximateAgeOfOldestMessage)."""

    visible: int
    in_flight: int
    delayed: int
    oldest_sent_ms: int | None = None


@dataclass(frozen=True)
class MoveTask:
    """A StartMessageMoveTask: messages move from a DLQ back to their sources or to a
    destination queue, at most ``max_per_second`` per second if set."""

    task_handle: str
    source_arn: str
    destination_arn: str | None
    max_per_second: int | None
    status: str
    started_ms: int
    moved: int = 0
    to_move: int = 0
    failure_reason: str | None = None


@dataclass(frozen=True)
class RedrivePolicy:
    dead_letter_target_arn: str
    max_receive_count: int
