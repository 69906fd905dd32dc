"""The characters SQS accepts in message bodies and String attribute values.

AWS doc: *Amazon SQS API Reference* › SendMessage › MessageBody: "A message can
include only XML, JSON, and unformatted text. The following Unicode characters are
allowed: #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
Any characters not included in this list will be rejected."
"""

from __future__ import annotations

import re
from typing import Final

INVALID_CHARACTERS_MESSAGE: Final = (
    "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | "
    "#xE000 to #xFFFD | #x10000 to #x10FFFF"
)

# Everything outside the allowed set: C0 controls other than tab/LF/CR, lone
# surrogates (a Python str can hold them; they cannot be UTF-8 encoded), U+FFFE/U+FFFF.
_FORBIDDEN: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def first_invalid_character(text: str) -> int | None:
    """Index of the first character SQS rejects, or ``None`` if every one is allowed."""
    match = _FORBIDDEN.search(text)
    return None if match is None else match.start()


def has_invalid_characters(text: str) -> bool:
    return _FORBIDDEN.search(text) is not None


def utf8_length(text: str) -> int:
    """The UTF-8 size of ``text`` as AWS counts it, also for text that SQS will refuse:
    a lone surrogate (a JSON request can carry ``"\\ud800"``) counts as the three bytes
    its code point takes, rather than failing to encode."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))
