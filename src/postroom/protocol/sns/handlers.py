"""SNS (and STS GetCallerIdentity) handlers: wire params -> service call -> wire result."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from postroom.core.sns.data_protection import validate_policy
from postroom.core.sns.topic_changes import tag_map
from postroom.protocol.sns.platform_handlers import PLATFORM_HANDLERS, direct_publish, is_direct
from postroom.service.context import RequestContext
from postroom.service.sns import PublishInput, SnsService
from postroom.service.sns_platform import PlatformService

Params = Mapping[str, Any]
Result = dict[str, Any]
SnsHandler = Callable[[SnsService, RequestContext, Params], Awaitable[Result]]


def _input(p: Params) -> PublishInput:
    return PublishInput(message=p.get("Message"), subject=p.get("Subject"), structure=p.get("MessageStructure"),
                        attributes=p.get("MessageAttributes"), group_id=p.get("MessageGroupId"),
                        dedup_id=p.get("MessageDeduplicationId"))


def _tags(p: Params) -> dict[str, str]:
    """A request's ``Tags`` list; a key twice is AWS's "Duplicated keys are not allowed"."""
    return tag_map([(t["Key"], t["Value"]) for t in p.get("Tags") or []])


async def create_topic(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    """CreateTopic's ``DataProtectionPolicy`` parameter is the topic's policy, as
    PutDataProtectionPolicy would set it; it is checked before the topic is created, so a bad
    one creates nothing."""
    tags = _tags(p)
    policy = p.get("DataProtectionPolicy") or None
    if policy is not None:
        validate_policy(policy)
    topic = await s.create_topic(ctx, p["Name"], p.get("Attributes"), tags)
    if policy is not None:
        await PlatformService(s).put_data_protection_policy(ctx, topic.arn, policy)
    return {"TopicArn": topic.arn}


async def delete_topic(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.delete_topic(ctx, p["TopicArn"])
    return {}


async def list_topics(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    arns, token = await s.list_topics(ctx, p.get("NextToken"))
    out: Result = {"Topics": [{"TopicArn": a} for a in arns]}
    if token:
        out["NextToken"] = token
    return out


async def get_topic_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"Attributes": await s.topic_attributes(ctx, p["TopicArn"])}


async def set_topic_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.set_topic_attribute(ctx, p["TopicArn"], p["AttributeName"], p.get("AttributeValue"))
    return {}


async def subscribe(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    sub = await s.subscribe(ctx, p["TopicArn"], p["Protocol"], p.get("Endpoint"), p.get("Attributes"))
    arn = sub.arn if sub.confirmed or p.get("ReturnSubscriptionArn") else "pending confirmation"
    return {"SubscriptionArn": arn}


async def confirm_subscription(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"SubscriptionArn": (await s.confirm(ctx, p["TopicArn"], p["Token"])).arn}


async def unsubscribe(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.unsubscribe(p["SubscriptionArn"])
    return {}


def _sub(sub: Any) -> Result:
    return {"SubscriptionArn": sub.arn if sub.confirmed else "PendingConfirmation", "Owner": sub.owner,
            "Protocol": sub.protocol, "Endpoint": sub.endpoint, "TopicArn": sub.topic_arn}


async def list_subscriptions(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    subs, token = await s.list_subscriptions(ctx, None, p.get("NextToken"))
    out: Result = {"Subscriptions": [_sub(x) for x in subs]}
    if token:
        out["NextToken"] = token
    return out


async def list_subscriptions_by_topic(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    subs, token = await s.list_subscriptions(ctx, p["TopicArn"], p.get("NextToken"))
    out: Result = {"Subscriptions": [_sub(x) for x in subs]}
    if token:
        out["NextToken"] = token
    return out


async def get_subscription_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"Attributes": await s.subscription_attributes(ctx, p["SubscriptionArn"])}


async def set_subscription_attributes(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.set_subscription_attribute(ctx, p["SubscriptionArn"], p["AttributeName"], p.get("AttributeValue"))
    return {}


async def publish(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    arn = p.get("TopicArn") if p.get("TopicArn") is not None else p.get("TargetArn")
    if is_direct(p):  # PhoneNumber, or TargetArn of a platform endpoint: SMS and mobile push
        return await direct_publish(s, ctx, p, _input(p))
    result = await s.publish(ctx, arn, _input(p))
    out: Result = {"MessageId": result.message_id}
    if result.sequence_number:
        out["SequenceNumber"] = result.sequence_number
    return out


async def publish_batch(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    """AWS refuses a batch with a bad entry as a whole (see ``SnsService.publish_batch``), so
    ``Failed`` is empty whenever the request succeeds."""
    entries = [(e["Id"], _input(e)) for e in p.get("PublishBatchRequestEntries") or []]
    ok: list[Result] = []
    for entry_id, r in await s.publish_batch(ctx, p["TopicArn"], entries):
        item: Result = {"Id": entry_id, "MessageId": r.message_id}
        if r.sequence_number:
            item["SequenceNumber"] = r.sequence_number
        ok.append(item)
    return {"Successful": ok, "Failed": []}


async def tag_resource(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.tag(ctx, p["ResourceArn"], _tags(p))
    return {}


async def untag_resource(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.untag(ctx, p["ResourceArn"], p.get("TagKeys") or [])
    return {}


async def list_tags_for_resource(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    return {"Tags": [{"Key": k, "Value": v} for k, v in (await s.tags(ctx, p["ResourceArn"])).items()]}


async def add_permission(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.add_permission(ctx, p["TopicArn"], p["Label"], p.get("AWSAccountId") or [], p.get("ActionName") or [])
    return {}


async def remove_permission(s: SnsService, ctx: RequestContext, p: Params) -> Result:
    await s.remove_permission(ctx, p["TopicArn"], p["Label"])
    return {}


SNS_HANDLERS: dict[str, SnsHandler] = {
    "CreateTopic": create_topic, "DeleteTopic": delete_topic, "ListTopics": list_topics,
    "GetTopicAttributes": get_topic_attributes, "SetTopicAttributes": set_topic_attributes,
    "Subscribe": subscribe, "ConfirmSubscription": confirm_subscription, "Unsubscribe": unsubscribe,
    "ListSubscriptions": list_subscriptions, "ListSubscriptionsByTopic": list_subscriptions_by_topic,
    "GetSubscriptionAttributes": get_subscription_attributes,
    "SetSubscriptionAttributes": set_subscription_attributes, "Publish": publish, "PublishBatch": publish_batch,
    "TagResource": tag_resource, "UntagResource": untag_resource, "ListTagsForResource": list_tags_for_resource,
    "AddPermission": add_permission, "RemovePermission": remove_permission,
    **PLATFORM_HANDLERS,
}
