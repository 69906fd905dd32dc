"""Planning as a comparison: the changes that turn the live topology into the declared one, in the
order they can be applied safely.

What is compared:
- queues and topics: only the attributes the file declares (AWS fills in defaults for the rest;
  a file that says nothing about ``DelaySeconds`` does not fight the live value); the redrive
  policy (``dlq`` + ``max_receive_count``) and the redrive allow policy when the file states them;
  tags when the file states any (then the whole tag set, so a removed tag is untagged);
- subscriptions: every field a file can state (raw delivery, filter policy and scope, redrive
  DLQ) — a subscription is small and wholly described by its file entry. An HTTP(S) subscription
  still pending confirmation exists but cannot be compared (AWS lists it without an ARN and shows
  none of its attributes), so it is not "changed" until it is confirmed.

A queue's or topic's FIFO-ness is part of its name (AWS's rule), so a "change" AWS cannot make in
place (``FifoQueue`` / ``FifoTopic``) cannot arise: a different name is a different resource.

Deletes are planned only for live resources inside the file's ``scope`` (globs on names): a queue
or topic the file does not declare, and a subscription the file does not declare whose topic is in
scope. Subscriptions with a protocol a file cannot declare (lambda, email, …) and subscriptions
still pending confirmation (AWS cannot delete those; they expire after three days) are never
deleted. Every delete is ``destructive``.
"""

from __future__ import annotations

from typing import Any

from postroom.topology.live import normalise_value
from postroom.topology.model import (
    SUBSCRIPTION_PROTOCOLS,
    Change,
    Declared,
    Queue,
    RedriveAllow,
    Subscription,
    Topic,
    Topology,
    canonical_json,
    in_scope,
)

# AWS derives these from the name; a file that spells them out is not asking for a change.
NAME_DERIVED = frozenset({"FifoQueue", "FifoTopic"})


def redrive_allow_doc(r: RedriveAllow) -> dict[str, Any]:
    return {"permission": r.permission, "sources": sorted(r.sources)}


def queue_doc(q: Queue) -> dict[str, Any]:
    """Everything a plan can say about a queue, JSON-ready (the ``after`` of a create)."""
    d: dict[str, Any] = {"attributes": {k: normalise_value(k, v) for k, v in sorted(q.attributes.items())
                                        if k not in NAME_DERIVED},
                         "tags": dict(sorted(q.tags.items()))}
    if q.dlq is not None:
        d["dlq"] = q.dlq
        d["max_receive_count"] = q.max_receive_count
    if q.redrive_allow is not None:
        d["redrive_allow"] = redrive_allow_doc(q.redrive_allow)
    return d


def topic_doc(t: Topic) -> dict[str, Any]:
    return {"attributes": {k: normalise_value(k, v) for k, v in sorted(t.attributes.items())
                           if k not in NAME_DERIVED},
            "tags": dict(sorted(t.tags.items()))}


def subscription_doc(s: Subscription) -> dict[str, Any]:
    """A subscription's comparable fields. Without a filter policy the scope is moot (AWS reports
    none), so it is held as the default."""
    policy = canonical_json(s.filter_policy) if s.filter_policy else None
    return {"raw": s.raw, "filter_policy": policy,
            "filter_scope": s.filter_scope if policy else "MessageAttributes", "dlq": s.dlq}


