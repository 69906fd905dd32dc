"""postroom.yaml → Declared: what a valid file resolves to, and for each kind of mistake the line,
the path and the fix the user is shown (pure: no server)."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from postroom.topology.loader import Problem, SpecError, load, loads
from postroom.topology.model import (
    CheckOverride,
    Consumer,
    Declared,
    Producer,
    Queue,
    RedriveAllow,
    Subscription,
    Topic,
    Topology,
)

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "postroom.yaml"


def problems_of(text: str, env: str | None = None) -> list[Problem]:
    with pytest.raises(SpecError) as caught:
        loads(textwrap.dedent(text), env=env)
    return caught.value.problems


def only_problem(text: str, env: str | None = None) -> Problem:
    problems = problems_of(text, env)
    assert len(problems) == 1, problems
    return problems[0]


VALID = """\
version: 1
variables: {prefix: ""}
environments:
  staging:
    variables: {prefix: "stg-"}
    scope: ["stg-*"]
  prod:
    variables: {prefix: "prod-"}
    scope: ["prod-*"]
    protected: true
queues:
  ${prefix}billing.fifo:
    visibility_timeout: 45
    retention: 1209600
    delay: 0
    max_size: 1048576
    receive_wait: 20
    content_based_deduplication: true
    deduplication_scope: messageGroup
    fifo_throughput_limit: perMessageGroupId
    attributes: {KmsMasterKeyId: alias/billing, KmsDataKeyReusePeriodSeconds: 600}
    dlq: ${prefix}billing-dlq.fifo
    max_receive_count: 5
    tags: {team: billing, tier: 1}
    replaces: ${prefix}billing
    checks:
      ORPHAN-QUEUE: {severity: off, reason: "fed by the nightly batch job"}
  ${prefix}billing-dlq.fifo:
    redrive_allow: {permission: byQueue, sources: ["${prefix}billing.fifo"]}
  ${prefix}audit:
    policy: '{"Version": "2012-10-17", "Statement": []}'
topics:
  ${prefix}orders.fifo:
    content_based_deduplication: true
    archive_policy: {MessageRetentionPeriod: "30"}
    display_name: Orders
    tags: {team: orders}
    replaces: ${prefix}orders
subscriptions:
  - topic: ${prefix}orders.fifo
    queue: ${prefix}billing.fifo
    raw: true
    filter_policy: {kind: [order], amount: [{numeric: [">", 0]}]}
    filter_scope: MessageBody
  - topic: ${prefix}orders.fifo
    queue: ${prefix}audit
    dlq: ${prefix}billing-dlq.fifo
    checks:
      FIFO-MISMATCH: {severity: warning, reason: "audit does not need order"}
consumers:
  billing: {queue: "${prefix}billing.fifo", receives: ["${prefix}orders.fifo"]}
producers:
  checkout: {publishes: ["${prefix}orders.fifo"], sends: ["${prefix}audit"]}
checks:
  - {check: NO-DLQ, severity: off, reason: "audit keeps everything"}
