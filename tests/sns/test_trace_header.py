"""SNS passes the publisher's X-Ray trace header on to SQS subscriptions.

AWS (X-Ray and SNS documentation, "Active tracing in Amazon SNS"): in the default
``TracingConfig=PassThrough`` mode a topic passes on the trace header it received with Publish
(``X-Amzn-Trace-Id``), and an SQS subscriber finds it in the ``AWSTraceHeader`` message system
attribute, the attribute SQS itself keeps for traced sends.
"""

from __future__ import annotations

from typing import Any

from tests.sns.conftest import make_sns, new_topic, receive, subscribe_queue

TRACE = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


def _traced_sns(endpoint: str) -> Any:
    client = make_sns(endpoint)

    def add_header(request: Any, **_: Any) -> None:
        request.headers["X-Amzn-Trace-Id"] = TRACE

    client.meta.events.register("before-sign.sns.*", add_header)
    return client


def test_publish_trace_header_reaches_the_queue_as_aws_trace_header(sns: Any, sqs: Any, sns_server: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic)
    raw_url, _ = subscribe_queue(sns, sqs, topic, raw=True)
    traced = _traced_sns(sns_server.endpoint)
    traced.publish(TopicArn=topic, Message="traced")
    traced.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[{"Id": "1", "Message": "traced batch"}])
    for queue in (url, raw_url):
        got = receive(sqs, queue, 2)
        assert len(got) == 2, got
        assert [m["Attributes"].get("AWSTraceHeader") for m in got] == [TRACE, TRACE]


def test_no_trace_header_without_one_on_publish(sns: Any, sqs: Any) -> None:
    topic = new_topic(sns)
    url, _ = subscribe_queue(sns, sqs, topic)
    sns.publish(TopicArn=topic, Message="untraced")
    (got,) = receive(sqs, url, 1)
    assert "AWSTraceHeader" not in got["Attributes"]
