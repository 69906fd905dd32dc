"""What every SQS use case shares: the store, the clock, settings, long-poll waiters,
and turning a queue URL into a stored queue the caller may use."""

from __future__ import annotations

from postroom.clock import Clock
from postroom.core.model import Queue
from postroom.core.policy import account_access, account_principal
from postroom.errors import AccessDenied, QueueDoesNotExist
from postroom.service.context import RequestContext, ServiceSettings
from postroom.service.waiters import Waiters
from postroom.store.base import Store

Actions = str | tuple[str, ...] | None
"""The IAM action(s) a use case performs on a queue (``"sqs:SendMessage"``; a batch names
both forms, ``("sqs:SendMessage", "sqs:SendMessageBatch")``), or ``None`` for the actions
AWS marks "Cross-account permissions don't apply to this action" (owner only)."""


def access_denied(ctx: RequestContext) -> AccessDenied:
    """AWS's words (query code ``AccessDenied``, 403): "Access to the resource
    https://sqs.<region>.amazonaws.com/ is denied." """
    return AccessDenied(f"Access to the resource https://sqs.{ctx.region}.amazonaws.com/ is denied.")


def authorize(ctx: RequestContext, queue: Queue, action: Actions) -> None:
    """The caller's account may perform ``action`` on ``queue``: its own queue (unless the
    queue's Policy explicitly denies it), or another account's whose Policy allows it
    (:func:`postroom.core.policy.account_access`). The common case — the caller's own queue
    without a Policy — parses nothing."""
    policy = queue.attributes.get("Policy")
    own = queue.account == ctx.account
    if own and (policy is None or action is None):
        return
    if action is None:
        raise access_denied(ctx)
    actions = (action,) if isinstance(action, str) else action
    decision = account_access(queue.account, policy, account_principal(ctx.account), actions, queue.arn,
                              {"aws:PrincipalAccount": ctx.account})
    if not decision.allowed:
        raise access_denied(ctx)


class ServiceBase:
    def __init__(self, store: Store, clock: Clock, settings: ServiceSettings, waiters: Waiters) -> None:
        self.store = store
        self.clock = clock
        self.settings = settings
        self.waiters = waiters

    async def resolve(self, ctx: RequestContext, queue_url: str, *, fresh: bool = False,
                      action: Actions = None) -> Queue:
        """The queue a QueueUrl names, in the request's account scope and region, if the
        caller may perform ``action`` on it (else AccessDenied, before anything happens)."""
        queue = await self.store.get_queue(ctx.queue_key(queue_url), fresh=fresh)
        if queue is None:
            raise QueueDoesNotExist("The specified queue does not exist.")
        authorize(ctx, queue, action)
        return queue
