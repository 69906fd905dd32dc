"""Amazon SQS quotas and value ranges, as data.

Sources: "Amazon SQS message quotas", "Amazon SQS queue quotas" and "Amazon SQS
FIFO queue quotas" in the *Amazon SQS Developer Guide*, and the ``SetQueueAttributes``,
``SendMessage``, ``ReceiveMessage`` and ``TagQueue`` pages of the *Amazon SQS API
Reference*. In 2025 AWS raised the largest message (and the ``MaximumMessageSize``
default) from 256 KiB to 1 MiB; the batch payload limit rose with it.
"""

from __future__ import annotations

from typing import Final

# ---- messages ------------------------------------------------------------------
MAX_MESSAGE_SIZE: Final = 1_048_576
"""Body plus message attributes (names, data types and values), in bytes."""
MIN_MAXIMUM_MESSAGE_SIZE: Final = 1_024
"""The smallest value the ``MaximumMessageSize`` queue attribute accepts."""
MAX_MESSAGE_ATTRIBUTES: Final = 10
MAX_ATTRIBUTE_NAME_LENGTH: Final = 256
MAX_ATTRIBUTE_DATA_TYPE_LENGTH: Final = 256
NUMBER_MAX_DIGITS: Final = 38
"""``Number`` attributes hold up to 38 digits of precision …"""
NUMBER_MIN_EXPONENT: Final = -128
"""… and a magnitude between 10^-128 …"""
NUMBER_MAX_EXPONENT: Final = 126
"""… and 10^+126 (either sign; leading and trailing zeroes are trimmed)."""

# ---- batches -------------------------------------------------------------------
MAX_BATCH_ENTRIES: Final = 10
MAX_BATCH_PAYLOAD: Final = 1_048_576
"""The summed size of every message in a SendMessageBatch."""
MAX_BATCH_ENTRY_ID_LENGTH: Final = 80

# ---- queues --------------------------------------------------------------------
MAX_QUEUE_NAME_LENGTH: Final = 80
FIFO_SUFFIX: Final = ".fifo"
MAX_TAGS_PER_QUEUE: Final = 50
MAX_TAG_KEY_LENGTH: Final = 128
MAX_TAG_VALUE_LENGTH: Final = 256

VISIBILITY_TIMEOUT_MIN: Final = 0
VISIBILITY_TIMEOUT_MAX: Final = 43_200
"""12 hours."""
VISIBILITY_TIMEOUT_DEFAULT: Final = 30
DELAY_SECONDS_MIN: Final = 0
DELAY_SECONDS_MAX: Final = 900
"""15 minutes."""
RETENTION_MIN: Final = 60
RETENTION_MAX: Final = 1_209_600
"""14 days."""
RETENTION_DEFAULT: Final = 345_600
"""4 days."""
RECEIVE_WAIT_MIN: Final = 0
RECEIVE_WAIT_MAX: Final = 20
MAX_NUMBER_OF_MESSAGES_MIN: Final = 1
MAX_NUMBER_OF_MESSAGES_MAX: Final = 10
KMS_REUSE_MIN: Final = 60
KMS_REUSE_MAX: Final = 86_400
KMS_REUSE_DEFAULT: Final = 300

MAX_RECEIVE_COUNT_MIN: Final = 1
MAX_RECEIVE_COUNT_MAX: Final = 1_000
MAX_REDRIVE_ALLOW_SOURCE_ARNS: Final = 10

# ---- FIFO ----------------------------------------------------------------------
DEDUP_WINDOW_SECONDS: Final = 300
MAX_GROUP_ID_LENGTH: Final = 128
MAX_DEDUP_ID_LENGTH: Final = 128
MAX_RECEIVE_ATTEMPT_ID_LENGTH: Final = 128
PUNCTUATION: Final = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
"""The punctuation AWS allows in group, deduplication and receive-attempt ids."""

# ---- message move tasks --------------------------------------------------------
MOVE_TASK_MAX_PER_SECOND_MIN: Final = 1
MOVE_TASK_MAX_PER_SECOND_MAX: Final = 500
