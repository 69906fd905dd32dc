"""SNS behaviours pinned to what AWS was observed to answer (issue #13, "Fidelity").

The recorded answers come from LocalStack's AWS-validated test suite
(``tests/aws/services/sns/test_sns.py`` and its ``test_sns.snapshot.json``, recorded against
real AWS) unless a test says otherwise; "snapshot <key>" below names the recording.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError

from tests.api.conftest import REGION, Server
from tests.sns.conftest import assert_sns_error, envelope, new_queue, new_topic, receive, subscribe_queue, unique


def _policy(sns: Any, arn: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(sns.get_topic_attributes(TopicArn=arn)["Attributes"]["Policy"])
    return loaded


def _tags(sns: Any, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in sns.list_tags_for_resource(ResourceArn=arn)["Tags"]}


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    err = exc.value.response["Error"]
    return err["Code"], err["Message"], exc.value.response["ResponseMetadata"]["HTTPStatusCode"]


# ---- 1. FIFO topics: SNS's own SequenceNumber ------------------------------------------------
def test_fifo_sequence_number_is_the_topics_own(sns: Any, sqs: Any) -> None:
    """AWS: Publish on a FIFO topic answers SNS's SequenceNumber ("a large, non-consecutive
    number that Amazon SNS assigns to each message", 128 bits, growing per MessageGroupId —
    API Reference › Publish) and the notification envelope carries that same number; the
    message in the subscribed FIFO queue has a SequenceNumber *attribute* of its own, the
    queue's (snapshot test_message_to_fifo_sqs: ``Attributes.SequenceNumber`` is
    ``<sequence-number:1>``, the envelope's ``<sequence-number:2>``;
    test_publish_fifo_messages_to_dlq: publish answer == envelope != queue attribute)."""
    topic = new_topic(sns, fifo=True)
    url, _ = subscribe_queue(sns, sqs, topic, fifo=True)
    published = [sns.publish(TopicArn=topic, Message=f"m{i}", MessageGroupId="g",
                             MessageDeduplicationId=f"d{i}") for i in range(3)]
    seqs = [r["SequenceNumber"] for r in published]
    for s in seqs:
        assert s.isdigit() and len(s) == 20, s
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs) and len(set(seqs)) == 3, seqs
    got = receive(sqs, url, 3)
    assert len(got) == 3
    by_id = {r["MessageId"]: r["SequenceNumber"] for r in published}
    queue_seqs = []
    for m in got:
        env = envelope(m)
        assert env["SequenceNumber"] == by_id[env["MessageId"]], env
        queue_seq = m["Attributes"]["SequenceNumber"]
        assert queue_seq.isdigit() and len(queue_seq) == 20, queue_seq
        queue_seqs.append(queue_seq)
    assert not set(queue_seqs) & set(seqs), (queue_seqs, seqs)


def test_fifo_sequence_numbers_per_topic_and_for_duplicates(sns: Any, sqs: Any) -> None:
    """AWS: each FIFO topic numbers its own messages (its SequenceNumbers grow, whatever other
    topics publish meanwhile), PublishBatch answers a SequenceNumber per entry, and a batch
    sent again inside the deduplication window answers the *same* MessageIds and
    SequenceNumbers as the first time (snapshot test_publish_batch_messages_from_fifo_topic_to_
    fifo_queue: ``republish-batch-response-fifo`` repeats ``<sequence-number:1..3>``)."""
    a = new_topic(sns, fifo=True)
    b = new_topic(sns, fifo=True)
    url, _ = subscribe_queue(sns, sqs, a, fifo=True)
    entries = [{"Id": f"e{i}", "Message": f"a{i}", "MessageGroupId": "g", "MessageDeduplicationId": f"a{i}"}
               for i in range(3)]
    first = sns.publish_batch(TopicArn=a, PublishBatchRequestEntries=entries)
    assert first["Failed"] == []
    b_seq = sns.publish(TopicArn=b, Message="b", MessageGroupId="g", MessageDeduplicationId="b")["SequenceNumber"]
    later = sns.publish(TopicArn=a, Message="a3", MessageGroupId="g", MessageDeduplicationId="a3")
    a_seqs = [int(e["SequenceNumber"]) for e in first["Successful"]] + [int(later["SequenceNumber"])]
    assert a_seqs == sorted(a_seqs) and len(set(a_seqs)) == 4, a_seqs
    assert len(b_seq) == 20
    again = sns.publish_batch(TopicArn=a, PublishBatchRequestEntries=entries)
    assert [(e["Id"], e["MessageId"], e["SequenceNumber"]) for e in again["Successful"]] == [
        (e["Id"], e["MessageId"], e["SequenceNumber"]) for e in first["Successful"]]
    envs = [envelope(m) for m in receive(sqs, url, 4)]
    assert len(envs) == 4, "the repeated batch was delivered again"
    assert sorted(int(e["SequenceNumber"]) for e in envs) == a_seqs


# ---- 2. Unsubscribe ---------------------------------------------------------------------------
def test_unsubscribe_is_idempotent(sns: Any, sqs: Any, sns_server: Server) -> None:
    """AWS: unsubscribing a subscription that is already gone succeeds (snapshots
    test_unsubscribe_idempotency ``unsubscribe-2`` and test_unsubscribe_from_non_existing_
    subscription ``empty-unsubscribe``: HTTP 200), and so does a well-formed ARN of a
    subscription that never existed; the attribute actions answer NotFound "Subscription does
    not exist" (404) for it (snapshot ``sub-not-found``, ``get-attrs-nonexistent-sub``)."""
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    sns.unsubscribe(SubscriptionArn=sub)
    sns.unsubscribe(SubscriptionArn=sub)
    never = f"{topic}:{uuid.uuid4()}"
    sns.unsubscribe(SubscriptionArn=never)
    sns.unsubscribe(SubscriptionArn=f"arn:aws:sns:{REGION}:{sns_server.account_id}:{unique('gone')}:{uuid.uuid4()}")
    assert sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"] == []
    for arn in (sub, never):
        with pytest.raises(ClientError) as ei:
            sns.get_subscription_attributes(SubscriptionArn=arn)
        assert_sns_error(ei, "NotFound", 404, "Subscription does not exist")
        with pytest.raises(ClientError) as ei:
            sns.set_subscription_attributes(SubscriptionArn=arn, AttributeName="RawMessageDelivery",
                                            AttributeValue="true")
        assert_sns_error(ei, "NotFound", 404, "Subscription does not exist")


