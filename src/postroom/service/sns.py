"""Amazon SNS use cases: topics, subscriptions, publishing.

Publish returns a MessageId only after the store committed the message for every
subscription in one transaction (deliveries into postroom's queues, the HTTP outbox, and
the accounting), so a kill -9 right after Publish returned loses no delivery.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from postroom.clock import Clock
from postroom.core.arns import parse_queue_arn
from postroom.core.model import ResourceKey
from postroom.core.policy import account_access, account_principal, sns_delivery
from postroom.core.sns import archive, topic_changes
from postroom.core.sns import subscription_attributes as sa
from postroom.core.sns import topic_attributes as ta
from postroom.core.sns.archive import ArchiveRecord
from postroom.core.sns.delivery_policy import effective_subscription_delivery_policy
from postroom.core.sns.envelope import format_timestamp, subscription_confirmation, to_json
from postroom.core.sns.model import (
    PublishResult,
    PublishWriteSet,
    StaleSubscriptions,
    Subscription,
    SubscriptionCounts,
    Topic,
    TopicCounts,
    caller_arn,
)
from postroom.core.sns.notifications import AUTO_CONFIRMED, EMAIL_PROTOCOLS
from postroom.core.sns.validate import (
    check_arn_elements,
    check_batch_size,
    check_publish_size,
    check_subscription_arn,
    parse_publish_attributes,
    publish_size,
    raw_publish_size,
    validate_batch_entries,
    validate_fifo_publish,
    validate_message,
    validate_message_structure,
    validate_subject,
    validate_topic_name,
)
from postroom.errors import AuthorizationError, InvalidParameter, NotFound, ResourceNotFound, ServiceUnavailable
from postroom.service.context import RequestContext, ServiceSettings, parse_topic_arn
from postroom.service.queue_stats import QueueStats
from postroom.service.replay import ReplayService
from postroom.service.sns_delivery import Endpoints, Outgoing, Sign, plan_publish, subscription_dlq
from postroom.service.sns_platform import email_confirmation
from postroom.service.waiters import Waiters
from postroom.store.base import Store

DEDUP_WINDOW_MS = 300_000
_HEX_TOKEN = re.compile(r"[0-9a-fA-F]+")
MAX_PLANS = 10
PUBLISH = "sns:Publish"
"""How often a publish is planned again when the topic's subscriptions keep changing
under it before it gives up with ServiceUnavailable (which every SDK retries)."""


@dataclass(frozen=True)
class PublishInput:
    message: str | None
    subject: str | None = None
    structure: str | None = None
    attributes: Mapping[str, Mapping[str, Any]] | None = None
    group_id: str | None = None
    dedup_id: str | None = None


class SnsService:
    def __init__(self, store: Store, clock: Clock, settings: ServiceSettings, waiters: Waiters,
                 sign: Sign, cert_path: str, replays: ReplayService, stats: QueueStats | None = None) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.waiters = waiters
        self.sign = sign
        self.cert_path = cert_path
        self.replays = replays
        self.stats = stats or QueueStats()

    # ---- topics ---------------------------------------------------------------
    async def topic(self, ctx: RequestContext, arn: str | None, required: bool = True,
                    action: str | None = None) -> Topic:
        """The topic an ARN parameter names. AWS: no ARN at all (fewer than six elements,
        or no value) is InvalidParameter with the reason (:func:`check_arn_elements`); an ARN
        of another region or service is "Invalid parameter: TopicArn"; a well-formed ARN of
        no topic is NotFound "Topic does not exist" (404). The caller must be allowed
        ``action`` on it (:func:`authorize_topic`); ``None``: the topic's owner only."""
        check_arn_elements(arn, "TopicArn", required)
        topic = await self.store.get_topic(ctx.topic_key(arn))
        if topic is None:
            raise NotFound("Topic does not exist")
        authorize_topic(ctx, topic, action)
        return topic

    async def create_topic(self, ctx: RequestContext, name: str, attributes: Mapping[str, str] | None,
                           tags: Mapping[str, str] | None) -> Topic:
        """AWS: CreateTopic is idempotent — an existing topic of that name is returned
        when the attributes given match it, else InvalidParameter."""
        raw = dict(attributes or {})
        validate_topic_name(name, raw.get("FifoTopic", "").lower() == "true")
        attrs = ta.creation_attributes(name, raw)
        topic_changes.check_tags(tags or {})
        topic, created = await self.store.create_topic(ctx.key(name), attrs, dict(tags or {}), self.clock.now_ms())
        if not created:
            # AWS: the same name again is the same topic when every tag given is one it has
            # (a subset, or none, is fine); a tag it lacks or holds with another value is
            # refused (LocalStack's AWS-validated test_create_duplicate_topic_check_idempotency
            # and test_create_duplicate_topic_with_more_tags).
            if tags and any(topic.tags.get(k) != v for k, v in tags.items()):
                raise InvalidParameter("Invalid parameter: Tags Reason: Topic already exists with different tags")
            for key, value in attrs.items():
                if key in raw and topic.attributes.get(key) != value:
                    raise InvalidParameter(
                        "Invalid parameter: Attributes Reason: Topic already exists with different attributes")
        return topic

    async def delete_topic(self, ctx: RequestContext, arn: str) -> None:
        check_arn_elements(arn, "TopicArn")
        key = ctx.topic_key(arn)
        if key.account != ctx.account:
            topic = await self.store.get_topic(key)
            if topic is None:
                return  # DeleteTopic of a topic that does not exist succeeds
            authorize_topic(ctx, topic, "sns:DeleteTopic")
        await self.store.delete_topic(key)

    async def list_topics(self, ctx: RequestContext, next_token: str | None) -> tuple[list[str], str | None]:
        """AWS pages ListTopics by 100."""
        topics = [t.arn for t in await self.store.list_topics(ctx.account, ctx.region)]
        start = _token_index(next_token)
        page = topics[start:start + 100]
        return page, (str(start + 100) if start + 100 < len(topics) else None)

    async def topic_attributes(self, ctx: RequestContext, arn: str) -> dict[str, str]:
        topic = await self.topic(ctx, arn, action="sns:GetTopicAttributes")
        subs = (await self.store.subscriptions_of(topic)).subscriptions
        out = ta.computed_attributes(topic.arn, topic.account, topic.attributes,
                                     confirmed=sum(1 for x in subs if x.confirmed),
                                     pending=sum(1 for x in subs if not x.confirmed))
        if "ArchivePolicy" in topic.attributes:
            # AWS: "BeginningArchiveTime – the earliest starting point at which a message in the topic's
            # archive can be replayed from".
            oldest = await self.store.archive_start(topic)
            out["BeginningArchiveTime"] = format_timestamp(oldest if oldest is not None else self.clock.now_ms())
        return out

    async def set_topic_attribute(self, ctx: RequestContext, arn: str, name: str, value: str | None) -> None:
        topic = await self.topic(ctx, arn, action="sns:SetTopicAttributes")
        change = topic_changes.set_attribute(name, value)
        change(topic)  # bad input fails here, before any write
        await self.store.update_topic(topic.key, change)

    async def _tagged(self, ctx: RequestContext, arn: str) -> Topic:
        """AWS's tagging actions name a resource, and a missing one is ResourceNotFound."""
        try:
            return await self.topic(ctx, arn)
        except (NotFound, InvalidParameter) as exc:
            raise ResourceNotFound("Resource does not exist") from exc

    async def tag(self, ctx: RequestContext, arn: str, tags: Mapping[str, str]) -> None:
        topic = await self._tagged(ctx, arn)
        await self.store.update_topic(topic.key, topic_changes.tag(tags))

    async def untag(self, ctx: RequestContext, arn: str, keys: Sequence[str]) -> None:
        topic = await self._tagged(ctx, arn)
        await self.store.update_topic(topic.key, topic_changes.untag(keys))

    async def tags(self, ctx: RequestContext, arn: str) -> dict[str, str]:
        return dict((await self._tagged(ctx, arn)).tags)

    async def add_permission(self, ctx: RequestContext, arn: str, label: str, accounts: Sequence[str],
                             actions: Sequence[str]) -> None:
        topic = await self.topic(ctx, arn, action="sns:AddPermission")
        await self.store.update_topic(topic.key, topic_changes.add_permission(label, accounts, actions))

    async def remove_permission(self, ctx: RequestContext, arn: str, label: str) -> None:
        topic = await self.topic(ctx, arn, action="sns:RemovePermission")
        await self.store.update_topic(topic.key, topic_changes.remove_permission(label))

    # ---- subscriptions ----------------------------------------------------------
    async def subscribe(self, ctx: RequestContext, topic_arn: str, protocol: str, endpoint: str | None,
                        attributes: Mapping[str, str] | None) -> Subscription:
        topic = await self.topic(ctx, topic_arn, action="sns:Subscribe")
        protocol = (protocol or "").lower()
        sa.validate_protocol_endpoint(protocol, endpoint or "")
        assert endpoint is not None
        fifo_queue = False
        if protocol == "sqs":
            fifo_queue = parse_queue_arn(endpoint, "Endpoint").name.endswith(".fifo")
        elif protocol == "application":
            await self._check_platform_endpoint(topic, endpoint)
        sa.check_fifo_compatibility(topic.fifo, protocol, fifo_queue)
        attrs = sa.subscribe_attributes(protocol, dict(attributes or {}), topic_fifo=topic.fifo, endpoint=endpoint)
        confirmed = protocol in AUTO_CONFIRMED  # sqs, sms, application; email waits for its link
        sub = Subscription(self.settings.new_id(), topic.arn, ctx.account, protocol, endpoint, attrs, confirmed,
                           None if confirmed else secrets.token_hex(32))
        replay = None
        if "ReplayPolicy" in attrs:
            replay = self.replays.for_policy(topic, sub.arn, attrs["ReplayPolicy"], ctx.account)
        saved = await self.store.subscribe(topic, sub, self.clock.now_ms(), replay)
        if replay is not None:
            self.replays.wake()
        if saved.sub_id != sub.sub_id and sa.differs_from_existing(attrs, saved.attributes):
            # the existing subscription was returned untouched: refusing changes nothing
            raise InvalidParameter(
                "Invalid parameter: Attributes Reason: Subscription already exists with different attributes")
        if not saved.confirmed and saved.sub_id == sub.sub_id:
            await self._send_confirmation(ctx, topic, saved)
        return saved

    async def _check_platform_endpoint(self, topic: Topic, endpoint: str) -> None:
        """AWS: an ``application`` subscription to a platform endpoint that does not exist (never
        created, or deleted) is InvalidParameter "Invalid parameter: Endpoint Reason: Endpoint
        does not exist for endpoint arn<ARN>" — AWS's text, without a space before the ARN
        (reported from AWS in getmoto/moto#7518; moto's test_publish_to_deleted_platform_endpoint,
        run against AWS in getmoto/moto#7584). A subscription the topic already has to that
        endpoint is still answered, Subscribe being idempotent (moto's notes from the same
        AWS runs: "existing subscriptions are still found if an endpoint is deleted")."""
        if await self.store.get_endpoint(endpoint) is not None:
            return
        current = await self.store.subscriptions_of(topic, fresh=True)
        if any(s.protocol == "application" and s.endpoint == endpoint for s in current.subscriptions):
            return
        raise InvalidParameter(
            f"Invalid parameter: Endpoint Reason: Endpoint does not exist for endpoint arn{endpoint}")

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
        if sub.protocol in EMAIL_PROTOCOLS:  # no mail leaves postroom: the email outbox gets it
            await self.store.add_notifications([email_confirmation(
                topic, sub, url, to_json(envelope), envelope["MessageId"], self.clock.now_ms())], self.clock.now_ms())
            return
        await self.store.enqueue_http(sub.arn, sub.endpoint, to_json(envelope), headers, self.clock.now_ms())

    async def subscription(self, arn: str | None) -> Subscription:
        """AWS: a SubscriptionArn that is no subscription ARN is InvalidParameter
        (:func:`check_subscription_arn`); a well-formed one of no subscription is NotFound
        "Subscription does not exist" (404)."""
        sub = await self.store.get_subscription(check_subscription_arn(arn))
        if sub is None:
            raise NotFound("Subscription does not exist")
        return sub

    async def confirm(self, ctx: RequestContext, topic_arn: str, token: str) -> Subscription:
        """ConfirmSubscription answers as AWS was recorded to (LocalStack's AWS-validated
        test_sns_confirm_subscription_wrong_token and test_subscribe_external_http_endpoint):
        a TopicArn that is no topic ARN, or one of another region, is InvalidParameter
        "Invalid parameter: Topic"; a token that is not hexadecimal ("randomtoken") is
        InvalidParameter "Invalid token"; an unknown token — or a well-formed ARN of a topic
        that does not exist — is InvalidParameter "Invalid parameter: Token"."""
        try:
            key = parse_topic_arn(topic_arn)
            key = ctx.topic_key(topic_arn)
        except InvalidParameter as exc:
            raise InvalidParameter("Invalid parameter: Topic") from exc
        if not _HEX_TOKEN.fullmatch(token or ""):
            raise InvalidParameter("Invalid token")
        topic = await self.store.get_topic(key)
        sub = await self.store.confirm_subscription(topic, token) if topic is not None else None
        if sub is None:
            raise InvalidParameter("Invalid parameter: Token")
        return sub

    async def unsubscribe(self, arn: str | None) -> None:
        """AWS: Unsubscribe is idempotent — a subscription already deleted (or never made)
        is success (LocalStack's AWS-validated test_unsubscribe_idempotency and
        test_unsubscribe_from_non_existing_subscription); only an ARN that names no
        subscription at all is refused (:func:`check_subscription_arn`)."""
        await self.store.unsubscribe(check_subscription_arn(arn), self.clock.now_ms())

    async def list_subscriptions(self, ctx: RequestContext, topic_arn: str | None,
                                 next_token: str | None) -> tuple[list[Subscription], str | None]:
        if topic_arn is not None:
            topic = await self.topic(ctx, topic_arn, action="sns:ListSubscriptionsByTopic")
            subs = sorted((await self.store.subscriptions_of(topic)).subscriptions, key=lambda s: s.arn)
        else:
            subs = await self.store.list_subscriptions(ctx.account, ctx.region)
        start = _token_index(next_token)
        return subs[start:start + 100], (str(start + 100) if start + 100 < len(subs) else None)

    async def subscription_attributes(self, ctx: RequestContext, arn: str) -> dict[str, str]:
        sub = await self.subscription(arn)
        topic = await self._topic_of(sub)
        _own_subscription(ctx, topic, sub, "GetSubscriptionAttributes")
        out = {"SubscriptionArn": sub.arn, "TopicArn": sub.topic_arn, "Owner": sub.owner,
               "Protocol": sub.protocol, "Endpoint": sub.endpoint,
               "ConfirmationWasAuthenticated": "true" if sub.confirmed else "false",
               "PendingConfirmation": "false" if sub.confirmed else "true", "RawMessageDelivery": "false",
               "SubscriptionPrincipal": caller_arn(sub.owner)}
        if sub.protocol in ("http", "https"):
            out["EffectiveDeliveryPolicy"] = effective_subscription_delivery_policy(topic.attributes, sub.attributes)
        out.update(sub.attributes)
        if "FilterPolicy" not in sub.attributes:
            out.pop("FilterPolicyScope", None)
        if "ReplayPolicy" in sub.attributes:
            out["ReplayStatus"] = await self.replays.status_of(sub.arn) or "Pending"
        return out

    async def _topic_of(self, sub: Subscription) -> Topic:
        """A subscription's topic, found by its ARN (whatever region the request names)."""
        topic = await self.store.get_topic(parse_topic_arn(sub.topic_arn))
        if topic is None:
            raise NotFound("Topic does not exist")
        return topic

    async def set_subscription_attribute(self, ctx: RequestContext, arn: str, name: str, value: str | None) -> None:
        sub = await self.subscription(arn)
        topic = await self._topic_of(sub)
        _own_subscription(ctx, topic, sub, "SetSubscriptionAttributes")
        change = topic_changes.set_subscription_attribute(name, value, topic.fifo)
        changed = change(sub)  # bad input fails here, before any write
        replay = None
        if name == "ReplayPolicy" and "ReplayPolicy" in changed.attributes:
            replay = self.replays.for_policy(topic, sub.arn, changed.attributes["ReplayPolicy"], ctx.account)
        await self.store.update_subscription(sub.arn, change, replay)
        if replay is not None:
            self.replays.wake()

    # ---- publish ------------------------------------------------------------------
    def _outgoing(self, topic: Topic, p: PublishInput, trace_header: str | None = None) -> Outgoing:
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
                        self.clock.now_ms(), trace_header)

    async def publish(self, ctx: RequestContext, topic_arn: str | None, p: PublishInput) -> PublishResult:
        topic = await self.topic(ctx, topic_arn, required=False, action=PUBLISH)  # an empty TopicArn is "not 1"
        (result,) = await self._publish(ctx, topic, [self._outgoing(topic, p, ctx.trace_header)])
        return result

    async def _publish(self, ctx: RequestContext, topic: Topic, outs: Sequence[Outgoing]) -> list[PublishResult]:
        """Plan every delivery outside the store's transaction (filter policies, envelopes,
        signatures), then apply the plan in one transaction that checks it was made from
        the topic's current subscriptions; if they changed meanwhile, plan again."""
        endpoints = Endpoints(f"{ctx.scheme}://{ctx.host}", self.cert_path)
        fresh = False
        for _attempt in range(MAX_PLANS):
            subset = await self.store.subscriptions_of(topic, fresh=fresh)
            denied, dlq_denied = await self._denied_deliveries(topic, subset.subscriptions)
            write_set = PublishWriteSet(topic, subset.version, bool(subset.subscriptions), [
                plan_publish(topic, subset.subscriptions, out, endpoints, self.sign, self.settings.new_id,
                             ctx.account, self._archive_record(topic, out), denied=denied, dlq_denied=dlq_denied)
                for out in outs])
            try:
                results = await self.store.publish(write_set, outs[0].timestamp_ms, DEDUP_WINDOW_MS)
            except StaleSubscriptions:
                fresh = True
                continue
            await self._wake(write_set)
            return results
        raise ServiceUnavailable("The topic's subscriptions keep changing; retry the request.")

    async def _denied_deliveries(self, topic: Topic,
                                 subs: Sequence[Subscription]) -> tuple[frozenset[str], frozenset[str]]:
        """The SQS subscriptions whose queue's Policy does not let the topic deliver
        (:func:`postroom.core.policy.sns_delivery`): their deliveries fail, are counted so,
        and go to the subscription's dead-letter queue — the second set: those whose DLQ's
        Policy refuses the topic as well. A queue of the topic's own account without a
        Policy parses nothing."""
        denied: set[str] = set()
        dlq_denied: set[str] = set()
        for sub in subs:
            if sub.protocol != "sqs" or not sub.confirmed:
                continue
            if not await self._delivers(topic, parse_queue_arn(sub.endpoint).key):
                denied.add(sub.arn)
                dlq = subscription_dlq(sub.attributes)
                if dlq is not None and not await self._delivers(topic, dlq):
                    dlq_denied.add(sub.arn)
        return frozenset(denied), frozenset(dlq_denied)

    async def _delivers(self, topic: Topic, key: ResourceKey) -> bool:
        queue = await self.store.get_queue(key)
        if queue is None:  # a queue that is gone: the store counts the failed delivery
            return True
        policy = queue.attributes.get("Policy")
        if queue.account == topic.account and policy is None:
            return True
        return sns_delivery(policy, queue.arn, topic.arn).allowed

    def _archive_record(self, topic: Topic, out: Outgoing) -> ArchiveRecord:
        """What the topic's archive keeps of ``out``: for its ArchivePolicy's days (else the
        server's default), and for the unrouted retention if it reaches no one."""
        settings = self.settings.archive
        return ArchiveRecord(out.message_id, out.timestamp_ms, out.message, out.subject, out.structure,
                             archive.dump_attributes(out.attributes), out.group_id, out.dedup_id,
                             archive.retention_days(topic.attributes, settings), settings.unrouted_days)

    async def _wake(self, write_set: PublishWriteSet) -> None:
        """Wake long polls on the queues delivered to, and count their NumberOfMessagesSent."""
        sent: dict[ResourceKey, int] = {}
        for plan in write_set.entries:
            for d in plan.queue_deliveries:
                if not d.denied:
                    sent[d.queue] = sent.get(d.queue, 0) + 1
                if d.dlq is not None:
                    sent.setdefault(d.dlq, 0)
        for key, n in sent.items():
            queue = await self.store.get_queue(key)
            if queue is not None:
                self.waiters.notify(queue.queue_id)
                self.stats.add(queue.arn, sent=n)

    async def publish_batch(self, ctx: RequestContext, topic_arn: str,
                            entries: Sequence[tuple[str, PublishInput]]) -> list[tuple[str, PublishResult]]:
        """AWS checks the batch as a whole (entry count, distinct and well-formed ids, the
        summed size), then every entry; an entry that breaks a rule (no MessageGroupId on a
        FIFO topic, no deduplication id, a JSON structure without ``default``, a bad message
        attribute, an empty or oversized message…) fails the *whole request* with that
        entry's error — AWS does not report it in ``Failed`` (LocalStack's AWS-validated
        test_publish_batch_exceptions, test_empty_or_wrong_message_attributes: a batch of two
        bad entries and a good one is refused as a whole). The entries are then published
        together, in one transaction, so a retried batch never finds half of itself
        already published."""
        topic = await self.topic(ctx, topic_arn, action=PUBLISH)
        validate_batch_entries([i for i, _ in entries])
        check_batch_size(raw_publish_size(p.message, p.attributes) for _, p in entries)
        outs = [self._outgoing(topic, p, ctx.trace_header) for _, p in entries]
        return list(zip([i for i, _ in entries], await self._publish(ctx, topic, outs), strict=True))

    async def counts(self) -> tuple[dict[str, TopicCounts], dict[str, SubscriptionCounts]]:
        return await self.store.sns_counts()


