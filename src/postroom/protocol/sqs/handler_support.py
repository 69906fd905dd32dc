"""What the SQS handlers share: the bundle of services and the shape of a failed
batch entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from postroom.protocol.wire_errors import wire_error
from postroom.service.messages import MessageService
from postroom.service.move_tasks import MoveTaskService
from postroom.service.queues import QueueService


@dataclass(frozen=True)
class Services:
    queues: QueueService
    messages: MessageService
    move_tasks: MoveTaskService


def failed_entry(entry_id: str, exc: BaseException) -> dict[str, Any]:
    """A ``BatchResultErrorEntry``: AWS reports each failed entry with its Id, the error
    code, whether the sender is at fault, and a message."""
    w = wire_error(exc)
    return {"Id": entry_id, "SenderFault": w.sender_fault, "Code": w.json_code, "Message": w.message}
