"""Hooks for logging and metrics, and the counters every consumer keeps.

Subclass :class:`Hooks` and override what you need (each method is called on the consumer's worker
threads and must not raise; an exception from a hook is logged and ignored). :class:`LoggingHooks`
(the default) logs through the standard ``logging`` module, logger ``postroom.consumer``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from postroom.consumer.message import Message

log = logging.getLogger("postroom.consumer")


class Hooks:
    """No-op hooks: the seam for metrics (Prometheus, StatsD, CloudWatch EMF …)."""

    def on_received(self, messages: Sequence[Message]) -> None:
        """A ReceiveMessage returned ``messages``."""

    def on_success(self, message: Message, seconds: float) -> None:
        """The handler returned; the message will be deleted."""

    def on_failure(self, message: Message, error: BaseException) -> None:
        """The handler raised (or the SNS signature was refused); the message stays for a retry."""

    def on_released(self, messages: Sequence[Message], reason: str) -> None:
        """Messages handed back unprocessed with visibility 0: ``reason`` is ``"fifo-after-failure"``,
        ``"shutdown"`` or ``"lease-lost"`` (the latter are not changed, only reported)."""

    def on_extended(self, count: int) -> None:
        """The heartbeat extended the visibility of ``count`` in-flight messages."""

    def on_aws_error(self, operation: str, error: BaseException | str) -> None:
        """An SQS call (or one entry of a batch call) failed."""


class LoggingHooks(Hooks):
    """Logs failures and AWS errors as warnings, releases at info level."""

    def on_failure(self, message: Message, error: BaseException) -> None:
        log.warning("message %s (group %s, receive %d) failed: %r", message.message_id, message.group_id,
                    message.receive_count, error)

    def on_released(self, messages: Sequence[Message], reason: str) -> None:
        log.info("released %d message(s): %s", len(messages), reason)

    def on_aws_error(self, operation: str, error: BaseException | str) -> None:
        log.warning("%s failed: %s", operation, error)


@dataclass
class Stats:
    """Counters since the consumer started (read them any time; updated under a lock)."""

    received: int = 0
    succeeded: int = 0
    failed: int = 0
    rejected: int = 0
    """Of ``failed``: SNS envelopes whose signature was refused."""
    deleted: int = 0
    released: int = 0
    extended: int = 0
    aws_errors: int = 0
    probes: int = 0
    """Route probes from `postroom verify --probe` answered and deleted (never handed to the handler)."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, count: int = 1) -> None:
        with self._lock:
            setattr(self, name, getattr(self, name) + count)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.name.startswith("_")}
