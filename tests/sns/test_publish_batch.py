"""PublishBatch: per-entry results, and the errors that reject the whole batch (on AWS, every
invalid entry rejects the whole batch)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.sns.conftest import assert_sns_error, envelope, new_topic, receive, subscribe_queue


def test_batch_success(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic)
    entries = [{"Id": f"id-{i}", "Message": f"m{i}", "Subject": f"s{i}",
                "MessageAttributes": {"n": {"DataType": "Number", "StringValue": str(i)}}} for i in range(10)]
    r = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert r.get("Failed", []) == []
    assert sorted(e["Id"] for e in r["Successful"]) == sorted(e["Id"] for e in entries)
    ids = {e["Id"]: e["MessageId"] for e in r["Successful"]}
    assert len(set(ids.values())) == 10
    envs = [envelope(m) for m in receive(sqs, url, 10)]
    assert len(envs) == 10
    for env in envs:
        i = int(env["Message"][1:])
        assert env["MessageId"] == ids[f"id-{i}"]
        assert env["Subject"] == f"s{i}"
        assert env["MessageAttributes"] == {"n": {"Type": "Number", "Value": str(i)}}


@pytest.mark.parametrize("bad", [
    {"Id": "empty", "Message": ""},
    {"Id": "badattr", "Message": "x", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "NaN-ish"}}},
])
def test_a_bad_entry_refuses_the_whole_batch(sns: Any, sqs: Any, bad: dict[str, Any]) -> None:
    """AWS refuses a batch with an invalid entry as a whole, with that entry's error; no entry is
    published and nothing is reported in ``Failed`` (LocalStack's AWS-validated
    test_publish_batch_exceptions and test_empty_or_wrong_message_attributes)."""
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    with pytest.raises(ClientError) as ei:
        sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
            {"Id": "ok1", "Message": "fine"}, bad, {"Id": "ok2", "Message": "also fine"}])
    assert ei.value.response["Error"]["Code"] in ("InvalidParameter", "ParameterValueInvalid"), ei.value.response
    assert receive(sqs, url, 1, timeout=1.0) == []


def test_batch_to_missing_topic(sns: Any, sns_server: Any) -> None:
    with pytest.raises(ClientError) as ei:
        sns.publish_batch(TopicArn=f"arn:aws:sns:us-east-1:{sns_server.account_id}:no-such-topic-x1",
                          PublishBatchRequestEntries=[{"Id": "a", "Message": "m"}])
    assert_sns_error(ei, "NotFound", 404)


@pytest.mark.parametrize("entries,code", [
    ([], "EmptyBatchRequest"),
    ([{"Id": f"i{i}", "Message": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
    ([{"Id": "dup", "Message": "a"}, {"Id": "dup", "Message": "b"}], "BatchEntryIdsNotDistinct"),
    ([{"Id": "a", "Message": "x" * 200_000}, {"Id": "b", "Message": "y" * 100_000}], "BatchRequestTooLong"),
    ([{"Id": "bad id!", "Message": "m"}], "InvalidBatchEntryId"),
    ([{"Id": "x" * 81, "Message": "m"}], "InvalidBatchEntryId"),
])
def test_batch_errors(sns_raw: Any, sqs: Any, entries: list[dict[str, Any]], code: str) -> None:
    topic = new_topic(sns_raw)
    url, _ = subscribe_queue(sns_raw, sqs, topic)
    with pytest.raises(ClientError) as ei:
        sns_raw.publish_batch(TopicArn=topic, PublishBatchRequestEntries=entries)
    assert_sns_error(ei, code)
    assert receive(sqs, url, 1, timeout=1.0) == [], "a rejected batch delivered something"
