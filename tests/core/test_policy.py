"""The one resource-policy evaluator (``postroom.core.policy``), rule by rule."""

from __future__ import annotations

import json
from typing import Any

import pytest

from postroom.core.policy import (
    Request,
    account_access,
    account_principal,
    action_match,
    arn_match,
    evaluate,
    parse_policy,
    service_principal,
    sns_delivery,
    sns_delivery_request,
)

OWNER = "111111111111"
OTHER = "222222222222"
QUEUE = f"arn:aws:sqs:us-east-1:{OWNER}:orders"
TOPIC = f"arn:aws:sns:us-east-1:{OTHER}:events"


def doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(**kw: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": OTHER}, "Action": "sqs:SendMessage", "Resource": QUEUE, **kw}


def deny(**kw: Any) -> dict[str, Any]:
    return {**allow(**kw), "Effect": "Deny"}


def req(action: str = "sqs:SendMessage", account: str = OTHER, **kw: Any) -> Request:
    return Request(account_principal(account), (action,), QUEUE, **kw)


def effect(policy: str, request: Request) -> str:
    return evaluate(policy, request).effect


def test_explicit_deny_wins_over_allow_in_any_order() -> None:
    assert effect(doc(allow(), deny()), req()) == "Deny"
    assert effect(doc(deny(), allow()), req()) == "Deny"
    assert effect(doc(allow()), req()) == "Allow"
    assert effect(doc(), req()) == "ImplicitDeny"
    assert effect("not json", req()) == "ImplicitDeny"


@pytest.mark.parametrize(("principal", "matches"), [
    ("*", True),
    ({"AWS": "*"}, True),
    ({"AWS": OTHER}, True),
    ({"AWS": f"arn:aws:iam::{OTHER}:root"}, True),
    ({"AWS": ["333333333333", OTHER]}, True),
    ({"AWS": OWNER}, False),
    ({"AWS": f"arn:aws:iam::{OTHER}:user/alice"}, False),  # a user is not the account's root
    ({"Service": "sns.amazonaws.com"}, False),
])
def test_principal_forms(principal: Any, matches: bool) -> None:
    assert effect(doc(allow(Principal=principal)), req()) == ("Allow" if matches else "ImplicitDeny")


def test_service_principal_and_not_principal() -> None:
    sns = Request(service_principal("sns.amazonaws.com"), ("sqs:SendMessage",), QUEUE)
    assert effect(doc(allow(Principal={"Service": "sns.amazonaws.com"})), sns) == "Allow"
    assert effect(doc(allow(Principal={"Service": ["s3.amazonaws.com"]})), sns) == "ImplicitDeny"
    assert effect(doc(allow(Principal="*")), sns) == "Allow"
    no_p = {k: v for k, v in allow().items() if k != "Principal"}
    assert effect(doc(no_p), req()) == "ImplicitDeny"
    everyone_but = {**no_p, "Effect": "Deny", "NotPrincipal": {"AWS": OWNER}}
    assert effect(doc(allow(), everyone_but), req()) == "Deny"
    assert effect(doc(allow(Principal={"AWS": OWNER}), everyone_but), req(account=OWNER)) == "Allow"


@pytest.mark.parametrize(("pattern", "action", "matches"), [
    ("sqs:SendMessage", "sqs:SendMessage", True),
    ("SQS:SendMessage", "sqs:sendmessage", True),
    ("sqs:*", "sqs:ReceiveMessage", True),
    ("*", "sqs:PurgeQueue", True),
    ("sqs:Send*", "sqs:SendMessage", True),
    ("sqs:Send*", "sqs:ReceiveMessage", False),
    ("sqs:?eceiveMessage", "sqs:ReceiveMessage", True),
    ("sns:*", "sqs:SendMessage", False),
    ("sqs:[S]endMessage", "sqs:SendMessage", False),  # brackets are not special in IAM
])
def test_action_wildcards(pattern: str, action: str, matches: bool) -> None:
    assert action_match(pattern, action) is matches
    assert (effect(doc(allow(Action=[pattern])), req(action)) == "Allow") is matches


def test_not_action_and_aliases() -> None:
    everything_but_purge = {**allow(), "Action": None}
    del everything_but_purge["Action"]
    everything_but_purge["NotAction"] = "sqs:PurgeQueue"
    assert effect(doc(everything_but_purge), req("sqs:ReceiveMessage")) == "Allow"
    assert effect(doc(everything_but_purge), req("sqs:PurgeQueue")) == "ImplicitDeny"
    batch = Request(account_principal(OTHER), ("sqs:SendMessage", "sqs:SendMessageBatch"), QUEUE)
    assert effect(doc(allow(Action="SQS:SendMessageBatch")), batch) == "Allow"


@pytest.mark.parametrize(("resource", "matches"), [
    (QUEUE, True),
    ("*", True),
    (f"arn:aws:sqs:*:{OWNER}:*", True),
    (f"arn:aws:sqs:us-east-1:{OWNER}:ord?rs", True),
    (f"arn:aws:sqs:us-east-1:{OWNER}:ORDERS", False),  # ARNs are case-sensitive
    (f"arn:aws:sqs:us-east-1:{OWNER}:other", False),
    (f"arn:aws:sqs:us-east-1:{OTHER}:orders", False),
    ([f"arn:aws:sqs:us-east-1:{OWNER}:other", QUEUE], True),
])
def test_resource_wildcards(resource: Any, matches: bool) -> None:
    assert effect(doc(allow(Resource=resource)), req()) == ("Allow" if matches else "ImplicitDeny")


def test_absent_resource_matches_and_not_resource() -> None:
    no_r = {k: v for k, v in allow().items() if k != "Resource"}
    assert effect(doc(no_r), req()) == "Allow"
    assert effect(doc({**no_r, "NotResource": QUEUE}), req()) == "ImplicitDeny"
    assert effect(doc({**no_r, "NotResource": QUEUE + "-dlq"}), req()) == "Allow"


def test_arn_match_is_per_component() -> None:
    assert arn_match("arn:aws:sns:*:*:events", TOPIC)
    assert not arn_match("arn:aws:sns:*:events", TOPIC)  # five parts: whole-string, no match
    assert arn_match("arn:aws:sns:us-east-1:*:ev*", TOPIC)
    assert arn_match("arn:aws:sqs:r:1:a:b", "arn:aws:sqs:r:1:a:b")  # the sixth part keeps its colons


def sns_req(topic: str = TOPIC) -> Request:
    return sns_delivery_request(QUEUE, topic)


def sns_allow(cond: dict[str, Any]) -> str:
    return doc(allow(Principal={"Service": "sns.amazonaws.com"}, Condition=cond))


@pytest.mark.parametrize(("cond", "matches"), [
    ({"ArnEquals": {"aws:SourceArn": TOPIC}}, True),
    ({"ArnEquals": {"aws:SourceArn": TOPIC + "2"}}, False),
    ({"ArnEquals": {"aws:SourceArn": "arn:aws:sns:*:*:events"}}, True),  # ArnEquals takes wildcards too
    ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:us-east-1:*:*"}}, True),
    ({"ArnLike": {"aws:SourceArn": "arn:aws:sns:eu-west-1:*:*"}}, False),
    ({"ArnNotEquals": {"aws:SourceArn": TOPIC}}, False),
    ({"ArnNotLike": {"aws:SourceArn": "arn:aws:sns:*:*:other"}}, True),
    ({"StringEquals": {"aws:SourceArn": TOPIC}}, True),
    ({"StringEquals": {"aws:SourceArn": "arn:aws:sns:*:*:events"}}, False),  # no wildcards
    ({"StringLike": {"aws:SourceArn": "*:events"}}, True),
    ({"StringNotEquals": {"aws:SourceAccount": OTHER}}, False),
    ({"StringNotLike": {"aws:SourceAccount": "9*"}}, True),
    ({"StringEqualsIgnoreCase": {"AWS:SOURCEARN": TOPIC.upper()}}, True),  # key names: any case
    ({"StringNotEqualsIgnoreCase": {"aws:SourceArn": TOPIC.upper()}}, False),
    ({"StringEquals": {"aws:SourceAccount": OTHER}}, True),
    ({"StringEquals": {"aws:SourceOwner": [OWNER, OTHER]}}, True),  # values: any of them
    ({"StringEquals": {"aws:SourceAccount": OWNER}}, False),
    ({"StringEquals": {"aws:SourceAccount": OTHER, "aws:SourceArn": TOPIC + "2"}}, False),  # keys: all
    ({"StringEquals": {"aws:SourceAccount": OTHER}, "ArnLike": {"aws:SourceArn": "*:nope"}}, False),  # blocks: all
    ({"StringEquals": {"aws:SourceVpc": "vpc-1"}}, False),  # a key the request lacks: no match
    ({"StringNotEquals": {"aws:SourceVpc": "vpc-1"}}, True),  # … but a negated one holds
    ({"StringEqualsIfExists": {"aws:SourceVpc": "vpc-1"}}, True),
    ({"StringEqualsIfExists": {"aws:SourceAccount": OWNER}}, False),
    ({"Null": {"aws:SourceVpc": "true"}}, True),
    ({"Null": {"aws:SourceArn": "true"}}, False),
    ({"Null": {"aws:SourceArn": "false"}}, True),
    ({"NumericLessThan": {"aws:SourceAccount": "3"}}, False),  # an operator postroom does not know
    ({"ForAnyValue:StringEquals": {"aws:SourceAccount": OTHER}}, False),
])
def test_condition_operators(cond: dict[str, Any], matches: bool) -> None:
    assert effect(sns_allow(cond), sns_req()) == ("Allow" if matches else "ImplicitDeny")


def test_unknown_values_make_the_decision_unknown_unless_settled() -> None:
    unknown = sns_delivery_request(QUEUE, None)  # the topic's ARN is not known yet
    assert effect(sns_allow({"ArnEquals": {"aws:SourceArn": TOPIC}}), unknown) == "Unknown"
    assert effect(doc(allow(Principal={"Service": "sns.amazonaws.com"})), unknown) == "Allow"
    settled = doc(allow(Principal="*", Action="*"), deny(Principal="*", Action="*"))
    assert effect(settled, unknown) == "Deny"
    no_queue = sns_delivery_request(None, TOPIC)
    assert effect(sns_allow({"ArnEquals": {"aws:SourceArn": TOPIC}}), no_queue) == "Unknown"
    assert effect(doc(allow(Principal="*", Resource="*")), no_queue) == "Allow"


def test_parse_is_cached_by_text() -> None:
    text = doc(allow())
    assert parse_policy(text) is parse_policy(text)
    assert parse_policy("[1]") is None


def test_account_access_owner_and_others() -> None:
    policy = doc(allow())
    assert account_access(OWNER, None, account_principal(OWNER), ("sqs:SendMessage",), QUEUE).allowed
    assert account_access(OWNER, doc(), account_principal(OWNER), ("sqs:SendMessage",), QUEUE).allowed
    owner_denied = doc(deny(Principal="*"))
    assert account_access(OWNER, owner_denied, account_principal(OWNER), ("sqs:SendMessage",), QUEUE).explicit_deny
    assert not account_access(OWNER, None, account_principal(OTHER), ("sqs:SendMessage",), QUEUE).allowed
    assert account_access(OWNER, policy, account_principal(OTHER), ("sqs:SendMessage",), QUEUE).allowed
    assert not account_access(OWNER, policy, account_principal(OTHER), ("sqs:ReceiveMessage",), QUEUE).allowed


def test_sns_delivery_same_account_needs_no_allow_but_obeys_deny() -> None:
    own_topic = f"arn:aws:sns:us-east-1:{OWNER}:events"
    assert sns_delivery(None, QUEUE, own_topic).allowed
    assert sns_delivery(doc(allow()), QUEUE, own_topic).allowed  # AWS would refuse: documented
    no_sns = doc(deny(Principal={"Service": "sns.amazonaws.com"}))
    assert sns_delivery(no_sns, QUEUE, own_topic).explicit_deny
    assert not sns_delivery(None, QUEUE, TOPIC).allowed  # another account's topic needs an Allow
    assert sns_delivery(sns_allow({"ArnEquals": {"aws:SourceArn": TOPIC}}), QUEUE, TOPIC).allowed
    assert not sns_delivery(sns_allow({"ArnEquals": {"aws:SourceArn": TOPIC + "x"}}), QUEUE, TOPIC).allowed