"""


def expected(p: str, env: str, protected: bool) -> Declared:
    billing, dlq, audit, orders = f"{p}billing.fifo", f"{p}billing-dlq.fifo", f"{p}audit", f"{p}orders.fifo"
    topology = Topology(
        queues={
            billing: Queue(billing, attributes={
                "VisibilityTimeout": "45", "MessageRetentionPeriod": "1209600", "DelaySeconds": "0",
                "MaximumMessageSize": "1048576", "ReceiveMessageWaitTimeSeconds": "20",
                "ContentBasedDeduplication": "true", "DeduplicationScope": "messageGroup",
                "FifoThroughputLimit": "perMessageGroupId", "KmsMasterKeyId": "alias/billing",
                "KmsDataKeyReusePeriodSeconds": "600"},
                dlq=dlq, max_receive_count=5, tags={"team": "billing", "tier": "1"}, replaces=f"{p}billing"),
            dlq: Queue(dlq, redrive_allow=RedriveAllow("byQueue", (billing,))),
            audit: Queue(audit, attributes={"Policy": '{"Statement":[],"Version":"2012-10-17"}'}),
        },
        topics={orders: Topic(orders, attributes={
            "ContentBasedDeduplication": "true", "ArchivePolicy": '{"MessageRetentionPeriod":"30"}',
            "DisplayName": "Orders"}, tags={"team": "orders"}, replaces=f"{p}orders")},
        subscriptions={
            (orders, "sqs", billing): Subscription(
                orders, "sqs", billing, raw=True, filter_scope="MessageBody",
                filter_policy='{"amount":[{"numeric":[">",0]}],"kind":["order"]}'),
            (orders, "sqs", audit): Subscription(orders, "sqs", audit, dlq=dlq),
        })
    return Declared(
        topology=topology,
        consumers={"billing": Consumer("billing", billing, (orders,))},
        producers={"checkout": Producer("checkout", (orders,), (audit,))},
        overrides=(CheckOverride("ORPHAN-QUEUE", billing, "off", "fed by the nightly batch job"),
                   CheckOverride("FIFO-MISMATCH", f"{orders} → {audit}", "warning", "audit does not need order"),
                   CheckOverride("NO-DLQ", "*", "off", "audit keeps everything")),
        environment=env, protected=protected, scope=(f"{p}*",), source="postroom.yaml")


def test_valid_file_resolves_to_aws_names_and_values() -> None:
    assert loads(VALID, env="staging") == expected("stg-", "staging", protected=False)


def test_environments_give_the_same_topology_under_different_names() -> None:
    staging, prod = loads(VALID, env="staging"), loads(VALID, env="prod")
    assert prod == expected("prod-", "prod", protected=True)
    assert (staging.protected, prod.protected) == (False, True)
    assert (staging.scope, prod.scope) == (("stg-*",), ("prod-*",))

    def renamed(d: Declared) -> str:
        return repr(d.topology).replace("stg-", "X-").replace("prod-", "X-")

    assert renamed(staging) == renamed(prod)
    assert all(name.startswith("stg-") for name in [*staging.topology.queues, *staging.topology.topics])


def test_file_with_environments_requires_env_and_lists_them() -> None:
    problem = only_problem(VALID)
    assert problem.line == 3 and "none was chosen" in problem.message
    assert problem.fix == "run with --env prod or --env staging"
    unknown = only_problem(VALID, env="stagign")
    assert unknown.line == 3 and "unknown environment 'stagign'" in unknown.message
    assert "did you mean 'staging'?" in unknown.fix and "prod, staging" in unknown.fix


def test_env_given_to_a_file_without_environments() -> None:
    problem = only_problem("version: 1\nqueues: {a: {}}\n", env="prod")
    assert "declares no environments" in problem.message


def test_env_variables_scope_and_protected_overlay() -> None:
    text = """\
    version: 1
    variables: {prefix: "", vt: 30}
    environments:
      slow: {variables: {vt: 300, prefix: "slow-"}, scope: ["${prefix}*"], protected: true}
    queues:
      ${prefix}jobs:
        visibility_timeout: ${vt}
    """
    declared = loads(textwrap.dedent(text), env="slow")
    assert declared.topology.queues["slow-jobs"].attributes == {"VisibilityTimeout": "300"}
    assert declared.scope == ("slow-*",) and declared.protected and declared.environment == "slow"


def test_name_outside_the_environment_scope_is_an_error() -> None:
    text = """\
    version: 1
    environments:
      staging: {variables: {prefix: "stg-"}, scope: ["stg-*"]}
    queues:
      ${prefix}jobs: {}
      billing: {}
    """
    problem = only_problem(text, env="staging")
    assert (problem.line, problem.path) == (6, "queues.billing")
    assert "outside environment staging's scope (stg-*)" in problem.message and "${prefix}" in problem.fix


def test_no_environments_defaults() -> None:
    declared = loads("version: 1\nqueues: {jobs: }\n")
    assert declared.scope == ("*",) and not declared.protected and declared.environment is None
    assert declared.topology.queues == {"jobs": Queue("jobs")}


def test_unknown_variable_names_the_line_and_the_known_ones() -> None:
    text = """\
    version: 1
    variables: {prefix: "x-", region: eu-west-1}
    queues:
      ${prefx}jobs: {}
    """
    problem = only_problem(text)
    assert (problem.line, problem.path) == (4, "queues.${prefx}jobs")
    assert problem.message == "unknown variable ${prefx}"
    assert "did you mean ${prefix}?" in problem.fix and "known variables: prefix, region" in problem.fix


def test_literal_dollar_brace_and_iam_policy_variables_are_kept() -> None:
    text = """\
    version: 1
    queues:
      q:
        policy:
          Statement: [{Resource: "arn:aws:s3:::b/${aws:username}/*", Sid: "$${literal}"}]
    """
    policy = loads(textwrap.dedent(text)).topology.queues["q"].attributes["Policy"]
    assert "${aws:username}" in policy and '"Sid":"${literal}"' in policy


def test_unknown_key_gives_did_you_mean_at_its_line() -> None:
    text = """\
    version: 1
    queues:
      jobs:
        visiblity_timeout: 30
    """
    problem = only_problem(text)
    assert (problem.line, problem.path) == (4, "queues.jobs.visiblity_timeout")
    assert problem.message == "unknown key 'visiblity_timeout'"
    assert problem.fix.startswith("did you mean 'visibility_timeout'?")


def test_unknown_top_level_section_and_escape_hatch_attribute() -> None:
    text = """\
    version: 1
    queue:
      jobs: {}
    topics:
      t: {attributes: {DisplayNme: x}}
    """
    first, second = problems_of(text)
    assert (first.line, first.path) == (2, "queue") and "did you mean 'queues'?" in first.fix
    assert (second.line, second.path) == (5, "topics.t.attributes.DisplayNme")
    assert "did you mean 'DisplayName'?" in second.fix


@pytest.mark.parametrize(("key", "value", "aws", "bounds"), [
    ("visibility_timeout", 43201, "VisibilityTimeout", "0..43200"),
    ("retention", 59, "MessageRetentionPeriod", "60..1209600"),
    ("delay", 901, "DelaySeconds", "0..900"),
    ("max_size", 1048577, "MaximumMessageSize", "1024..1048576"),
    ("max_size", 1023, "MaximumMessageSize", "1024..1048576"),
    ("receive_wait", 21, "ReceiveMessageWaitTimeSeconds", "0..20"),
])
def test_aws_limits(key: str, value: int, aws: str, bounds: str) -> None:
    problem = only_problem(f"version: 1\nqueues:\n  jobs:\n    {key}: {value}\n")
    assert (problem.line, problem.path) == (4, f"queues.jobs.{key}")
    assert f"outside AWS's range for {aws} ({bounds})" in problem.message
    assert problem.fix == f"use a value from {bounds.replace('..', ' to ')}"


def test_limit_edges_are_accepted_and_max_size_follows_postroom() -> None:
    text = """\
    version: 1
    queues:
      a: {visibility_timeout: 43200, retention: 60, delay: 900, max_size: 262144, receive_wait: 20}
      b: {visibility_timeout: 0, retention: 1209600, delay: 0, max_size: 1048576, receive_wait: 0}
      c: {dlq: a, max_receive_count: 1000}
      d: {dlq: a, max_receive_count: 1}
    """
    queues = loads(textwrap.dedent(text)).topology.queues
    assert queues["a"].attributes["MaximumMessageSize"] == "262144"
    assert queues["b"].attributes["MaximumMessageSize"] == "1048576"
    assert (queues["c"].max_receive_count, queues["d"].max_receive_count) == (1000, 1)


def test_limits_apply_to_the_escape_hatch_and_max_receive_count() -> None:
    text = """\
    version: 1
    queues:
      a: {attributes: {VisibilityTimeout: "99999", KmsDataKeyReusePeriodSeconds: 59}}
      b: {dlq: a, max_receive_count: 1001}
    """
    first, second, third = problems_of(text)
    assert (first.line, first.path) == (3, "queues.a.attributes.KmsDataKeyReusePeriodSeconds")
    assert (second.line, second.path) == (3, "queues.a.attributes.VisibilityTimeout")
    assert "outside AWS's range for VisibilityTimeout (0..43200)" in second.message
    assert (third.line, third.path) == (4, "queues.b.max_receive_count") and "maxReceiveCount" in third.message


def test_wrong_type_and_enum() -> None:
    text = """\
    version: 1
    queues:
      a.fifo:
        visibility_timeout: 30s
        deduplication_scope: group
    """
    first, second = problems_of(text)
    assert (first.line, first.path) == (4, "queues.a.fifo.visibility_timeout")
    assert "expected a whole number, got a string ('30s')" in first.message
    assert (second.line, second.path) == (5, "queues.a.fifo.deduplication_scope")
    assert "queue, messageGroup" in second.fix


def test_references_to_undeclared_resources() -> None:
    text = """\
    version: 1
    queues:
      billing: {dlq: billing-dql, max_receive_count: 3, replaces: legacy-billing}
      billing-dlq: {}
    topics:
      orders: {replaces: old-orders}
    subscriptions:
      - {topic: ordres, queue: billing}
      - {topic: orders, queue: shipping}
    consumers:
      billing: {queue: billing, receives: [orders, billing-dlq]}
    producers:
      checkout: {publishes: [orders], sends: [orders]}
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (3, "queues.billing.dlq"), (8, "subscriptions[0].topic"), (9, "subscriptions[1].queue"),
        (11, "consumers.billing.receives[1]"), (13, "producers.checkout.sends[0]")]
    dlq, topic, queue, receives, sends = problems
    assert dlq.message == "dead-letter queue 'billing-dql' is not declared in this file"
    assert dlq.fix == "did you mean 'billing-dlq'?"
    assert "did you mean 'orders'?" in topic.fix
    assert queue.fix == "declare it under queues:, or correct the name"
    assert receives.message == "topic received by consumer billing 'billing-dlq' is a queue, not a topic"
    assert sends.message == "queue written by producer checkout 'orders' is a topic, not a queue"


