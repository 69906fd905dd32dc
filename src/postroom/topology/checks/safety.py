"""Safety: what can lose messages or deliveries.

NO-DLQ: SQS retries a message its consumer fails on until the retention period deletes it, unless a
redrive policy (dlq + maxReceiveCount) moves it aside after N receives. A queue that a consumer
reads — one listed under ``consumers:`` or fed by a subscription — is expected to have one; a queue
that is itself a DLQ is exempt.

DESTRUCTIVE, for the plan's delete steps (``apply`` also requires an approval for them):
- deleting a queue deletes its messages with it (DeleteQueue): **error** while its live depth
  (ApproximateNumberOfMessages + NotVisible + Delayed) is above zero — the count is given; drain or
  move the messages first, or override with a reason; warning when it is empty or its depth is
  unknown;
- deleting a topic deletes its subscriptions with it: warning, naming them (a subscriber that
  loses its route with them is ROUTE-LOSS's, an error);
- removing a subscription with no replacement is ROUTE-LOSS's (:mod:`.route_loss`), an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from postroom.topology.checks.context import Context, sub_resource
from postroom.topology.model import Finding


def no_dlq(ctx: Context) -> Iterator[Finding]:
    dlqs = set(ctx.dlq_users())
    readers: dict[str, list[str]] = {}
    for c in ctx.declared.consumers.values():
        readers.setdefault(c.queue, []).append(f"read by consumer {c.name}")
    for s in ctx.subs.values():
        if s.protocol == "sqs":
            readers.setdefault(s.endpoint, []).append(f"fed by topic {s.topic}")
    for name, q in sorted(ctx.declared.topology.queues.items()):
        if q.dlq or name in dlqs or name not in readers:
            continue
        why = ", ".join(sorted(set(readers[name])))
        yield ctx.finding(
            "NO-DLQ",
            f"queue {name} ({why}) has no redrive policy: a message its consumer keeps failing on is received "
            f"again and again until retention deletes it",
            (name,),
            fix=f"add dlq: {name.removesuffix('.fifo')}-dlq{'.fifo' if q.fifo else ''} and max_receive_count: 5 "
                f"to {name} (and declare that queue)")


def destructive(ctx: Context) -> Iterator[Finding]:
    for c in ctx.changes:
        if c.action != "delete":
            continue
        if c.kind == "queue":
            yield _queue_delete(ctx, c.name)
        elif c.kind == "topic":
            subs = sorted(sub_resource(s) for s in ctx.live.subscriptions_of(c.name))
            if subs:
                yield ctx.finding(
                    "DESTRUCTIVE",
                    f"deleting topic {c.name} also deletes its {len(subs)} subscription(s): {', '.join(subs)}",
                    (c.name, *subs),
                    fix=f"move its publishers and subscribers first, or keep {c.name} declared")


def _queue_delete(ctx: Context, name: str) -> Finding:
    q = ctx.live.queues.get(name)
    depth = q.depth if q is not None else None
    if depth:
        return ctx.finding(
            "DESTRUCTIVE",
            f"deleting queue {name} deletes the {depth} message(s) it holds",
            (name,),
            fix=f"let its consumer drain {name} (or move its messages with StartMessageMoveTask) before the "
                f"delete, or keep it declared; if its messages may go, retire it with the reason: "
                f"`- {{queue: {name}, reason: …}}` under retire:",
            severity="error")
    known = "it is empty" if depth == 0 else "its depth is unknown"
    return ctx.finding(
        "DESTRUCTIVE",
        f"deleting queue {name} ({known}); messages sent to it until then are lost with it",
        (name,),
        fix=f"keep {name} declared if anything still sends to it")