def _attribute_delta(want: dict[str, Any], have: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key, value in want.items():
        if have.get(key) != value:
            before[key] = have.get(key)
            after[key] = value
    return before, after


def _resource_delta(want: dict[str, Any], have: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Differences between a declared doc and a live doc, on the declared fields only."""
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    b, a = _attribute_delta(want["attributes"], have["attributes"])
    if a:
        before["attributes"], after["attributes"] = b, a
    if "dlq" in want and (want["dlq"], want["max_receive_count"]) != (have.get("dlq"), have.get("max_receive_count")):
        before["dlq"], before["max_receive_count"] = have.get("dlq"), have.get("max_receive_count")
        after["dlq"], after["max_receive_count"] = want["dlq"], want["max_receive_count"]
    if "redrive_allow" in want and want["redrive_allow"] != have.get("redrive_allow"):
        before["redrive_allow"], after["redrive_allow"] = have.get("redrive_allow"), want["redrive_allow"]
    if want["tags"] and want["tags"] != have["tags"]:
        before["tags"], after["tags"] = have["tags"], want["tags"]
    return before, after


def is_done(change: Change, live: Topology) -> bool:
    """Whether the live state already shows the change's outcome: the resource exists with every
    field the step sets (create/update), or is gone (delete). Used by apply to skip finished steps
    on resume and to verify journaled ones."""
    if change.kind == "queue":
        q = live.queues.get(change.key[0])
        if change.action == "delete":
            return q is None
        return q is not None and _matches(change.after or {}, queue_doc(q))
    if change.kind == "topic":
        t = live.topics.get(change.key[0])
        if change.action == "delete":
            return t is None
        return t is not None and _matches(change.after or {}, topic_doc(t))
    key = (change.key[0], change.key[1], change.key[2])
    s = live.subscriptions.get(key)
    if change.action == "delete":
        return s is None
    if s is not None and s.arn == "PendingConfirmation":
        return True  # subscribed; the endpoint has yet to confirm, and AWS shows no attributes until it does
    return s is not None and _matches(change.after or {}, subscription_doc(s))


def _matches(after: dict[str, Any], have: dict[str, Any]) -> bool:
    for field_name, value in after.items():
        if field_name == "attributes":
            if any(have["attributes"].get(k) != v for k, v in value.items()):
                return False
        elif field_name == "tags":
            if value and value != have["tags"]:
                return False
        elif have.get(field_name) != value:
            return False
    return True


def _queue_changes(want: Topology, live: Topology, scope: tuple[str, ...]) -> list[Change]:
    out: list[Change] = []
    for name, q in want.queues.items():
        have = live.queues.get(name)
        if have is None:
            out.append(Change("create", "queue", name, (name,), None, queue_doc(q)))
            continue
        before, after = _resource_delta(queue_doc(q), queue_doc(have))
        if after:
            out.append(Change("update", "queue", name, (name,), before, after))
    for name, have in live.queues.items():
        if name not in want.queues and in_scope(name, scope):
            before = {**queue_doc(have), "depth": have.depth}
            out.append(Change("delete", "queue", name, (name,), before, None, destructive=True))
    return out


def _topic_changes(want: Topology, live: Topology, scope: tuple[str, ...]) -> list[Change]:
    out: list[Change] = []
    for name, t in want.topics.items():
        have = live.topics.get(name)
        if have is None:
            out.append(Change("create", "topic", name, (name,), None, topic_doc(t)))
            continue
        before, after = _resource_delta(topic_doc(t), topic_doc(have))
        if after:
            out.append(Change("update", "topic", name, (name,), before, after))
    for name, have in live.topics.items():
        if name not in want.topics and in_scope(name, scope):
            out.append(Change("delete", "topic", name, (name,), topic_doc(have), None, destructive=True))
    return out


def _subscription_changes(want: Topology, live: Topology, scope: tuple[str, ...]) -> list[Change]:
    out: list[Change] = []
    for key, s in want.subscriptions.items():
        have = live.subscriptions.get(key)
        if have is None:
            out.append(Change("create", "subscription", s.describe(), key, None, subscription_doc(s)))
            continue
        if have.arn == "PendingConfirmation":
            continue  # AWS shows no attributes of an unconfirmed subscription: nothing to compare yet
        before, after = _attribute_delta(subscription_doc(s), subscription_doc(have))
        if after:
            out.append(Change("update", "subscription", s.describe(), key, before, after))
    for key, have in live.subscriptions.items():
        if (key in want.subscriptions or not in_scope(have.topic, scope)
                or have.protocol not in SUBSCRIPTION_PROTOCOLS or have.arn == "PendingConfirmation"):
            continue
        out.append(Change("delete", "subscription", have.describe(), key, subscription_doc(have), None,
                          destructive=True))
    return out


def _dlq_of(change: Change) -> str | None:
    doc = change.after if change.action != "delete" else change.before
    return (doc or {}).get("dlq")


def _dependency_order(changes: list[Change], reverse: bool = False) -> list[Change]:
    """Queue steps ordered so a queue's DLQ step comes before the queue's own (AWS checks the DLQ
    exists, and its redrive allow policy, when a RedrivePolicy is set); ``reverse`` for deletes
    (sources go before their DLQs)."""
    by_name = {c.name: c for c in changes}
    done: list[Change] = []
    seen: set[str] = set()

    def visit(c: Change, path: tuple[str, ...]) -> None:
        if c.name in seen:
            return
        seen.add(c.name)
        dlq = _dlq_of(c)
        if dlq and dlq in by_name and dlq not in path:
            visit(by_name[dlq], (*path, c.name))
        done.append(c)

    for c in sorted(changes, key=lambda c: c.name):
        visit(c, ())
    return list(reversed(done)) if reverse else done


def order_changes(changes: list[Change]) -> list[Change]:
    """The safe order:

    1. queues (DLQs before their sources), then topics;
    2. new subscriptions, then changed ones — so a subscriber is covered by its new subscription
       before any old one goes;
    3. removed subscriptions of topics that stay;
    4. each deleted topic, followed by its own subscriptions' removal (AWS deletes a topic's
       subscriptions with it; those steps then only confirm it). A topic's subscriptions are not
       removed one by one while the topic still exists: a publisher that has not switched yet would
       go on publishing to it, and the subscribers already unsubscribed would silently miss those
       messages; once the topic is gone, such a publish fails loudly (NotFound) instead;
    5. queue deletions last (sources before their DLQs): a deleted queue loses its messages, the
       one step that cannot be rolled back.
    """
    def of(kind: str, *actions: str) -> list[Change]:
        return [c for c in changes if c.kind == kind and c.action in actions]

    deleted_topics = sorted(of("topic", "delete"), key=lambda c: c.name)
    gone = {c.key[0] for c in deleted_topics}
    sub_deletes = sorted(of("subscription", "delete"), key=lambda c: c.key)
    ordered = _dependency_order(of("queue", "create", "update"))
    ordered += sorted(of("topic", "create"), key=lambda c: c.name) + sorted(of("topic", "update"), key=lambda c: c.name)
    ordered += sorted(of("subscription", "create"), key=lambda c: c.key)
    ordered += sorted(of("subscription", "update"), key=lambda c: c.key)
    ordered += [c for c in sub_deletes if c.key[0] not in gone]
    for topic in deleted_topics:
        ordered.append(topic)
        ordered += [c for c in sub_deletes if c.key[0] == topic.key[0]]
    ordered += _dependency_order(of("queue", "delete"), reverse=True)
    return ordered


def compute_changes(declared: Declared, live: Topology) -> list[Change]:
    """The changes that make ``live`` what ``declared`` says, in the order apply runs them."""
    want = declared.topology
    changes = (_queue_changes(want, live, declared.scope) + _topic_changes(want, live, declared.scope)
               + _subscription_changes(want, live, declared.scope))
    return order_changes(changes)
