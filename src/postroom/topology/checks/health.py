"""Health: will each subscription actually deliver?

- QUEUE-MISSING: a subscription's queue exists neither in the file nor live (a declared
  subscription to an unknown queue, or a live subscription whose queue was deleted: SNS keeps the
  subscription and every delivery fails); also a redrive policy whose DLQ does not exist.
- QUEUE-POLICY: AWS enforces the queue's access policy on SNS deliveries (see
  :mod:`.queue_policy`, which uses the server's own evaluator). A policy that does not allow the
  topic → warning; no Policy at all → info, because on AWS a queue without a policy refuses SNS
  deliveries (the console and the CLI's ``subscribe`` helpers add one) while postroom delivers
  within one account (moto does not enforce policies at all) — but a warning when the topic is
  another account's, which postroom refuses too.
- REPLAY-PAUSED: SNS message replay (FIFO topics with an ArchivePolicy) replays archived messages
  to a subscription by its ReplayPolicy; ReplayStatus is Pending, In progress, Completed or Failed.
  A replay with an EndingPoint that has completed leaves the subscription stopped at that point, so
  newly published messages are not delivered until a new ReplayPolicy without EndingPoint is set.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from postroom.topology.checks.context import Context, sub_resource
from postroom.topology.checks.queue_policy import evaluate, postroom_delivers, statement_for
from postroom.topology.model import Finding, Subscription


def queue_missing(ctx: Context) -> Iterator[Finding]:
    declared = ctx.declared.topology.subscriptions
    for s in ctx.sqs_subs():
        if s.endpoint in ctx.queues:
            continue
        if s.key in declared:
            msg = f"subscription {sub_resource(s)} delivers to queue {s.endpoint}, which is neither declared nor live"
            fix = f"declare queue {s.endpoint} under queues:, or correct the subscription's queue"
        else:
            msg = (f"live subscription {sub_resource(s)} delivers to queue {s.endpoint}, which no longer exists: "
                   f"every delivery fails")
            fix = f"recreate {s.endpoint} (declare it), or remove the subscription"
        yield ctx.finding("QUEUE-MISSING", msg, (sub_resource(s), s.endpoint), fix=fix)
    for who, dlq in _dlq_refs(ctx):
        if dlq not in ctx.queues:
            yield ctx.finding(
                "QUEUE-MISSING",
                f"{who}'s redrive policy names dead-letter queue {dlq}, which is neither declared nor live: "
                f"messages that exhaust their retries have nowhere to go",
                (who, dlq),
                fix=f"declare queue {dlq}, or change {who}'s dlq:")


def _dlq_refs(ctx: Context) -> list[tuple[str, str]]:
    refs = [(n, q.dlq) for n, q in sorted(ctx.queues.items()) if q.dlq]
    refs += [(sub_resource(s), s.dlq) for s in sorted(ctx.subs.values(), key=lambda s: s.key) if s.dlq]
    return refs


def queue_policy(ctx: Context) -> Iterator[Finding]:
    unprotected: dict[str, list[Subscription]] = {}
    for s in ctx.sqs_subs():
        q = ctx.queues.get(s.endpoint)
        if q is None:
            continue
        policy = q.attributes.get("Policy")
        t = ctx.topics.get(s.topic)
        topic_arn = t.arn if t is not None else None
        here = postroom_delivers(policy, q.arn, topic_arn)
        if not policy and here is not False:
            unprotected.setdefault(q.name, []).append(s)
            continue
        if not policy or evaluate(policy, q.name, q.arn, s.topic, topic_arn) == "denied":
            who = ("AWS and postroom drop" if here is False else
                   "AWS drops" if here is None else "AWS drops (postroom, within one account, delivers)")
            what = (f"queue {q.name} has no Policy, and topic {s.topic} is another account's" if not policy
                    else f"queue {q.name}'s Policy does not let topic {s.topic} sqs:SendMessage")
            yield ctx.finding(
                "QUEUE-POLICY", f"{what}: {who} every delivery of {sub_resource(s)}",
                (q.name, sub_resource(s)),
                fix=f"add to {q.name}'s policy: {statement_for(q.name, s.topic, q.arn, topic_arn)}")
    for name, subs in sorted(unprotected.items()):
        q = ctx.queues[name]
        topics = sorted({s.topic for s in subs})
        t = ctx.topics.get(topics[0])
        yield ctx.finding(
            "QUEUE-POLICY",
            f"queue {name} has no Policy: AWS would refuse the deliveries of {', '.join(topics)} to it (postroom "
            f"delivers within one account and moto does not enforce queue policies, so this works there)",
            (name, *(sub_resource(s) for s in subs)),
            fix=f"add to {name}'s policy, per topic: "
                f"{statement_for(name, topics[0], q.arn, t.arn if t is not None else None)}",
            severity="info")


def replay_paused(ctx: Context) -> Iterator[Finding]:
    for s in sorted(ctx.live.subscriptions.values(), key=lambda s: s.key):
        if s.key not in ctx.subs or not _paused(s):
            continue
        yield ctx.finding(
            "REPLAY-PAUSED",
            f"subscription {sub_resource(s)} finished a message replay with an EndingPoint "
            f"(ReplayStatus {s.replay_status}): it is not delivering newly published messages of {s.topic}",
            (sub_resource(s),),
            fix="set a ReplayPolicy without EndingPoint on the subscription (SetSubscriptionAttributes) so that "
                "delivery resumes, or recreate the subscription")


def _status(s: Subscription) -> str:
    return (s.replay_status or "").replace(" ", "").replace("_", "").lower()


def _paused(s: Subscription) -> bool:
    status = _status(s)
    if "pause" in status:
        return True
    if status != "completed" or not s.replay_policy:
        return False
    try:
        policy = json.loads(s.replay_policy)
    except ValueError:
        return False
    return isinstance(policy, dict) and bool(policy.get("EndingPoint"))