@pytest.mark.parametrize("arn,message", [
    ("randomstring", "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 1"),
    ("arn:aws:sns:us-east-1:random",
     "Invalid parameter: SubscriptionArn Reason: An ARN must have at least 6 elements, not 5"),
    ("arn:aws:sns:us-east-1:111111111111:random", "Invalid parameter: SubscriptionId"),
    ("", "Invalid parameter: SubscriptionArn Reason: no value for required parameter"),
])
def test_malformed_subscription_arns(sns_raw: Any, arn: str, message: str) -> None:
    """AWS: an Unsubscribe ARN that is no subscription ARN is InvalidParameter with these exact
    messages (snapshot test_unsubscribe_wrong_arn_format ``invalid-unsubscribe-arn-1..4``);
    GetSubscriptionAttributes reads its ARN the same way (snapshot
    test_delete_subscriptions_on_delete_topic: "…at least 6 elements, not 1")."""
    for call in (lambda: sns_raw.unsubscribe(SubscriptionArn=arn),
                 lambda: sns_raw.get_subscription_attributes(SubscriptionArn=arn)):
        with pytest.raises(ClientError) as ei:
            call()
        assert _error(ei) == ("InvalidParameter", message, 400)


def test_subscription_arn_of_another_service(sns: Any) -> None:
    """AWS: GetSubscriptionAttributes of an ARN that is not an SNS subscription's (here an
    ``sqs`` ARN with a subscription-like id) is InvalidParameter "Invalid parameter:
    SubscriptionId" (snapshot test_get_subscription_attributes_error_not_exists, recorded with
    moto's ARN ``arn:aws:sqs:us-east-1:<account>:test-queue:66d97e76-…``)."""
    arn = "arn:aws:sqs:us-east-1:111111111111:test-queue:66d97e76-31e5-444f-8fa7-b60b680d0d39"
    with pytest.raises(ClientError) as ei:
        sns.get_subscription_attributes(SubscriptionArn=arn)
    assert _error(ei) == ("InvalidParameter", "Invalid parameter: SubscriptionId", 400)


