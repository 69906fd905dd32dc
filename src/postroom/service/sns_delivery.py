"""Turning one publish into deliveries, as SNS does.

For each confirmed subscription: the filter policy decides (a message filtered out is
counted, never an error); the message for the subscription's protocol is chosen
(MessageStructure=json); SQS subscriptions get the raw message (RawMessageDelivery=true,
SNS message attributes become SQS message attributes) or SNS's JSON envelope; HTTP/HTTPS
subscriptions get the envelope in the outbox with SNS's headers. A FIFO topic passes its
MessageGroupId and deduplication id on to FIFO queues only (AWS: "MessageGroupId is not
passed on to standard queues").
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from postroom.core.arns import parse_queue_arn
from postroom.core.digest import md5_of_body, md5_of_message_attributes
from postroom.core.model import MessageAttributes, MessageAttributeValue, NewMessage, ResourceKey
from postroom.core.sns.archive import ArchiveRecord
from postroom.core.sns.envelope import notification, to_json
from postroom.core.sns.filter_policy import FilterPolicy, matches_attributes, matches_body, parse_filter_policy
from postroom.core.sns.model import SEQUENCE_SLOT, HttpDelivery, PublishPlan, QueueDelivery, Subscription, Topic
from postroom.core.sns.notifications import SINK_PROTOCOLS, topic_notification
from postroom.core.sns.replay import REPLAYED
from postroom.core.sns.validate import choose_message_for_protocol

Sign = Callable[[dict[str, Any]], dict[str, Any]]
SnsAttributes = Mapping[str, tuple[str, str | bytes]]


@dataclass(frozen=True)
class Outgoing:
    """One message as published: validated, with its resolved ids."""

    message_id: str
    message: str
    subject: str | None
    structure: str | None
    attributes: SnsAttributes
    group_id: str | None
    dedup_id: str | None
    timestamp_ms: int
    trace_header: str | None = None
    """The publisher's X-Ray trace header (``X-Amzn-Trace-Id``), which SNS passes on to SQS
    subscriptions as the ``AWSTraceHeader`` system attribute."""


@dataclass(frozen=True)
class Endpoints:
    """Where SNS points consumers back to: UnsubscribeURL and SigningCertURL."""

    base_url: str
    cert_path: str

    def unsubscribe_url(self, sub_arn: str) -> str:
        return f"{self.base_url}/?Action=Unsubscribe&SubscriptionArn={sub_arn}"

    @property
    def cert_url(self) -> str:
        return self.base_url + self.cert_path


_policies: dict[tuple[str, str], FilterPolicy] = {}


def _policy(text: str, scope: str) -> FilterPolicy:
    key = (text, scope)
    found = _policies.get(key)
    if found is None:
        if len(_policies) > 10_000:
            _policies.clear()
        found = _policies[key] = parse_filter_policy(text, scope)
    return found


def passes_filter(sub: Subscription, out: Outgoing) -> bool:
    text = sub.attributes.get("FilterPolicy")
    if not text:
        return True
    scope = sub.attributes.get("FilterPolicyScope", "MessageAttributes")
    policy = _policy(text, scope)
    if scope == "MessageBody":
        return matches_body(policy, out.message)
    strings = {k: (t, v) for k, (t, v) in out.attributes.items() if isinstance(v, str)}
    return matches_attributes(policy, strings)


def _sqs_attributes(attrs: SnsAttributes) -> MessageAttributes:
    out: MessageAttributes = {}
    for name, (data_type, value) in attrs.items():
        if isinstance(value, bytes):
            out[name] = MessageAttributeValue(data_type, None, value)
        else:
            out[name] = MessageAttributeValue(data_type, value)
    return out


def _envelope_attributes(attrs: SnsAttributes) -> dict[str, tuple[str, str]]:
    return {k: (t, base64.b64encode(v).decode() if isinstance(v, bytes) else v) for k, (t, v) in attrs.items()}


def plan_publish(topic: Topic, subs: Sequence[Subscription], out: Outgoing, endpoints: Endpoints,
                 sign: Sign, new_id: Callable[[], str], sender: str,
                 archive: ArchiveRecord | None = None, replay_of: str | None = None,
                 denied: frozenset[str] = frozenset(), dlq_denied: frozenset[str] = frozenset()) -> PublishPlan:
    """The deliveries of one published message, decided before any transaction. A FIFO
    topic's envelopes carry :data:`SEQUENCE_SLOT` where the store writes the sequence
    number it assigns (they are unsigned, so nothing is invalidated by that).

    ``replay_of``: the message is a replay from the archive, with this sequence number
    ("" on a standard topic); it keeps its MessageId and Timestamp and is marked
    ``Replayed`` — in the envelope, as a message attribute on raw SQS delivery, as the
    ``x-amz-sns-replayed`` header on raw HTTP delivery.

    ``denied``: SQS subscriptions whose queue's Policy refuses the topic (the service
    decided it, :func:`postroom.core.policy.sns_delivery`); each is a failed delivery, which
    goes to the subscription's dead-letter queue unless that queue's Policy refuses the topic
    too (``dlq_denied``)."""
    replayed = replay_of is not None
    seq = (replay_of or None) if replayed else SEQUENCE_SLOT if topic.fifo else None
    plan = PublishPlan(message_id=out.message_id, dedup_id=out.dedup_id, archive=archive)
    envelopes: dict[str, dict[str, Any]] = {}

    def envelope(sub: Subscription) -> str:
        body = choose_message_for_protocol(out.message, out.structure, sub.protocol)
        signed = envelopes.get(body)
        if signed is None:
            signed = envelopes[body] = _signed(sign, notification(
                message_id=out.message_id, topic_arn=topic.arn, message=body, timestamp_ms=out.timestamp_ms,
                subject=out.subject, message_attributes=_envelope_attributes(out.attributes) or None,
                sequence_number=seq, unsubscribe_url="", signing_cert_url=endpoints.cert_url,
                signature_version=topic.attributes.get("SignatureVersion", "1"), replayed=replayed))
        return to_json({**signed, "UnsubscribeURL": endpoints.unsubscribe_url(sub.arn)})

    for sub in subs:
        if not sub.confirmed:
            continue
        if not passes_filter(sub, out):
            plan.filtered_out.append(sub.arn)
            continue
        raw = sub.attributes.get("RawMessageDelivery") == "true"
        if sub.protocol == "sqs":
            arn = parse_queue_arn(sub.endpoint)
            fifo_queue = arn.name.endswith(".fifo")
            if raw:
                body = choose_message_for_protocol(out.message, out.structure, "sqs")
                attrs = _sqs_attributes(out.attributes)
                if replayed:
                    attrs[REPLAYED] = MessageAttributeValue("String", "true")
            else:
                body, attrs = envelope(sub), {}
            system = ({"AWSTraceHeader": MessageAttributeValue("String", out.trace_header)}
                      if out.trace_header else {})
            message = NewMessage(
                message_id=new_id(), body=body, md5_of_body=md5_of_body(body), attributes=attrs,
                md5_of_attributes=md5_of_message_attributes(attrs), system_attributes=system,
                md5_of_system_attributes=md5_of_message_attributes(system), sender_id=sender,
                group_id=out.group_id if fifo_queue else None,
                dedup_id=(out.dedup_id or out.message_id) if fifo_queue else None)
            dlq = None if sub.arn in dlq_denied else subscription_dlq(sub.attributes)
            plan.queue_deliveries.append(QueueDelivery(sub.arn, arn.key, message, dlq, denied=sub.arn in denied))
        elif sub.protocol in SINK_PROTOCOLS:  # SMS, email, mobile push: the notification outbox
            sink = topic_notification(sub.protocol, sub.endpoint, topic.arn, sub.arn, out.message_id, out.message,
                                      out.structure, out.subject, out.attributes, out.timestamp_ms,
                                      endpoints.unsubscribe_url(sub.arn),
                                      envelope(sub) if sub.protocol == "email-json" else "")
            if sink is None:
                plan.failed.append(sub.arn)
            else:
                plan.notifications.append(replace(sink, doc={**sink.doc, "replayed": True}) if replayed else sink)
        else:
            body = choose_message_for_protocol(out.message, out.structure, sub.protocol) if raw else envelope(sub)
            headers = {"x-amz-sns-message-type": "Notification", "x-amz-sns-message-id": out.message_id,
                       "x-amz-sns-topic-arn": topic.arn, "x-amz-sns-subscription-arn": sub.arn,
                       "x-amz-sns-rawdelivery": "true" if raw else "false",
                       "Content-Type": "text/plain; charset=UTF-8"}
            if replayed:
                headers["x-amz-sns-replayed"] = "true"
            plan.http_deliveries.append(HttpDelivery(sub.arn, sub.endpoint, body, headers))
    return plan


def _signed(sign: Sign, envelope: dict[str, Any]) -> dict[str, Any]:
    """FIFO topics' envelopes carry no signature fields; the others are signed."""
    return sign(envelope) if "Signature" in envelope else envelope


def subscription_dlq(attrs: Mapping[str, str]) -> ResourceKey | None:
    """The subscription's dead-letter queue (its RedrivePolicy), if it has one."""
    text = attrs.get("RedrivePolicy")
    if not text:
        return None
    try:
        return parse_queue_arn(json.loads(text)["deadLetterTargetArn"]).key
    except (ValueError, KeyError, TypeError):
        return None