def test_dlq_and_max_receive_count_go_together() -> None:
    text = """\
    version: 1
    queues:
      a: {dlq: b}
      b: {max_receive_count: 4}
      c: {dlq: c, max_receive_count: 2}
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [(3, "queues.a.dlq"), (4, "queues.b.max_receive_count"),
                                                     (5, "queues.c.dlq")]
    assert "needs max_receive_count" in problems[0].message and "1..1000" in problems[0].fix
    assert "without a dlq" in problems[1].message
    assert "its own dead-letter queue" in problems[2].message


def test_redrive_allow_rules() -> None:
    text = """\
    version: 1
    queues:
      a: {redrive_allow: {permission: byQueue}}
      b: {redrive_allow: {permission: allowAll, sources: [a]}}
      c: {redrive_allow: {permission: byQueue, sources: [b, a]}}
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [(3, "queues.a.redrive_allow"),
                                                     (4, "queues.b.redrive_allow.sources")]
    fixed = textwrap.dedent(text).replace("permission: byQueue}", "permission: denyAll}").replace(
        "permission: allowAll, sources: [a]", "permission: allowAll")
    assert loads(fixed).topology.queues["c"].redrive_allow == RedriveAllow("byQueue", ("a", "b"))


def test_fifo_only_attributes_on_standard_resources() -> None:
    text = """\
    version: 1
    queues:
      jobs:
        content_based_deduplication: true
        attributes: {FifoThroughputLimit: perQueue}
    topics:
      orders: {archive_policy: {MessageRetentionPeriod: "3"}}
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (4, "queues.jobs.content_based_deduplication"), (5, "queues.jobs.attributes.FifoThroughputLimit"),
        (7, "topics.orders.archive_policy")]
    assert problems[0].message == ("ContentBasedDeduplication applies only to FIFO queues, and 'jobs' is a "
                                   "standard queue")
    assert "naming it 'jobs.fifo'" in problems[0].fix
    assert "ArchivePolicy applies only to FIFO topics" in problems[2].message


def test_attribute_declared_twice() -> None:
    problem = only_problem("version: 1\nqueues:\n  a:\n    delay: 5\n    attributes: {DelaySeconds: 6}\n")
    assert (problem.line, problem.path) == (5, "queues.a.attributes.DelaySeconds")
    assert "declared twice (also at queues.a.delay)" in problem.message


@pytest.mark.parametrize(("kind", "name", "ok"), [
    ("queues", "a" * 80, True), ("queues", "a" * 81, False), ("queues", "a" * 75 + ".fifo", True),
    ("queues", "a" * 76 + ".fifo", False), ("queues", "orders.v2", False), ("queues", "billing queue", False),
    ("topics", "t" * 256, True), ("topics", "t" * 257, False), ("topics", "t" * 251 + ".fifo", True),
    ("topics", "orders.v2", False), ("queues", "Ok_name-1", True),
])
def test_name_rules(kind: str, name: str, ok: bool) -> None:
    text = f"version: 1\n{kind}:\n  '{name}': {{}}\n"
    if ok:
        loads(text)
        return
    problem = only_problem(text)
    assert problem.line == 3 and "is not a valid" in problem.message and "rename it, e.g." in problem.fix
    if name == "orders.v2":
        assert "'orders-v2'" in problem.fix and "'orders-v2.fifo' if it is meant to be FIFO" in problem.fix


def test_duplicate_subscription_names_both_lines() -> None:
    text = """\
    version: 1
    queues: {billing: {}}
    topics: {orders: {}}
    subscriptions:
      - {topic: orders, queue: billing}
      - {topic: orders, queue: billing, raw: true}
    """
    problem = only_problem(text)
    assert (problem.line, problem.path) == (6, "subscriptions[1]")
    assert "same topic and endpoint as subscriptions[0] (line 5)" in problem.message


def test_subscription_endpoints() -> None:
    text = """\
    version: 1
    queues: {q: {}}
    topics: {t: {}}
    subscriptions:
      - {topic: t, endpoint: "https://hooks.example/x"}
      - {topic: t, endpoint: "http://hooks.example/y", raw: true}
      - {topic: t, endpoint: "mailto:ops@example.com"}
      - {topic: t, endpoint: "arn:aws:sqs:us-east-1:000000000000:q"}
      - {topic: t, queue: q, endpoint: "https://x.example/"}
      - {topic: t}
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (7, "subscriptions[2].endpoint"), (8, "subscriptions[3].endpoint"), (9, "subscriptions[4]"),
        (10, "subscriptions[5]")]
    assert problems[1].fix == "write queue: q"
    valid = "\n".join(textwrap.dedent(text).splitlines()[:6]) + "\n"
    subs = loads(valid).topology.subscriptions
    assert set(subs) == {("t", "https", "https://hooks.example/x"), ("t", "http", "http://hooks.example/y")}
    assert subs[("t", "http", "http://hooks.example/y")].raw is True


