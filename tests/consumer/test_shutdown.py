"""Graceful shutdown of `postroom consume` (a subprocess, as users run it) on postroom and on moto:
SIGTERM mid-work → the handlers in progress finish, the messages received but not started are
released with visibility 0 (receivable at once, although the queue's visibility timeout is 60 s),
exit code 0. How we know nothing is lost: every message is either recorded "done" by the handler
(and deleted) or receivable right after the exit — the two sets are disjoint and cover all 30."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tests.consumer.conftest import consume_cli, new_queue, receive_all, wait_for
from tests.endpoints import Endpoint

N = 30


def test_sigterm_finishes_in_flight_and_releases_the_rest(endpoint: Endpoint, tmp_path: Path) -> None:
    sqs = endpoint.client("sqs")
    url = new_queue(sqs, "shutdown", VisibilityTimeout="60")
    name = url.rsplit("/", 1)[1]
    for start in range(0, N, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"m{i}"}
                                                      for i in range(start, start + 10)])
    log = tmp_path / "handler.log"
    log.touch()
    # QUEUE given by name: the CLI resolves it with GetQueueUrl
    proc = consume_cli(endpoint, name, "tests.consumer.apps:slow_record", "--concurrency", "2", "--wait-time", "1",
                       env={"CONSUMER_LOG": str(log), "CONSUMER_SLEEP": "1.0"}, log=tmp_path / "consume.log")

    def lines(kind: str) -> list[str]:
        return [line.split()[1] for line in log.read_text().splitlines() if line.startswith(kind + " ")]

    wait_for(lambda: len(lines("start")) >= 2 or proc.poll() is not None, 30, "two handlers to start")
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=30)
    assert rc == 0, (tmp_path / "consume.log").read_text()
    started, done = lines("start"), lines("done")
    assert sorted(started) == sorted(done), "a handler in progress was cut off"
    assert 2 <= len(done) < N
    assert len(set(done)) == len(done)
    visible = [m["Body"] for m in receive_all(sqs, url, wait=0 if endpoint.name == "postroom" else 1)]
    assert len(visible) == len(set(visible))
    assert sorted(visible + done) == sorted(f"m{i}" for i in range(N))
