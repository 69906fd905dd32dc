"""`postroom watch` against real endpoints (postroom and moto's server), run as users run it.

The acceptance of issue #14: with watch running, deleting one subscription by hand (the
incident's act) is reported, naming the route, within the documented bound — interval + probe
timeout (+ the round's own time); restoring it clears the alert as fast. Here the interval is 1 s
and the probe timeout 2 s, so the bound checked is a few seconds (the default 30 s + 15 s keeps it
under 60 s). Each change is one log line, one webhook call and one command run; the JSON endpoint
and the metrics say the same. The audit is read on postroom and skipped, once, on moto.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

from postroom.topology.watch_state import iso
from tests.endpoints import Endpoint
from tests.topology.conftest import invoke, topic_arn
from tests.topology.watch_support import (
    INTERVAL,
    PROBE_TIMEOUT,
    SLACK,
    WORST_CASE,
    Hook,
    WatchProcess,
    lines_of,
    make_live,
    metrics,
    spec,
    status,
    subscribe,
    unsubscribe,
    wait_rounds,
    watch_env,
)

ROUTES = [("orders", "billing"), ("orders", "shipping")]


def test_hand_deleted_subscription_reported_within_the_bound_and_recovery_clears_it(
        endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    make_live(sqs, sns, p, ROUTES)
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    hook = Hook()
    env_log = tmp_path / "env.txt"
    command = (f'cat > /dev/null; echo "$POSTROOM_WATCH_KIND|$POSTROOM_WATCH_CURRENT|$POSTROOM_WATCH_SUBJECT" '
               f'>> {env_log}')
    watch = WatchProcess(["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout",
                          str(PROBE_TIMEOUT), "--consume", f"{p}*", "--listen", "127.0.0.1:0",
                          "--webhook", hook.url, "--on-change", command], watch_env(endpoint.url))
    route = f"{p}orders → {p}shipping"
    try:
        url = watch.status_url()
        watch.wait_for(f"UP route {p}orders → {p}billing", 30)
        watch.wait_for(f"UP route {route}", 30)
        assert status(url)["healthy"] is True

        deleted = time.monotonic()
        unsubscribe(sns, p + "orders", p + "shipping")
        detected = watch.wait_for(f"DOWN route {route}", 60, after=deleted) - deleted
        assert detected < WORST_CASE + SLACK, f"detected after {detected:.1f} s"
        watch.wait_for(f"FIRING DRIFT {route}", 10, after=deleted)
        doc = status(url)
        assert doc["healthy"] is False
        down = {r["route"]: r for r in doc["routes"]}[route]
        assert down["status"] == "down" and "does not exist" in down["reason"]
        assert {(f["kind"], f["subject"]) for f in doc["findings"]} >= {("ROUTE-DOWN", route), ("DRIFT", route)}
        text = metrics(url)
        assert f'postroom_watch_route_up{{queue="{p}shipping",topic="{p}orders"}} 0.0' in text
        assert f'postroom_watch_route_up{{queue="{p}billing",topic="{p}orders"}} 1.0' in text
        assert "postroom_watch_healthy 0.0" in text and "postroom_watch_endpoint_up 1.0" in text
        assert f'postroom_watch_route_probe_latency_seconds{{queue="{p}billing",topic="{p}orders"}}' in text

        restored = time.monotonic()
        subscribe(sqs, sns, p + "orders", p + "shipping")
        recovered = watch.wait_for(f"UP route {route}", 60, after=restored) - restored
        assert recovered < WORST_CASE + SLACK, f"recovered after {recovered:.1f} s"
        watch.wait_for(f"RESOLVED DRIFT {route}", 10, after=restored)
        doc = wait_rounds(url, 2)
        assert doc["healthy"] is True and doc["findings"] == [], doc["findings"]
        assert "postroom_watch_healthy 1.0" in metrics(url)
        # one line per change: the route went down once and up once (plus its first-round UP)
        assert watch.count(f"DOWN route {route}") == 1 and watch.count(f"UP route {route}") == 2, watch.text
        if endpoint.name == "postroom":
            assert watch.count("audit: reading the delivery audit") == 1, watch.text
        else:
            assert watch.count("audit: skipped") == 1, watch.text
            assert "is not postroom" in watch.text

        calls = hook.wait(lambda b: b["subject"] == route and b["current"] == "up", 30)
        sent = [(b["kind"], b["current"]) for b in hook.bodies if b["subject"] == route]
        assert sent[:2] == [("ROUTE", "down"), ("DRIFT", "firing")], sent
        assert calls[0]["previous"] == "down" and calls[0]["healthy"] is True
        assert calls[0]["endpoint"] == endpoint.url and calls[0]["source"] == "postroom watch"
        assert not any(b["initial"] for b in hook.bodies), "the first round's healthy routes are not sent"
        deadline = time.monotonic() + 20
        while f"ROUTE|up|{route}" not in list(lines_of(env_log)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert f"ROUTE|down|{route}" in list(lines_of(env_log))
        assert f"ROUTE|up|{route}" in list(lines_of(env_log))
    finally:
        rc = watch.stop()
        hook.close()
    assert rc == 0 and "postroom watch: stopped" in watch.text


def test_once_exits_0_healthy_and_1_naming_the_broken_route(endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    make_live(sqs, sns, p, ROUTES)
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    args = ["watch", "-f", str(file), "--env", "test", "--once", "--probe-timeout", "2", "--consume", f"{p}*"]

    ok = invoke(endpoint, *args)
    assert ok.code == 0, ok.text
    assert f"✓ route {p}orders → {p}shipping: up" in ok.out and ok.out.rstrip().endswith("watch: OK")

    unsubscribe(sns, p + "orders", p + "billing")
    bad = invoke(endpoint, *args, "--format", "json")
    assert bad.code == 1, bad.text
    doc = json.loads(bad.out)
    assert doc["healthy"] is False and doc["rounds"] == 1
    routes = {r["route"]: r["status"] for r in doc["routes"]}
    assert routes == {f"{p}orders → {p}billing": "down", f"{p}orders → {p}shipping": "up"}
    kinds = {(f["kind"], f["subject"]) for f in doc["findings"]}
    assert {("ROUTE-DOWN", f"{p}orders → {p}billing"), ("DRIFT", f"{p}orders → {p}billing")} <= kinds
    assert doc["worst_case_detection_seconds"] == 30 + 2


def test_a_queue_watch_does_not_answer_is_down_and_probes_never_reach_handlers_unanswered(
        endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    """Without --consume (or a probe-aware consumer) nobody answers: the route is down, and says
    why. With --consume on a queue that holds real messages, watch leaves it alone (QUEUE-UNREAD)
    rather than raising their receive count every round."""
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    make_live(sqs, sns, p, ROUTES)
    url = sqs.get_queue_url(QueueName=p + "billing")["QueueUrl"]
    for i in range(10):
        sqs.send_message(QueueUrl=url, MessageBody=f"real {i}")
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    r = invoke(endpoint, "watch", "-f", str(file), "--env", "test", "--once", "--probe-timeout", "1",
               "--consume", f"{p}billing", "--format", "json")
    assert r.code == 1, r.text
    doc = json.loads(r.out)
    routes = {x["route"]: x for x in doc["routes"]}
    assert routes[f"{p}orders → {p}shipping"]["status"] == "down"
    assert "probe-aware consumer" in routes[f"{p}orders → {p}shipping"]["reason"]
    assert routes[f"{p}orders → {p}billing"]["status"] == "down"
    assert ("QUEUE-UNREAD", f"{p}billing") in {(f["kind"], f["subject"]) for f in doc["findings"]}
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])["Messages"]
    real = [m for m in got if m["Body"].startswith("real ")]
    assert real and all(m["Attributes"]["ApproximateReceiveCount"] == "1" for m in real), \
        "watch never received the real messages"


def test_iso_is_utc_millis() -> None:
    assert iso(0) == "1970-01-01T00:00:00.000Z"


def test_dlq_filling_and_shrinking_subscriber_set_on_any_endpoint(endpoint: Endpoint, prefix: str,
                                                                 tmp_path: Path) -> None:
    """Public APIs only: a DLQ holding messages (from the queues' depth) and a subscriber that
    was live and is gone — one the file does not declare — are reported on moto as on postroom."""
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    make_live(sqs, sns, p, ROUTES)
    dlq_url = sqs.create_queue(QueueName=p + "billing-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    billing = sqs.get_queue_url(QueueName=p + "billing")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=billing, Attributes={"RedrivePolicy": json.dumps(
        {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})})
    sqs.send_message(QueueUrl=dlq_url, MessageBody="dead")
    text = spec(p, ROUTES).replace(f"  {p}billing: {{}}", f"  {p}billing: {{dlq: {p}billing-dlq, max_receive_count: 3}}"
                                   f"\n  {p}billing-dlq: {{}}")
    file = tmp_path / "postroom.yaml"
    file.write_text(text)
    args = ["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout", str(PROBE_TIMEOUT),
            "--consume", f"{p}*", "--no-audit"]
    watch = WatchProcess(args, watch_env(endpoint.url))
    try:
        watch.wait_for(f"FIRING DLQ-FILLING {p}billing-dlq: dead-letter queue {p}billing-dlq (of {p}billing) "
                       f"holds 1 message(s)", 30)
        # a subscriber the file does not know (it is drift too: in the file's scope, undeclared)
        extra = p + "audit-trail"
        sqs.create_queue(QueueName=extra)
        subscribe(sqs, sns, p + "orders", extra)
        seen = watch.wait_for(f"FIRING DRIFT {p}orders → {extra}", 30)
        unsubscribe(sns, p + "orders", extra)
        watch.wait_for(f"FIRING SUBSCRIBERS-SHRANK {p}orders: {p}orders lost 1 subscriber(s) since watch saw them: "
                       f"sqs:{extra}", 30, after=seen)
        watch.wait_for(f"RESOLVED DRIFT {p}orders → {extra}", 30, after=seen)
        sqs.purge_queue(QueueUrl=dlq_url)
        watch.wait_for(f"RESOLVED DLQ-FILLING {p}billing-dlq", 30, after=seen)
        assert watch.count("audit:") == 0, "--no-audit: not read, nothing said"
    finally:
        assert watch.stop() == 0


def test_a_broken_edit_of_the_file_is_reported_and_the_last_good_version_kept(
        endpoint: Endpoint, prefix: str, tmp_path: Path) -> None:
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    make_live(sqs, sns, p, ROUTES)
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    watch = WatchProcess(["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout",
                          str(PROBE_TIMEOUT), "--consume", f"{p}*", "--no-audit"], watch_env(endpoint.url))
    try:
        ready = watch.wait_for(f"UP route {p}orders → {p}shipping", 30)
        file.write_text(spec(p, ROUTES) + "bogus: [\n")
        watch.wait_for(f"FIRING FILE-INVALID {file}", 30, after=ready)
        broken = time.monotonic()
        assert watch.count("DOWN route", after=ready) == 0, "the last good version is still watched"
        file.write_text(spec(p, ROUTES[:1]))  # shipping no longer declared: its route is no longer watched
        watch.wait_for(f"RESOLVED FILE-INVALID {file}", 30, after=broken)
        watch.wait_for(f"FIRING DRIFT {p}orders → {p}shipping", 30, after=broken)  # live but undeclared now
    finally:
        assert watch.stop() == 0


def test_probes_answered_by_postroom_consumer_never_reach_the_handler(endpoint: Endpoint, prefix: str,
                                                                     tmp_path: Path) -> None:
    """The default: no --consume. `postroom consume` (postroom.consumer) answers watch's probes on
    the route's queue before its handler could see them; the handler gets only the real message.
    The route with no consumer is down, and says why."""
    p = prefix
    sqs, sns = endpoint.client("sqs"), endpoint.client("sns")
    make_live(sqs, sns, p, ROUTES)
    seen = tmp_path / "handled.txt"
    (tmp_path / "watch_handler.py").write_text(
        "def handle(message):\n"
        f"    with open({str(seen)!r}, 'a') as f:\n"
        "        f.write(message.body + '\\n')\n")
    env = {**watch_env(endpoint.url), "PYTHONPATH": str(tmp_path)}
    consumer = subprocess.Popen([sys.executable, "-m", "postroom", "consume", p + "billing", "--handler",
                                 "watch_handler:handle", "--wait-time", "1"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    watch = WatchProcess(["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout",
                          str(PROBE_TIMEOUT)], watch_env(endpoint.url))
    try:
        up = watch.wait_for(f"UP route {p}orders → {p}billing: probe confirmed by postroom.consumer@", 30)
        watch.wait_for(f"DOWN route {p}orders → {p}shipping: no reply within {PROBE_TIMEOUT:g} s — is a probe-aware "
                       f"consumer (postroom.consumer) reading the queue?", 30)
        sns.publish(TopicArn=topic_arn(sns, p + "orders"), Message="a real order")
        deadline = time.monotonic() + 20
        while "a real order" not in (seen.read_text() if seen.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(3 * INTERVAL)  # three more rounds of probes through the consumer's queue
        assert seen.read_text().splitlines() == ["a real order"], "the handler saw the real message, no probe"
        assert watch.count(f"DOWN route {p}orders → {p}billing", after=up) == 0, watch.text
    finally:
        consumer.send_signal(signal.SIGTERM)
        consumer.wait(timeout=30)
        assert watch.stop() == 0
