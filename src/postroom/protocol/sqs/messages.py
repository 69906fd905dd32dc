"""SQS message handlers: wire params (as boto3 spells them) -> service call -> wire result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from postroom.core.digest import md5_of_message_attributes
from postroom.core.message_attributes import select_message_attributes
from postroom.core.model import MessageAttributeValue, StoredMessage
from postroom.protocol.sqs.handler_support import Services, failed_entry
from postroom.service.context import RequestContext
from postroom.service.messages import OutgoingMessage, ReceiveOptions, Sent

Params = Mapping[str, Any]
Result = dict[str, Any]

SYSTEM_ATTRIBUTES = (
    "ApproximateReceiveCount", "ApproximateFirstReceiveTimestamp", "SenderId", "SentTimestamp",
    "MessageDeduplicationId", "MessageGroupId", "SequenceNumber", "AWSTraceHeader",
    "DeadLetterQueueSourceArn", "SqsManagedSseEnabled",
)


def _outgoing(p: Params) -> OutgoingMessage:
    return OutgoingMessage(
        body=p.get("MessageBody"), delay_seconds=p.get("DelaySeconds"), attributes=p.get("MessageAttributes"),
        system_attributes=p.get("MessageSystemAttributes"), group_id=p.get("MessageGroupId"),
        dedup_id=p.get("MessageDeduplicationId"))


def _sent(s: Sent) -> Result:
    out: Result = {"MessageId": s.message_id, "MD5OfMessageBody": s.md5_of_body}
    if s.md5_of_attributes:
        out["MD5OfMessageAttributes"] = s.md5_of_attributes
    if s.md5_of_system_attributes:
        out["MD5OfMessageSystemAttributes"] = s.md5_of_system_attributes
    if s.sequence_number:
        out["SequenceNumber"] = s.sequence_number
    return out


async def send_message(svc: Services, ctx: RequestContext, p: Params) -> Result:
    return _sent(await svc.messages.send(ctx, p["QueueUrl"], _outgoing(p)))


async def send_message_batch(svc: Services, ctx: RequestContext, p: Params) -> Result:
    entries = [(e["Id"], _outgoing(e)) for e in p.get("Entries") or []]
    results = await svc.messages.send_batch(ctx, p["QueueUrl"], entries)
    ok, failed = [], []
    for entry_id, r in results:
        if isinstance(r, Sent):
            ok.append({"Id": entry_id, **_sent(r)})
        else:
            failed.append(failed_entry(entry_id, r))
    return {"Successful": ok, "Failed": failed}


def _wire_attribute(v: MessageAttributeValue) -> dict[str, Any]:
    if v.binary_value is not None:
        return {"DataType": v.data_type, "BinaryValue": v.binary_value}
    return {"DataType": v.data_type, "StringValue": v.string_value}


def _system_values(m: StoredMessage) -> dict[str, str | None]:
    trace = m.system_attributes.get("AWSTraceHeader")
    return {
        "ApproximateReceiveCount": str(m.receive_count),
        "ApproximateFirstReceiveTimestamp": str(m.first_receive_ms),
        "SenderId": m.sender_id,
        "SentTimestamp": str(m.sent_ms),
        "MessageDeduplicationId": m.dedup_id,
        "MessageGroupId": m.group_id,
        "SequenceNumber": m.sequence_number,
        "AWSTraceHeader": trace.string_value if trace else None,
        "DeadLetterQueueSourceArn": m.dead_letter_source_arn,
        "SqsManagedSseEnabled": None,
    }


def _wire_message(m: StoredMessage, system_names: set[str], attr_names: list[str]) -> Result:
    out: Result = {"MessageId": m.message_id, "ReceiptHandle": m.receipt_handle, "MD5OfBody": m.md5_of_body,
                   "Body": m.body}
    if system_names:
        every = "All" in system_names
        values = _system_values(m)
        chosen = {k: v for k, v in values.items() if v is not None and (every or k in system_names)}
        if chosen:
            out["Attributes"] = chosen
    selected = select_message_attributes(m.attributes, attr_names) if attr_names else None
    if selected is not None:
        out["MessageAttributes"] = {k: _wire_attribute(v) for k, v in selected.items()}
    if selected:
        out["MD5OfMessageAttributes"] = (m.md5_of_attributes if len(selected) == len(m.attributes)
                                         else md5_of_message_attributes(selected))
    return out


async def receive_message(svc: Services, ctx: RequestContext, p: Params) -> Result:
    opts = ReceiveOptions(max_messages=p.get("MaxNumberOfMessages", 1), wait_seconds=p.get("WaitTimeSeconds"),
                          visibility_timeout=p.get("VisibilityTimeout"),
                          attempt_id=p.get("ReceiveRequestAttemptId"))
    messages = await svc.messages.receive(ctx, p["QueueUrl"], opts)
    system_names = set(p.get("AttributeNames") or ()) | set(p.get("MessageSystemAttributeNames") or ())
    attr_names = list(p.get("MessageAttributeNames") or ())
    if not messages:
        return {}
    return {"Messages": [_wire_message(m, system_names, attr_names) for m in messages]}


async def delete_message(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.messages.delete(ctx, p["QueueUrl"], p["ReceiptHandle"])
    return {}


async def delete_message_batch(svc: Services, ctx: RequestContext, p: Params) -> Result:
    entries = [(e["Id"], e["ReceiptHandle"]) for e in p.get("Entries") or []]
    results = await svc.messages.delete_batch(ctx, p["QueueUrl"], entries)
    return {"Successful": [{"Id": i} for i, err in results if err is None],
            "Failed": [failed_entry(i, err) for i, err in results if err is not None]}


async def change_message_visibility(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.messages.change_visibility(ctx, p["QueueUrl"], p["ReceiptHandle"], p["VisibilityTimeout"])
    return {}


async def change_message_visibility_batch(svc: Services, ctx: RequestContext, p: Params) -> Result:
    entries = [(e["Id"], e["ReceiptHandle"], e.get("VisibilityTimeout", 0)) for e in p.get("Entries") or []]
    results = await svc.messages.change_visibility_batch(ctx, p["QueueUrl"], entries)
    return {"Successful": [{"Id": i} for i, err in results if err is None],
            "Failed": [failed_entry(i, err) for i, err in results if err is not None]}


async def purge_queue(svc: Services, ctx: RequestContext, p: Params) -> Result:
    await svc.messages.purge(ctx, p["QueueUrl"])
    return {}
