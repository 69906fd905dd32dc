"""The typed message a handler receives.

A message comes from one SQS ``ReceiveMessage`` entry (``Body``, ``MessageId``, ``ReceiptHandle``,
the system ``Attributes`` and the user ``MessageAttributes``). When the body is an SNS
``Notification`` envelope (a subscription without ``RawMessageDelivery``) the consumer unwraps it:
``body`` is the published message, ``attributes`` the published message attributes, and ``sns``
keeps the envelope's own fields. With raw delivery SNS already put the published message in the
body and its attributes in the SQS message attributes, so the two cases look the same to a handler.

Markers of a second delivery of the same message, tolerated from any source:

* **recovery**: ``postroom recover`` re-sends messages found in logs with the message attribute
  ``postroom-recovery-id`` (a SHA-256 of the message's identity, the same on every run) and, when the
  log had one, ``postroom-original-message-id``;
* **replay**: SNS FIFO archive replay re-delivers a message with its original SNS ``MessageId`` and
  ``Timestamp`` and a ``Replayed`` marker ("Amazon SNS message replay for FIFO topic subscribers");
  it is looked for as an envelope key and as a message attribute, as a boolean or a string.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from postroom.consumer.envelope import SnsEnvelope, parse_envelope

RECOVERY_ID_ATTRIBUTE = "postroom-recovery-id"
ORIGINAL_ID_ATTRIBUTE = "postroom-original-message-id"
REPLAYED_MARKER = "Replayed"


@dataclass(frozen=True, slots=True)
class MessageAttribute:
    """One message attribute: ``DataType`` is ``String``, ``Number`` or ``Binary`` (optionally with a
    custom suffix such as ``Number.float``); Number values stay strings, as SQS keeps them."""

    data_type: str
    string_value: str | None = None
    binary_value: bytes | None = None

    @property
    def value(self) -> str | bytes | None:
        return self.binary_value if self.data_type.startswith("Binary") else self.string_value


@dataclass(frozen=True, slots=True)
class Message:
    """One received message, after SNS unwrapping."""

    queue_url: str
    message_id: str
    """SQS ``MessageId``: the same on every redelivery from this queue, new on a replay or recovery."""
    receipt_handle: str
    body: str
    """The application's payload: the SNS ``Message`` when the SQS body was an envelope."""
    raw_body: str
    """The SQS body exactly as received."""
    attributes: dict[str, MessageAttribute] = field(default_factory=dict)
    """Message attributes: the SQS ones, plus (for an envelope) the published ones."""
    system_attributes: dict[str, str] = field(default_factory=dict)
    """SQS system attributes (``ApproximateReceiveCount``, ``SentTimestamp``, ``MessageGroupId`` …)."""
    sns: SnsEnvelope | None = None

    @property
    def group_id(self) -> str | None:
        return self.system_attributes.get("MessageGroupId")

    @property
    def dedup_id(self) -> str | None:
        return self.system_attributes.get("MessageDeduplicationId")

    @property
    def sequence_number(self) -> str | None:
        """The FIFO queue's ``SequenceNumber`` (the SNS topic's is ``sns.sequence_number``)."""
        return self.system_attributes.get("SequenceNumber")

    @property
    def receive_count(self) -> int:
        """``ApproximateReceiveCount``: 1 on the first delivery."""
        return int(self.system_attributes.get("ApproximateReceiveCount", "1"))

    @property
    def sent_timestamp(self) -> int | None:
        value = self.system_attributes.get("SentTimestamp")
        return int(value) if value is not None else None

    @property
    def recovery_id(self) -> str | None:
        attr = self.attributes.get(RECOVERY_ID_ATTRIBUTE)
        return attr.string_value if attr is not None else None

    @property
    def original_message_id(self) -> str | None:
        attr = self.attributes.get(ORIGINAL_ID_ATTRIBUTE)
        return attr.string_value if attr is not None else None

    @property
    def recovered(self) -> bool:
        return self.recovery_id is not None

    @property
    def replayed(self) -> bool:
        if self.sns is not None and self.sns.replayed:
            return True
        attr = self.attributes.get(REPLAYED_MARKER)
        return attr is not None and _truthy(attr.string_value)

    def string_attribute(self, name: str) -> str | None:
        attr = self.attributes.get(name)
        return attr.string_value if attr is not None else None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() in ("true", "1", "yes"))


def _sqs_attribute(raw: dict[str, Any]) -> MessageAttribute:
    binary = raw.get("BinaryValue")
    return MessageAttribute(str(raw.get("DataType", "String")), raw.get("StringValue"),
                            bytes(binary) if binary is not None else None)


def _envelope_attribute(raw: dict[str, Any]) -> MessageAttribute:
    """An envelope attribute is ``{"Type": …, "Value": …}``; Binary values are base64 there."""
    data_type = str(raw.get("Type", "String"))
    value = raw.get("Value")
    if data_type.startswith("Binary") and isinstance(value, str):
        try:
            return MessageAttribute(data_type, None, base64.b64decode(value))
        except ValueError:
            return MessageAttribute(data_type, value, None)
    return MessageAttribute(data_type, None if value is None else str(value), None)


def from_sqs(queue_url: str, raw: dict[str, Any], *, unwrap_sns: bool = True) -> Message:
    """Build a :class:`Message` from one entry of a ``ReceiveMessage`` response."""
    raw_body = str(raw.get("Body", ""))
    attributes = {name: _sqs_attribute(value) for name, value in (raw.get("MessageAttributes") or {}).items()}
    envelope = parse_envelope(raw_body) if unwrap_sns else None
    body = raw_body
    if envelope is not None:
        body = envelope.message
        for name, value in envelope.message_attributes.items():
            attributes.setdefault(name, _envelope_attribute(value))
    return Message(queue_url=queue_url, message_id=str(raw["MessageId"]), receipt_handle=str(raw["ReceiptHandle"]),
                   body=body, raw_body=raw_body, attributes=attributes,
                   system_attributes={k: str(v) for k, v in (raw.get("Attributes") or {}).items()}, sns=envelope)
