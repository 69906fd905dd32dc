"""FIFO pairing rules, as AWS enforces or as ordering needs them.

- A FIFO SQS queue cannot be subscribed to a standard SNS topic: AWS rejects the Subscribe ("FIFO
  SQS Queues can not be subscribed to standard SNS topics") → error.
- A FIFO topic delivers only to SQS queues (not HTTP/S) → error. It does deliver to a *standard*
  queue (AWS: "Message group ID is not passed to Amazon SQS standard queues"), which loses ordering
  and deduplication → warning.
- A FIFO consumer fed by a standard topic through a migration step: the consumer's queue is FIFO
  and it must receive a standard topic (its ``receives:``), or it takes over (``replaces:``) from a
  queue that a standard topic feeds and no FIFO topic replaces that topic → error: there is no way
  to route those messages to it.
- DLQ-TYPE: AWS requires a FIFO queue's dead-letter queue to be FIFO and a standard queue's to be
  standard; for SNS subscriptions, "FIFO topic subscriptions use FIFO queues, and standard topic
  subscriptions use standard queues" as their DLQ.
"""

from __future__ import annotations

from collections.abc import Iterator

from postroom.topology.checks.context import Context, sub_resource
from postroom.topology.model import Finding, is_fifo_name


def _kind(name: str) -> str:
    return "FIFO" if is_fifo_name(name) else "standard"


def fifo_mismatch(ctx: Context) -> Iterator[Finding]:
    for s in sorted(ctx.subs.values(), key=lambda s: s.key):
        topic_fifo = is_fifo_name(s.topic)
        if s.protocol != "sqs":
            if topic_fifo:
                yield ctx.finding(
                    "FIFO-MISMATCH",
                    f"FIFO topic {s.topic} is subscribed by {s.protocol} endpoint {s.endpoint}: AWS FIFO topics "
                    f"deliver only to SQS queues",
                    (sub_resource(s), s.topic, s.endpoint),
                    fix=f"subscribe {s.endpoint} to a standard topic, or route it through an SQS queue")
            continue
        queue_fifo = is_fifo_name(s.endpoint)
        if queue_fifo and not topic_fifo:
            yield ctx.finding(
                "FIFO-MISMATCH",
                f"FIFO queue {s.endpoint} is subscribed to standard topic {s.topic}: AWS rejects this "
                f"subscription (FIFO SQS queues can not be subscribed to standard SNS topics)",
                (sub_resource(s), s.topic, s.endpoint),
                fix=f"subscribe {s.endpoint} to a FIFO topic (declare {s.topic}.fifo with replaces: {s.topic}), "
                    f"or use a standard queue")
        elif topic_fifo and not queue_fifo:
            yield ctx.finding(
                "FIFO-MISMATCH",
                f"FIFO topic {s.topic} delivers to standard queue {s.endpoint}: AWS accepts it, but the message "
                f"group id is not passed on, so {s.endpoint} gets no ordering and no deduplication",
                (sub_resource(s), s.topic, s.endpoint),
                fix=f"use a FIFO queue ({s.endpoint}.fifo with replaces: {s.endpoint}) if its consumer needs "
                    f"order, or silence this with the reason it does not",
                severity="warning")
    yield from _fifo_consumer_fed_by_standard(ctx)


def _fifo_consumer_fed_by_standard(ctx: Context) -> Iterator[Finding]:
    seen: set[tuple[str, str]] = set()
    for c in sorted(ctx.declared.consumers.values(), key=lambda c: c.name):
        if not is_fifo_name(c.queue):
            continue
        for topic in c.receives:
            if is_fifo_name(topic) or (c.queue, topic) in seen or ctx.delivers(topic, c.queue):
                continue
            seen.add((c.queue, topic))
            yield ctx.finding(
                "FIFO-MISMATCH",
                f"consumer {c.name} reads FIFO queue {c.queue} and must receive standard topic {topic}: AWS "
                f"cannot subscribe a FIFO queue to a standard topic, so {topic}'s messages cannot reach it",
                (c.name, c.queue, topic),
                fix=f"migrate {topic} to a FIFO topic (declare {topic}.fifo with replaces: {topic}) and list "
                    f"that in {c.name}'s receives")
    for name, q in sorted(ctx.declared.topology.queues.items()):
        if not q.fifo or not q.replaces:
            continue
        for old in sorted(ctx.live.subscriptions_to_queue(q.replaces), key=lambda s: s.key):
            if is_fifo_name(old.topic) or (name, old.topic) in seen:
                continue
            fifo_successors = [t for t in ctx.replacing_topics(old.topic) if is_fifo_name(t)]
            if any(ctx.delivers(t, name) for t in fifo_successors):
                continue
            seen.add((name, old.topic))
            yield ctx.finding(
                "FIFO-MISMATCH",
                f"FIFO queue {name} takes over from {q.replaces}, which receives standard topic {old.topic}; a "
                f"FIFO queue cannot subscribe to it and no FIFO topic that replaces {old.topic} delivers to "
                f"{name} — {old.topic}'s messages would stop reaching this consumer",
                (name, q.replaces, old.topic, sub_resource(old)),
                fix=f"declare {old.topic}.fifo with replaces: {old.topic} and subscribe {name} to it")


def dlq_type(ctx: Context) -> Iterator[Finding]:
    for name, q in sorted(ctx.queues.items()):
        if not q.dlq or q.dlq not in ctx.queues or is_fifo_name(q.dlq) == q.fifo:
            continue
        yield ctx.finding(
            "DLQ-TYPE",
            f"{_kind(name)} queue {name} has {_kind(q.dlq)} dead-letter queue {q.dlq}: AWS requires the DLQ of "
            f"a FIFO queue to be FIFO and of a standard queue to be standard",
            (name, q.dlq),
            fix=f"point {name}'s dlq: at a {_kind(name)} queue")
    for s in sorted(ctx.subs.values(), key=lambda s: s.key):
        if not s.dlq or is_fifo_name(s.dlq) == is_fifo_name(s.topic):
            continue
        yield ctx.finding(
            "DLQ-TYPE",
            f"subscription {sub_resource(s)} of {_kind(s.topic)} topic {s.topic} has {_kind(s.dlq)} "
            f"dead-letter queue {s.dlq}: AWS requires FIFO topic subscriptions to use a FIFO DLQ and standard "
            f"topic subscriptions a standard one",
            (sub_resource(s), s.dlq),
            fix=f"point the subscription's dlq: at a {_kind(s.topic)} queue")
