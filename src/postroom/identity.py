"""Message identities shared by `postroom recover` and `postroom.consumer`'s inbox.

A recovered message carries ``postroom-recovery-id`` = ``identity(kind, value)`` of what the log
recorded about it (its message id, else its deduplication id, else its group and body); the inbox
records the same identities of every message it processes. Defining the hash once is what makes a
message recovered from a log match its first processing.
"""

from __future__ import annotations

import hashlib


def identity(kind: str, value: str) -> str:
    """``sha256(kind + "\\0" + value)`` in hex; ``kind`` is ``id``, ``dedup`` or ``content``."""
    return hashlib.sha256(f"{kind}\0{value}".encode("utf-8", "surrogatepass")).hexdigest()
