"""Dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask, and the background mover that carries tasks out.

AWS: "the source queue must be configured as a dead-letter queue of other queues";
without DestinationArn, messages go back to the queue they were dead-lettered from;
MaxNumberOfMessagesPerSecond (1–500) caps the rate, and without it SQS picks one.
Errors are the ones AWS answered (LocalStack's AWS-recorded test_sqs_move_task
snapshots): a second task on a source with one running is InvalidParameterValue
"There is already a task running. Only one active task is allowed for a source queue
arn at a given time."; a TaskHandle that does not decode is InvalidParameterValue
"Value for parameter TaskHandle is invalid."; one naming a queue that does not exist is
ResourceNotFoundException "The resource that you specified for the SourceArn parameter
doesn't exist."; one naming no task of that queue is ResourceNotFoundException "Task does
not exist.".
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging

from postroom.clock import Clock
from postroom.core.arns import parse_queue_arn
from postroom.core.model import MoveTask
from postroom.core.sqs.validate import validate_int_range
from postroom.errors import InvalidParameterValue, ResourceNotFound
from postroom.service.base import ServiceBase, authorize
from postroom.service.context import RequestContext, ServiceSettings
from postroom.service.waiters import Waiters
from postroom.store.base import Store

log = logging.getLogger(__name__)

DEFAULT_RATE = 500
TICK_SECONDS = 0.1
SOURCE_MISSING = "The resource that you specified for the SourceArn parameter doesn't exist."
INVALID_HANDLE = "Value for parameter TaskHandle is invalid."


def decode_task_handle(handle: str) -> tuple[str, str]:
    """A TaskHandle is, as AWS issues it, base64 of ``{"taskId":…,"sourceArn":…}``;
    ``(taskId, sourceArn)``, or InvalidParameterValue "Value for parameter TaskHandle is
    invalid." when it is not one."""
    try:
        doc = json.loads(base64.b64decode(handle.encode("ascii"), validate=True))
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidParameterValue(INVALID_HANDLE) from None
    if not isinstance(doc, dict):
        raise InvalidParameterValue(INVALID_HANDLE)
    task_id, source_arn = doc.get("taskId"), doc.get("sourceArn")
    if not isinstance(task_id, str) or not isinstance(source_arn, str) or not task_id or not source_arn:
        raise InvalidParameterValue(INVALID_HANDLE)
    return task_id, source_arn


class MoveTaskService(ServiceBase):
    def __init__(self, store: Store, clock: Clock, settings: ServiceSettings, waiters: Waiters) -> None:
        super().__init__(store, clock, settings, waiters)
        self._credit: dict[str, tuple[float, int]] = {}
        """Per running task: messages it may still move now, and when that was worked out."""

    async def start(self, ctx: RequestContext, source_arn: str, destination_arn: str | None,
                    max_per_second: int | None) -> str:
        """A new task moving the messages the DLQ holds now, oldest first. The source must
        exist (ResourceNotFoundException), be some queue's dead-letter queue
        (InvalidParameterValue "Source queue must be configured as a Dead Letter Queue.")
        and have no task running (InvalidParameterValue, see the module docstring)."""
        src = parse_queue_arn(source_arn, "SourceArn")
        source = await self.store.get_queue(src.key)
        if source is None:
            raise ResourceNotFound(SOURCE_MISSING)
        authorize(ctx, source, None)  # owner only: "Cross-account permissions don't apply"
        if not await self.store.dead_letter_sources(source):
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if destination_arn is not None:
            dst = parse_queue_arn(destination_arn, "DestinationArn")
            dest = await self.store.get_queue(dst.key)
            if dest is None:
                raise ResourceNotFound(
                    "The resource that you specified for the DestinationArn parameter doesn't exist.")
            authorize(ctx, dest, None)
        if max_per_second is not None:
            validate_int_range("MaxNumberOfMessagesPerSecond", max_per_second, 1, 500)
        now = self.clock.now_ms()
        handle = base64.b64encode(json.dumps(
            {"taskId": self.settings.new_id(), "sourceArn": source.arn}, separators=(",", ":")).encode()).decode()
        task = MoveTask(handle, source.arn, destination_arn, max_per_second, "RUNNING", now)
        await self.store.start_move_task(source, task)
        return handle

    async def list(self, ctx: RequestContext, source_arn: str, max_results: int | None) -> list[MoveTask]:
        src = parse_queue_arn(source_arn, "SourceArn")
        source = await self.store.get_queue(src.key)
        if source is None:
            raise ResourceNotFound(SOURCE_MISSING)
        authorize(ctx, source, None)
        limit = 1 if max_results is None else max_results
        validate_int_range("MaxResults", limit, 1, 10)
        return await self.store.list_move_tasks(str(src), limit)

    async def cancel(self, ctx: RequestContext, task_handle: str) -> MoveTask:
        """Stop a running task; what it moved stays moved. The handle is checked as AWS
        checks it: its form, then its source queue, then the task."""
        _, source_arn = decode_task_handle(task_handle)
        try:
            src = parse_queue_arn(source_arn, "SourceArn")
        except InvalidParameterValue:
            raise InvalidParameterValue(INVALID_HANDLE) from None
        source = await self.store.get_queue(src.key)
        if source is None:
            raise ResourceNotFound(SOURCE_MISSING)
        authorize(ctx, source, None)
        task = await self.store.cancel_move_task(task_handle)
        self._credit.pop(task_handle, None)
        return task

    async def run_forever(self) -> None:
        """Carry out running tasks, a tick at a time, at each task's rate."""
        while True:
            try:
                await self.run_once(TICK_SECONDS)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("message move tick failed")
            await asyncio.sleep(TICK_SECONDS)

    def _budget(self, task: MoveTask, now_ms: int) -> int:
        """How many messages ``task`` may move now: MaxNumberOfMessagesPerSecond (or
        DEFAULT_RATE) per second of server clock since the task started moving, at most
        one second's worth at a time. A new task may move one message at once (AWS moves
        the first message immediately and then keeps to the rate)."""
        rate = task.max_per_second or DEFAULT_RATE
        credit, since = self._credit.get(task.task_handle, (1.0, now_ms))
        credit = min(float(rate), credit + rate * max(0, now_ms - since) / 1000)
        self._credit[task.task_handle] = (credit, now_ms)
        return int(credit)

    async def run_once(self, seconds: float) -> int:
        """One tick of the mover: each running task moves what its rate allows."""
        moved = 0
        running = await self.store.running_move_tasks()
        for gone in set(self._credit) - {t.task_handle for t in running}:
            del self._credit[gone]
        for task in running:
            now = self.clock.now_ms()
            budget = self._budget(task, now)
            if budget <= 0:
                continue
            before = task.moved
            after = await self.store.move_messages(task, budget, now)
            done = after.moved - before
            moved += done
            if task.task_handle in self._credit:  # not when cancelled meanwhile
                credit, at = self._credit[task.task_handle]
                self._credit[task.task_handle] = (credit - done, at)
            if done:
                if after.destination_arn:
                    dest = await self.store.get_queue(parse_queue_arn(after.destination_arn).key)
                    if dest is not None:
                        self.waiters.notify(dest.queue_id)
                else:
                    self._notify_all()
        return moved

    def _notify_all(self) -> None:
        self.waiters.notify_all()
