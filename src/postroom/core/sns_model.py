"""Domain records for Amazon SNS: topics, subscriptions, and the plan a publish executes."""

from __future__ import annotations

from dataclasses import dataclass, field

from postroom.core.model import NewMessage


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


@dataclass(frozen=True)
class QueueDelivery:
    """One message into one SQS queue (by account and name), for one subscription."""

    sub_arn: str
    account: str
    queue_name: str
    message: NewMessage
    dlq: tuple[str, str] | None = None


@dataclass(frozen=True)
class HttpDelivery:
    sub_arn: str
    endpoint: str
    body: str
    headers: dict[str, str]


@dataclass(frozen=True)
class PublishPlan:
    """What one publish does, decided by the service: the deliveries that happen, and the
    subscriptions whose filter policy dropped the message. ``dedup_id`` is set on FIFO
    topics; a duplicate within the window executes nothing."""

    message_id: str
    queue_deliveries: list[QueueDelivery] = field(default_factory=list)
    http_deliveries: list[HttpDelivery] = field(default_factory=list)
    filtered_out: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dedup_id: str | None = None


@dataclass(frozen=True)
class PublishResult:
    message_id: str
    sequence_number: str | None
    duplicate: bool = False


@dataclass(frozen=True)
class TopicCounts:
    published: int = 0
    no_subscribers: int = 0


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