# ---- 3. AddPermission / RemovePermission ------------------------------------------------------
def test_add_permission_statement_shapes(sns: Any) -> None:
    """AWS's AddPermission statement: ``Sid`` is the label, ``Effect`` Allow, ``Principal``
    ``{"AWS": "arn:aws:iam::<account>:root"}`` — a string for one account, a list for several
    — ``Action`` ``"SNS:<name>"`` (a string for one, a list for several) and ``Resource`` the
    topic ARN, added after the default statement (API Reference › AddPermission; the statement
    shape moto's test_add_remove_permissions asserts)."""
    arn = new_topic(sns)
    sns.add_permission(TopicArn=arn, Label="one", AWSAccountId=["111122223333"], ActionName=["Publish"])
    sns.add_permission(TopicArn=arn, Label="two", AWSAccountId=["111122223333", "444455556666"],
                       ActionName=["Publish", "Subscribe"])
    stmts = _policy(sns, arn)["Statement"]
    assert [s["Sid"] for s in stmts] == ["__default_statement_ID", "one", "two"]
    assert stmts[1] == {"Sid": "one", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
                        "Action": "SNS:Publish", "Resource": arn}
    assert stmts[2] == {"Sid": "two", "Effect": "Allow",
                        "Principal": {"AWS": ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]},
                        "Action": ["SNS:Publish", "SNS:Subscribe"], "Resource": arn}


def test_add_permission_errors_and_remove_unknown_label(sns: Any, sns_server: Server) -> None:
    """AWS: an action a topic policy cannot grant is InvalidParameter "Invalid parameter:
    Policy statement action out of service scope!" (the error AWS users report for ``sns:*``
    in a topic policy); a label already used is InvalidParameter ("Statement already exists");
    a missing topic is NotFound "Topic does not exist" (404); removing a label no statement has
    succeeds and changes nothing (moto's test_add_remove_permissions: "deleting non existing
    permission should be successful"). A refused AddPermission leaves the policy as it was."""
    arn = new_topic(sns)
    sns.add_permission(TopicArn=arn, Label="mine", AWSAccountId=["111122223333"], ActionName=["Publish"])
    before = _policy(sns, arn)
    for actions in (["CreateTopic"], ["Publish", "*"], ["ListTopics"]):
        with pytest.raises(ClientError) as ei:
            sns.add_permission(TopicArn=arn, Label="other", AWSAccountId=["111122223333"], ActionName=actions)
        assert _error(ei) == ("InvalidParameter", "Invalid parameter: Policy statement action out of service scope!",
                              400)
    with pytest.raises(ClientError) as ei:
        sns.add_permission(TopicArn=arn, Label="mine", AWSAccountId=["444455556666"], ActionName=["Subscribe"])
    assert_sns_error(ei, "InvalidParameter", 400, "Statement already exists")
    assert _policy(sns, arn) == before
    sns.remove_permission(TopicArn=arn, Label="no-such-label")
    assert _policy(sns, arn) == before
    missing = f"arn:aws:sns:{REGION}:{sns_server.account_id}:{unique('nope')}"
    with pytest.raises(ClientError) as ei:
        sns.add_permission(TopicArn=missing, Label="x", AWSAccountId=["111122223333"], ActionName=["Publish"])
    assert_sns_error(ei, "NotFound", 404, "Topic does not exist")
    with pytest.raises(ClientError) as ei:
        sns.remove_permission(TopicArn=missing, Label="x")
    assert_sns_error(ei, "NotFound", 404, "Topic does not exist")


# ---- 4. tags ----------------------------------------------------------------------------------
def test_tag_resource_refuses_duplicate_keys(sns: Any) -> None:
    """AWS: TagResource naming a key twice is InvalidParameter "Invalid parameter: Duplicated
    keys are not allowed." (snapshot test_tags ``duplicate-key-error``), and tags nothing."""
    arn = new_topic(sns)
    with pytest.raises(ClientError) as ei:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"},
                                                {"Key": "k2", "Value": "v2"}])
    assert _error(ei) == ("InvalidParameter", "Invalid parameter: Duplicated keys are not allowed.", 400)
    assert _tags(sns, arn) == {}
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k1", "Value": "v1"}, {"Key": "k2", "Value": "v2"}])
    assert _tags(sns, arn) == {"k1": "v1", "k2": "v2"}


