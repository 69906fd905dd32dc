"""Dead-letter queue redrive: StartMessageMoveTask, ListMessageMoveTasks,
CancelMessageMoveTask, and the background mover that carries tasks out.

AWS: "the source queue must be configured as a dead-letter queue of other queues";
without DestinationArn, messages go back to the queue they were dead-lettered from;
MaxNumberOfMessagesPerSecond (1–500) caps the rate, and without it SQS picks one.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging

from postroom.core.arns import parse_queue_arn
from postroom.core.model import MoveTask
from postroom.core.validate import validate_int_range
from postroom.errors import InvalidParameterValue, ResourceNotFound
from postroom.service.base import ServiceBase
from postroom.service.context import RequestContext

log = logging.getLogger(__name__)

DEFAULT_RATE = 500
TICK_SECONDS = 0.1


class MoveTaskService(ServiceBase):
    async def start(self, ctx: RequestContext, source_arn: str, destination_arn: str | None,
                    max_per_second: int | None) -> str:
        src = parse_queue_arn(source_arn, "SourceArn")
        source = await self.store.get_queue(src.key)
        if source is None:
            raise ResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
        if not await self.store.dead_letter_sources(source):
            raise InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.")
        if destination_arn is not None:
            dst = parse_queue_arn(destination_arn, "DestinationArn")
            dest = await self.store.get_queue(dst.key)
            if dest is None:
                raise ResourceNotFound(
                    "The resource that you specified for the DestinationArn parameter doesn't exist.")
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
        if await self.store.get_queue(src.key) is None:
            raise ResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.")
        limit = 1 if max_results is None else max_results
        validate_int_range("MaxResults", limit, 1, 10)
        return await self.store.list_move_tasks(str(src), limit)

    async def cancel(self, ctx: RequestContext, task_handle: str) -> MoveTask:
        return await self.store.cancel_move_task(task_handle)

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

    async def run_once(self, seconds: float) -> int:
        moved = 0
        for task in await self.store.running_move_tasks():
            rate = task.max_per_second or DEFAULT_RATE
            budget = max(1, int(rate * seconds))
            before = task.moved
            after = await self.store.move_messages(task, budget, self.clock.now_ms())
            moved += after.moved - before
            if after.moved != before:
                if after.destination_arn:
                    dest = await self.store.get_queue(parse_queue_arn(after.destination_arn).key)
                    if dest is not None:
                        self.waiters.notify(dest.queue_id)
                else:
                    self._notify_all()
        return moved

    def _notify_all(self) -> None:
        self.waiters.notify_all()
