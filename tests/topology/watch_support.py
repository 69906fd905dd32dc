"""Helpers (no tests) for the `postroom watch` tests: the command run as users run it (a subprocess whose
output lines are collected with the time each arrived), a webhook receiver, and a small topology
made live and written to a file."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import requests

from tests.topology.conftest import queue_arn, topic_arn

INTERVAL = 1.0
PROBE_TIMEOUT = 2.0
# A round's own overhead on a loaded CI machine (reading the live state, starting the probe).
SLACK = 10.0
WORST_CASE = INTERVAL + PROBE_TIMEOUT  # the documented formula: interval + probe timeout (+ the round)


class WatchProcess:
    """``postroom watch ARGS`` in a subprocess; every output line kept with its arrival time."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.lines: list[tuple[float, str]] = []
        self._cond = threading.Condition()
        self.proc = subprocess.Popen([sys.executable, "-m", "postroom", "watch", *args], env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._cond:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self._cond.notify_all()

    def wait_for(self, needle: str, timeout: float, after: float = 0.0) -> float:
        """The arrival time of the first line after ``after`` containing ``needle``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for at, line in self.lines:
                    if at >= after and needle in line:
                        return at
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self._reader.is_alive()):
                    raise AssertionError(f"no line with {needle!r} within {timeout} s; output:\n{self.text}")
                self._cond.wait(min(left, 0.5))

    def count(self, needle: str, after: float = 0.0) -> int:
        with self._cond:
            return sum(needle in line for at, line in self.lines if at >= after)

    @property
    def text(self) -> str:
        with self._cond:
            return "\n".join(line for _, line in self.lines)

    def status_url(self) -> str:
        self.wait_for("status on http://", 30)
        m = re.search(r"status on (http://\S+/)", self.text)
        assert m, self.text
        return m.group(1)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("postroom watch did not exit within 30 s of SIGTERM") from None
        self._reader.join(5)
        return rc


def watch_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                "POSTROOM_ENDPOINT_URL": url, "NO_COLOR": "1"})
    env.pop("AWS_PROFILE", None)
    return env


class Hook:
    """A webhook receiver: every POSTed JSON body; the first ``fail_first`` requests answer 503."""

    def __init__(self, fail_first: int = 0, delay: float = 0.0) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.requests = 0
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                hook.requests += 1
                time.sleep(delay)
                if hook.requests <= fail_first:
                    self.send_response(503)
                else:
                    hook.bodies.append(json.loads(body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def wait(self, predicate: Any, timeout: float) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [b for b in list(self.bodies) if predicate(b)]
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"no webhook call matched within {timeout} s; got {self.bodies}")

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def spec(p: str, routes: list[tuple[str, str]]) -> str:
    """A postroom.yaml with environment ``test`` scoped to ``p*``: the topics, queues and routes."""
    topics = sorted({t for t, _ in routes})
    queues = sorted({q for _, q in routes})
    lines = ["version: 1", "environments:", f"  test: {{scope: ['{p}*']}}", "topics:"]
    lines += [f"  {p}{t}: {{}}" for t in topics]
    lines += ["queues:"] + [f"  {p}{q}: {{}}" for q in queues]
    lines += ["subscriptions:"] + [f"  - {{topic: {p}{t}, queue: {p}{q}}}" for t, q in routes]
    lines += ["checks:", "  - {check: QUEUE-POLICY, resource: '*', severity: 'off', reason: 'not enforced in tests'}"]
    return "\n".join(lines) + "\n"


def make_live(sqs: Any, sns: Any, p: str, routes: list[tuple[str, str]]) -> None:
    for t in sorted({t for t, _ in routes}):
        sns.create_topic(Name=p + t)
    for q in sorted({q for _, q in routes}):
        sqs.create_queue(QueueName=p + q)
    for t, q in routes:
        subscribe(sqs, sns, p + t, p + q)


def subscribe(sqs: Any, sns: Any, topic: str, queue: str) -> None:
    sns.subscribe(TopicArn=topic_arn(sns, topic), Protocol="sqs", Endpoint=queue_arn(sqs, queue),
                  ReturnSubscriptionArn=True)


def unsubscribe(sns: Any, topic: str, queue: str) -> None:
    """The incident's act: one subscription deleted by hand."""
    subs = sns.list_subscriptions_by_topic(TopicArn=topic_arn(sns, topic))["Subscriptions"]
    gone = [s for s in subs if s["Endpoint"].endswith(":" + queue)]
    assert len(gone) == 1, subs
    sns.unsubscribe(SubscriptionArn=gone[0]["SubscriptionArn"])


def status(url: str) -> dict[str, Any]:
    response = requests.get(url + "status", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("application/json")
    doc: dict[str, Any] = response.json()
    return doc


def metrics(url: str) -> str:
    response = requests.get(url + "metrics", timeout=10)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/plain")
    return response.text


def wait_rounds(url: str, more: int, timeout: float = 30) -> dict[str, Any]:
    start = status(url)["rounds"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        doc = status(url)
        if doc["rounds"] >= start + more:
            return doc
        time.sleep(0.2)
    raise AssertionError(f"watch did not run {more} more round(s) within {timeout} s")


def lines_of(path: Path) -> Iterator[str]:
    if path.exists():
        yield from path.read_text().splitlines()
