"""TagQueue / UntagQueue / ListQueueTags and AddPermission / RemovePermission."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.api.conftest import arn_of, assert_error, qattrs


def test_tag_untag_list(sqs, queue):
    url = queue()
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}
    sqs.tag_queue(QueueUrl=url, Tags={"a": "1", "b": "2"})
    sqs.tag_queue(QueueUrl=url, Tags={"b": "two", "c": "3"})
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"a": "1", "b": "two", "c": "3"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["a", "not-there"])
    assert sqs.list_queue_tags(QueueUrl=url)["Tags"] == {"b": "two", "c": "3"}
    sqs.untag_queue(QueueUrl=url, TagKeys=["b", "c"])
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def test_tags_on_missing_queue(sqs, server):
    url = f"{server.endpoint}/{server.account_id}/no-such-tagged-queue"
    for call in (lambda: sqs.tag_queue(QueueUrl=url, Tags={"a": "1"}),
                 lambda: sqs.untag_queue(QueueUrl=url, TagKeys=["a"]),
                 lambda: sqs.list_queue_tags(QueueUrl=url)):
        with pytest.raises(ClientError) as ei:
            call()
        assert_error(ei, "QueueDoesNotExist")


def test_too_many_tags(sqs, queue):
    url = queue()
    sqs.tag_queue(QueueUrl=url, Tags={f"k{i}": "v" for i in range(50)})
    with pytest.raises(ClientError) as ei:
        sqs.tag_queue(QueueUrl=url, Tags={"one-more": "v"})
    # AWS documents OverLimit (403) for exceeded limits; InvalidParameterValue (400) is also seen
    assert (ei.value.response["Error"]["Code"], ei.value.response["ResponseMetadata"]["HTTPStatusCode"]) in (
        ("OverLimit", 403), ("InvalidParameterValue", 400))
    assert len(sqs.list_queue_tags(QueueUrl=url)["Tags"]) == 50


def test_tag_key_too_long(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.tag_queue(QueueUrl=url, Tags={"k" * 129: "v"})
    assert_error(ei, "InvalidParameterValue")
    assert sqs.list_queue_tags(QueueUrl=url).get("Tags", {}) == {}


def _statements(sqs, url):
    a = qattrs(sqs, url, "Policy")
    return json.loads(a["Policy"])["Statement"] if "Policy" in a else []


def test_add_and_remove_permission(sqs, queue):
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="send-recv", AWSAccountIds=["111122223333", "444455556666"],
                       Actions=["SendMessage", "ReceiveMessage"])
    sqs.add_permission(QueueUrl=url, Label="all", AWSAccountIds=["111122223333"], Actions=["*"])
    stmts = {s["Sid"]: s for s in _statements(sqs, url)}
    assert set(stmts) == {"send-recv", "all"}
    s = stmts["send-recv"]
    assert s["Effect"] == "Allow"
    assert s["Resource"] == arn_of(sqs, url)
    # AWS: several principals / actions are lists, in request order; one is a plain string
    assert s["Principal"]["AWS"] == ["arn:aws:iam::111122223333:root", "arn:aws:iam::444455556666:root"]
    assert s["Action"] == ["SQS:SendMessage", "SQS:ReceiveMessage"]
    assert stmts["all"]["Principal"]["AWS"] == "arn:aws:iam::111122223333:root"
    assert stmts["all"]["Action"] == "SQS:*"
    sqs.remove_permission(QueueUrl=url, Label="send-recv")
    assert [s["Sid"] for s in _statements(sqs, url)] == ["all"]
    sqs.remove_permission(QueueUrl=url, Label="all")
    assert _statements(sqs, url) == []
    assert "Policy" not in qattrs(sqs, url)  # AWS drops the Policy with its last statement


def test_duplicate_permission_label(sqs, queue):
    url = queue()
    sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["111122223333"], Actions=["SendMessage"])
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="dup", AWSAccountIds=["444455556666"], Actions=["DeleteMessage"])
    assert_error(ei, "InvalidParameterValue")
    assert ei.value.response["Error"]["Message"] == "Value dup for parameter Label is invalid. Reason: Already exists."
    assert len(_statements(sqs, url)) == 1


def test_remove_unknown_permission_label(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.remove_permission(QueueUrl=url, Label="never-added")
    assert_error(ei, "InvalidParameterValue")
    # AWS's words (observed); older answers said "can't find label on existing policy."
    assert ei.value.response["Error"]["Message"] == (
        "Value never-added for parameter Label is invalid. Reason: can't find label.")


def test_add_permission_invalid_action(sqs, queue):
    url = queue()
    with pytest.raises(ClientError) as ei:
        sqs.add_permission(QueueUrl=url, Label="x", AWSAccountIds=["111122223333"], Actions=["Bogus"])
    assert_error(ei, "InvalidParameterValue")
    assert _statements(sqs, url) == []
