"""What the target will accept, checked before anything is sent, so a message the broker would
refuse is a rejection with a reason in the dry-run report rather than a failure halfway through.

AWS rules (SQS Developer Guide, "Amazon SQS message quotas"; SendMessage API reference; SNS Publish
API reference):

- body characters: ``#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF``;
- size (body + attribute names, data types and values): 1 MiB for SQS (raised from 256 KiB in
  2025), 256 KiB for SNS;
- at most 10 message attributes;
- MessageGroupId (FIFO): 1-128 characters, alphanumerics and punctuation
  ``!"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~``; required by FIFO queues and topics.
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom.core import limits
from postroom.core.charset import first_invalid_character
from postroom.core.sns.validate import MAX_PUBLISH_SIZE
from postroom.core.sqs.validate import validate_group_id
from postroom.errors import InvalidParameterValue
from postroom.recovery.model import AttributeValue

# AWS's rules as postroom's own core states them (the same tables the server enforces).
SQS_MAX_BYTES = limits.MAX_MESSAGE_SIZE
SNS_MAX_BYTES = MAX_PUBLISH_SIZE
MAX_ATTRIBUTES = limits.MAX_MESSAGE_ATTRIBUTES
MAX_BATCH_ENTRIES = limits.MAX_BATCH_ENTRIES


@dataclass(frozen=True)
class TargetRules:
    fifo: bool = False
    max_bytes: int = SQS_MAX_BYTES


def message_size(body: str, attributes: dict[str, AttributeValue]) -> int:
    size = len(body) if body.isascii() else len(body.encode())
    for name, (data_type, value) in attributes.items():
        size += len(name) + len(data_type) + (len(value) if value.isascii() else len(value.encode()))
    return size


def check(rules: TargetRules, body: str, group: str | None, attributes: dict[str, AttributeValue]) -> str | None:
    """The reason the target would refuse this message, or None."""
    if not body:
        return "empty body: SQS and SNS refuse an empty message"
    bad = first_invalid_character(body)
    if bad is not None:
        return f"body character not allowed by SQS/SNS: U+{ord(body[bad]):04X} at {bad}"
    if rules.fifo:
        if group is None:
            return "no group: a FIFO target needs a MessageGroupId (map one with --group-field)"
        try:
            validate_group_id(group)
        except InvalidParameterValue:
            return f"group id not allowed by AWS (1-128 alphanumerics/punctuation): {group[:40]!r}"
    if len(attributes) > MAX_ATTRIBUTES:
        return f"too many message attributes: {len(attributes)} (AWS allows {MAX_ATTRIBUTES})"
    size = message_size(body, attributes)
    if size > rules.max_bytes:
        return f"too large: {size} bytes with attributes (the target allows {rules.max_bytes})"
    return None
