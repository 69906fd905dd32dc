"""Routes: does every consumer get what it says it needs, and does every declared resource take
part in some route?

- MISSING-ROUTE: the ``consumers:`` section is the design-time statement "billing reads
  billing.fifo and must receive orders.fifo"; a subscription orders.fifo → billing.fifo must exist
  after the plan (declared, or live and not deleted by it).
- ORPHAN-TOPIC: SNS accepts a Publish to a topic with no subscription and discards the message.
- ORPHAN-QUEUE: a queue nothing feeds (no subscription, no declared producer, not a DLQ) is
  usually a leftover or a forgotten subscription.
"""

from __future__ import annotations

from collections.abc import Iterator

from postroom.topology.checks.context import Context, yaml_sub
from postroom.topology.model import Finding


def missing_route(ctx: Context) -> Iterator[Finding]:
    for c in sorted(ctx.declared.consumers.values(), key=lambda c: c.name):
        for topic in c.receives:
            if ctx.delivers(topic, c.queue):
                continue
            others = sorted(s.endpoint for s in ctx.subs.values() if s.topic == topic)
            seen = f" (it is delivered to: {', '.join(others)})" if others else " (it has no subscription at all)"
            yield ctx.finding(
                "MISSING-ROUTE",
                f"consumer {c.name} reads {c.queue} and must receive {topic}, but no subscription delivers "
                f"{topic} to {c.queue}{seen}",
                (c.name, topic, c.queue, f"{topic} → {c.queue}"),
                fix=f"add {yaml_sub(topic, c.queue)}, or remove {topic} from {c.name}'s receives",
            )


def orphan_topic(ctx: Context) -> Iterator[Finding]:
    published = {t: sorted(p.name for p in ctx.declared.producers.values() if t in p.publishes)
                 for t in ctx.declared.topology.topics}
    for name in sorted(ctx.declared.topology.topics):
        if any(s.topic == name for s in ctx.subs.values()):
            continue
        by = f"; {', '.join(published[name])} publish(es) to it" if published[name] else ""
        yield ctx.finding(
            "ORPHAN-TOPIC",
            f"topic {name} has no subscription: SNS accepts every publish to it and delivers it nowhere{by}",
            (name,),
            fix=f"subscribe its consumers ({yaml_sub(name, 'QUEUE')}), or remove the topic",
        )


def orphan_queue(ctx: Context) -> Iterator[Finding]:
    fed = {s.endpoint for s in ctx.subs.values() if s.protocol == "sqs"}
    sent = {q for p in ctx.declared.producers.values() for q in p.sends}
    dlqs = set(ctx.dlq_users())
    for name in sorted(ctx.declared.topology.queues):
        if name in fed or name in sent or name in dlqs:
            continue
        readers = sorted(c.name for c in ctx.declared.consumers.values() if c.queue == name)
        who = f"; consumer {', '.join(readers)} reads it and will wait forever" if readers else ""
        yield ctx.finding(
            "ORPHAN-QUEUE",
            f"queue {name} is fed by no subscription, no declared producer sends to it, and it is no queue's "
            f"DLQ{who}",
            (name,),
            fix=f"subscribe it to its topic ({yaml_sub('TOPIC', name)}), list its producer under producers: "
                f"with sends: [{name}], or remove it",
        )
