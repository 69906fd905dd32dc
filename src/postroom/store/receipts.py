"""Receipt handles.

AWS: "A new receipt handle is returned every time you receive a message. When deleting
a message, you provide the last received receipt handle." A postroom handle names the
queue, the stored message and the receive it came from, so a store can tell a malformed
handle (ReceiptHandleIsInvalid), a handle of another queue (also invalid) and a stale
handle of a message received again since (its token no longer matches).
"""

from __future__ import annotations

import base64
import binascii
import secrets

from postroom.errors import ReceiptHandleIsInvalid

_PREFIX = "PR1"


def new_token() -> str:
    return secrets.token_hex(8)


def encode(queue_id: int, row_id: int, token: str) -> str:
    raw = f"{_PREFIX}:{queue_id}:{row_id}:{token}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(handle: str, queue_id: int) -> tuple[int, str]:
    """Return (row id, token) or raise ReceiptHandleIsInvalid naming the handle."""
    try:
        padded = handle + "=" * (-len(handle) % 4)
        prefix, qid, row, token = base64.urlsafe_b64decode(padded.encode()).decode().split(":")
        if prefix != _PREFIX or int(qid) != queue_id:
            raise ValueError(handle)
        return int(row), token
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ReceiptHandleIsInvalid(
            f'The input receipt handle "{handle}" is not a valid receipt handle.'
        ) from exc
