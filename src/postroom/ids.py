"""Message and request ids.

AWS's MessageId and RequestId are version-4 UUIDs. They must be unique, not secret (receipt
handles and subscription tokens, which are capabilities, are made elsewhere with the ``secrets``
module). ``uuid.uuid4()`` reads 16 bytes from the kernel's CSPRNG per call — a system call that
cost ≈ 25 µs per message on a loaded host and was the largest single item in a profile of
SendMessageBatch — so ids come from a per-process Mersenne Twister seeded from ``os.urandom``:
122 random bits per id, as in uuid4, at a fraction of the cost.
"""

from __future__ import annotations

import os
import random
import uuid

_rng = random.Random(os.urandom(32))


def _reseed_after_fork() -> None:
    _rng.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed_after_fork)


def new_uuid() -> str:
    """A random (version 4) UUID in its canonical 36-character form."""
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))
