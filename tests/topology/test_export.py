"""export_yaml: the live topology written as a postroom.yaml that loads back to the same
declared topology, so plan after export shows no changes (pure: no server)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postroom.topology.diff import compute_changes
from postroom.topology.export import QUEUE_DEFAULTS, declarable, export_yaml
from postroom.topology.loader import loads
from postroom.topology.model import (
    Declared,
    Queue,
    RedriveAllow,
    Subscription,
    Topic,
    Topology,
    canonical_json,
)

# text that YAML must carry unchanged, including what substitution would touch ("${…}", "$${")
_ALPHABET = st.characters(codec="utf-8", categories=("L", "N", "P", "S", "Zs"))
TEXT = st.text(_ALPHABET, max_size=12) | st.sampled_from(["${prefix}", "$${x}", "${aws:username}", "on", "no",
                                                           "null", "1", "true", "<<", " padded ", "a: b", "#x"])
JSON_SCALAR = st.none() | st.booleans() | st.integers(-10**6, 10**6) | TEXT
JSON_DOC = st.dictionaries(TEXT, st.recursive(JSON_SCALAR, lambda inner: st.lists(inner, max_size=3)
                                              | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6),
                           max_size=4)
NAME = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_-]{0,14}", fullmatch=True)


def _int(lo: int, hi: int) -> st.SearchStrategy[str]:
    return st.integers(lo, hi).map(str)


QUEUE_VALUES: dict[str, st.SearchStrategy[str]] = {
    "VisibilityTimeout": _int(0, 43200), "MessageRetentionPeriod": _int(60, 1209600), "DelaySeconds": _int(0, 900),
    "MaximumMessageSize": _int(1024, 1048576), "ReceiveMessageWaitTimeSeconds": _int(0, 20),
    "SqsManagedSseEnabled": st.sampled_from(["true", "false"]), "KmsMasterKeyId": TEXT.filter(bool),
    "KmsDataKeyReusePeriodSeconds": _int(60, 86400), "Policy": JSON_DOC.map(canonical_json),
}
QUEUE_FIFO_VALUES: dict[str, st.SearchStrategy[str]] = {
    "ContentBasedDeduplication": st.sampled_from(["true", "false"]),
    "DeduplicationScope": st.sampled_from(["queue", "messageGroup"]),
    "FifoThroughputLimit": st.sampled_from(["perQueue", "perMessageGroupId"]),
}
TOPIC_VALUES: dict[str, st.SearchStrategy[str]] = {
    "DisplayName": TEXT.filter(bool), "DeliveryPolicy": JSON_DOC.map(canonical_json),
    "KmsMasterKeyId": TEXT.filter(bool), "Policy": JSON_DOC.map(canonical_json),
    "TracingConfig": st.sampled_from(["PassThrough", "Active"]), "SignatureVersion": st.sampled_from(["1", "2"]),
}
TOPIC_FIFO_VALUES: dict[str, st.SearchStrategy[str]] = {
    "ContentBasedDeduplication": st.sampled_from(["true", "false"]),
    "ArchivePolicy": st.integers(1, 365).map(lambda d: canonical_json({"MessageRetentionPeriod": str(d)})),
    "FifoThroughputScope": st.sampled_from(["Topic", "MessageGroup"]),
}
TAGS = st.dictionaries(TEXT.filter(lambda k: bool(k) and not k.lower().startswith("aws:")), TEXT, max_size=3)
FILTER_POLICY = st.dictionaries(st.from_regex(r"[a-z]{1,6}", fullmatch=True),
                                st.lists(st.from_regex(r"[a-z0-9]{0,6}", fullmatch=True), min_size=1, max_size=3),
                                min_size=1, max_size=3).map(canonical_json)


def _attributes(draw: st.DrawFn, values: dict[str, st.SearchStrategy[str]]) -> dict[str, str]:
    names = draw(st.lists(st.sampled_from(sorted(values)), unique=True, max_size=len(values)))
    return {name: draw(values[name]) for name in names}


@st.composite
def topologies(draw: st.DrawFn) -> Topology:
    """Consistent live topologies: every reference names a listed resource of the right kind."""
    def names(suffixes: int) -> list[str]:
        base = draw(st.lists(NAME, unique_by=str.lower, max_size=suffixes))
        return [n + ".fifo" if draw(st.booleans()) else n for n in base]

    queue_names, topic_names = names(5), names(3)
    topology = Topology()
    for name in queue_names:
        fifo = name.endswith(".fifo")
        attributes = _attributes(draw, QUEUE_VALUES) | (_attributes(draw, QUEUE_FIFO_VALUES) if fifo else {})
        others = [q for q in queue_names if q != name]
        dlq = draw(st.none() | st.sampled_from(others)) if others else None
        allow = draw(st.none() | st.sampled_from(["allowAll", "denyAll", "byQueue"]))
        sources = tuple(sorted(draw(st.lists(st.sampled_from(queue_names), min_size=1, max_size=10, unique=True))))
        topology.queues[name] = Queue(
            name, attributes=attributes, dlq=dlq, max_receive_count=draw(st.integers(1, 1000)) if dlq else None,
            redrive_allow=None if allow is None else RedriveAllow(allow, sources if allow == "byQueue" else ()),
            tags=draw(TAGS), depth=draw(st.integers(0, 50)), url=f"http://x/000000000000/{name}",
            arn=f"arn:aws:sqs:us-east-1:000000000000:{name}")
    for name in topic_names:
        fifo = name.endswith(".fifo")
        attributes = _attributes(draw, TOPIC_VALUES) | (_attributes(draw, TOPIC_FIFO_VALUES) if fifo else {})
        topology.topics[name] = Topic(name, attributes=attributes, tags=draw(TAGS),
                                      arn=f"arn:aws:sns:us-east-1:000000000000:{name}")
    for topic in topic_names:
        endpoints = [("sqs", q) for q in draw(st.lists(st.sampled_from(queue_names), unique=True))] if queue_names \
            else []
        endpoints += [("https", f"https://hooks.example/{n}") for n in draw(st.lists(NAME, unique=True, max_size=2))]
        for protocol, endpoint in endpoints:
            policy = draw(st.none() | FILTER_POLICY)
            sub = Subscription(topic, protocol, endpoint, raw=draw(st.booleans()), filter_policy=policy,
                               filter_scope=draw(st.sampled_from(["MessageAttributes", "MessageBody"])) if policy
                               else "MessageAttributes",
                               dlq=draw(st.none() | st.sampled_from(queue_names)) if queue_names else None,
                               arn=f"arn:aws:sns:us-east-1:000000000000:{topic}:{draw(NAME)}")
            topology.subscriptions[sub.key] = sub
    return topology


def desired(t: Topology) -> Topology:
    return Topology(queues={n: q.desired() for n, q in t.queues.items()},
                    topics={n: x.desired() for n, x in t.topics.items()},
                    subscriptions={k: s.desired() for k, s in t.subscriptions.items()})


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(topologies())
def test_export_round_trips_and_plans_no_changes(live: Topology) -> None:
    text = export_yaml(live)
    declared = loads(text, source="exported.yaml")
    assert declared.topology == desired(declarable(live))
    # the declared part of every resource is exactly the live one; what is left out is AWS's default
    assert set(declared.topology.queues) == set(live.queues) and set(declared.topology.topics) == set(live.topics)
    assert set(declared.topology.subscriptions) == set(live.subscriptions)
    for name, queue in live.queues.items():
        mine = declared.topology.queues[name]
        assert mine.attributes.items() <= queue.attributes.items()
        assert all(QUEUE_DEFAULTS[k] == v for k, v in queue.attributes.items() if k not in mine.attributes)
        assert (mine.dlq, mine.max_receive_count, mine.redrive_allow, mine.tags) == (
            queue.dlq, queue.max_receive_count, queue.redrive_allow, queue.tags)
    for key, sub in live.subscriptions.items():
        assert declared.topology.subscriptions[key] == sub.desired()
    # and the plan's own comparison agrees: nothing to create, change or delete
    assert compute_changes(Declared(topology=declared.topology), live) == []


def test_export_is_readable_and_leaves_out_defaults() -> None:
    live = Topology(
        queues={"billing.fifo": Queue("billing.fifo", attributes={
            "VisibilityTimeout": "30", "MessageRetentionPeriod": "345600", "DelaySeconds": "0",
            "MaximumMessageSize": "262144", "ReceiveMessageWaitTimeSeconds": "0", "SqsManagedSseEnabled": "true",
            "ContentBasedDeduplication": "true", "DeduplicationScope": "queue", "FifoThroughputLimit": "perQueue"},
            dlq="billing-dlq.fifo", max_receive_count=5, tags={"team": "billing", "tier": "1"}, depth=3),
            "billing-dlq.fifo": Queue("billing-dlq.fifo", attributes={"VisibilityTimeout": "30"})},
        topics={"orders.fifo": Topic("orders.fifo", attributes={
            "ContentBasedDeduplication": "true", "FifoThroughputScope": "Topic", "SignatureVersion": "1",
            "Policy": json.dumps({"Version": "2008-10-17", "Id": "__default_policy_ID",
                                  "Statement": [{"Sid": "__default_statement_ID", "Effect": "Allow"}]})})},
        subscriptions={("orders.fifo", "sqs", "billing.fifo"): Subscription(
            "orders.fifo", "sqs", "billing.fifo", raw=True, filter_policy='{"kind":["order"]}',
            arn="arn:aws:sns:us-east-1:0:orders.fifo:1")})
    text = export_yaml(live)
    assert yaml.safe_load(text) == {
        "version": 1,
        "queues": {
            "billing-dlq.fifo": {},
            "billing.fifo": {"max_size": 262144, "content_based_deduplication": True, "dlq": "billing-dlq.fifo",
                             "max_receive_count": 5, "tags": {"team": "billing", "tier": "1"}}},
        "topics": {"orders.fifo": {"content_based_deduplication": True}},
        "subscriptions": [{"topic": "orders.fifo", "queue": "billing.fifo", "raw": True,
                           "filter_policy": {"kind": ["order"]}}],
    }
    assert "tags: {team: billing, tier: '1'}" in text  # short collections stay on one line
    assert text.startswith("# postroom.yaml exported from the live endpoint")


def test_custom_topic_policy_is_kept_default_one_is_not() -> None:
    custom = {"Version": "2012-10-17", "Statement": [{"Sid": "cross-account", "Effect": "Allow",
                                                      "Principal": {"AWS": "arn:aws:iam::1:root"}}]}
    live = Topology(topics={"t": Topic("t", attributes={"Policy": canonical_json(custom)})})
    assert yaml.safe_load(export_yaml(live))["topics"]["t"] == {"policy": custom}


def test_what_a_file_cannot_declare_is_left_out_with_a_note() -> None:
    live = Topology(
        queues={"jobs": Queue("jobs", dlq="other-account-dlq", max_receive_count=4,
                              redrive_allow=RedriveAllow("byQueue", ("gone",)))},
        topics={"alerts": Topic("alerts")},
        subscriptions={
            ("alerts", "email", "ops@example.com"): Subscription("alerts", "email", "ops@example.com"),
            ("alerts", "sqs", "elsewhere"): Subscription("alerts", "sqs", "elsewhere"),
            ("alerts", "sqs", "jobs"): Subscription("alerts", "sqs", "jobs", dlq="gone"),
        })
    text = export_yaml(live)
    notes = [line for line in text.splitlines() if line.startswith("# NOTE:")]
    assert notes == [
        "# NOTE: subscription alerts → email:ops@example.com left out: protocol email is not managed by postroom.yaml",
        "# NOTE: subscription alerts → sqs:elsewhere left out: queue elsewhere is not among the listed queues",
        "# NOTE: queue jobs: dead-letter queue other-account-dlq (maxReceiveCount 4) left out: it is not among the "
        "listed queues",
        "# NOTE: queue jobs: redrive_allow left out: it names queues that are not listed",
        "# NOTE: subscription alerts → jobs: dead-letter queue gone left out: not listed",
    ]
    declared = loads(text)
    assert declared.topology.queues == {"jobs": Queue("jobs")}
    assert declared.topology.subscriptions == {("alerts", "sqs", "jobs"): Subscription("alerts", "sqs", "jobs")}


def test_export_of_the_example_reloads_equal() -> None:
    from tests.topology.test_loader import EXAMPLE

    declared = loads(EXAMPLE.read_text(), env="staging")
    live = declared.topology
    again = loads(export_yaml(live)).topology
    assert again == desired(declarable(live))
    # the example states no AWS defaults, so nothing at all is left out
    assert again.queues == {n: replace(q, replaces=None) for n, q in live.queues.items()}
    assert again.topics == {n: replace(t, replaces=None) for n, t in live.topics.items()}
    assert again.subscriptions == live.subscriptions


def _strings(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *_strings(v)]]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [value] if isinstance(value, str) else []


def test_dollar_brace_in_values_is_escaped() -> None:
    live = Topology(topics={"t": Topic("t", attributes={"DisplayName": "cost ${prefix} $${x}"})})
    text = export_yaml(live)
    assert "cost $${prefix} $$${x}" in _strings(yaml.safe_load(text))
    assert loads(text).topology.topics["t"].attributes == {"DisplayName": "cost ${prefix} $${x}"}
