"""The store interface: every piece of state that decides correctness lives here.

``Store`` is made of typed sub-protocols, one per kind of state (queues, messages, move
tasks, topics, subscriptions, publishing, the HTTP outbox, shared settings); each
service asks for the parts it uses, and the application's wiring is checked by mypy
against the whole. Both engines (SQLite and PostgreSQL) implement every method with the
same async shape.

Each method is one atomic step: it either happens completely or not at all, and once
its awaitable returns the effect is durable (committed, and flushed to disk unless the
store was opened with relaxed durability). The service layer and ``postroom.core``
decide *what* to do (validation, defaults, AWS's rules); the store executes it
atomically, so that several server processes sharing one database (PostgreSQL) make the
same decisions a single process makes on SQLite. A change to a queue, topic or
subscription is a pure function of the current row, applied inside the transaction that
writes it: concurrent changes never overwrite one another.

Resources are identified by :class:`~postroom.core.model.ResourceKey` (account, region,
name) everywhere. Times are milliseconds since the epoch and are always passed in by the
caller, so a test clock drives them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from postroom.core.model import (
    MoveTask,
    NewMessage,
    Queue,
    QueueCounts,
    QueueMutation,
    ReceiveOutcome,
    ResourceKey,
    SendResult,
)
from postroom.core.sns.archive import (
    ArchivedMessage,
    ArchiveWindow,
    RouteCounts,
    SubscriptionEvent,
    TopicArchiveStats,
)
from postroom.core.sns.model import (
    OutboxItem,
    OutboxOutcome,
    PublishResult,
    PublishWriteSet,
    Subscription,
    SubscriptionCounts,
    SubscriptionMutation,
    SubscriptionSet,
    Topic,
    TopicCounts,
    TopicMutation,
)
from postroom.core.sns.notifications import Notification
from postroom.core.sns.platform import PlatformApplication, PlatformEndpoint
from postroom.core.sns.replay import Replay, ReplayStep


@dataclass(frozen=True)
class ReceiveRequest:
    """What a receive may hand out.

    ``visibility_ms`` is how long received messages stay invisible. ``retention_ms`` is
    the queue's MessageRetentionPeriod: older messages are never handed out.
    ``max_receive_count``/``dlq`` come from the queue's RedrivePolicy: a message that
    has already been received ``max_receive_count`` times is moved to ``dlq`` instead of
    being handed out again (``postroom.core.sqs.delivery_rules.fate``).
    ``attempt_id`` is FIFO's ReceiveRequestAttemptId: a retry with the same id within
    five minutes returns the same messages, if they are still in flight.
    """

    max_messages: int
    visibility_ms: int
    now_ms: int
    retention_ms: int
    max_receive_count: int | None = None
    dlq: ResourceKey | None = None
    attempt_id: str | None = None


@dataclass(frozen=True)
class VisibilityChange:
    entry_id: str
    receipt_handle: str
    visibility_ms: int


class QueueStore(Protocol):
    async def create_queue(self, key: ResourceKey, attributes: dict[str, str], tags: dict[str, str], now_ms: int,
                           reuse_after_ms: int | None) -> tuple[Queue, bool]:
        """Create the queue, or return the existing one of that key and ``False``.
        ``reuse_after_ms`` (AWS timing rules on): raise QueueDeletedRecently if a queue of
        that key was deleted less than that long ago. Queue ids are never reused."""
        ...

    async def get_queue(self, key: ResourceKey, *, fresh: bool = False) -> Queue | None:
        """The queue, possibly from a cache that notices keep coherent; ``fresh`` reads
        the database (after a write found a cached queue gone)."""
        ...

    async def list_queues(self, account: str, region: str, prefix: str, after: str | None,
                          limit: int) -> list[Queue]:
        """Queues whose name starts with ``prefix``, ordered by name, strictly after ``after``."""
        ...

    async def delete_queue(self, key: ResourceKey, now_ms: int) -> bool:
        """Delete the queue and all its messages; ``False`` if it did not exist. A send
        that had resolved the queue before fails with QueueDoesNotExist afterwards."""
        ...

    async def update_queue(self, key: ResourceKey, change: QueueMutation, now_ms: int) -> Queue:
        """Apply ``change`` to the queue as currently stored, inside the transaction that
        writes the result; returns the queue after it. Raises QueueDoesNotExist, or
        whatever ``change`` raises (then nothing changes)."""
        ...

    async def dead_letter_sources(self, dlq: Queue) -> list[Queue]:
        """Queues of the DLQ's account and region whose RedrivePolicy targets it, by name."""
        ...


