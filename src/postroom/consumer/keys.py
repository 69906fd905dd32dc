"""Which keys identify a message in the inbox, and why.

SQS and SNS deliver *at least once*, and a message can come back in several ways, each keeping a
different id stable:

=========================================  ===============  ==========================================
how it comes back                          SQS MessageId    what stays the same
=========================================  ===============  ==========================================
redelivery (visibility expired, a crash    same             everything
before DeleteMessage)
SNS FIFO archive replay                    new              SNS ``MessageId`` (envelope), dedup id
``postroom recover`` from logs             new              ``postroom-recovery-id`` (every run)
=========================================  ===============  ==========================================

So the inbox records **every** stable identity a message has, and treats a message as already
processed when **any** of them is recorded. The identities, in the order ``Message`` keys are listed
(the first is the one logged as "the" key):

1. ``postroom-recovery-id`` (recovered messages): ``sha256("id\\0" + logged id)`` when the log had a
   message id, else ``sha256("dedup\\0" + logged dedup id)`` — exactly the recovery tool's identity;
   with it ``sha256("id\\0" + postroom-original-message-id)``, for re-senders that set only that;
2. ``sha256("dedup\\0" + MessageDeduplicationId)`` (FIFO queues);
3. ``sha256("id\\0" + SNS MessageId)`` when the body was an SNS envelope;
4. ``sha256("id\\0" + SQS MessageId)``.

Because 2–4 are hashed the same way as the recovery tool hashes what it found in a log, a message
processed before and recovered later from a log that recorded its MessageId (SQS or SNS) or its dedup
id has a recovery id equal to one of the keys recorded the first time: it has no second effect. A
second recovery run produces the same recovery id: no effect either.

Caveats, also in docs/consumer.md: with ``ContentBasedDeduplication`` the dedup id is a hash of the
body, so two *different* messages with identical bodies share identity 2 and the second is skipped as
a duplicate, forever rather than for SQS's 5 minutes — use ``use_dedup_id=False`` or a key function
if identical bodies are meaningful; and dedup ids are compared queue-wide even on a queue with
``DeduplicationScope=messageGroup``.
"""

from __future__ import annotations

from collections.abc import Callable

from postroom.consumer.message import Message
from postroom.identity import identity

KeyFunction = Callable[[Message], str]


def message_keys(message: Message, *, key: KeyFunction | None = None, use_dedup_id: bool = True) -> tuple[str, ...]:
    """The inbox keys of ``message``, most specific first; with ``key`` only its result."""
    if key is not None:
        return (key(message),)
    keys: list[str] = []
    if message.recovery_id:
        keys.append(message.recovery_id)
    if message.original_message_id:
        keys.append(identity("id", message.original_message_id))
    if use_dedup_id and message.dedup_id:
        keys.append(identity("dedup", message.dedup_id))
    if message.sns is not None:
        keys.append(identity("id", message.sns.message_id))
    keys.append(identity("id", message.message_id))
    return tuple(dict.fromkeys(keys))
