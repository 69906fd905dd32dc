"""postroom.consumer: in-order, exactly-once-in-effect processing of SQS (and SNS-via-SQS) messages.

Works against any SQS endpoint — postroom, AWS, moto — through boto3 and the public API only.

    from postroom.consumer import Consumer, Inbox

    inbox = Inbox(sqlite3.connect("app.db", check_same_thread=False))

    @inbox.handler
    def handle(message, db):
        db.execute("UPDATE accounts SET balance = balance + ? WHERE id = ?", ...)

    Consumer(queue_url, handle, concurrency=8, retry_delay=5).run()

See docs/consumer.md for the guarantees and how they are kept.
"""

from __future__ import annotations

from postroom.consumer.batch import Outcome
from postroom.consumer.consumer import Consumer
from postroom.consumer.envelope import SnsEnvelope, parse_envelope
from postroom.consumer.handlers import Handler, load_handler
from postroom.consumer.hooks import Hooks, LoggingHooks, Stats
from postroom.consumer.inbox import Inbox
from postroom.consumer.keys import message_keys
from postroom.consumer.message import (
    ORIGINAL_ID_ATTRIBUTE,
    RECOVERY_ID_ATTRIBUTE,
    Message,
    MessageAttribute,
    from_sqs,
)
from postroom.consumer.signature import SignatureError, SnsVerifier
from postroom.identity import identity

__all__ = [
    "ORIGINAL_ID_ATTRIBUTE",
    "RECOVERY_ID_ATTRIBUTE",
    "Consumer",
    "Handler",
    "Hooks",
    "Inbox",
    "LoggingHooks",
    "Message",
    "MessageAttribute",
    "Outcome",
    "SignatureError",
    "SnsEnvelope",
    "SnsVerifier",
    "Stats",
    "from_sqs",
    "identity",
    "load_handler",
    "message_keys",
    "parse_envelope",
]