class MessageStore(Protocol):
    async def send(self, queue: Queue, messages: Sequence[NewMessage], now_ms: int,
                   dedup_window_ms: int) -> list[SendResult]:
        """Enqueue ``messages`` in order, all or none; QueueDoesNotExist if the queue was
        deleted. On a FIFO queue each gets the next sequence number, and a message whose
        (scope, dedup id) was seen within the window is not enqueued: its result carries
        the original's MessageId and SequenceNumber. The scope is the DeduplicationScope
        the queue was created with (``postroom.core.sqs.delivery_rules.dedup_scope``)."""
        ...

    async def receive(self, queue: Queue, request: ReceiveRequest) -> ReceiveOutcome:
        """Hand out up to ``max_messages`` visible messages and make them invisible for
        ``visibility_ms``, each with a fresh receipt handle. On a FIFO queue a group is
        served only while its first message is visible, from that message on in sequence
        order up to the first one that is not, and groups in the order their first
        message became visible (``postroom.core.sqs.delivery_rules.fifo_group_run``). A
        message claimed is either handed out, moved to the DLQ or expired — never left
        claimed and undelivered by a retried step."""
        ...

    async def delete(self, queue: Queue, receipt_handles: Sequence[tuple[str, str]],
                     now_ms: int) -> list[Exception | None]:
        """Delete by (entry id, receipt handle). A malformed handle, or one for another
        queue, fails that entry with ReceiptHandleIsInvalid. On a standard queue any
        handle of the message deletes it; on a FIFO queue a handle whose receive is no
        longer in flight fails with InvalidParameterValue "The receipt handle has expired"
        and deletes nothing. A handle of a message already gone succeeds
        (``postroom.store.receipts``)."""
        ...

    async def change_visibility(self, queue: Queue, changes: Sequence[VisibilityChange],
                                now_ms: int) -> list[Exception | None]:
        """Set each in-flight message's visibility to now + ``visibility_ms``, matching the
        receipt handle's receive in the same statement: a stale handle never changes the
        timeout of the message's next receiver. An old handle (expired or superseded)
        succeeds and changes nothing; a handle of a message that is gone fails with
        InvalidParameterValue (``postroom.store.receipts``)."""
        ...

    async def purge(self, queue: Queue, now_ms: int, min_interval_ms: int | None) -> None:
        """Delete every message and forget the queue's deduplication ids. With
        ``min_interval_ms`` (AWS timing rules on), raise PurgeQueueInProgress if the last
        purge was less than that long ago."""
        ...

    async def counts(self, queue: Queue, now_ms: int) -> QueueCounts:
        """Visible, in-flight and delayed messages; a read that does not wait for writers."""
        ...

    async def expire(self, now_ms: int) -> int:
        """Delete messages older than their queue's retention period, and dedup entries
        past their window. Returns the number of messages deleted."""
        ...


class MoveTaskStore(Protocol):
    async def start_move_task(self, source: Queue, task: MoveTask) -> MoveTask:
        """Record a new move task. Raises UnsupportedOperation if the source already has
        a running task."""
        ...

    async def list_move_tasks(self, source_arn: str, limit: int) -> list[MoveTask]: ...

    async def get_move_task(self, task_handle: str) -> MoveTask | None: ...

    async def running_move_tasks(self) -> list[MoveTask]: ...

    async def cancel_move_task(self, task_handle: str) -> MoveTask:
        """Mark a running task CANCELLING→CANCELLED. Raises ResourceNotFound."""
        ...

    async def move_messages(self, task: MoveTask, limit: int, now_ms: int) -> MoveTask:
        """Move up to ``limit`` messages for the task (oldest first) from its source DLQ to
        their original source queue (``DeadLetterQueueSourceArn``) or to the task's
        destination, each move atomic; returns the task with updated progress and status
        COMPLETED when the source is drained of what was there at the start."""
        ...