def test_create_topic_again_with_a_subset_of_its_tags(sns: Any) -> None:
    """AWS: CreateTopic with an existing name returns that topic when every tag given is one
    it has — the same tags, a subset, or none (snapshot test_create_duplicate_topic_check_
    idempotency: the same ARN three times); a tag it lacks, or holds with another value, is
    InvalidParameter "Invalid parameter: Tags Reason: Topic already exists with different
    tags" (snapshot test_create_duplicate_topic_with_more_tags). The tags never change."""
    name = unique()
    tags = [{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]
    arn = sns.create_topic(Name=name, Tags=tags)["TopicArn"]
    for again in (tags, [tags[0]], [tags[1]], []):
        assert sns.create_topic(Name=name, Tags=again)["TopicArn"] == arn, again
    extra = {"Key": "c", "Value": "3"}
    for different in ([extra], [{"Key": "a", "Value": "other"}], [*tags, extra]):
        with pytest.raises(ClientError) as ei:
            sns.create_topic(Name=name, Tags=different)
        assert _error(ei) == ("InvalidParameter",
                              "Invalid parameter: Tags Reason: Topic already exists with different tags", 400)
    assert _tags(sns, arn) == {"a": "1", "b": "2"}
    bare = unique()
    sns.create_topic(Name=bare)
    with pytest.raises(ClientError) as ei:
        sns.create_topic(Name=bare, Tags=[{"Key": "key1", "Value": "value1"}])
    assert _error(ei)[0] == "InvalidParameter"


def test_tag_limit(sns: Any) -> None:
    """AWS: a topic holds at most 50 tags (Developer Guide › "Amazon SNS tags"), also when
    CreateTopic gives them; going past is TagLimitExceeded "Could not complete request: tag
    quota of per resource exceeded" (botocore's SNS model: HTTP 400), and the tags stay as
    they were."""
    arn = new_topic(sns)
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert len(_tags(sns, arn)) == 50
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "k0", "Value": "changed"}])  # replacing is not adding
    with pytest.raises(ClientError) as ei:
        sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "one-more", "Value": "v"}])
    assert_sns_error(ei, "TagLimitExceeded", 400, "tag quota")
    got = _tags(sns, arn)
    assert len(got) == 50 and got["k0"] == "changed" and "one-more" not in got
    name = unique()
    with pytest.raises(ClientError) as ei:  # CreateTopic holds its tags to the same limit
        sns.create_topic(Name=name, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)])
    assert_sns_error(ei, "TagLimitExceeded", 400)
    with pytest.raises(ClientError) as ei:
        sns.get_topic_attributes(TopicArn=arn.rsplit(":", 1)[0] + ":" + name)
    assert_sns_error(ei, "NotFound", 404)


# ---- 5. not-found and malformed-parameter errors ------------------------------------------------
def test_not_found_errors(sns: Any, sqs: Any, sns_server: Server) -> None:
    """AWS: a well-formed ARN of no topic is NotFound "Topic does not exist" (404) for
    GetTopicAttributes, SetTopicAttributes, Subscribe, Publish and PublishBatch (snapshots
    ``get-attrs-nonexistent-topic``, ``non-existent-topic``, test_unknown_topic_publish
    ``error``, ``publish-batch-no-topic``); DeleteTopic of it succeeds (snapshot
    test_delete_topic_idempotency)."""
    missing = f"arn:aws:sns:{REGION}:{sns_server.account_id}:{unique('nope')}"
    _, qarn = new_queue(sqs)
    calls = [
        lambda: sns.get_topic_attributes(TopicArn=missing),
        lambda: sns.set_topic_attributes(TopicArn=missing, AttributeName="DisplayName", AttributeValue="x"),
        lambda: sns.subscribe(TopicArn=missing, Protocol="sqs", Endpoint=qarn),
        lambda: sns.publish(TopicArn=missing, Message="m"),
        lambda: sns.publish_batch(TopicArn=missing, PublishBatchRequestEntries=[{"Id": "1", "Message": "m"}]),
        lambda: sns.list_subscriptions_by_topic(TopicArn=missing),
    ]
    for call in calls:
        with pytest.raises(ClientError) as ei:
            call()
        assert _error(ei) == ("NotFound", "Topic does not exist", 404)
    sns.delete_topic(TopicArn=missing)


