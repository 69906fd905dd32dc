"""The incident, replayed: 45,000 messages over 200 groups dug out of four log files (one gzipped),
recovered into a FIFO queue on postroom — killed midway, resumed, run again.

How we know nothing acknowledged is lost and nothing is doubled: after the SIGKILL, the queue holds
at least every message the checkpoint records as acknowledged (and at most one batch per sender
more); after the resume it holds exactly 45,000; a drain then checks each group's messages arrive
as exactly the logged ids, in the logged order. postroom's approximate counts are exact.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from tests.endpoints import Endpoint
from tests.recovery.conftest import POSTROOM, attr, read_rejects, recover
from tests.recovery.logset import MAPPING_ARGS, SINCE, UNTIL, LogSet, generate

CONCURRENCY = 8
DRAIN_BUDGET = 120.0  # a safety stop on a loaded machine; the drain takes ~10-20 s


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> LogSet:
    return generate(tmp_path_factory.mktemp("recovery-logs") / "logs")


def _count(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages",
                                                                  "ApproximateNumberOfMessagesNotVisible"])
    return int(attrs["Attributes"]["ApproximateNumberOfMessages"]) + \
        int(attrs["Attributes"]["ApproximateNumberOfMessagesNotVisible"])


def _drain_concurrently(sqs: Any, url: str, expect: int, budget: float) -> dict[str, list[dict[str, Any]]]:
    """Four receivers, for at most ``budget`` seconds; a FIFO group is locked while its messages are
    in flight, so appending at receipt (before deleting) records each group in the order the queue
    handed it out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    lock = threading.Lock()
    total = [0]
    deadline = time.monotonic() + budget

    def worker() -> None:
        empty = 0
        while empty < 3 and time.monotonic() < deadline:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                      MessageAttributeNames=["All"], AttributeNames=["MessageGroupId"]
                                      ).get("Messages", [])
            if not got:
                with lock:
                    if total[0] >= expect:
                        return
                empty += 1
                continue
            empty = 0
            with lock:
                for m in got:
                    groups.setdefault(m["Attributes"]["MessageGroupId"], []).append(m)
                total[0] += len(got)
            sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                                            for i, m in enumerate(got)])

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return groups


def test_recover_45k_into_fifo_kill_resume_rerun(postroom_endpoint: Endpoint, logs: LogSet, tmp_path: Path) -> None:
    sqs = postroom_endpoint.client("sqs")
    url = sqs.create_queue(QueueName="orders-recovered.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    window = ["--since", SINCE, "--until", UNTIL]

    # 1. dry run: the report, the saved mapping, the reject file; nothing sent
    dry = recover(postroom_endpoint, str(logs.directory), *MAPPING_ARGS, *window, "--to", "orders-recovered.fifo",
                  "--save-mapping", "mapping.yaml", "--report-json", "report.json", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["messages"] == 45_000 == logs.messages
    assert report["duplicates"] == logs.duplicates > 1000
    assert report["rejected"] == len(logs.malformed) == 150
    assert report["unrelated"] == logs.unrelated
    assert report["lines"] == logs.lines
    assert report["filtered_window"] >= logs.outside_window
    assert report["groups"] == {g: len(ids) for g, ids in logs.groups.items()} and len(report["groups"]) == 200
    assert "45,000 unique messages in 200 groups" in dry.stdout
    assert _count(sqs, url) == 0, "a dry run must send nothing"
    rejects = read_rejects(tmp_path / "postroom-recover.rejects.jsonl")
    assert {(r["source"], r["line"]) for r in rejects} == set(logs.malformed)
    for r in rejects:
        assert r["reason"].startswith(logs.malformed[(r["source"], r["line"])]), r

    # 2. execute with the saved mapping, slowed by --rate, and SIGKILL it once the checkpoint shows progress
    args = [str(logs.directory), "--mapping", "mapping.yaml", *window, "--to", "orders-recovered.fifo", "--execute",
            "--concurrency", str(CONCURRENCY), "--no-progress"]
    checkpoint = tmp_path / "postroom-recover.checkpoint.json"
    proc = subprocess.Popen([*POSTROOM, "recover", *args, "--rate", "3000"], cwd=tmp_path,
                            env=postroom_endpoint.cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    done = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if checkpoint.exists():
            done = json.loads(checkpoint.read_text())["done"]
            if done >= 6000:
                break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    state = json.loads(checkpoint.read_text())
    assert not state["complete"] and 6000 <= state["done"] < 45_000
    in_queue = _count(sqs, url)
    assert state["done"] <= in_queue <= state["done"] + CONCURRENCY * 10, \
        "every acknowledged batch in the checkpoint is in the queue, and at most one batch per sender more"

    # 3. resume: exactly 45,000
    resumed = recover(postroom_endpoint, *args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    assert "resuming from" in resumed.stderr
    assert "sent           45,000" in resumed.stdout
    assert "failed         0" in resumed.stdout
    assert _count(sqs, url) == 45_000

    # 4. the same command again: the checkpoint says complete, nothing is sent
    again = recover(postroom_endpoint, *args, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "nothing to send" in again.stderr
    assert _count(sqs, url) == 45_000

    # 5. a new run (another checkpoint, the first half hour only) sends again: the broker drops every one,
    #    because the MessageDeduplicationIds are the same as in the first run
    first_hour = [str(logs.directory), "--mapping", "mapping.yaml", "--since", SINCE, "--until",
                  "2026-11-28T22:30:00Z", "--to", "orders-recovered.fifo", "--execute", "--checkpoint", "hour.json",
                  "--no-progress"]
    hour = recover(postroom_endpoint, *first_hour, cwd=tmp_path)
    assert hour.returncode == 0, hour.stderr
    sent_again = json.loads((tmp_path / "hour.json").read_text())["sent"]
    assert sent_again > 1500
    assert _count(sqs, url) == 45_000, "a re-send within the 5-minute window must enqueue nothing"

    # 6. drain the whole queue: exactly the 45,000 logged messages, each group complete and in its logged
    #    order, each with its recovery attributes.
    groups = _drain_concurrently(sqs, url, 45_000, budget=DRAIN_BUDGET)
    received = sum(len(v) for v in groups.values())
    assert received == 45_000, received
    recovery_ids = set()
    for group, got in groups.items():
        ids = [attr(m, "postroom-original-message-id") for m in got]
        assert ids == logs.groups[group], f"group {group} out of order, incomplete or not the logged messages"
        for m in got:
            body = json.loads(m["Body"])
            assert body["customer"] == group
            recovery_ids.add(attr(m, "postroom-recovery-id"))
            assert attr(m, "event_type") == body["type"]
    assert len(recovery_ids) == 45_000 and None not in recovery_ids
    assert set(groups) == set(logs.groups)
    assert _count(sqs, url) == 0