class TopicStore(Protocol):
    async def create_topic(self, key: ResourceKey, attributes: dict[str, str], tags: dict[str, str],
                           now_ms: int) -> tuple[Topic, bool]:
        """Create the topic, or return the existing one of that key and ``False``."""
        ...

    async def get_topic(self, key: ResourceKey) -> Topic | None: ...

    async def list_topics(self, account: str, region: str) -> list[Topic]:
        """The account's topics in the region, by name."""
        ...

    async def update_topic(self, key: ResourceKey, change: TopicMutation) -> Topic:
        """Apply ``change`` to the topic as stored, in the transaction that writes it.
        Raises NotFound, or whatever ``change`` raises (then nothing changes)."""
        ...

    async def delete_topic(self, key: ResourceKey) -> None:
        """Delete the topic with its subscriptions; nothing if it does not exist."""
        ...


class SubscriptionStore(Protocol):
    async def subscribe(self, topic: Topic, sub: Subscription, now_ms: int,
                        replay: Replay | None = None) -> Subscription:
        """Add ``sub`` to the topic, or return the existing subscription of the same
        (protocol, endpoint). NotFound if the topic is gone. ``replay`` (its ReplayPolicy)
        is recorded in the same transaction when the subscription is new."""
        ...

    async def get_subscription(self, sub_arn: str) -> Subscription | None: ...

    async def subscriptions_of(self, topic: Topic, *, fresh: bool = False) -> SubscriptionSet:
        """The topic's subscriptions and their version, possibly cached; ``fresh`` reads
        the database (a publish found the cached version stale)."""
        ...

    async def list_subscriptions(self, account: str, region: str) -> list[Subscription]: ...

    async def update_subscription(self, sub_arn: str, change: SubscriptionMutation,
                                  replay: Replay | None = None) -> Subscription:
        """Apply ``change`` to the subscription as stored, in the transaction that writes it,
        with ``replay`` (a new ReplayPolicy) recorded in it too. Raises NotFound."""
        ...

    async def confirm_subscription(self, topic: Topic, token: str) -> Subscription | None:
        """Confirm the topic's subscription holding ``token``; ``None`` if none does."""
        ...

    async def unsubscribe(self, sub_arn: str, now_ms: int) -> bool:
        """Delete the subscription; ``False`` if it did not exist."""
        ...


class PublishStore(Protocol):
    async def publish(self, write_set: PublishWriteSet, now_ms: int, window_ms: int) -> list[PublishResult]:
        """Apply every entry of the write set in one transaction, or nothing: per entry
        the FIFO deduplication check and sequence number, the queue deliveries (a queue
        that is gone counts a failed delivery and uses the subscription's DLQ), the HTTP
        outbox rows and the accounting. Raises StaleSubscriptions, changing nothing, when
        the topic's subscription set is no longer the one the write set was built from,
        and NotFound when the topic is gone."""
        ...

    async def sns_counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]: ...


class OutboxStore(Protocol):
    async def enqueue_http(self, sub_arn: str, endpoint: str, body: str, headers: dict[str, str],
                           now_ms: int) -> None: ...

    async def claim_outbox(self, now_ms: int, limit: int, lease_ms: int) -> list[OutboxItem]:
        """Due deliveries, leased for ``lease_ms`` so a crash mid-delivery retries them."""
        ...

    async def outbox_retry(self, item_id: int, next_attempt_ms: int) -> None: ...

    async def finish_outbox(self, outcome: OutboxOutcome, now_ms: int) -> None:
        """End a delivery in one transaction: the row goes, the count and the DLQ copy land."""
        ...


