"""Ctrl-C stops cleanly and resumes without a duplicate; throttling, 5xx and lost answers are retried
without loss or duplication (postroom only: these count thousands of messages, or need a proxy)."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.endpoints import Endpoint
from tests.recovery.conftest import POSTROOM, attr, drain, recover


def _write_jsonl(path: Path, n: int, groups: int) -> None:
    path.write_text("".join(json.dumps({"id": f"m-{i}", "g": f"g{i % groups}", "seq": i, "body": f"message {i}"})
                            + "\n" for i in range(n)))


def _count(sqs: Any, url: str) -> int:
    a = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"]
    return int(a["ApproximateNumberOfMessages"])


def test_ctrl_c_checkpoints_exactly_and_resume_sends_no_duplicate(postroom_endpoint: Endpoint, tmp_path: Path) -> None:
    """A standard queue has no broker dedup, so any message sent twice would show up twice: after SIGINT
    the queue holds exactly what the checkpoint says (each sender finished and recorded its batch in
    flight), and after the resume exactly every message once."""
    sqs = postroom_endpoint.client("sqs")
    url = sqs.create_queue(QueueName="interrupted")["QueueUrl"]
    _write_jsonl(tmp_path / "log.jsonl", 1500, 7)
    args = ["log.jsonl", "--id-field", "id", "--sequence-field", "seq", "--to", "interrupted", "--execute",
            "--concurrency", "4", "--no-progress"]
    proc = subprocess.Popen([*POSTROOM, "recover", *args, "--rate", "1000"], cwd=tmp_path,
                            env=postroom_endpoint.cli_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    checkpoint = tmp_path / "postroom-recover.checkpoint.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if checkpoint.exists() and json.loads(checkpoint.read_text())["done"] >= 300:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, (out, err)
    assert "INTERRUPTED" in out
    state = json.loads(checkpoint.read_text())
    assert 300 <= state["done"] < 1500 and not state["complete"]
    assert _count(sqs, url) == state["done"] == state["sent"]

    resumed = recover(postroom_endpoint, *args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr + resumed.stdout
    got = drain(sqs, url, 1500)
    assert sorted(attr(m, "postroom-original-message-id") or "" for m in got) == sorted(f"m-{i}" for i in range(1500))


class FaultyProxy:
    """A real HTTP proxy in front of postroom that answers some SendMessageBatch calls with
    throttling (400 ThrottlingException) or 503 without forwarding, and forwards others but answers
    500 — the ambiguous case: the broker committed, the client never heard."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.calls = 0
        self.faults = {"throttled": 0, "unavailable": 0, "lost_answer": 0}
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                fault = None
                if self.headers.get("X-Amz-Target", "").endswith("SendMessageBatch"):
                    with proxy.lock:
                        proxy.calls += 1
                        n = proxy.calls
                    fault = {3: "throttled", 5: "unavailable", 6: "lost_answer"}.get(n % 7)
                if fault in ("throttled", "unavailable"):
                    proxy.faults[fault] += 1
                    code = "ThrottlingException" if fault == "throttled" else "ServiceUnavailable"
                    self._answer(400 if fault == "throttled" else 503,
                                 json.dumps({"__type": f"com.amazonaws.sqs#{code}", "message": "injected"}).encode())
                    return
                r = requests.post(proxy.upstream + self.path, data=body, headers=headers, timeout=30)
                if fault == "lost_answer":
                    proxy.faults[fault] += 1
                    self._answer(500, json.dumps({"__type": "com.amazonaws.sqs#InternalError",
                                                  "message": "injected after commit"}).encode())
                    return
                self._answer(r.status_code, r.content)

            def _answer(self, status: int, payload: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def proxy(postroom_endpoint: Endpoint) -> Iterator[FaultyProxy]:
    p = FaultyProxy(postroom_endpoint.url)
    yield p
    p.server.shutdown()
    p.server.server_close()


def test_throttling_5xx_and_lost_answers_neither_lose_nor_double(postroom_endpoint: Endpoint, proxy: FaultyProxy,
                                                                  tmp_path: Path) -> None:
    sqs = postroom_endpoint.client("sqs")
    url = sqs.create_queue(QueueName="faulty.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    _write_jsonl(tmp_path / "log.jsonl", 300, 5)
    env = postroom_endpoint.cli_env() | {"POSTROOM_ENDPOINT_URL": proxy.url}
    run = subprocess.run([*POSTROOM, "recover", "log.jsonl", "--id-field", "id", "--group-field", "g",
                          "--sequence-field", "seq", "--to", "faulty.fifo", "--execute", "--concurrency", "2",
                          "--no-progress"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr + run.stdout
    assert all(n > 0 for n in proxy.faults.values()), proxy.faults
    assert "failed         0" in run.stdout
    got = drain(sqs, url, 300)
    by_group: dict[str, list[int]] = {}
    for m in got:
        by_group.setdefault(m["Attributes"]["MessageGroupId"], []).append(int(m["Body"].split()[1]))
    assert sum(len(v) for v in by_group.values()) == 300, "each message exactly once"
    assert by_group == {f"g{g}": list(range(g, 300, 5)) for g in range(5)}, "each group in order"