def test_subscribe_sqs_endpoint_errors(sns: Any, sqs: Any, sns_server: Server) -> None:
    """AWS: an ``sqs`` subscription's Endpoint must be a queue ARN — a queue URL is
    InvalidParameter "Invalid parameter: SQS endpoint ARN" (snapshot
    test_subscribe_sqs_queue_url ``subscribe-sqs-via-url-error``) — but the queue need not
    exist: subscribing a well-formed ARN of no queue succeeds (snapshot
    test_subscribe_unknown_sqs_queue ``subscribe-unknown-sqs``)."""
    topic = new_topic(sns)
    url, _ = new_queue(sqs)
    with pytest.raises(ClientError) as ei:
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=url)
    assert _error(ei) == ("InvalidParameter", "Invalid parameter: SQS endpoint ARN", 400)
    ghost = f"arn:aws:sqs:{REGION}:{sns_server.account_id}:{unique('noq')}"
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=ghost)["SubscriptionArn"]
    assert sub.startswith(topic + ":")


def test_delete_topic_malformed_arn(sns_raw: Any) -> None:
    """AWS reads DeleteTopic's TopicArn like every other action's: "randomstring" is
    InvalidParameter "…at least 6 elements, not 1" (the rule of snapshot
    get-attrs-malformed-topic), while a well-formed ARN of no topic succeeds (snapshot
    test_delete_non_existent_topic)."""
    with pytest.raises(ClientError) as ei:
        sns_raw.delete_topic(TopicArn="randomstring")
    assert _error(ei) == ("InvalidParameter",
                          "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1", 400)


def test_confirm_subscription_errors(sns: Any, sns_server: Server) -> None:
    """AWS ConfirmSubscription: a well-formed ARN of no topic is InvalidParameter "Invalid
    parameter: Token" (not NotFound), a token that is not hexadecimal is "Invalid token", an
    unknown hexadecimal token is "Invalid parameter: Token" (snapshot
    test_sns_confirm_subscription_wrong_token ``topic-not-exists``, ``invalid-token``,
    ``token-not-exists``), and a TopicArn that is no ARN is "Invalid parameter: Topic"
    (snapshot test_subscribe_external_http_endpoint ``broken-topic-arn-confirm``, sent as the
    SubscribeURL's GET; the SDK call is answered alike)."""
    topic = new_topic(sns)
    token = "51b2ff3edb475b7d91550e0ab6edf0c1de2a34e6ebaf6c2262a001bcb7e051c4"
    cases = [
        (topic[:-1] + "i", token, "Invalid parameter: Token"),
        (topic, "randomtoken", "Invalid token"),
        (topic, token, "Invalid parameter: Token"),
        ("not-an-arn", token, "Invalid parameter: Topic"),
    ]
    for arn, tok, message in cases:
        with pytest.raises(ClientError) as ei:
            sns.confirm_subscription(TopicArn=arn, Token=tok)
        assert _error(ei) == ("InvalidParameter", message, 400), (arn, tok)
    r = requests.get(sns_server.endpoint + "/", params={"Action": "ConfirmSubscription", "TopicArn": "not-an-arn",
                                                       "Token": "abc123"}, timeout=10)
    assert r.status_code == 400 and "<Code>InvalidParameter</Code>" in r.text, r.text
    assert "Invalid parameter: Topic" in r.text, r.text


@pytest.mark.parametrize("arn,elements", [("randomstring", 1), ("randomstring:1", 2),
                                          ("arn:aws:sns:us-east-1:random", 5)])
def test_topic_arn_with_too_few_elements(sns_raw: Any, arn: str, elements: int) -> None:
    """AWS: a TopicArn that is no ARN is InvalidParameter "Invalid parameter: TopicArn Reason:
    An ARN must have at least 6 elements, not <n>" (snapshots test_publish_wrong_arn_format,
    ``get-attrs-malformed-topic``, test_subscribe_with_invalid_topic)."""
    message = f"Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not {elements}"
    calls = [lambda: sns_raw.publish(TopicArn=arn, Message="m"),
             lambda: sns_raw.get_topic_attributes(TopicArn=arn),
             lambda: sns_raw.subscribe(TopicArn=arn, Protocol="sqs",
                                       Endpoint="arn:aws:sqs:us-east-1:000000000000:q")]
    for call in calls:
        with pytest.raises(ClientError) as ei:
            call()
        assert _error(ei) == ("InvalidParameter", message, 400)


