"""Amazon SNS use cases: topics, subscriptions, publishing.

Publish returns a MessageId only after the store committed the message for every
subscription in one transaction (deliveries into postroom's queues, the HTTP outbox, and
the accounting), so a kill -9 right after Publish returned loses no delivery.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from postroom.clock import Clock
from postroom.core import subscription_attributes as sa
from postroom.core import topic_attributes as ta
from postroom.core.arns import parse_queue_arn
from postroom.core.sns_delivery_policy import effective_subscription_delivery_policy
from postroom.core.sns_envelope import subscription_confirmation, to_json
from postroom.core.sns_model import PublishResult, Subscription, SubscriptionCounts, Topic, TopicCounts
from postroom.core.sns_validate import (
    check_batch_size,
    check_publish_size,
    parse_publish_attributes,
    publish_size,
    validate_batch_entries,
    validate_fifo_publish,
    validate_message,
    validate_message_structure,
    validate_subject,
    validate_topic_name,
)
from postroom.errors import InvalidParameter, NotFound, PostroomError, ResourceNotFound, TagLimitExceeded
from postroom.service.context import RequestContext, ServiceSettings
from postroom.service.sns_delivery import Endpoints, Outgoing, Sign, plan_publish
from postroom.service.waiters import Waiters

DEDUP_WINDOW_MS = 300_000


class SnsStore(Protocol):
    async def create_topic(self, account: str, region: str, name: str, attributes: dict[str, str],
                           tags: dict[str, str], now_ms: int) -> tuple[Topic, bool]: ...
    async def get_topic(self, account: str, name: str) -> Topic | None: ...
    async def list_topics(self, account: str) -> list[Topic]: ...
    async def update_topic(self, topic: Topic, attributes: dict[str, str] | None,
                           tags: dict[str, str] | None) -> Topic: ...
    async def delete_topic(self, topic: Topic) -> None: ...
    async def subscribe(self, topic: Topic, sub: Subscription, now_ms: int) -> Subscription: ...
    async def get_subscription(self, sub_arn: str) -> Subscription | None: ...
    async def subscriptions_of(self, topic_arn: str) -> list[Subscription]: ...
    async def list_subscriptions(self, account: str) -> list[Subscription]: ...
    async def update_subscription(self, sub: Subscription) -> Subscription: ...
    async def unsubscribe(self, sub: Subscription) -> None: ...
    async def publish(self, topic: Topic, plan_for: Callable[[str | None], Any], message_id: str,
                      dedup_id: str | None, now_ms: int, window_ms: int) -> PublishResult: ...
    async def sns_counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]: ...
    async def get_queue(self, account: str, name: str) -> Any: ...
    async def enqueue_http(self, sub_arn: str, endpoint: str, body: str, headers: dict[str, str],
                           now_ms: int) -> None: ...


@dataclass(frozen=True)
class PublishInput:
    message: str | None
    subject: str | None = None
    structure: str | None = None
    attributes: Mapping[str, Mapping[str, Any]] | None = None
    group_id: str | None = None
    dedup_id: str | None = None


def parse_topic_arn(arn: str | None, what: str = "TopicArn") -> tuple[str, str]:
    parts = (arn or "").split(":")
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "sns" or not parts[5]:
        raise InvalidParameter(f"Invalid parameter: {what}")
    return parts[4], parts[5]


class SnsService:
    def __init__(self, store: SnsStore, clock: Clock, settings: ServiceSettings, waiters: Waiters,
                 sign: Sign, cert_path: str) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.waiters = waiters
        self.sign = sign
        self.cert_path = cert_path

    # ---- topics ---------------------------------------------------------------
    async def topic(self, arn: str | None) -> Topic:
        account, name = parse_topic_arn(arn)
        topic = await self.store.get_topic(account, name)
        if topic is None:
            raise NotFound("Topic does not exist")
        return topic

    async def create_topic(self, ctx: RequestContext, name: str, attributes: Mapping[str, str] | None,
                           tags: Mapping[str, str] | None) -> Topic:
        """AWS: CreateTopic is idempotent — an existing topic of that name is returned
        when the attributes given match it, else InvalidParameter."""
        raw = dict(attributes or {})
        validate_topic_name(name, raw.get("FifoTopic", "").lower() == "true")
        attrs = ta.creation_attributes(name, raw)
        topic, created = await self.store.create_topic(ctx.account, ctx.region, name, attrs, dict(tags or {}),
                                                       self.clock.now_ms())
        if not created:
            if tags and dict(tags) != topic.tags:
                raise InvalidParameter("Invalid parameter: Tags Reason: Topic already exists with different tags")
            for key, value in attrs.items():
                if key in raw and topic.attributes.get(key) != value:
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
        return topic

    async def delete_topic(self, arn: str) -> None:
        account, name = parse_topic_arn(arn)
        topic = await self.store.get_topic(account, name)
        if topic is not None:
            await self.store.delete_topic(topic)

    async def list_topics(self, ctx: RequestContext, next_token: str | None) -> tuple[list[str], str | None]:
        """AWS pages ListTopics by 100."""
        topics = [t.arn for t in await self.store.list_topics(ctx.account)]
        start = _token_index(next_token)
        page = topics[start:start + 100]
        return page, (str(start + 100) if start + 100 < len(topics) else None)

    async def topic_attributes(self, arn: str) -> dict[str, str]:
        topic = await self.topic(arn)
        subs = await self.store.subscriptions_of(topic.arn)
        out = ta.computed_attributes(topic.arn, topic.account, topic.attributes,
                                     confirmed=sum(1 for x in subs if x.confirmed),
                                     pending=sum(1 for x in subs if not x.confirmed))
        return out

    async def set_topic_attribute(self, arn: str, name: str, value: str | None) -> None:
        topic = await self.topic(arn)
        attrs = ta.updated_attributes(topic.attributes, name, value or "")
        await self.store.update_topic(topic, attrs, None)

    async def _tagged(self, arn: str) -> Topic:
        """AWS's tagging actions name a resource, and a missing one is ResourceNotFound."""
        try:
            return await self.topic(arn)
        except (NotFound, InvalidParameter) as exc:
            raise ResourceNotFound("Resource does not exist") from exc

    async def tag(self, arn: str, tags: Mapping[str, str]) -> None:
        """AWS: at most 50 tags per topic; keys 1–128 characters, values up to 256."""
        topic = await self._tagged(arn)
        for key, value in tags.items():
            if not 1 <= len(key) <= 128 or len(value) > 256 or key.lower().startswith("aws:"):
                raise InvalidParameter(f"Invalid parameter: Tags Reason: invalid tag {key!r}")
        merged = {**topic.tags, **tags}
        if len(merged) > 50:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        await self.store.update_topic(topic, None, merged)

    async def untag(self, arn: str, keys: Sequence[str]) -> None:
        topic = await self._tagged(arn)
        await self.store.update_topic(topic, None, {k: v for k, v in topic.tags.items() if k not in set(keys)})

    async def tags(self, arn: str) -> dict[str, str]:
        return dict((await self._tagged(arn)).tags)

    # ---- subscriptions ----------------------------------------------------------
    async def subscribe(self, ctx: RequestContext, topic_arn: str, protocol: str, endpoint: str | None,
                        attributes: Mapping[str, str] | None) -> Subscription:
        topic = await self.topic(topic_arn)
        protocol = (protocol or "").lower()
        sa.validate_protocol_endpoint(protocol, endpoint or "")
        assert endpoint is not None
        fifo_queue = False
        if protocol == "sqs":
            fifo_queue = parse_queue_arn(endpoint, "Endpoint").name.endswith(".fifo")
        sa.check_fifo_compatibility(topic.fifo, protocol, fifo_queue)
        attrs = sa.subscribe_attributes(protocol, dict(attributes or {}), topic_fifo=topic.fifo, endpoint=endpoint)
        confirmed = protocol == "sqs"
        sub = Subscription(self.settings.new_id(), topic.arn, ctx.account, protocol, endpoint, attrs, confirmed,
                           None if confirmed else secrets.token_hex(32))
        saved = await self.store.subscribe(topic, sub, self.clock.now_ms())
        if saved.sub_id != sub.sub_id and sa.differs_from_existing(attrs, saved.attributes):
            # the existing subscription was returned untouched: refusing changes nothing
            raise InvalidParameter(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
        if not saved.confirmed and saved.sub_id == sub.sub_id:
            await self._send_confirmation(ctx, topic, saved)
        return saved

    async def _send_confirmation(self, ctx: RequestContext, topic: Topic, sub: Subscription) -> None:
        """AWS: an HTTP/HTTPS endpoint receives a SubscriptionConfirmation POST and must
        visit SubscribeURL (or call ConfirmSubscription with the token) before it gets
        notifications."""
        endpoints = Endpoints(f"{ctx.scheme}://{ctx.host}", self.cert_path)
        url = (f"{endpoints.base_url}/?Action=ConfirmSubscription&TopicArn={topic.arn}&Token={sub.token}")
        envelope = self.sign(subscription_confirmation(
            message_id=self.settings.new_id(), token=sub.token or "", topic_arn=topic.arn, subscribe_url=url,
            timestamp_ms=self.clock.now_ms(), signing_cert_url=endpoints.cert_url,
            signature_version=topic.attributes.get("SignatureVersion", "1")))
        headers = {"x-amz-sns-message-type": "SubscriptionConfirmation",
                   "x-amz-sns-message-id": envelope["MessageId"], "x-amz-sns-topic-arn": topic.arn,
                   "Content-Type": "text/plain; charset=UTF-8"}
        await self.store.enqueue_http(sub.arn, sub.endpoint, to_json(envelope), headers, self.clock.now_ms())

    async def add_permission(self, arn: str, label: str, accounts: Sequence[str], actions: Sequence[str]) -> None:
        """AddPermission adds a statement with ``Sid`` = label to the topic's Policy."""
        topic = await self.topic(arn)
        policy = json.loads(topic.attributes.get("Policy") or ta.default_topic_policy(topic.arn, topic.account))
        statements: list[dict[str, Any]] = policy.setdefault("Statement", [])
        if any(st.get("Sid") == label for st in statements):
            raise InvalidParameter("Invalid parameter: Statement already exists")
        if not accounts or not actions:
            raise InvalidParameter("Invalid parameter: AWSAccountId and ActionName must not be empty")
        statements.append({"Sid": label, "Effect": "Allow",
                           "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                           "Action": [f"SNS:{a}" for a in actions], "Resource": topic.arn})
        await self.store.update_topic(topic, {**topic.attributes, "Policy": json.dumps(policy)}, None)

    async def remove_permission(self, arn: str, label: str) -> None:
        topic = await self.topic(arn)
        policy = json.loads(topic.attributes.get("Policy") or ta.default_topic_policy(topic.arn, topic.account))
        kept = [st for st in policy.get("Statement", []) if st.get("Sid") != label]
        if len(kept) == len(policy.get("Statement", [])):
            raise InvalidParameter("Invalid parameter: Statement does not exist")
        policy["Statement"] = kept
        await self.store.update_topic(topic, {**topic.attributes, "Policy": json.dumps(policy)}, None)

    async def subscription(self, arn: str | None) -> Subscription:
        sub = await self.store.get_subscription(arn or "")
        if sub is None:
            raise NotFound("Subscription does not exist")
        return sub

    async def confirm(self, topic_arn: str, token: str) -> Subscription:
        topic = await self.topic(topic_arn)
        for sub in await self.store.subscriptions_of(topic.arn):
            if sub.token == token:
                if not sub.confirmed:
                    sub = await self.store.update_subscription(
                        Subscription(sub.sub_id, sub.topic_arn, sub.owner, sub.protocol, sub.endpoint,
                                     sub.attributes, True, sub.token))
                return sub
        raise InvalidParameter("Invalid parameter: Token")

    async def unsubscribe(self, arn: str) -> None:
        sub = await self.store.get_subscription(arn)
        if sub is None:
            if len(arn.split(":")) != 7:
                raise InvalidParameter("Invalid parameter: SubscriptionArn")
            raise NotFound("Subscription does not exist")
        await self.store.unsubscribe(sub)

    async def list_subscriptions(self, ctx: RequestContext, topic_arn: str | None,
                                 next_token: str | None) -> tuple[list[Subscription], str | None]:
        if topic_arn is not None:
            subs = await self.store.subscriptions_of((await self.topic(topic_arn)).arn)
            subs.sort(key=lambda s: s.arn)
        else:
            subs = await self.store.list_subscriptions(ctx.account)
        start = _token_index(next_token)
        return subs[start:start + 100], (str(start + 100) if start + 100 < len(subs) else None)

    async def subscription_attributes(self, arn: str) -> dict[str, str]:
        sub = await self.subscription(arn)
        topic = await self.topic(sub.topic_arn)
        out = {"SubscriptionArn": sub.arn, "TopicArn": sub.topic_arn, "Owner": sub.owner,
               "Protocol": sub.protocol, "Endpoint": sub.endpoint,
               "ConfirmationWasAuthenticated": "true" if sub.confirmed else "false",
               "PendingConfirmation": "false" if sub.confirmed else "true", "RawMessageDelivery": "false",
               "SubscriptionPrincipal": f"arn:aws:iam::{sub.owner}:root"}
        if sub.protocol in ("http", "https"):
            out["EffectiveDeliveryPolicy"] = effective_subscription_delivery_policy(topic.attributes, sub.attributes)
        out.update(sub.attributes)
        if "FilterPolicy" not in sub.attributes:
            out.pop("FilterPolicyScope", None)
        return out

    async def set_subscription_attribute(self, arn: str, name: str, value: str | None) -> None:
        sub = await self.subscription(arn)
        topic = await self.topic(sub.topic_arn)
        attrs = sa.updated_subscription_attributes(sub.protocol, sub.attributes, name, value or "",
                                                   topic_fifo=topic.fifo, endpoint=sub.endpoint)
        await self.store.update_subscription(Subscription(sub.sub_id, sub.topic_arn, sub.owner, sub.protocol,
                                                          sub.endpoint, attrs, sub.confirmed, sub.token))

    # ---- publish ------------------------------------------------------------------
    def _outgoing(self, topic: Topic, p: PublishInput) -> Outgoing:
        message = p.message
        validate_message(message or "")
        assert message is not None
        if p.subject is not None:
            validate_subject(p.subject)
        validate_message_structure(message, p.structure)
        attrs = parse_publish_attributes(p.attributes)
        check_publish_size(publish_size(message, p.subject, attrs))
        content_dedup = topic.attributes.get("ContentBasedDeduplication") == "true"
        validate_fifo_publish(topic.fifo, content_dedup, p.group_id, p.dedup_id)
        dedup = p.dedup_id
        if topic.fifo and dedup is None:
            dedup = hashlib.sha256(message.encode()).hexdigest()
        return Outgoing(self.settings.new_id(), message, p.subject, p.structure, attrs, p.group_id, dedup,
                        self.clock.now_ms())

    async def publish(self, ctx: RequestContext, topic_arn: str | None, p: PublishInput) -> PublishResult:
        topic = await self.topic(topic_arn)
        return await self._publish(ctx, topic, self._outgoing(topic, p))

    async def _publish(self, ctx: RequestContext, topic: Topic, out: Outgoing) -> PublishResult:
        subs = [s for s in await self.store.subscriptions_of(topic.arn)]
        endpoints = Endpoints(f"{ctx.scheme}://{ctx.host}", self.cert_path)
        result = await self.store.publish(
            topic, lambda seq: plan_publish(topic, subs, out, seq, endpoints, self.sign, self.settings.new_id,
                                            ctx.account),
            out.message_id, out.dedup_id, out.timestamp_ms, DEDUP_WINDOW_MS)
        for sub in subs:
            if sub.protocol == "sqs":
                arn = parse_queue_arn(sub.endpoint)
                queue = await self.store.get_queue(arn.account, arn.name)
                if queue is not None:
                    self.waiters.notify(queue.queue_id)
        return result

    async def publish_batch(self, ctx: RequestContext, topic_arn: str,
                            entries: Sequence[tuple[str, PublishInput]]) -> list[tuple[str, PublishResult | Exception]]:
        topic = await self.topic(topic_arn)
        validate_batch_entries([i for i, _ in entries])
        out: list[tuple[str, PublishResult | Exception]] = []
        prepared: list[tuple[str, Outgoing | PostroomError]] = []
        for entry_id, p in entries:
            try:
                prepared.append((entry_id, self._outgoing(topic, p)))
            except PostroomError as exc:
                prepared.append((entry_id, exc))
        check_batch_size(publish_size(o.message, o.subject, o.attributes)
                         for _, o in prepared if isinstance(o, Outgoing))
        for entry_id, item in prepared:
            if isinstance(item, PostroomError):
                out.append((entry_id, item))
            else:
                out.append((entry_id, await self._publish(ctx, topic, item)))
        return out

    async def counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
        return await self.store.sns_counts()


def _token_index(token: str | None) -> int:
    if not token:
        return 0
    try:
        return max(0, int(token))
    except ValueError as exc:
        raise InvalidParameter("Invalid parameter: NextToken") from exc
