"""A bounded, property-based variant of bench/fuzz.py that runs with the tests: arbitrary JSON
values in every member of SendMessageBatch, ReceiveMessage and SetQueueAttributes, and arbitrary
query parameters, are answered with a 2xx or a 4xx, never a 5xx; an untouched queue is unchanged."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Server
from tests.hostile.conftest import post_form, post_json, unique

TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40)  # lone surrogates too
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | TEXT
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
                      max_leaves=12)


def _entry() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({"Id": TEXT | VALUES, "MessageBody": TEXT | VALUES}, optional={
        "DelaySeconds": VALUES, "MessageAttributes": st.dictionaries(TEXT, VALUES, max_size=3) | VALUES,
        "MessageGroupId": VALUES, "MessageDeduplicationId": VALUES, "MessageSystemAttributes": VALUES})


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _sentinel(sqs: Any) -> tuple[str, dict[str, str]]:
    url = sqs.create_queue(QueueName=unique("sentinel"))["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="keep")
    return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def test_arbitrary_json_members_are_never_a_5xx(server: Server, sqs: Any) -> None:
    target = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sentinel, before = _sentinel(sqs)

    @SETTINGS
    @given(action=st.sampled_from(["SendMessageBatch", "ReceiveMessage", "SetQueueAttributes", "SendMessage"]),
           entries=st.lists(_entry(), max_size=11) | VALUES, extra=st.dictionaries(TEXT, VALUES, max_size=3),
           attrs=st.dictionaries(st.sampled_from(["Policy", "RedrivePolicy", "VisibilityTimeout", "DelaySeconds",
                                                  "RedriveAllowPolicy", "FifoQueue", "x"]), VALUES | TEXT,
                                 max_size=3))
    def check(action: str, entries: Any, extra: dict[str, Any], attrs: dict[str, Any]) -> None:
        body: dict[str, Any] = {**extra, "QueueUrl": target}
        if action == "SendMessageBatch":
            body["Entries"] = entries
        elif action == "SetQueueAttributes":
            body["Attributes"] = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in attrs.items()}
        elif action == "SendMessage":
            first = entries[0] if isinstance(entries, list) and entries else None
            body.update(first if isinstance(first, dict) else {"MessageBody": entries})
        else:
            body.update({"MaxNumberOfMessages": entries, "WaitTimeSeconds": 0})
        r = post_json(server, action, json.dumps(body))
        assert r.status_code < 500, (action, body, r.text[:300])

    check()
    assert sqs.get_queue_attributes(QueueUrl=sentinel, AttributeNames=["All"])["Attributes"] == before


def test_arbitrary_query_parameters_are_never_a_5xx(server: Server, sqs: Any) -> None:
    target = sqs.create_queue(QueueName=unique())["QueueUrl"]
    sentinel, before = _sentinel(sqs)
    keys = st.sampled_from(["MessageBody", "Entries.1.Id", "SendMessageBatchRequestEntry.1.MessageBody",
                            "MessageAttribute.1.Name", "MessageAttribute.1.Value.DataType",
                            "MessageAttribute.1.Value.StringValue", "Attribute.1.Name", "Attribute.1.Value",
                            "MaxNumberOfMessages", "Tag.1.Key", "AttributeName.1", "DelaySeconds"]) | TEXT

    @SETTINGS
    @given(action=st.sampled_from(["SendMessage", "SendMessageBatch", "SetQueueAttributes", "ReceiveMessage",
                                   "TagQueue", "Publish", "Subscribe", "CreateTopic"]),
           params=st.lists(st.tuples(keys, TEXT), max_size=8),
           raw=st.binary(max_size=20))
    def check(action: str, params: list[tuple[str, str]], raw: bytes) -> None:
        parts = [f"Action={action}", f"QueueUrl={quote(target, safe='')}"]
        parts += [quote(k.encode("utf-8", "surrogatepass"), safe="") + "="
                  + quote(v.encode("utf-8", "surrogatepass"), safe="") for k, v in params]
        body = "&".join(parts).encode() + b"&X=" + raw
        r = post_form(server, body, service="sns" if action in ("Publish", "Subscribe", "CreateTopic") else "sqs")
        assert r.status_code < 500, (action, body[:300], r.text[:300])

    check()
    assert sqs.get_queue_attributes(QueueUrl=sentinel, AttributeNames=["All"])["Attributes"] == before