def test_publish_to_an_empty_topic_arn(sns_raw: Any) -> None:
    """AWS: Publish with ``TopicArn=""`` is "…at least 6 elements, not 1" (snapshot
    test_publish_wrong_arn_format ``empty-topic``)."""
    with pytest.raises(ClientError) as ei:
        sns_raw.publish(TopicArn="", Message="m")
    assert _error(ei) == ("InvalidParameter",
                          "Invalid parameter: TopicArn Reason: An ARN must have at least 6 elements, not 1", 400)


@pytest.mark.parametrize("name", ["", "a" * 257, "bad:name", "bad;name", "bad!name", "bad@name", "bad|name",
                                  "bad^name", "bad%name", "bad name"])
def test_topic_name_constraints(sns_raw: Any, name: str) -> None:
    """AWS: a standard topic's bad name is InvalidParameter "Invalid parameter: Topic Name"
    (snapshot test_create_topic_name_constraints: too short, too long, ``: ; ! @ | ^ %`` and
    space); 256 characters are accepted (``valid-name-max-length``)."""
    with pytest.raises(ClientError) as ei:
        sns_raw.create_topic(Name=name)
    assert _error(ei) == ("InvalidParameter", "Invalid parameter: Topic Name", 400)


def test_topic_name_of_256_characters(sns: Any) -> None:
    """AWS: 256 characters is the longest valid topic name (snapshot valid-name-max-length)."""
    name = ("n" + uuid.uuid4().hex) * 8
    assert sns.create_topic(Name=name[:256])["TopicArn"].endswith(":" + name[:256])


# ---- 6. PublishBatch: what fails the whole request ----------------------------------------------
def _bad_batches() -> list[tuple[list[dict[str, Any]], str, str]]:
    return [
        ([{"Id": "1", "Message": "no group"}], "InvalidParameter",
         "Invalid parameter: The MessageGroupId parameter is required for FIFO topics"),
        ([{"Id": "1", "Message": "no dedup", "MessageGroupId": "msg1"}], "InvalidParameter",
         "Invalid parameter: The topic should either have ContentBasedDeduplication enabled or "
         "MessageDeduplicationId provided explicitly"),
        ([{"Id": "ok", "Message": "fine", "MessageGroupId": "g", "MessageDeduplicationId": "d1"},
          {"Id": "1", "Message": json.dumps({"sqs": "test sqs"}), "MessageStructure": "json", "MessageGroupId": "g",
           "MessageDeduplicationId": "d2"}], "InvalidParameter",
         "Invalid parameter: Message Structure - No default entry in JSON message body"),
    ]


def test_publish_batch_entry_errors_fail_the_whole_request(sns_raw: Any, sqs: Any) -> None:
    """AWS: a PublishBatch entry breaking a rule — no MessageGroupId on a FIFO topic, no
    deduplication id without ContentBasedDeduplication, a JSON structure without ``default`` —
    refuses the whole request with that entry's error (snapshot test_publish_batch_exceptions
    ``no-group-id``, ``no-dedup-id``, ``no-default-key-json``); nothing is published, not even
    the valid entries."""
    topic = new_topic(sns_raw, fifo=True)
    url, _ = subscribe_queue(sns_raw, sqs, topic, fifo=True, raw=True)
    for entries, code, message in _bad_batches():
        with pytest.raises(ClientError) as ei:
            sns_raw.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        assert _error(ei) == (code, message, 400)
    assert receive(sqs, url, 1, timeout=1.0) == []


def test_publish_batch_bad_attributes_fail_the_whole_request(sns: Any, sqs: Any) -> None:
    """AWS: a batch of two entries with bad message attributes and one valid entry is refused
    as a whole with ParameterValueInvalid (test_empty_or_wrong_message_attributes
    ``batch-exception``; ``batch-missing_string_attr``: "The message attribute 'attr1' must
    contain non-empty message attribute value for message attribute type 'String'.")."""
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    with pytest.raises(ClientError) as ei:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "1", "Message": "test-batch", "MessageAttributes": {"attr1": {"DataType": "String",
                                                                                 "StringValue": ""}}},
            {"Id": "2", "Message": "test-batch", "MessageAttributes": {"attr1": {"DataType": "String",
                                                                                 "BinaryValue": b"123"}}},
            {"Id": "3", "Message": "valid-batch"},
        ])
    assert _error(ei) == ("ParameterValueInvalid", "The message attribute 'attr1' must contain non-empty message "
                          "attribute value for message attribute type 'String'.", 400)
    with pytest.raises(ClientError) as ei:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "1", "Message": "valid"}, {"Id": "2", "Message": "x", "Subject": ""}])
    assert _error(ei) == ("InvalidParameter", "Invalid parameter: Subject", 400)
    assert receive(sqs, url, 1, timeout=1.0) == []
    ok = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "a", "Message": "x"}])
    assert ok["Failed"] == [] and [e["Id"] for e in ok["Successful"]] == ["a"]


