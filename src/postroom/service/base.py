"""What every SQS use case shares: the store, the clock, settings, long-poll waiters,
and turning a queue URL into a stored queue."""

from __future__ import annotations

from postroom.clock import Clock
from postroom.core.model import Queue
from postroom.errors import QueueDoesNotExist
from postroom.service.context import RequestContext, ServiceSettings
from postroom.service.waiters import Waiters
from postroom.store.base import Store


class ServiceBase:
    def __init__(self, store: Store, clock: Clock, settings: ServiceSettings, waiters: Waiters) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.waiters = waiters

    async def resolve(self, ctx: RequestContext, queue_url: str, *, fresh: bool = False) -> Queue:
        """The queue a QueueUrl names, in the request's account scope and region."""
        queue = await self.store.get_queue(ctx.queue_key(queue_url), fresh=fresh)
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        return queue
