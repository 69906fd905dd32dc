"""The MD5 digests SQS returns and SDKs verify.

AWS doc: *Amazon SQS Developer Guide* › "Calculating the MD5 message digest for message
attributes". ``MD5OfMessageBody`` is the hex MD5 of the body's UTF-8 bytes.
``MD5OfMessageAttributes`` (and ``MD5OfMessageSystemAttributes``, same algorithm over
``AWSTraceHeader``) hashes, for each attribute in ascending order of name:

* the name: 4-byte big-endian length, then its UTF-8 bytes;
* the data type (``String``, ``Number.float`` …): 4-byte length, then its UTF-8 bytes;
* one transport-type byte: 1 for String and Number, 2 for Binary;
* the value: 4-byte length, then the UTF-8 bytes of a string value or the raw bytes of
  a binary value.

SDKs (Java, .NET, Go, JavaScript …) recompute these and reject a response that differs,
so the byte layout has to be exact.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from postroom.core.model import MessageAttributeValue

STRING_TRANSPORT = 1
BINARY_TRANSPORT = 2


def md5_of_body(body: str) -> str:
    """``MD5OfMessageBody``: hex MD5 of the body encoded as UTF-8."""
    return hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()


def _framed(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def md5_of_message_attributes(attrs: Mapping[str, MessageAttributeValue]) -> str | None:
    """``MD5OfMessageAttributes`` / ``MD5OfMessageSystemAttributes``; ``None`` when there
    are no attributes (AWS then omits the field). Names sort by code point, which for the
    ASCII names SQS allows is the same order AWS uses."""
    if not attrs:
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attrs):
        value = attrs[name]
        digest.update(_framed(name.encode("utf-8")))
        digest.update(_framed(value.data_type.encode("utf-8")))
        if is_binary_type(value.data_type):
            digest.update(BINARY_TRANSPORT.to_bytes(1, "big"))
            digest.update(_framed(value.binary_value or b""))
        else:
            digest.update(STRING_TRANSPORT.to_bytes(1, "big"))
            digest.update(_framed((value.string_value or "").encode("utf-8")))
    return digest.hexdigest()


def is_binary_type(data_type: str) -> bool:
    """``Binary`` or ``Binary.<custom>``: the base type is the part before the first
    period (AWS doc: "Message attribute data types")."""
    return data_type.partition(".")[0] == "Binary"
