"""SQS queue handlers: wire params -> service call -> wire result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postroom.core.model import MoveTask
from postroom.protocol.sqs.handler_support import Services
from postroom.service.context import RequestContext

Params = Mapping[str, Any]
Result = dict[str, Any]


async def create_queue(svc: Services, ctx: RequestContext, p: Params) -> Result:
    queue = await svc.queues.create_queue(ctx, p["QueueName"], p.get("Attributes"), p.get("tags"))
    return {"QueueUrl": ctx.queue_url(queue.account, queue.name)}


async def get_queue_url(svc: Services, ctx: RequestContext, p: Params) -> Result:
    return {"QueueUrl": await svc.queues.get_queue_url(ctx, p["QueueName"], p.get("QueueOwnerAWSAccountId"))}


async def list_queues(svc: Services, ctx: RequestContext, p: Params) -> Result:
    urls, token = await svc.queues.list_queues(ctx, p.get("QueueNamePrefix") or "", p.get("MaxResults"),
                                               p.get("NextToken"))
    out: Result = {}
    if urls:
        out["QueueUrls"] = urls
    if token:
        out["NextToken"] = token
    return out


async def delete_queue(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.queues.delete_queue(ctx, p["QueueUrl"])
    return {}


async def get_queue_attributes(svc: Services, ctx: RequestContext, p: Params) -> Result:
    attrs = await svc.queues.get_attributes(ctx, p["QueueUrl"], list(p.get("AttributeNames") or []))
    return {"Attributes": attrs} if attrs else {}


async def set_queue_attributes(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.queues.set_attributes(ctx, p["QueueUrl"], p.get("Attributes") or {})
    return {}


async def tag_queue(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.queues.tag(ctx, p["QueueUrl"], p.get("Tags") or {})
    return {}


async def untag_queue(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.queues.untag(ctx, p["QueueUrl"], p.get("TagKeys") or [])
    return {}


async def list_queue_tags(svc: Services, ctx: RequestContext, p: Params) -> Result:
    tags = await svc.queues.list_tags(ctx, p["QueueUrl"])
    return {"Tags": tags} if tags else {}


async def list_dead_letter_source_queues(svc: Services, ctx: RequestContext, p: Params) -> Result:
    urls, token = await svc.queues.dead_letter_sources(ctx, p["QueueUrl"], p.get("MaxResults"),
                                                       p.get("NextToken"))
    out: Result = {"queueUrls": urls}
    if token:
        out["NextToken"] = token
    return out


async def add_permission(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.queues.add_permission(ctx, p["QueueUrl"], p["Label"], p.get("AWSAccountIds") or [],
                                    p.get("Actions") or [])
    return {}


async def remove_permission(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.queues.remove_permission(ctx, p["QueueUrl"], p["Label"])
    return {}


async def start_message_move_task(svc: Services, ctx: RequestContext, p: Params) -> Result:
    handle = await svc.move_tasks.start(ctx, p["SourceArn"], p.get("DestinationArn"),
                                        p.get("MaxNumberOfMessagesPerSecond"))
    return {"TaskHandle": handle}


def _task(t: MoveTask) -> Result:
    out: Result = {"Status": t.status, "SourceArn": t.source_arn,
                   "ApproximateNumberOfMessagesMoved": t.moved,
                   "ApproximateNumberOfMessagesToMove": t.to_move, "StartedTimestamp": t.started_ms}
    if t.status == "RUNNING":
        out["TaskHandle"] = t.task_handle
    if t.destination_arn:
        out["DestinationArn"] = t.destination_arn
    if t.max_per_second is not None:
        out["MaxNumberOfMessagesPerSecond"] = t.max_per_second
    if t.failure_reason:
        out["FailureReason"] = t.failure_reason
    return out


async def list_message_move_tasks(svc: Services, ctx: RequestContext, p: Params) -> Result:
    tasks = await svc.move_tasks.list(ctx, p["SourceArn"], p.get("MaxResults"))
    return {"Results": [_task(t) for t in tasks]}


async def cancel_message_move_task(svc: Services, ctx: RequestContext, p: Params) -> Result:
    task = await svc.move_tasks.cancel(ctx, p["TaskHandle"])
    return {"ApproximateNumberOfMessagesMoved": task.moved}
