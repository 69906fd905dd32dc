"""The notification outbox: what SNS would have sent by SMS, email and mobile push.

postroom sends no text message, email or push notification; each one SNS would send is kept in
the store instead (``notification_outbox``), in the transaction that decides it (the Publish,
the Subscribe that asks for an email confirmation …), and served newest last at
``GET /_postroom/outbox/<sms|email|push>``. An entry says what the recipient would get:

``id``, ``kind`` (sms | email | push), ``type`` (Notification | SubscriptionConfirmation |
SandboxVerification), ``destination`` (phone number, email address, device token),
``message`` (the text as delivered: for ``email-json`` the JSON envelope, for a push the entry
of ``MessageStructure=json`` for the endpoint's platform), ``message_id``, ``timestamp``
(ISO 8601) and ``timestamp_ms``, ``attributes`` (``{name: {"Type", "Value"}}``, binary values in
base64), ``topic_arn`` and ``subscription_arn`` (a topic's delivery), ``subject`` (email),
``protocol`` (email | email-json | sms | application), and per kind ``platform``,
``endpoint_arn``, ``custom_user_data`` (push), ``sms_type``/``sender_id`` (SMS, from the
``AWS.SNS.SMS.*`` attributes or the account's SMS attributes), ``subscribe_url``/``token``
(an email subscription confirmation), ``unsubscribe_url`` (email).

Bound: each kind keeps its last :data:`OUTBOX_KEEP` entries (older ones go in the transaction
that adds a new one).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from postroom.core.sns.envelope import format_timestamp
from postroom.core.sns.platform import PlatformEndpoint, endpoint_platform, message_for_platform
from postroom.core.sns.sms import sms_destination
from postroom.core.sns.validate import choose_message_for_protocol

SMS: Final = "sms"
EMAIL: Final = "email"
PUSH: Final = "push"
KINDS: Final = (SMS, EMAIL, PUSH)
OUTBOX_KEEP: Final = 1000
"""Entries each kind keeps."""

NOTIFICATION: Final = "Notification"
CONFIRMATION: Final = "SubscriptionConfirmation"
SANDBOX_VERIFICATION: Final = "SandboxVerification"

SINK_PROTOCOLS: Final = ("sms", "email", "email-json", "application")
"""Subscription protocols whose deliveries go to the notification outbox."""
EMAIL_PROTOCOLS: Final = ("email", "email-json")
AUTO_CONFIRMED: Final = ("sqs", "sms", "application")
"""Protocols whose subscriptions are confirmed at once (email waits for its link, as HTTP does)."""

DEFAULT_EMAIL_SUBJECT: Final = "AWS Notification Message"
"""The subject of an email notification published without a Subject."""
CONFIRMATION_SUBJECT: Final = "AWS Notification - Subscription Confirmation"


def kind_of(protocol: str) -> str:
    return {"sms": SMS, "email": EMAIL, "email-json": EMAIL, "application": PUSH}[protocol]


@dataclass(frozen=True)
class Notification:
    """One outbox entry to write. ``destination`` is the phone number or email address, or for a
    push the endpoint ARN, which the store resolves to the device token inside the transaction:
    a push to an endpoint that is gone or disabled is not written, and counts as failed."""

    kind: str
    destination: str
    doc: Mapping[str, Any] = field(default_factory=dict)
    topic_arn: str | None = None
    sub_arn: str | None = None


@dataclass(frozen=True)
class OutboxRow:
    kind: str
    destination: str
    doc: str
    created_ms: int


def wire_attributes(attrs: Mapping[str, tuple[str, str | bytes]]) -> dict[str, dict[str, str]]:
    return {k: {"Type": t, "Value": base64.b64encode(v).decode() if isinstance(v, bytes) else v}
            for k, (t, v) in attrs.items()}


def base_doc(kind: str, kind_type: str, message_id: str, message: str, timestamp_ms: int,
             attributes: Mapping[str, tuple[str, str | bytes]] | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"kind": kind, "type": kind_type, "message_id": message_id, "message": message,
                           "timestamp": format_timestamp(timestamp_ms), "timestamp_ms": timestamp_ms,
                           "attributes": wire_attributes(attributes or {})}
    doc.update(extra)
    return doc


def sms_details(attrs: Mapping[str, tuple[str, str | bytes]], settings: Mapping[str, str]) -> dict[str, Any]:
    """``sms_type`` and ``sender_id``: the ``AWS.SNS.SMS.SMSType``/``AWS.SNS.SMS.SenderID`` message
    attributes, else the account's DefaultSMSType/DefaultSenderID (SMS type Promotional by default)."""
    def attr(name: str) -> str | None:
        found = attrs.get(name)
        return found[1] if found is not None and isinstance(found[1], str) else None

    return {"sms_type": attr("AWS.SNS.SMS.SMSType") or settings.get("DefaultSMSType", "Promotional"),
            "sender_id": attr("AWS.SNS.SMS.SenderID") or settings.get("DefaultSenderID")}