class ArchiveStore(Protocol):
    async def archive_stats(self) -> list[TopicArchiveStats]:
        """Per topic: archived messages, their bytes, the oldest publish time, the unrouted."""
        ...

    async def archive_start(self, topic: Topic) -> int | None:
        """The publish time of the topic's oldest archived message (BeginningArchiveTime)."""
        ...

    async def archive_list(self, topic_arn: str | None, unrouted_only: bool, since_ms: int, until_ms: int,
                           limit: int) -> list[ArchivedMessage]: ...

    async def archive_window(self, topic: Topic, start_ms: int, end_ms: int, unrouted_only: bool) -> ArchiveWindow:
        """What a replay of the window would deliver now (for a dry run)."""
        ...

    async def archived_between(self, topic_arn: str, after_ms: int, before_ms: int) -> int:
        """How many of the topic's archived messages were published in (after, before)."""
        ...

    async def expire_archive(self, now_ms: int, limit: int) -> int:
        """Delete up to ``limit`` archived messages past their retention, none that an
        active replay still has to deliver; returns how many went."""
        ...


class ReplayStore(Protocol):
    async def start_replay(self, topic: Topic, replay: Replay) -> Replay:
        """Record a replay; it supersedes the subscription's active one (AWS: "starting a
        replay will supersede an existing replay")."""
        ...

    async def claim_replay(self, now_ms: int, settle_ms: int, lease_ms: int) -> Replay | None:
        """Lease the oldest active replay whose lease ran out and that was asked for at least
        ``settle_ms`` ago; its first claim fixes the archive rows it covers."""
        ...

    async def archive_page(self, replay: Replay, limit: int) -> list[ArchivedMessage]:
        """The next archived messages of the replay, after its cursor, in archive order."""
        ...

    async def replay_step(self, replay: Replay, step: ReplayStep, now_ms: int, lease_ms: int) -> bool:
        """Write a batch's deliveries and the replay's new cursor in one transaction; ``False``
        (nothing written) when the replay was superseded or its lease lost meanwhile."""
        ...

    async def end_replay(self, replay_id: str, status: str, failure: str | None, now_ms: int) -> None: ...

    async def release_replay(self, replay_id: str) -> None:
        """Give the lease back (a node shutting down), so any node resumes the replay at once."""
        ...

    async def get_replay(self, replay_id: str) -> Replay | None: ...

    async def replays(self, arn: str | None, limit: int) -> list[Replay]:
        """Replays, newest first; of one subscription or topic when ``arn`` names one."""
        ...


class AuditStore(Protocol):
    """Reads across every account and region, for the operator's audit and metrics."""

    async def every_topic(self) -> list[Topic]: ...

    async def every_queue(self) -> list[Queue]: ...

    async def every_subscription(self) -> list[Subscription]: ...

    async def audit_counts(self, since_ms: int, until_ms: int) -> list[RouteCounts]:
        """The accounting summed per topic and per route over minutes in [since, until)."""
        ...

    async def subscription_events(self, since_ms: int, until_ms: int) -> list[SubscriptionEvent]: ...

    async def record_queue_stats(self, rows: Sequence[tuple[str, int, int, int, int]]) -> None:
        """Add (queue arn, minute, sent, received, deleted) counts a node gathered."""
        ...

    async def queue_stats(self) -> dict[str, tuple[int, int, int]]:
        """Per queue ARN: messages sent, received and deleted, over every node."""
        ...


class SettingsStore(Protocol):
    async def shared_setting(self, name: str, make: Callable[[], str]) -> str:
        """The value stored under ``name``, storing ``make()`` first if there is none. When
        several processes race, the first commit wins and every one gets that value."""
        ...

    def set_wakeup(self, callback: Callable[[int | None], None]) -> None:
        """Call ``callback(queue_id)`` when another process sharing this store made
        messages available in a queue (a send, a FIFO group unlocked), and
        ``callback(None)`` when notices may have been missed (wake every waiter), so long
        polls waiting here answer at once. A store with a single process never calls it."""
        ...

    async def close(self) -> None: ...


