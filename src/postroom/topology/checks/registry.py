"""Every check postroom runs on a topology: its id, default severity, what it catches, and the
usual fix. The ids are what a postroom.yaml names in ``checks:`` to tune or silence a check, so
they are stable; the loader validates override ids against :data:`CHECKS`.

Severities: ``error`` blocks ``apply`` (and fails ``plan``/``verify``), ``warning`` is shown and
counted, ``info`` is context for the reviewer.
"""

from __future__ import annotations

from dataclasses import dataclass

from postroom.topology.model import Severity


@dataclass(frozen=True)
class CheckInfo:
    id: str
    severity: Severity
    description: str
    fix: str


def _c(id: str, severity: Severity, description: str, fix: str) -> tuple[str, CheckInfo]:
    return id, CheckInfo(id, severity, description, fix)


CHECKS: dict[str, CheckInfo] = dict([
    _c("MISSING-ROUTE", "error",
       "a consumer declares it receives a topic, and no subscription (declared, or live and kept by the plan) "
       "delivers that topic to the consumer's queue",
       "add the subscription {topic: T, queue: Q}, or remove T from the consumer's receives"),
    _c("MIGRATION-GAP", "error",
       "a topic that replaces an old one (declared with replaces:, or recognised: LIKELY-REPLACEMENT) lacks a "
       "subscription for a live subscriber of the old topic (same endpoint, or its successor queue); a queue that "
       "replaces an old one lacks a route the old queue had",
       "add the missing subscription on the new topic, or silence this subscriber with a reason"),
    _c("ROUTE-LOSS", "error",
       "a live subscriber (queue, HTTP endpoint, any protocol) whose route the plan ends — it removes the "
       "subscription, or deletes the topic or the queue — while nothing after the plan delivers that topic (or a "
       "topic replacing it) to it or its successor queue",
       "keep the subscription, or retire the route with its reason under retire: (or an override naming it)"),
    _c("LIKELY-REPLACEMENT", "warning",
       "a new topic or queue that very likely takes over from a live one the file does not say it replaces (a "
       ".fifo twin name, or it takes over the old one's subscribers or routes); MIGRATION-GAP checks it as one",
       "add replaces: <old> to the new resource, or unrelated_to: [<old>]"),
    _c("FIFO-MISMATCH", "error",
       "a FIFO queue subscribed to a standard topic (AWS rejects it), a FIFO topic delivering to a standard "
       "queue or an HTTP endpoint, or a FIFO consumer fed by a standard topic through a migration step",
       "pair FIFO queues with FIFO topics (declare a .fifo topic that replaces the standard one)"),
    _c("DLQ-TYPE", "error",
       "a dead-letter queue of the other type than its source (AWS: a FIFO queue's DLQ must be FIFO, a "
       "standard queue's standard; a FIFO topic's subscription DLQ must be FIFO, a standard topic's standard)",
       "point the redrive policy at a DLQ of the same type"),
    _c("ORPHAN-TOPIC", "warning",
       "a declared topic no one subscribes to: everything published to it goes nowhere",
       "subscribe its consumers, or remove the topic"),
    _c("ORPHAN-QUEUE", "warning",
       "a declared queue no topic feeds, no declared producer sends to, and that is no queue's DLQ",
       "subscribe it to its topic, declare the producer that sends to it, or remove it"),
    _c("NO-DLQ", "warning",
       "a queue that a consumer reads (or a topic feeds) has no redrive policy: a message its consumer cannot "
       "process is received forever until retention deletes it",
       "add dlq: and max_receive_count: to the queue"),
    _c("RAW-DELIVERY-CHANGE", "warning",
       "the replacement of a subscription (or its in-place update) switches between raw delivery and the SNS "
       "JSON envelope: the consumer's parser sees a different body",
       "keep raw: as it was, or change the consumer's parser in the same release"),
    _c("FILTER-CHANGE", "warning",
       "the replacement of a subscription (or its in-place update) changes its filter policy or scope: the "
       "consumer's share of messages changes",
       "keep the filter policy as it was, or silence with the reason the change is intended"),
    _c("DESTRUCTIVE", "warning",
       "the plan deletes a queue (an error when it still holds messages) or a topic that still has subscriptions "
       "(a subscriber left with no route is ROUTE-LOSS)",
       "drain or move the messages first, keep the resource, or retire it with its reason"),
    _c("QUEUE-MISSING", "error",
       "a subscription's queue (or a redrive policy's DLQ) exists neither in the file nor live",
       "declare the queue, or remove the subscription"),
    _c("QUEUE-POLICY", "warning",
       "the queue's Policy does not let the topic send to it: AWS drops every delivery (postroom and moto do "
       "not enforce queue policies); no Policy at all is reported as info",
       "allow sns.amazonaws.com sqs:SendMessage on the queue with an aws:SourceArn condition naming the topic"),
    _c("REPLAY-PAUSED", "error",
       "a live subscription whose finished SNS message replay had an EndingPoint: it does not deliver newly "
       "published messages",
       "set a ReplayPolicy without EndingPoint (or recreate the subscription) so that delivery resumes"),
    _c("DRIFT", "error",
       "verify: the live topology differs from the file (a resource is missing, extra or changed)",
       "run `postroom plan` and `postroom apply`, or change the file to match what is live"),
])

# The checks `verify` runs on the live state (the others judge a planned change).
HEALTH_CHECKS: tuple[str, ...] = ("QUEUE-MISSING", "QUEUE-POLICY", "DLQ-TYPE", "REPLAY-PAUSED")