def test_filter_policy_is_validated_as_sns_does() -> None:
    text = """\
    version: 1
    queues: {q: {}}
    topics: {t: {}}
    subscriptions:
      - topic: t
        queue: q
        filter_policy: {a: [1], b: [1], c: [1], d: [1], e: [1], f: [1]}
    """
    problem = only_problem(text)
    assert (problem.line, problem.path) == (7, "subscriptions[0].filter_policy")
    assert "SNS would reject this filter policy" in problem.message and "more than 5 keys" in problem.message


def test_check_overrides_need_a_known_id_and_a_reason() -> None:
    text = """\
    version: 1
    queues:
      q:
        checks:
          ORPHAN-QUEU: {severity: off, reason: "batch"}
          NO-DLQ: {severity: off}
          DESTRUCTIVE: {severity: info, reason: "   "}
    checks:
      - {check: MIGRATION-GAP, severity: loud, reason: x}
    """
    problems = problems_of(text)
    assert [(p.line, p.path) for p in problems] == [
        (5, "queues.q.checks.ORPHAN-QUEU"), (6, "queues.q.checks.NO-DLQ"), (7, "queues.q.checks.DESTRUCTIVE"),
        (9, "checks[0].severity")]
    unknown, missing, blank, severity = problems
    assert unknown.message == "unknown check 'ORPHAN-QUEU'" and "did you mean 'ORPHAN-QUEUE'?" in unknown.fix
    assert missing.message == "'reason' is required here" and "why" in missing.fix
    assert "empty reason" in blank.message
    assert "error, warning, info, off" in severity.fix


