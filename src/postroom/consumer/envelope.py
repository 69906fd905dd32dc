"""Recognising the JSON envelope SNS wraps around a message delivered to SQS.

Without ``RawMessageDelivery`` SNS puts a JSON document in the SQS body ("Amazon SNS message and
JSON formats" › "HTTP/HTTPS notification JSON format"): ``Type`` ("Notification"), ``MessageId``
(SNS's id, kept by archive replay), ``TopicArn``, ``Subject`` (only when given), ``Message``,
``Timestamp``, ``SignatureVersion``/``Signature``/``SigningCertURL`` (standard topics only; FIFO
topics' envelopes are unsigned and carry ``SequenceNumber``), ``UnsubscribeURL`` and
``MessageAttributes`` (``name -> {"Type", "Value"}``).

A body is taken for an envelope only when it is a JSON object with ``Type == "Notification"`` and
string ``MessageId``, ``TopicArn`` and ``Message``: an application payload that merely happens to be
JSON is left alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from postroom.core.sns import envelope as sns_envelope

NOTIFICATION = sns_envelope.NOTIFICATION


@dataclass(frozen=True, slots=True)
class SnsEnvelope:
    """The SNS fields of an unwrapped notification."""

    message_id: str
    topic_arn: str
    message: str
    subject: str | None = None
    timestamp: str | None = None
    sequence_number: str | None = None
    signature_version: str | None = None
    signature: str | None = None
    signing_cert_url: str | None = None
    unsubscribe_url: str | None = None
    message_attributes: dict[str, dict[str, Any]] = field(default_factory=dict)
    replayed: bool = False
    document: dict[str, Any] = field(default_factory=dict, repr=False)
    """The whole envelope as parsed, for signature verification."""

    @property
    def signed(self) -> bool:
        return self.signature is not None

    def string_to_sign(self) -> str:
        """The canonical string SNS signed (postroom's own, in ``core.sns_envelope``). Raises
        ``InvalidParameterValue`` when a signed field is missing or not a string."""
        return sns_envelope.string_to_sign(self.document)


def _optional_str(document: dict[str, Any], key: str) -> str | None:
    value = document.get(key)
    return value if isinstance(value, str) else None


def parse_envelope(body: str) -> SnsEnvelope | None:
    """The envelope in ``body``, or None when the body is not an SNS notification."""
    if not body.lstrip().startswith("{"):
        return None
    try:
        document = json.loads(body)
    except ValueError:
        return None
    if not isinstance(document, dict) or document.get("Type") != NOTIFICATION:
        return None
    message_id, topic_arn, message = document.get("MessageId"), document.get("TopicArn"), document.get("Message")
    if not (isinstance(message_id, str) and isinstance(topic_arn, str) and isinstance(message, str)):
        return None
    attributes = document.get("MessageAttributes")
    replayed = document.get("Replayed")
    return SnsEnvelope(
        message_id=message_id, topic_arn=topic_arn, message=message,
        subject=_optional_str(document, "Subject"), timestamp=_optional_str(document, "Timestamp"),
        sequence_number=_optional_str(document, "SequenceNumber"),
        signature_version=_optional_str(document, "SignatureVersion"),
        signature=_optional_str(document, "Signature"),
        signing_cert_url=_optional_str(document, "SigningCertURL"),
        unsubscribe_url=_optional_str(document, "UnsubscribeURL"),
        message_attributes={k: v for k, v in attributes.items() if isinstance(v, dict)}
        if isinstance(attributes, dict) else {},
        replayed=replayed is True or (isinstance(replayed, str) and replayed.lower() == "true"),
        document=document,
    )
