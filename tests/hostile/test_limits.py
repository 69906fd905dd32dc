"""Limits on what one client can make the server hold: body size, URL length, header size and
count, slow clients (slowloris), connection count. Each is a clean 4xx (503 for too many
connections), the connection is closed, nothing is acted on, and other clients are served."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pytest
import requests

from tests.api.conftest import FAKE_AUTH, REGION, Server, _launch, _shutdown
from tests.hostile.conftest import post_form, unique

AUTH = FAKE_AUTH.format(region=REGION)


def _launch_with(env: dict[str, str]) -> Server:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return _launch()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def quick() -> Iterator[Server]:
    """Head and body timeouts of 2 s, so slow clients are seen off within the test."""
    srv = _launch_with({"POSTROOM_HEAD_TIMEOUT_S": "2", "POSTROOM_BODY_TIMEOUT_S": "2"})
    yield srv
    _shutdown(srv)


def _connect(server: Server) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    return s


def _read_all(s: socket.socket, timeout: float = 10) -> bytes:
    s.settimeout(timeout)
    out = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except (TimeoutError, ConnectionResetError):
        pass
    return out


def _status(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else -1


def _queue(server: Server, sqs: Any) -> str:
    return str(sqs.create_queue(QueueName=unique())["QueueUrl"])


def _count(sqs: Any, url: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"]["ApproximateNumberOfMessages"])


def _send_form(url: str, body: str) -> str:
    return f"Action=SendMessage&Version=2012-11-05&QueueUrl={quote(url, safe='')}&MessageBody={body}"


def test_body_over_the_limit_is_413_before_it_is_read_and_sends_nothing(server: Server, sqs: Any) -> None:
    url = _queue(server, sqs)
    s = _connect(server)
    declared = 5 * 1024 * 1024
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Authorization: " + AUTH.encode() + b"\r\nContent-Length: %d\r\n\r\n" % declared
              + _send_form(url, "x" * 1000).encode())
    raw = _read_all(s, timeout=3)  # answered at once; the connection then waits for the rest (body timeout)
    assert _status(raw) == 413, raw[:200]
    assert _count(sqs, url) == 0


def test_body_over_the_limit_without_a_length_is_413(server: Server, sqs: Any) -> None:
    url = _queue(server, sqs)
    body = _send_form(url, "y" * (5 * 1024 * 1024)).encode()

    def chunks() -> Iterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i:i + 256 * 1024]
    # the rest of the body is read and dropped, so the client gets the 413 rather than a reset
    r = requests.post(server.endpoint + "/", data=chunks(), timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH})
    assert r.status_code == 413, r.text[:200]
    assert _count(sqs, url) == 0
    r = requests.post(server.endpoint + "/", data=body, timeout=30, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Authorization": AUTH})
    assert r.status_code == 413, r.text[:200]


def test_a_body_just_under_the_limit_is_served(server: Server, sqs: Any) -> None:
    """The limit leaves room for AWS's largest request: a 1 MiB message, percent-encoded."""
    url = _queue(server, sqs)
    r = post_form(server, _send_form(url, quote("é" * 600_000)))  # 1.2 MB of UTF-8, 3.6 MB on the wire
    assert r.status_code == 400 and "Message must be shorter" in r.text, r.text[:300]
    r = post_form(server, _send_form(url, "z" * (1024 * 1024 - 1)))
    assert r.status_code == 200, r.text[:300]
    assert _count(sqs, url) == 1


