"""kill -9 right after Publish returned: every acknowledged publish is delivered to every
subscribed queue after a restart on the same data (same data dir / same PostgreSQL schema)."""

from __future__ import annotations

import json
import threading

from tests.api.conftest import Server, make_client
from tests.sns.conftest import (
    envelope,
    make_sns,
    new_topic,
    receive,
    sub_counts,
    subscribe_queue,
    wait_for_value,
)
from tests.sns.receiver import Receiver


def test_kill9_after_publish(fresh_sns_server: Server) -> None:
    srv = fresh_sns_server
    sns, sqs = make_sns(srv.endpoint), make_client(srv.endpoint)
    topic = new_topic(sns)
    fifo_topic = new_topic(sns, fifo=True)
    queues = [subscribe_queue(sns, sqs, topic)[0] for _ in range(2)]
    raw_q, _ = subscribe_queue(sns, sqs, topic, raw=True)
    fifo_q, _ = subscribe_queue(sns, sqs, fifo_topic, fifo=True, raw=True)
    acked: list[str] = []
    fifo_acked: list[str] = []
    lock = threading.Lock()

    def publisher(k: int) -> None:
        client = make_sns(srv.endpoint)
        for i in range(15):
            body = f"p{k}-{i}"
            client.publish(TopicArn=topic, Message=body)
            with lock:
                acked.append(body)

    threads = [threading.Thread(target=publisher, args=(k,)) for k in range(3)]
    for t in threads:
        t.start()
    for i in range(10):
        sns.publish(TopicArn=fifo_topic, Message=f"f{i}", MessageGroupId="g", MessageDeduplicationId=f"d{i}")
        fifo_acked.append(f"f{i}")
    for t in threads:
        t.join(60)
    last = sns.publish_batch(TopicArn=topic, PublishBatchRequestEntries=[
        {"Id": str(i), "Message": f"batch-{i}"} for i in range(5)])
    assert last.get("Failed", []) == []
    acked.extend(f"batch-{i}" for i in range(5))
    srv.kill9()  # straight after the last acknowledgement
    srv.start()
    sns, sqs = make_sns(srv.endpoint), make_client(srv.endpoint)
    for url in queues:
        got = sorted(envelope(m)["Message"] for m in receive(sqs, url, len(acked), timeout=20))
        assert got == sorted(acked), f"{url}: missing {sorted(set(acked) - set(got))}"
    got_raw = sorted(m["Body"] for m in receive(sqs, raw_q, len(acked), timeout=20))
    assert got_raw == sorted(acked)
    assert [m["Body"] for m in receive(sqs, fifo_q, len(fifo_acked), timeout=20)] == fifo_acked
    # topics and subscriptions survived too, and keep working
    sns.publish(TopicArn=topic, Message="after restart")
    assert [m["Body"] for m in receive(sqs, raw_q, 1)] == ["after restart"]


def test_kill9_keeps_http_outbox(fresh_sns_server: Server) -> None:
    """An HTTP delivery not yet made when the server died is made after the restart."""
    srv = fresh_sns_server
    sns = make_sns(srv.endpoint)
    receiver = Receiver()
    try:
        topic = new_topic(sns)
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=receiver.url(), Attributes={
            "DeliveryPolicy": json.dumps({"healthyRetryPolicy": {"numRetries": 3, "minDelayTarget": 1,
                                                                 "maxDelayTarget": 1}})})
        [(_, _, body, _)] = receiver.wait_for("SubscriptionConfirmation")
        sub = sns.confirm_subscription(TopicArn=topic, Token=json.loads(body)["Token"])["SubscriptionArn"]
        receiver.notification_status = 500  # keep it in the outbox, retrying
        sns.publish(TopicArn=topic, Message="survives")
        receiver.wait_for("Notification", 1)
        srv.kill9()
        receiver.notification_status = 200
        srv.start()
        srv.advance(61)  # a delivery leased by the dead process is retried once its lease ran out
        receiver.wait_for("Notification", 2, timeout=15)
        bodies = {json.loads(b)["Message"] for _, h, b, _ in receiver.of_type("Notification")}
        assert bodies == {"survives"}
        wait_for_value(lambda: sub_counts(srv, sub).get("delivered"), 1, 5, "delivered count")
    finally:
        receiver.close()