def authorize_topic(ctx: RequestContext, topic: Topic, action: str | None) -> None:
    """The caller may perform ``action`` on ``topic``: its own topic (unless the topic's
    Policy explicitly denies it), or another account's whose Policy allows it; ``None`` is
    an action only the owner may take. Refused as AWS refuses it: AuthorizationError (403)
    "User: <caller> is not authorized to perform: SNS:<Action> on resource: <topic ARN>
    because no resource-based policy allows the SNS:<Action> action" (or "with an explicit
    deny in a resource-based policy"). The caller's own topic without a Policy parses nothing."""
    policy = topic.attributes.get("Policy")
    own = topic.account == ctx.account
    if own and (policy is None or action is None):
        return
    name = "SNS:" + (action or "sns:TagResource").split(":", 1)[-1]
    decision = None
    if action is not None:
        decision = account_access(topic.account, policy, account_principal(ctx.account), (action,), topic.arn,
                                  {"aws:PrincipalAccount": ctx.account})
        if decision.allowed:
            return
    why = ("with an explicit deny in a resource-based policy" if decision is not None and decision.explicit_deny
           else f"because no resource-based policy allows the {name} action")
    raise AuthorizationError(f"User: {caller_arn(ctx.account)} is not authorized to perform: {name} on resource: "
                             f"{topic.arn} {why}")


def _own_subscription(ctx: RequestContext, topic: Topic, sub: Subscription, action: str) -> None:
    """A subscription is its owner's (who subscribed) and its topic owner's to read and change;
    anyone else is refused with AuthorizationError, as for a topic."""
    if ctx.account not in (sub.owner, topic.account):
        raise AuthorizationError(f"User: {caller_arn(ctx.account)} is not authorized to perform: SNS:{action} on "
                                 f"resource: {sub.arn} because no resource-based policy allows the SNS:{action} "
                                 "action")


def _token_index(token: str | None) -> int:
    if not token:
        return 0
    try:
        return max(0, int(token))
    except ValueError as exc:
        raise InvalidParameter("Invalid parameter: NextToken") from exc
