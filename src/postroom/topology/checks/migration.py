"""Migrations: a new topic that ``replaces:`` an old one, or a queue that takes over from another.

MIGRATION-GAP is the incident postroom exists for: standard topics were swapped for FIFO topics by
hand, every subscriber had to subscribe again, one was forgotten, and ~45k messages were missed
over 10 hours. So for every *live* subscriber of the old topic, the new topic must deliver to the
same endpoint — or to that endpoint's declared successor (a queue whose ``replaces:`` names it, or
its ``.fifo`` twin). The finding names the forgotten subscriber and the subscription to add.

``replaces:`` naming a topic that does not exist live makes the check vacuous. If a live topic the
file does not manage has a close name, that is almost certainly a typo → error ("did you mean").
Otherwise → warning: the usual reason is a finished migration whose old topic is gone (the line can
be removed), and in a staged rollout the same file still needs it for the environment not yet
migrated, so blocking there would be wrong.

RAW-DELIVERY-CHANGE / FILTER-CHANGE compare an old subscription with the one that takes its place
(old topic's live subscription vs the replacing topic's new one, old queue vs successor queue) and
a subscription's in-place update: raw delivery changes the body the consumer parses (raw message vs
SNS JSON envelope); the filter policy or its scope changes which messages it gets at all.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from postroom.topology.checks.context import Context, sub_resource, yaml_sub
from postroom.topology.model import Finding, Subscription, is_fifo_name


def _covers(ctx: Context, old: Subscription, new: Subscription) -> bool:
    if new.protocol != old.protocol:
        return False
    if new.endpoint == old.endpoint:
        return True
    return old.protocol == "sqs" and new.endpoint in ctx.successors(old.endpoint)


def migration_gap(ctx: Context) -> Iterator[Finding]:
    olds: dict[str, list[str]] = {}
    for name, t in sorted(ctx.declared.topology.topics.items()):
        if t.replaces:
            olds.setdefault(t.replaces, []).append(name)
    for lk in ctx.likely_topics:
        olds.setdefault(lk.old, []).append(lk.new)
    for old, new_topics in olds.items():
        new_list = ", ".join(new_topics)
        if old not in ctx.live.topics:
            yield _old_missing(ctx, old, new_list)
            continue
        candidates = [s for s in ctx.subs.values() if s.topic in new_topics]
        for sub in sorted(ctx.live.subscriptions_of(old), key=lambda s: s.key):
            if sub.arn == "PendingConfirmation" or any(_covers(ctx, sub, n) for n in candidates):
                continue
            yield _gap(ctx, sub, new_topics)
    yield from _queue_gaps(ctx)


def _guess(ctx: Context, kind: str, new_names: list[str], old: str) -> str:
    """The sentence that says a replacement was recognised, not declared (empty when declared)."""
    guessed = [n for n in new_names if ctx.likely(kind, n, old)]
    if not guessed:
        return ""
    lk = ctx.likely(kind, guessed[0], old)
    assert lk is not None
    return (f" ({guessed[0]} looks like it replaces {old}: {lk.evidence}; add `replaces: {old}` to {guessed[0]}, "
            f"or mark it `unrelated_to: [{old}]`)")


def _gap(ctx: Context, sub: Subscription, new_topics: list[str]) -> Finding:
    new = new_topics[0]
    if sub.protocol == "sqs":
        succ = sorted(ctx.successors(sub.endpoint))
        target = succ[0] if succ else sub.endpoint
        alt = f" (or its successor {', '.join(succ)})" if succ else ""
        expected = f"{new} → {target}"
        fix = f"add {yaml_sub(new, target)}"
        if is_fifo_name(new) and not is_fifo_name(target):
            fix += (f"; {target} is a standard queue — AWS delivers a FIFO topic to it without ordering, or "
                    f"declare {target}.fifo with replaces: {sub.endpoint}")
    else:
        alt = ""
        expected = f"{new} → {sub.endpoint}"
        fix = f"add {yaml_sub(new, sub.endpoint, sub.protocol)}"
        if is_fifo_name(new):
            fix = (f"{sub.endpoint} is an {sub.protocol} endpoint and a FIFO topic delivers only to SQS queues: "
                   f"keep {sub.topic} for it, or route it through a queue")
    gone = " — and this plan removes its subscription" if ctx.lost(sub) else ""
    return ctx.finding(
        "MIGRATION-GAP",
        f"{', '.join(new_topics)} replaces {sub.topic}{_guess(ctx, 'topic', new_topics, sub.topic)}, but the live "
        f"subscriber {sub.protocol}:{sub.endpoint} of {sub.topic}{alt} has no subscription on "
        f"{', '.join(new_topics)}{gone} — once publishers move, it stops receiving these messages. "
        f"Expected: {expected}",
        (new, sub.topic, sub.endpoint, sub_resource(sub), expected),
        fix=fix + f", or retire the route with its reason (`- {{topic: {sub.topic}, "
                  f"{'queue' if sub.protocol == 'sqs' else 'endpoint'}: {sub.endpoint}, reason: …}}` under retire:)",
    )


def _queue_gaps(ctx: Context) -> Iterator[Finding]:
    """A queue that takes over from another must receive every topic the old one received (or the
    topic's replacement) — the consumer that moves to it would otherwise stop getting that topic.
    Routes of topics that have a replacement are MIGRATION-GAP's topic side (above)."""
    pairs: dict[str, set[str]] = {}
    for name, q in ctx.declared.topology.queues.items():
        if q.replaces:
            pairs.setdefault(q.replaces, set()).add(name)
    for lk in ctx.likely_queues:
        pairs.setdefault(lk.old, set()).add(lk.new)
    for old, news in sorted(pairs.items()):
        for sub in sorted(ctx.live.subscriptions_to_queue(old), key=lambda s: s.key):
            if sub.arn == "PendingConfirmation" or ctx.replacing_topics(sub.topic):
                continue
            if any(ctx.delivers(sub.topic, n) for n in news):
                continue
            declared_fifo = [n for n in news if is_fifo_name(n) and ctx.declared.topology.queues[n].replaces == old]
            if declared_fifo and not is_fifo_name(sub.topic):
                continue  # FIFO-MISMATCH says it: a FIFO queue cannot take a standard topic
            new_list = ", ".join(sorted(news))
            new = sorted(news)[0]
            fix = f"add {yaml_sub(sub.topic, new)}"
            if is_fifo_name(new) and not is_fifo_name(sub.topic):
                fix = (f"{new} is FIFO and {sub.topic} is standard: declare {sub.topic}.fifo with replaces: "
                       f"{sub.topic} and subscribe {new} to it")
            yield ctx.finding(
                "MIGRATION-GAP",
                f"{new_list} replaces queue {old}{_guess(ctx, 'queue', sorted(news), old)}, but {old}'s live route "
                f"{sub_resource(sub)} has no counterpart to {new_list} — once its consumer reads {new}, it stops "
                f"receiving {sub.topic}. Expected: {sub.topic} → {new}",
                (new, old, sub.topic, sub_resource(sub), f"{sub.topic} → {new}"),
                fix=fix + f", or retire the route with its reason (`- {{topic: {sub.topic}, queue: {old}, "
                          "reason: …}` under retire:)")


def _old_missing(ctx: Context, old: str, new_list: str) -> Finding:
    unmanaged = [n for n in ctx.live.topics if n not in ctx.declared.topology.topics]
    close = difflib.get_close_matches(old, unmanaged, n=3, cutoff=0.8)
    if close:
        return ctx.finding(
            "MIGRATION-GAP",
            f"{new_list} replaces {old}, which does not exist live — probably a typo: did you mean "
            f"{' or '.join(close)}? Its subscribers are not checked",
            (new_list, old),
            fix=f"correct replaces: to the live topic's name ({close[0]})",
        )
    return ctx.finding(
        "MIGRATION-GAP",
        f"{new_list} replaces {old}, which does not exist live: there are no subscribers to carry over "
        f"(nothing is checked)",
        (new_list, old),
        fix=f"if the migration from {old} is finished, remove replaces:; otherwise correct the name",
        severity="warning",
    )


def replacement_pairs(ctx: Context) -> Iterator[tuple[Subscription, Subscription]]:
    """(old live subscription, declared subscription taking its place) for the subscriptions this
    plan creates, plus (live, declared) for every in-place update of one subscription."""
    declared = ctx.declared.topology.subscriptions
    for key, new in sorted(declared.items()):
        live = ctx.live.subscriptions.get(key)
        if live is not None:
            yield live, new
            continue
        for old in sorted(ctx.live.subscriptions.values(), key=lambda s: s.key):
            if old.key in declared:
                continue  # the old one stays as it is: not replaced
            same_topic = old.topic == new.topic or new.topic in ctx.replacing_topics(old.topic)
            if same_topic and _covers(ctx, old, new):
                yield old, new


def _names(old: Subscription, new: Subscription) -> tuple[str, tuple[str, ...]]:
    if old.key == new.key:
        return f"{sub_resource(new)} (update in place)", (sub_resource(new),)
    return (f"{sub_resource(old)} (live) → {sub_resource(new)} (new)",
            (sub_resource(new), sub_resource(old), new.endpoint))


def _filter(s: Subscription) -> tuple[str | None, str | None]:
    """The filter as it acts: the scope matters only when there is a policy."""
    return (s.filter_policy, s.filter_scope if s.filter_policy else None)


def raw_delivery_change(ctx: Context) -> Iterator[Finding]:
    for old, new in replacement_pairs(ctx):
        if old.raw == new.raw:
            continue
        shape = {True: "the raw message body", False: "the SNS JSON envelope (the body is in its Message field)"}
        what, res = _names(old, new)
        yield ctx.finding(
            "RAW-DELIVERY-CHANGE",
            f"{what}: {new.endpoint} received {shape[old.raw]} and will receive {shape[new.raw]} — its parser "
            f"sees a different body",
            res,
            fix=f"set raw: {str(old.raw).lower()} on {sub_resource(new)}, or ship the consumer's parser change "
                f"first (it must accept both while both subscriptions deliver)",
        )


def filter_change(ctx: Context) -> Iterator[Finding]:
    for old, new in replacement_pairs(ctx):
        if _filter(old) == _filter(new):
            continue
        what, res = _names(old, new)

        def show(s: Subscription) -> str:
            return f"{s.filter_policy} on {s.filter_scope}" if s.filter_policy else "no filter (every message)"

        yield ctx.finding(
            "FILTER-CHANGE",
            f"{what}: filter {show(old)} becomes {show(new)} — {new.endpoint}'s share of messages changes",
            res,
            fix=f"copy the filter policy of {sub_resource(old)} to {sub_resource(new)}, or silence FILTER-CHANGE "
                f"for it with the reason the new filter is intended",
        )