def test_publish_batch_one_oversized_entry_is_batch_request_too_long(sns: Any) -> None:
    """AWS: a single PublishBatch entry over 256 KiB is BatchRequestTooLong "The length of all
    the messages put together is more than the limit." — the batch's size is checked before
    the entries (snapshot test_publish_batch_too_long_message ``error-no-attrs``), where
    Publish says "Invalid parameter: Message too long" (``test_publish_too_long_message``)."""
    topic = new_topic(sns)
    message = "This is a test message" * 12000
    with pytest.raises(ClientError) as ei:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "1", "Message": message}])
    assert _error(ei) == ("BatchRequestTooLong", "The length of all the messages put together is more than the limit.",
                          400)
    with pytest.raises(ClientError) as ei:
        sns.publish(TopicArn=topic, Message=message)
    assert _error(ei) == ("InvalidParameter", "Invalid parameter: Message too long", 400)


def test_publish_batch_request_errors(sns_raw: Any) -> None:
    """AWS: more than ten entries is TooManyEntriesInBatchRequest "The batch request contains
    more entries than permissible."; two entries of one Id is BatchEntryIdsNotDistinct "Two or
    more batch entries in the request have the same Id." (snapshot test_publish_batch_exceptions
    ``too-many-msg``, ``same-msg-id``); no entry is EmptyBatchRequest (API Reference ›
    PublishBatch, Errors)."""
    topic = new_topic(sns_raw, fifo=True)
    cases = [
        ([{"Id": f"Id_{i}", "Message": "Too many messages"} for i in range(11)], "TooManyEntriesInBatchRequest",
         "The batch request contains more entries than permissible."),
        ([{"Id": "1", "Message": "Messages with the same ID"} for _ in range(2)], "BatchEntryIdsNotDistinct",
         "Two or more batch entries in the request have the same Id."),
    ]
    for entries, code, message in cases:
        with pytest.raises(ClientError) as ei:
            sns_raw.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
        assert _error(ei) == (code, message, 400)
    with pytest.raises(ClientError) as ei:
        sns_raw.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[])
    assert_sns_error(ei, "EmptyBatchRequest", 400)


# ---- 7. the caller's identity -----------------------------------------------------------------
def test_subscription_principal_is_the_callers_iam_user(sns: Any, sqs: Any, sns_server: Server) -> None:
    """AWS: GetSubscriptionAttributes' ``SubscriptionPrincipal`` is the IAM principal that
    subscribed, ``arn:aws:iam::<account>:user/<name>`` (every recorded snapshot, e.g.
    test_subscribe_sqs_queue: ``arn:<partition>:iam::111111111111:user/<resource:3>``), and STS
    GetCallerIdentity answers the same ARN for the same credentials, with the account and an
    IAM user id (``AIDA…``, IAM User Guide › "Unique identifiers")."""
    topic = new_topic(sns)
    _, sub = subscribe_queue(sns, sqs, topic)
    principal = sns.get_subscription_attributes(SubscriptionArn=sub)["Attributes"]["SubscriptionPrincipal"]
    assert principal.startswith(f"arn:aws:iam::{sns_server.account_id}:user/"), principal
    assert len(principal) > len(f"arn:aws:iam::{sns_server.account_id}:user/")
    sts = boto3.session.Session().client("sts", endpoint_url=sns_server.endpoint, region_name=REGION,
                                         aws_access_key_id="x", aws_secret_access_key="x")
    ident = sts.get_caller_identity()
    assert ident["Arn"] == principal
    assert ident["Account"] == sns_server.account_id
    assert re.fullmatch(r"AIDA[A-Z0-9]{17}", ident["UserId"]), ident