def test_severity_off_is_not_yaml_false() -> None:
    text = "version: 1\nqueues:\n  q:\n    checks: {NO-DLQ: {severity: off, reason: r}}\n"
    assert loads(text).overrides == (CheckOverride("NO-DLQ", "q", "off", "r"),)


def test_yaml_syntax_error_and_duplicate_keys() -> None:
    syntax = only_problem("version: 1\nqueues:\n  a: {visibility_timeout: 3\n  b: {}\n")
    assert syntax.line is not None and syntax.line >= 3 and "YAML syntax error" in syntax.message
    duplicate = only_problem("version: 1\nqueues:\n  a: {}\n  b: {}\n  a: {delay: 1}\n")
    assert (duplicate.line, duplicate.path) == (5, "queues.a") and "first at line 3" in duplicate.message
    collide = only_problem("version: 1\nvariables: {p: a}\nqueues:\n  ${p}x: {}\n  ax: {}\n")
    assert collide.line == 5 and "after substitution" in collide.message


def test_unquoted_variable_in_a_flow_list_gets_a_quoting_fix() -> None:
    problem = only_problem("version: 1\nconsumers:\n  b: {queue: q, receives: [${p}o]}\n")
    assert problem.line == 3 and "quote values that contain ${…}" in problem.fix


def test_version_and_document_shape() -> None:
    assert "add 'version: 1'" in only_problem("queues: {}\n").fix
    assert "unsupported version 2" in only_problem("version: 2\n").message
    assert only_problem("").message == "the file is empty"
    assert "must be a mapping" in only_problem("- a\n- b\n").message