def email_body(message: str, unsubscribe_url: str) -> str:
    """An email notification's text, as SNS words it: the message, then how to unsubscribe."""
    return (f"{message}\n\n--\nIf you wish to stop receiving notifications from this topic, please click or visit "
            f"the link below to unsubscribe:\n{unsubscribe_url}\n\nPlease do not reply directly to this email. If "
            "you have any questions or comments regarding this email, please contact us at "
            "https://aws.amazon.com/support")


def confirmation_body(topic_arn: str, display_name: str, subscribe_url: str) -> str:
    """An email subscription's confirmation text (the wording of SNS's confirmation emails)."""
    name = display_name or topic_arn.rsplit(":", 1)[-1]
    return (f"You have chosen to subscribe to the topic: \n{topic_arn}\n\nTo confirm this subscription, click or "
            f"visit the link below (If this was in error no action is necessary): \n{subscribe_url}\n\n"
            f"Please do not reply directly to this email. ({name})")


def topic_notification(protocol: str, endpoint: str, topic_arn: str, sub_arn: str, message_id: str, message: str,
                       structure: str | None, subject: str | None, attributes: Mapping[str, tuple[str, str | bytes]],
                       timestamp_ms: int, unsubscribe_url: str, envelope_json: str) -> Notification | None:
    """A topic's delivery to an ``sms``, ``email``, ``email-json`` or ``application`` subscription:
    an SMS gets the message (its ``sms`` entry with MessageStructure=json), an email the message
    (``email`` entry) with SNS's unsubscribe footer and the Subject (else "AWS Notification
    Message"), email-json the JSON envelope, an endpoint its platform's entry (``GCM``, ``APNS`` …)
    or ``default``. ``None``: the message has nothing for the endpoint's platform."""
    common: dict[str, Any] = {"protocol": protocol, "topic_arn": topic_arn, "subscription_arn": sub_arn}
    if protocol == "sms":
        body = choose_message_for_protocol(message, structure, "sms")
        doc = base_doc(SMS, NOTIFICATION, message_id, body, timestamp_ms, attributes, **common,
                       **sms_details(attributes, {}))
        return Notification(SMS, sms_destination(endpoint), doc, topic_arn, sub_arn)
    if protocol in EMAIL_PROTOCOLS:
        if protocol == "email":
            body = email_body(choose_message_for_protocol(message, structure, "email"), unsubscribe_url)
        else:
            body = envelope_json
        doc = base_doc(EMAIL, NOTIFICATION, message_id, body, timestamp_ms, attributes, **common,
                       subject=subject or DEFAULT_EMAIL_SUBJECT, unsubscribe_url=unsubscribe_url)
        return Notification(EMAIL, endpoint, doc, topic_arn, sub_arn)
    chosen = message_for_platform(message, structure, endpoint_platform(endpoint))
    if chosen is None:
        return None
    doc = base_doc(PUSH, NOTIFICATION, message_id, chosen, timestamp_ms, attributes, **common)
    return Notification(PUSH, endpoint, doc, topic_arn, sub_arn)


def resolve(notifications: Sequence[Notification], endpoints: Mapping[str, PlatformEndpoint | None],
            now_ms: int) -> tuple[list[OutboxRow], list[tuple[str, str, bool]]]:
    """The rows to write, and per topic delivery (topic arn, subscription arn, delivered). A push
    goes to its endpoint's current token, with its CustomUserData; an endpoint that is gone or
    disabled gets nothing (SNS: a disabled endpoint receives no message), and the delivery failed."""
    rows: list[OutboxRow] = []
    outcomes: list[tuple[str, str, bool]] = []
    for n in notifications:
        doc = dict(n.doc)
        destination = n.destination
        ok = True
        if n.kind == PUSH:
            endpoint = endpoints.get(n.destination)
            if endpoint is None or not endpoint.enabled:
                ok = False
            else:
                destination = endpoint.token
                doc["endpoint_arn"] = endpoint.arn
                doc["platform"] = endpoint.platform
                if "CustomUserData" in endpoint.attributes:
                    doc["custom_user_data"] = endpoint.attributes["CustomUserData"]
        if ok:
            doc["destination"] = destination
            rows.append(OutboxRow(n.kind, destination, json.dumps(doc), now_ms))
        if n.topic_arn is not None and n.sub_arn is not None:
            outcomes.append((n.topic_arn, n.sub_arn, ok))
    return rows, outcomes


def push_arns(notifications: Sequence[Notification]) -> list[str]:
    """The endpoint ARNs a set of notifications pushes to (for the store to look up)."""
    return sorted({n.destination for n in notifications if n.kind == PUSH})


def entry(row_id: int, doc_text: str) -> dict[str, Any]:
    """An outbox row as the admin API serves it."""
    doc: dict[str, Any] = {"id": row_id}
    doc.update(json.loads(doc_text))
    return doc