def test_url_over_the_limit_is_414(server: Server) -> None:
    s = _connect(server)
    s.sendall(b"GET /?Action=ListQueues&x=" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    raw = _read_all(s)
    assert _status(raw) == 414, raw[:200]


@pytest.mark.parametrize("headers", [
    b"".join(b"X-H-%d: v\r\n" % i for i in range(150)),
    b"X-Big: " + b"v" * 40_000 + b"\r\n",
], ids=["150 headers", "a 40 kB header"])
def test_headers_over_the_limits_are_431(server: Server, headers: bytes) -> None:
    s = _connect(server)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    raw = _read_all(s)
    assert _status(raw) == 431, raw[:200]
    r = requests.get(server.endpoint + "/health", timeout=5)
    assert r.status_code == 200


def test_an_idle_connection_is_closed_with_408(quick: Server) -> None:
    s = _connect(quick)
    started = time.monotonic()
    raw = _read_all(s, timeout=10)
    assert _status(raw) == 408, raw[:200]
    assert 1.5 < time.monotonic() - started < 6


def test_slowloris_does_not_exhaust_the_server(quick: Server) -> None:
    """200 connections each sending their headers a line every 0.5 s: each is answered 408 and
    closed when the head timeout (2 s here, 10 s by default) runs out, and meanwhile a normal
    client is served at once."""
    slow = [_connect(quick) for _ in range(200)]
    for s in slow:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\n")
    stop = threading.Event()

    def drip() -> None:
        i = 0
        while not stop.is_set():
            for s in slow:
                try:
                    s.sendall(b"X-Slow-%d: v\r\n" % i)
                except OSError:
                    pass
            i += 1
            stop.wait(0.5)

    dripper = threading.Thread(target=drip, daemon=True)
    dripper.start()
    try:
        latencies = []
        for _ in range(20):
            t0 = time.monotonic()
            r = requests.get(quick.endpoint + "/health", timeout=5)
            latencies.append(time.monotonic() - t0)
            assert r.status_code == 200
            time.sleep(0.05)
        assert max(latencies) < 1.0, latencies
        time.sleep(3)  # past the head timeout
        statuses = []
        for s in slow:
            statuses.append(_status(_read_all(s, timeout=5)))
        assert statuses.count(408) == len(slow), sorted(set(statuses))
    finally:
        stop.set()
        dripper.join()
        for s in slow:
            s.close()


def test_a_slow_body_is_408_and_nothing_of_it_is_acted_on(quick: Server, sqs: Any) -> None:
    url = str(sqs.create_queue(QueueName=unique())["QueueUrl"])
    prefix = _send_form(url, "part").encode() + b"&"  # a complete request, if it were cut here
    s = _connect(quick)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: "
              + AUTH.encode() + b"\r\nContent-Length: %d\r\n\r\n" % (len(prefix) + 100) + prefix)
    raw = _read_all(s, timeout=10)
    assert _status(raw) == 408, raw[:200]
    assert _count(sqs, url) == 0


def test_a_client_that_leaves_mid_body_sends_nothing(server: Server, sqs: Any) -> None:
    """The body so far is a well-formed request (cut at a parameter boundary); it was acted on
    when the client disconnected before sending the rest."""
    url = _queue(server, sqs)
    prefix = _send_form(url, "truncated").encode() + b"&"
    s = _connect(server)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: "
              + AUTH.encode() + b"\r\nContent-Length: %d\r\n\r\n" % (len(prefix) + 1000) + prefix)
    time.sleep(0.3)
    s.close()
    time.sleep(0.5)
    assert _count(sqs, url) == 0


def test_too_many_connections_are_503_and_served_again_when_they_go() -> None:
    srv = _launch_with({"POSTROOM_MAX_CONNECTIONS": "20"})
    held: list[socket.socket] = []
    try:
        held = [_connect(srv) for _ in range(25)]
        time.sleep(0.2)
        r = requests.get(srv.endpoint + "/health", timeout=5)
        assert r.status_code == 503, r.text
        for s in held:
            s.close()
        held = []
        deadline = time.monotonic() + 5
        while True:
            r = requests.get(srv.endpoint + "/health", timeout=5)
            if r.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.status_code == 200
    finally:
        for s in held:
            s.close()
        _shutdown(srv)


def test_a_body_declared_far_over_the_limit_is_413_and_the_connection_closed_at_once(server: Server) -> None:
    """Not read to the end (the fuzzer's 1.5 GB body held a connection for the whole body timeout)."""
    s = _connect(server)
    s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
              b"X-Amz-Target: AmazonSQS.ListQueues\r\nContent-Length: %d\r\n\r\n{" % (100 * 1024 * 1024))
    started = time.monotonic()
    raw = _read_all(s, timeout=10)  # returns at EOF
    assert _status(raw) == 413, raw[:200]
    assert time.monotonic() - started < 3
