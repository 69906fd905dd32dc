"""Topics: CreateTopic, DeleteTopic, ListTopics, topic attributes, tags, permissions, STS."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import REGION, Server
from tests.sns.conftest import assert_sns_error, new_topic, subscribe_queue, unique


def attrs(sns: Any, arn: str) -> dict[str, str]:
    return dict(sns.get_topic_attributes(TopicArn=arn)["Attributes"])


def test_create_topic_arn_and_idempotent(sns: Any, sns_server: Server) -> None:
    name = unique()
    arn = sns.create_topic(Name=name)["TopicArn"]
    assert arn == f"arn:aws:sns:{REGION}:{sns_server.account_id}:{name}"
    assert sns.create_topic(Name=name)["TopicArn"] == arn
    assert sns.create_topic(Name=name, Attributes={})["TopicArn"] == arn


def test_create_topic_with_different_attributes_is_rejected(sns: Any) -> None:
    name = unique()
    sns.create_topic(Name=name, Attributes={"DisplayName": "one"})
    with pytest.raises(ClientError) as ei:
        sns.create_topic(Name=name, Attributes={"DisplayName": "two"})
    assert_sns_error(ei, "InvalidParameter")


def test_create_topic_with_different_tags_is_rejected(sns: Any) -> None:
    name = unique()
    sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "a"}])
    with pytest.raises(ClientError) as ei:
        sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "b"}])
    assert_sns_error(ei, "InvalidParameter")


def test_create_topic_with_policy(sns: Any, sns_server: Server) -> None:
    name = unique()
    arn = f"arn:aws:sns:{REGION}:{sns_server.account_id}:{name}"
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "at-create", "Effect": "Allow", "Principal": "*",
                                                      "Action": "SNS:Publish", "Resource": arn}]}
    assert sns.create_topic(Name=name, Attributes={"Policy": json.dumps(policy)})["TopicArn"] == arn
    got = json.loads(attrs(sns, arn)["Policy"])
    assert [s["Sid"] for s in got["Statement"]] == ["at-create"]


@pytest.mark.parametrize("name", ["", "a" * 257, "has space", "dot.not.fifo", "bad/slash"])
def test_create_topic_invalid_names(sns_raw: Any, name: str) -> None:
    with pytest.raises(ClientError) as ei:
        sns_raw.create_topic(Name=name)
    assert_sns_error(ei, "InvalidParameter")


def test_topic_name_limits_accepted(sns: Any) -> None:
    name = "A-z_0" + "x" * 251
    assert len(name) == 256
    assert sns.create_topic(Name=name)["TopicArn"].endswith(":" + name)


def test_fifo_naming_rules(sns: Any) -> None:
    with pytest.raises(ClientError) as ei:
        sns.create_topic(Name=unique() + ".fifo")  # .fifo name without FifoTopic=true
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.create_topic(Name=unique(), Attributes={"FifoTopic": "true"})  # FIFO without .fifo
    assert_sns_error(ei, "InvalidParameter")
    with pytest.raises(ClientError) as ei:
        sns.create_topic(Name=unique(), Attributes={"ContentBasedDeduplication": "true"})  # standard topic
    assert_sns_error(ei, "InvalidParameter")


def test_default_attributes(sns: Any, sns_server: Server) -> None:
    arn = new_topic(sns)
    a = attrs(sns, arn)
    assert a["TopicArn"] == arn
    assert a["Owner"] == sns_server.account_id
    assert a["DisplayName"] == ""
    assert (a["SubscriptionsConfirmed"], a["SubscriptionsPending"], a["SubscriptionsDeleted"]) == ("0", "0", "0")
    assert "FifoTopic" not in a or a["FifoTopic"] == "false"
    policy = json.loads(a["Policy"])
    assert policy["Version"] == "2008-10-17"
    stmts = policy["Statement"]
    assert stmts and all(s["Resource"] == arn for s in stmts), stmts
    assert stmts[0]["Sid"] == "__default_statement_ID"
    assert stmts[0]["Condition"]["StringEquals"]["AWS:SourceOwner"] == sns_server.account_id
    effective = json.loads(a["EffectiveDeliveryPolicy"])
    retry = effective["http"]["defaultHealthyRetryPolicy"]
    assert (retry["numRetries"], retry["minDelayTarget"], retry["maxDelayTarget"]) == (3, 20, 20)
    assert "DeliveryPolicy" not in a  # only when set


def test_fifo_topic_attributes(sns: Any) -> None:
    arn = new_topic(sns, fifo=True, ContentBasedDeduplication="true")
    a = attrs(sns, arn)
    assert arn.endswith(".fifo")
    assert a["FifoTopic"] == "true"
    assert a["ContentBasedDeduplication"] == "true"
    sns.set_topic_attributes(TopicArn=arn, AttributeName="ContentBasedDeduplication", AttributeValue="false")
    assert attrs(sns, arn)["ContentBasedDeduplication"] == "false"
    b = attrs(sns, new_topic(sns, fifo=True))
    assert b["FifoTopic"] == "true" and b["ContentBasedDeduplication"] == "false"


def test_create_with_attributes_and_set_attributes(sns: Any) -> None:
    dp = {"http": {"defaultHealthyRetryPolicy": {"minDelayTarget": 5, "maxDelayTarget": 5, "numRetries": 7}}}
    arn = new_topic(sns, DisplayName="Shop orders", DeliveryPolicy=json.dumps(dp), SignatureVersion="2")
    a = attrs(sns, arn)
    assert a["DisplayName"] == "Shop orders"
    assert a["SignatureVersion"] == "2"
    assert json.loads(a["DeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]["numRetries"] == 7
    eff = json.loads(a["EffectiveDeliveryPolicy"])["http"]["defaultHealthyRetryPolicy"]
    assert (eff["numRetries"], eff["minDelayTarget"]) == (7, 5)

    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="renamed")
    sns.set_topic_attributes(TopicArn=arn, AttributeName="SignatureVersion", AttributeValue="1")
    a = attrs(sns, arn)
    assert a["DisplayName"] == "renamed"
    assert a["SignatureVersion"] == "1"

    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "mine", "Effect": "Allow", "Principal": "*",
                                                      "Action": "SNS:Publish", "Resource": arn}]}
    sns.set_topic_attributes(TopicArn=arn, AttributeName="Policy", AttributeValue=json.dumps(policy))
    got = json.loads(attrs(sns, arn)["Policy"])
    assert [s["Sid"] for s in got["Statement"]] == ["mine"]


@pytest.mark.parametrize("name,value", [
    ("NoSuchAttribute", "x"),
    ("SignatureVersion", "3"),
    ("DeliveryPolicy", "{not json"),
    ("Policy", "not json"),
    ("FifoTopic", "true"),  # cannot be changed after creation
])
def test_set_topic_attributes_invalid(sns: Any, name: str, value: str) -> None:
    arn = new_topic(sns)
    with pytest.raises(ClientError) as ei:
        sns.set_topic_attributes(TopicArn=arn, AttributeName=name, AttributeValue=value)
    assert_sns_error(ei, "InvalidParameter")


def test_subscription_counts(sns: Any, sqs: Any) -> None:
    arn = new_topic(sns)
    _, s1 = subscribe_queue(sns, sqs, arn)
    subscribe_queue(sns, sqs, arn)
    # an HTTP endpoint stays pending until confirmed (nothing listens on port 9)
    sns.subscribe(TopicArn=arn, Protocol="http", Endpoint="http://127.0.0.1:9/hook")
    a = attrs(sns, arn)
    assert (a["SubscriptionsConfirmed"], a["SubscriptionsPending"]) == ("2", "1")
    sns.unsubscribe(SubscriptionArn=s1)
    a = attrs(sns, arn)
    assert a["SubscriptionsConfirmed"] == "1"
    assert a["SubscriptionsDeleted"].isdigit()


def test_delete_topic(sns: Any, sqs: Any) -> None:
    arn = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, arn)
    sns.delete_topic(TopicArn=arn)
    with pytest.raises(ClientError) as ei:
        sns.get_topic_attributes(TopicArn=arn)
    assert_sns_error(ei, "NotFound", 404)
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=arn, Message="x")
    assert_sns_error(ei, "NotFound", 404)
    with pytest.raises(ClientError) as ei:
        sns.list_subscriptions_by_topic(TopicArn=arn)
    assert_sns_error(ei, "NotFound", 404)
    listed = [s["SubscriptionArn"] for s in sns.list_subscriptions()["Subscriptions"]]
    assert sub not in listed
    assert arn not in [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    # deleting a topic that does not exist is not an error (AWS: DeleteTopic is idempotent)
    sns.delete_topic(TopicArn=arn)


def test_unknown_topic_is_not_found(sns: Any, sns_server: Server) -> None:
    arn = f"arn:aws:sns:{REGION}:{sns_server.account_id}:{unique('nope')}"
    with pytest.raises(ClientError) as ei:
        sns.get_topic_attributes(TopicArn=arn)
    assert_sns_error(ei, "NotFound", 404)
    with pytest.raises(ClientError) as ei:
        sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="x")
    assert_sns_error(ei, "NotFound", 404)


def test_malformed_topic_arn(sns: Any) -> None:
    with pytest.raises(ClientError) as ei:
        sns.get_topic_attributes(TopicArn="not-an-arn")
    assert_sns_error(ei, "InvalidParameter")


def test_list_topics_paging(sns: Any) -> None:
    prefix = unique("page")
    made = {sns.create_topic(Name=f"{prefix}-{i:03d}")["TopicArn"] for i in range(105)}
    seen: list[str] = []
    pages = 0
    kwargs: dict[str, str] = {}
    while True:
        page = sns.list_topics(**kwargs)
        pages += 1
        assert len(page["Topics"]) <= 100
        seen.extend(t["TopicArn"] for t in page["Topics"])
        if "NextToken" not in page:
            break
        assert len(page["Topics"]) == 100, "a page before the last must be full (AWS: 100 per page)"
        kwargs = {"NextToken": page["NextToken"]}
        assert pages < 50
    assert pages >= 2
    assert len(seen) == len(set(seen)), "a topic listed twice across pages"
    assert made <= set(seen)


def test_list_topics_bad_token(sns: Any) -> None:
    with pytest.raises(ClientError) as ei:
        sns.list_topics(NextToken="garbage-token")
    assert_sns_error(ei, "InvalidParameter")


def test_tags(sns: Any, sns_server: Server) -> None:
    name = unique()
    arn = sns.create_topic(Name=name, Tags=[{"Key": "team", "Value": "shop"}, {"Key": "env", "Value": "dev"}])[
        "TopicArn"]

    def tags() -> dict[str, str]:
        return {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}

    assert tags() == {"team": "shop", "env": "dev"}
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "env", "Value": "prod"}, {"Key": "cost", "Value": "42"}])
    assert tags() == {"team": "shop", "env": "prod", "cost": "42"}
    sns.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])
    assert tags() == {"env": "prod", "cost": "42"}
    missing = f"arn:aws:sns:{REGION}:{sns_server.account_id}:{unique('nope')}"
    for call in (lambda: sns.list_tags_for_resource(ResourceArn=missing),
                 lambda: sns.tag_resource(ResourceArn=missing, Tags=[{"Key": "a", "Value": "b"}])):
        with pytest.raises(ClientError) as ei:
            call()
        assert ei.value.response["Error"]["Code"] == "ResourceNotFound", ei.value.response["Error"]
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_too_many_tags(sns: Any) -> None:
    arn = new_topic(sns)
    with pytest.raises(ClientError) as ei:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    err = ei.value.response["Error"]
    assert err["Code"] in ("TagLimitExceeded", "InvalidParameter"), err
    assert sns.list_tags_for_resource(ResourceArn=arn)["Tags"] == []


def test_add_remove_permission(sns: Any) -> None:
    arn = new_topic(sns)
    sns.add_permission(TopicArn=arn, Label="share-publish", AWSAccountId=["111122223333", "444455556666"],
                       ActionName=["Publish", "Subscribe"])
    stmts = json.loads(attrs(sns, arn)["Policy"])["Statement"]
    mine = [s for s in stmts if s["Sid"] == "share-publish"]
    assert len(mine) == 1, stmts
    st = mine[0]
    assert st["Effect"] == "Allow"
    assert st["Resource"] == arn
    principals = st["Principal"]["AWS"]
    principals = [principals] if isinstance(principals, str) else principals
    assert sorted(principals) == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    actions = st["Action"]
    actions = [actions] if isinstance(actions, str) else actions
    assert sorted(actions) == ["SNS:Publish", "SNS:Subscribe"]
    assert any(s["Sid"] == "__default_statement_ID" for s in stmts)

    with pytest.raises(ClientError) as ei:  # the same label twice
        sns.add_permission(TopicArn=arn, Label="share-publish", AWSAccountId=["111122223333"],
                           ActionName=["Publish"])
    assert_sns_error(ei, "InvalidParameter")

    sns.remove_permission(TopicArn=arn, Label="share-publish")
    stmts = json.loads(attrs(sns, arn)["Policy"])["Statement"]
    assert [s for s in stmts if s["Sid"] == "share-publish"] == []
    assert any(s["Sid"] == "__default_statement_ID" for s in stmts)


def test_get_caller_identity(sns_server: Server) -> None:
    sts = boto3.session.Session().client("sts", endpoint_url=sns_server.endpoint, region_name=REGION,
                                         aws_access_key_id="x", aws_secret_access_key="x")
    ident = sts.get_caller_identity()
    assert ident["Account"] == sns_server.account_id
    assert ident["Arn"].startswith(f"arn:aws:iam::{sns_server.account_id}:")
    assert ident["UserId"]
