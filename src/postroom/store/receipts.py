"""Receipt handles, and the errors AWS answers when one no longer fits its message.

AWS: "A new receipt handle is returned every time you receive a message. When deleting
a message, you provide the last received receipt handle." A postroom handle names the
queue, the stored message (its row and its MessageId) and the receive it came from (a
token), so a store can tell a malformed handle (ReceiptHandleIsInvalid), a handle of
another queue (also invalid), a handle of a message that is gone, and an old handle of a
message still there — expired, or superseded by a later receive.

What an old handle may still do differs by queue type, as observed on AWS:

- standard queues: DeleteMessage with an old handle deletes the message ("with standard
  SQS queues, older receipt handles might work", AWS knowledge center
  *sqs-receipt-handle-error*); the MessageId in the handle keeps it from deleting another
  message that took over a reused row id;
- FIFO queues: DeleteMessage with a handle whose visibility timeout ran out is
  InvalidParameterValue "… Reason: The receipt handle has expired." (:func:`expired`);
- both: ChangeMessageVisibility with an old handle succeeds and changes nothing, and
  with a handle of a deleted message it is InvalidParameterValue "… Reason: Message does
  not exist or is not available for visibility timeout change." (:func:`gone`).

Handles written before the MessageId was part of them (``PR1``) still decode; they carry
no MessageId, so they match their receive's token only.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import NamedTuple

from postroom.errors import InvalidParameterValue, ReceiptHandleIsInvalid

_PREFIX = "PR2"
_OLD_PREFIX = "PR1"


class Receipt(NamedTuple):
    """A decoded handle: the message's row, the receive's token, and the MessageId
    (``None`` for a handle of the older format)."""

    row_id: int
    token: str
    message_id: str | None


def new_token() -> str:
    return secrets.token_hex(8)


def encode(queue_id: int, row_id: int, token: str, message_id: str) -> str:
    raw = f"{_PREFIX}:{queue_id}:{row_id}:{token}:{message_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(handle: str, queue_id: int) -> Receipt:
    """The handle's receipt, or ReceiptHandleIsInvalid naming the handle (AWS: 'The input
    receipt handle "<handle>" is not a valid receipt handle.')."""
    try:
        padded = handle + "=" * (-len(handle) % 4)
        parts = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if parts[0] == _PREFIX and len(parts) == 5:
            message_id: str | None = parts[4]
        elif parts[0] == _OLD_PREFIX and len(parts) == 4:
            message_id = None
        else:
            raise ValueError(handle)
        if int(parts[1]) != queue_id:
            raise ValueError(handle)
        return Receipt(int(parts[2]), parts[3], message_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        ) from exc


def expired(handle: str) -> InvalidParameterValue:
    """FIFO DeleteMessage with a handle whose receive is over (its visibility timeout ran
    out, or the message was received again). AWS's answer, quoted in the SQS Developer
    Guide's *Troubleshoot Amazon SQS API errors*: "An error occurred
    (InvalidParameterValue) when calling the DeleteMessage operation: Value <YOUR RECEIPT
    HANDLE> for parameter ReceiptHandle is invalid. Reason: The receipt handle has
    expired." The message is not deleted."""
    return InvalidParameterValue(
        f"Value {handle} for parameter ReceiptHandle is invalid. Reason: The receipt handle has expired.")


def gone(handle: str) -> InvalidParameterValue:
    """ChangeMessageVisibility with a handle of a message that no longer exists (deleted,
    or moved to a dead-letter queue), as recorded against AWS (LocalStack's AWS-validated
    ``test_change_visibility_on_deleted_message_raises_invalid_parameter_value``)."""
    return InvalidParameterValue(
        f"Value {handle} for parameter ReceiptHandle is invalid. "
        "Reason: Message does not exist or is not available for visibility timeout change.")