class PlatformStore(Protocol):
    """Mobile push applications and endpoints, the account's SMS settings and phone numbers, topics'
    data protection policies, and the notification outbox (``postroom.core.sns.notifications``)."""

    async def put_application(self, app: PlatformApplication) -> PlatformApplication:
        """Create the application, or replace the attributes and credentials of the one of that
        ARN (keeping its endpoints and creation time); returns it as stored."""
        ...

    async def get_application(self, arn: str) -> PlatformApplication | None: ...

    async def list_applications(self, account: str, region: str, after: str | None,
                                limit: int) -> list[PlatformApplication]:
        """The account's applications in the region, by ARN, strictly after ``after``."""
        ...

    async def update_application(self, arn: str,
                                 change: Callable[[PlatformApplication], PlatformApplication]) -> PlatformApplication:
        """Apply ``change`` to the application as stored, in the transaction that writes it.
        Raises NotFound, or whatever ``change`` raises (then nothing changes)."""
        ...

    async def delete_application(self, arn: str) -> None:
        """Delete the application and its endpoints; nothing if it does not exist."""
        ...

    async def create_endpoint(self, endpoint: PlatformEndpoint,
                              same: Callable[[PlatformEndpoint], bool]) -> PlatformEndpoint:
        """Add ``endpoint`` to its application, or, if the application has an endpoint with that
        token, return it when ``same(existing)`` and raise the Token conflict otherwise. NotFound
        if the application is gone. Two concurrent creates of one token make one endpoint."""
        ...

    async def get_endpoint(self, arn: str) -> PlatformEndpoint | None: ...

    async def list_endpoints(self, app_arn: str, after: str | None, limit: int) -> list[PlatformEndpoint]: ...

    async def update_endpoint(self, arn: str,
                              change: Callable[[PlatformEndpoint], PlatformEndpoint]) -> PlatformEndpoint:
        """Apply ``change`` to the endpoint as stored, in the transaction that writes it. NotFound."""
        ...

    async def delete_endpoint(self, arn: str) -> None: ...

    async def sms_settings(self, account: str, region: str) -> dict[str, str]: ...

    async def update_sms_settings(self, account: str, region: str, values: dict[str, str]) -> None:
        """Set the named SMS attributes, keeping the others (concurrent updates both survive)."""
        ...

    async def sms_numbers(self, account: str, region: str, kind: str) -> list[tuple[str, str]]:
        """(phone number, status) of one kind (``opted-out`` or ``sandbox``), by number."""
        ...

    async def get_sms_number(self, account: str, region: str, kind: str,
                             phone: str) -> tuple[str, str | None] | None:
        """(status, secret) of the number, or ``None``."""
        ...

    async def put_sms_number(self, account: str, region: str, kind: str, phone: str, status: str,
                             secret: str | None, now_ms: int,
                             notifications: Sequence[Notification] = ()) -> None:
        """Record (or replace) the number, with ``notifications`` written in the same transaction."""
        ...

    async def delete_sms_number(self, account: str, region: str, kind: str, phone: str) -> bool: ...

    async def put_data_protection(self, topic: Topic, policy: str) -> None:
        """Store the topic's policy (an empty one removes it)."""
        ...

    async def get_data_protection(self, topic: Topic) -> str | None: ...

    async def add_notifications(self, notifications: Sequence[Notification], now_ms: int) -> None:
        """Write outbox entries in one transaction (pushes resolved to their endpoint's token;
        each kind trimmed to its bound)."""
        ...

    async def notifications(self, kind: str, destination: str | None, limit: int) -> list[dict[str, object]]:
        """The newest ``limit`` outbox entries of ``kind`` (of one destination), oldest first."""
        ...


class Store(QueueStore, MessageStore, MoveTaskStore, TopicStore, SubscriptionStore, PublishStore, OutboxStore,
            ArchiveStore, ReplayStore, AuditStore, SettingsStore, PlatformStore, Protocol):
    """Durable state of queues, messages, topics and deliveries. See the module docstring
    for the promise every method keeps."""
