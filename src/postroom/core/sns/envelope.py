"""The JSON envelope SNS wraps around a message, and the string SNS signs.

When SNS delivers to an SQS queue without ``RawMessageDelivery`` (and always to an
HTTP/HTTPS endpoint) the body is not the published message but a JSON document
describing it. AWS documents it in the *Amazon SNS Developer Guide*:

* "HTTP/HTTPS notification JSON format" (``http-notification-json``),
* "HTTP/HTTPS subscription confirmation JSON format" (``http-subscription-confirmation-json``),
* "HTTP/HTTPS unsubscribe confirmation JSON format" (``http-unsubscribe-confirmation-json``),
  the three gathered in "Amazon SNS message and JSON formats",
* "Verifying the signatures of Amazon SNS messages" (``sns-verify-signature-of-message``)
  for the string to sign.

This module is pure: it builds the envelope as an ordered ``dict`` with an empty
``Signature`` placeholder, computes the canonical string to sign, and serializes the
envelope the way SNS does. The RSA signing itself lives in ``postroom.sns_signing``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from postroom.errors import InvalidParameterValue

NOTIFICATION = "Notification"
SUBSCRIPTION_CONFIRMATION = "SubscriptionConfirmation"
UNSUBSCRIBE_CONFIRMATION = "UnsubscribeConfirmation"

#: ``SignatureVersion`` values SNS supports: "1" is SHA1withRSA, "2" SHA256withRSA
#: (topic attribute ``SignatureVersion``, default "1").
SIGNATURE_VERSIONS = ("1", "2")

#: Keys of the string to sign, in byte order, per message type ("Verifying the
#: signatures of Amazon SNS messages", step "Create the string to sign"). ``Subject``
#: is included only when the message has one. ``SequenceNumber`` (FIFO topics) and
#: ``MessageAttributes`` are never signed: the page does not list them and AWS's own
#: validators (aws-php-sns-message-validator, aws-js-sns-message-validator) ignore them.
NOTIFICATION_SIGNED_KEYS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_SIGNED_KEYS = ("Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type")
_OPTIONAL_SIGNED_KEYS = frozenset({"Subject"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: A JSON envelope: string values, except ``MessageAttributes`` (name -> {"Type", "Value"}).
Envelope = dict[str, Any]


def format_timestamp(timestamp_ms: int) -> str:
    """SNS's ``Timestamp``: UTC ISO 8601 with exactly three fraction digits and ``Z``.

    The documented example is ``2012-05-02T00:54:06.655Z`` (epoch ms 1335920046655).
    """
    if timestamp_ms < 0:
        raise InvalidParameterValue(f"Invalid timestamp: {timestamp_ms}")
    moment = _EPOCH + timedelta(milliseconds=timestamp_ms)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{timestamp_ms % 1000:03d}Z"


def _check_signature_version(signature_version: str) -> str:
    if signature_version not in SIGNATURE_VERSIONS:
        raise InvalidParameterValue(f"Invalid SignatureVersion: {signature_version}")
    return signature_version


def notification(
    *,
    message_id: str,
    topic_arn: str,
    message: str,
    timestamp_ms: int,
    subject: str | None = None,
    message_attributes: Mapping[str, tuple[str, str]] | None = None,
    sequence_number: str | None = None,
    unsubscribe_url: str,
    signing_cert_url: str,
    signature_version: str = "1",
    replayed: bool = False,
) -> Envelope:
    """The ``Notification`` envelope, its keys in the order SNS writes them.

    Order (the example in "HTTP/HTTPS notification JSON format", and bodies SNS puts
    in SQS queues): ``Type``, ``MessageId``, ``SequenceNumber`` (FIFO topics only),
    ``TopicArn``, ``Subject`` (only when the publisher gave one: "If no Subject was
    specified, then this name-value pair does not appear"), ``Message``,
    ``Timestamp``, ``SignatureVersion``, ``Signature``, ``SigningCertURL``,
    ``UnsubscribeURL``, ``MessageAttributes`` (only when the message has any; each
    ``{"Type": ..., "Value": ...}`` with Binary values base64, as the caller gives them).

    FIFO topics: bodies SNS delivers from a FIFO topic carry ``SequenceNumber`` and
    no signature at all (no ``SignatureVersion``, ``Signature``, ``SigningCertURL``):
    ``Type, MessageId, SequenceNumber, TopicArn, [Subject], Message, Timestamp,
    UnsubscribeURL, [MessageAttributes]``. So when ``sequence_number`` is given the
    three signature keys are left out and ``signing_cert_url``/``signature_version``
    are not used.

    ``Signature`` is an empty placeholder; ``postroom.sns_signing.Signer.sign`` fills it.
    """
    envelope: Envelope = {"Type": NOTIFICATION, "MessageId": message_id}
    if sequence_number is not None:
        envelope["SequenceNumber"] = sequence_number
    envelope["TopicArn"] = topic_arn
    if subject is not None:
        envelope["Subject"] = subject
    envelope["Message"] = message
    envelope["Timestamp"] = format_timestamp(timestamp_ms)
    if sequence_number is None:
        envelope["SignatureVersion"] = _check_signature_version(signature_version)
        envelope["Signature"] = ""
        envelope["SigningCertURL"] = signing_cert_url
    envelope["UnsubscribeURL"] = unsubscribe_url
    if message_attributes:
        envelope["MessageAttributes"] = {
            name: {"Type": data_type, "Value": value} for name, (data_type, value) in message_attributes.items()
        }
    if replayed:
        # "Amazon SNS message replay": a replayed message "contains the attribute Replayed". It is
        # not part of the string to sign, so a signed envelope stays verifiable.
        envelope["Replayed"] = "true"
    return envelope


def _confirmation(
    message_type: str,
    *,
    message_id: str,
    token: str,
    topic_arn: str,
    message: str,
    subscribe_url: str,
    timestamp_ms: int,
    signing_cert_url: str,
    signature_version: str,
) -> Envelope:
    return {
        "Type": message_type,
        "MessageId": message_id,
        "Token": token,
        "TopicArn": topic_arn,
        "Message": message,
        "SubscribeURL": subscribe_url,
        "Timestamp": format_timestamp(timestamp_ms),
        "SignatureVersion": _check_signature_version(signature_version),
        "Signature": "",
        "SigningCertURL": signing_cert_url,
    }


def subscription_confirmation_text(topic_arn: str) -> str:
    """``Message`` of a subscription confirmation ("HTTP/HTTPS subscription confirmation
    JSON format"); the ``\\n`` in the documented JSON is a real newline."""
    return (
        f"You have chosen to subscribe to the topic {topic_arn}.\n"
        "To confirm the subscription, visit the SubscribeURL included in this message."
    )


def unsubscribe_confirmation_text(subscription_arn: str) -> str:
    """``Message`` of an unsubscribe confirmation ("HTTP/HTTPS unsubscribe confirmation
    JSON format"): it names the subscription, not the topic."""
    return (
        f"You have chosen to deactivate subscription {subscription_arn}.\n"
        "To cancel this operation and restore the subscription, visit the SubscribeURL included in this message."
    )


def subscription_confirmation(
    *,
    message_id: str,
    token: str,
    topic_arn: str,
    subscribe_url: str,
    timestamp_ms: int,
    signing_cert_url: str,
    signature_version: str = "1",
) -> Envelope:
    """The ``SubscriptionConfirmation`` envelope sent to a new HTTP/HTTPS subscription.

    Key order of the documented example ("HTTP/HTTPS subscription confirmation JSON
    format"): ``Type``, ``MessageId``, ``Token``, ``TopicArn``, ``Message``,
    ``SubscribeURL``, ``Timestamp``, ``SignatureVersion``, ``Signature``,
    ``SigningCertURL``. ``SubscribeURL`` is the ``ConfirmSubscription`` link
    (``?Action=ConfirmSubscription&TopicArn=...&Token=...``); the caller builds it.
    """
    return _confirmation(
        SUBSCRIPTION_CONFIRMATION,
        message_id=message_id,
        token=token,
        topic_arn=topic_arn,
        message=subscription_confirmation_text(topic_arn),
        subscribe_url=subscribe_url,
        timestamp_ms=timestamp_ms,
        signing_cert_url=signing_cert_url,
        signature_version=signature_version,
    )


def unsubscribe_confirmation(
    *,
    message_id: str,
    token: str,
    topic_arn: str,
    subscription_arn: str,
    subscribe_url: str,
    timestamp_ms: int,
    signing_cert_url: str,
    signature_version: str = "1",
) -> Envelope:
    """The ``UnsubscribeConfirmation`` envelope sent after an HTTP/HTTPS endpoint is unsubscribed.

    Same keys and order as a subscription confirmation ("HTTP/HTTPS unsubscribe
    confirmation JSON format"); ``SubscribeURL`` and ``Token`` re-confirm the
    subscription.
    """
    return _confirmation(
        UNSUBSCRIBE_CONFIRMATION,
        message_id=message_id,
        token=token,
        topic_arn=topic_arn,
        message=unsubscribe_confirmation_text(subscription_arn),
        subscribe_url=subscribe_url,
        timestamp_ms=timestamp_ms,
        signing_cert_url=signing_cert_url,
        signature_version=signature_version,
    )


def signed_keys(envelope: Mapping[str, Any]) -> tuple[str, ...]:
    """The keys of ``envelope`` that go into its string to sign, in order."""
    message_type = envelope.get("Type")
    candidates: tuple[str, ...]
    if message_type == NOTIFICATION:
        candidates = NOTIFICATION_SIGNED_KEYS
    elif message_type in (SUBSCRIPTION_CONFIRMATION, UNSUBSCRIBE_CONFIRMATION):
        candidates = CONFIRMATION_SIGNED_KEYS
    else:
        raise InvalidParameterValue(f"Unknown SNS message type: {message_type!r}")
    keys: list[str] = []
    for key in candidates:
        value = envelope.get(key)
        if value is None:
            if key in _OPTIONAL_SIGNED_KEYS:
                continue
            raise InvalidParameterValue(f"SNS {message_type} envelope lacks {key}")
        if not isinstance(value, str):
            raise InvalidParameterValue(f"SNS envelope value {key} is not a string")
        keys.append(key)
    return tuple(keys)


def string_to_sign(envelope: Mapping[str, Any]) -> str:
    """The canonical string SNS signs ("Verifying the signatures of Amazon SNS messages").

    Each signed name-value pair is written as ``name + "\\n" + value + "\\n"``, names
    in byte order: for ``Notification`` ``Message``, ``MessageId``, ``Subject`` (only
    if the message has one), ``Timestamp``, ``TopicArn``, ``Type``; for
    ``SubscriptionConfirmation`` and ``UnsubscribeConfirmation`` ``Message``,
    ``MessageId``, ``SubscribeURL``, ``Timestamp``, ``Token``, ``TopicArn``, ``Type``.
    Values are the decoded strings (JSON escapes such as ``\\n`` turned back into
    their characters), so the result ends with a newline; sign its UTF-8 bytes.
    """
    return "".join(f"{key}\n{envelope[key]}\n" for key in signed_keys(envelope))


def _json_string(value: Any) -> str:
    # SNS writes non-ASCII characters as they are (UTF-8 body), escapes quotes,
    # backslashes and control characters, and leaves "/" alone.
    return json.dumps(value, ensure_ascii=False)


def to_json(envelope: Mapping[str, Any]) -> str:
    """Serialize the envelope byte for byte the way SNS writes it.

    SNS's layout (the documented examples, and bodies SNS delivers to SQS): an opening
    ``{``, one key per line indented two spaces as ``"Key" : "value"`` (a space on both
    sides of the colon), lines joined by ``,\\n``, a closing ``\\n}`` with no trailing
    newline. ``MessageAttributes`` is an object opened on the key's line, one attribute
    per line indented four spaces as ``"name" : {"Type":"String","Value":"..."}``
    (the inner object compact), and closed by ``\\n  }``.
    """
    lines: list[str] = []
    for key, value in envelope.items():
        if isinstance(value, Mapping):
            if value:
                inner = ",\n".join(
                    f"    {_json_string(name)} : {json.dumps(attr, ensure_ascii=False, separators=(',', ':'))}"
                    for name, attr in value.items()
                )
                rendered = "{\n" + inner + "\n  }"
            else:
                rendered = "{}"
        else:
            rendered = _json_string(value)
        lines.append(f"  {_json_string(key)} : {rendered}")
    return "{\n" + ",\n".join(lines) + "\n}"