def test_all_problems_are_collected_in_line_order_and_rendered() -> None:
    text = """\
    version: 1
    queues:
      a: {visibility_timeout: -1}
      b: {dlq: nope, max_receive_count: 2}
      c.fifo: {colour: blue}
    topics:
      t: {content_based_deduplication: true}
    """
    with pytest.raises(SpecError) as caught:
        loads(textwrap.dedent(text), source="infra/postroom.yaml")
    lines = str(caught.value).splitlines()
    assert [p.line for p in caught.value.problems] == [3, 4, 5, 7]
    assert lines[0] == ("infra/postroom.yaml:3: queues.a.visibility_timeout: -1 is outside AWS's range for "
                        "VisibilityTimeout (0..43200) — fix: use a value from 0 to 43200")
    assert lines[1].startswith("infra/postroom.yaml:4: queues.b.dlq: dead-letter queue 'nope' is not declared")
    assert lines[2].startswith("infra/postroom.yaml:5: queues.c.fifo.colour: unknown key 'colour' — fix: ")
    assert lines[3].startswith("infra/postroom.yaml:7: topics.t.content_based_deduplication: ")


def test_yaml_merge_keys_and_anchors() -> None:
    text = """\
    version: 1
    queues:
      a: &defaults {visibility_timeout: 90, tags: {team: x}}
      b:
        <<: *defaults
        delay: 5
    """
    queues = loads(textwrap.dedent(text)).topology.queues
    assert queues["b"].attributes == {"VisibilityTimeout": "90", "DelaySeconds": "5"}
    assert queues["b"].tags == {"team": "x"}


def test_load_reads_a_file_and_reports_its_path(tmp_path: Path) -> None:
    path = tmp_path / "postroom.yaml"
    path.write_text("version: 1\nqueues:\n  a: {dlq: b, max_receive_count: 2}\n")
    with pytest.raises(SpecError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}:3: queues.a.dlq: ")
    with pytest.raises(SpecError, match="cannot read the file"):
        load(tmp_path / "missing.yaml")


def test_the_example_loads_in_both_environments() -> None:
    staging, prod = load(EXAMPLE, env="staging"), load(EXAMPLE, env="prod")
    assert set(staging.topology.topics) == {"stg-orders.fifo", "stg-payments.fifo"}
    assert {t.replaces for t in staging.topology.topics.values()} == {"stg-orders", "stg-payments"}
    assert set(staging.consumers) == {"billing", "shipping", "ledger"}
    assert prod.protected and not staging.protected
    assert len(staging.topology.subscriptions) == len(prod.topology.subscriptions) == 4
    policy = prod.topology.queues["prod-billing.fifo"].attributes["Policy"]
    assert "arn:aws:sns:eu-west-1:123456789012:prod-orders.fifo" in policy
    routes = {(s.topic, s.endpoint) for s in staging.topology.subscriptions.values()}
    for consumer in staging.consumers.values():
        assert all((topic, consumer.queue) in routes for topic in consumer.receives)


def test_broken_resource_still_counts_as_declared() -> None:
    text = """\
    version: 1
    queues:
      dlq: {delay: lots}
      a: {dlq: dlq, max_receive_count: 3}
    """
    problem = only_problem(text)
    assert problem.path == "queues.dlq.delay"


def test_replace_keeps_desired_equal() -> None:
    declared = loads("version: 1\nqueues:\n  new.fifo: {replaces: old}\n")
    assert declared.topology.queues["new.fifo"].desired() == replace(Queue("new.fifo"))


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    from jsonschema import Draft202012Validator

    from postroom.topology.schema import SCHEMA

    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$defs"]["queue"]["additionalProperties"] is False


def test_aws_spellings_point_to_the_files_own_keys() -> None:
    text = """\
    version: 1
    queues:
      a:
        VisibilityTimeout: 3
        attributes: {RedrivePolicy: x}
    topics:
      t: {FifoTopic: true}
    subscriptions:
      - {topic: t, queue: a, RawMessageDelivery: true}
    """
    fixes = [(p.line, p.fix) for p in problems_of(text)]
    assert fixes == [
        (4, "write it as visibility_timeout: (the file's name for VisibilityTimeout)"),
        (5, "declare dlq: <queue> and max_receive_count: <1..1000> on the queue"),
        (7, "a topic is FIFO when its name ends in .fifo"),
        (9, "write it as raw: (the file's name for RawMessageDelivery)"),
    ]


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "postroom.yaml"
    path.write_bytes(b"version: 1\nqueues: {\xff: {}}\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        load(path)
