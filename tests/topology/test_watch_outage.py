"""`postroom watch` survives its endpoint being down and comes back: connection errors are one
finding (ENDPOINT-UNREACHABLE), not a crash and not a DOWN alert per route; the first round that
reads the endpoint again clears it. Each test owns its server (it stops it), on a port chosen
before watch starts."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import requests

from tests.api.conftest import Server, _free_port
from tests.endpoints import BIN, Endpoint
from tests.topology.conftest import unique_prefix
from tests.topology.watch_support import INTERVAL, PROBE_TIMEOUT, WatchProcess, make_live, spec, watch_env

ROUTES = [("orders", "billing"), ("orders", "shipping")]


class Moto:
    """moto_server on a given port (stopped and started again by the test)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        exe = BIN / "moto_server"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        self.proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise AssertionError("moto_server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)


def _client(url: str, service: str) -> object:
    return boto3.session.Session().client(service, endpoint_url=url, region_name="us-east-1",
                                          aws_access_key_id="x", aws_secret_access_key="x")


@pytest.fixture
def postroom_on_port() -> Iterator[Server]:
    srv = Server(Path(tempfile.mkdtemp(prefix="postroom-watch-")) / "data")
    yield srv
    if srv.proc is not None and srv.proc.poll() is None:
        srv.stop()


def test_postroom_down_is_one_finding_and_watch_comes_back(postroom_on_port: Server, tmp_path: Path) -> None:
    srv, p = postroom_on_port, unique_prefix()
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    watch = WatchProcess(["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout",
                          str(PROBE_TIMEOUT), "--consume", f"{p}*"], watch_env(srv.endpoint))
    try:
        watch.wait_for(f"FIRING ENDPOINT-UNREACHABLE {srv.endpoint}", 30)  # nothing listens yet
        assert watch.proc.poll() is None, "watch keeps running"
        up = time.monotonic()  # taken before the start: watch may see the server before start() returns
        srv.start()
        ep = Endpoint("postroom", srv.endpoint, srv)
        make_live(ep.client("sqs"), ep.client("sns"), p, ROUTES)
        watch.wait_for(f"RESOLVED ENDPOINT-UNREACHABLE {srv.endpoint}", 30, after=up)
        ready = max(watch.wait_for(f"UP route {p}orders → {p}shipping", 30),
                    watch.wait_for(f"UP route {p}orders → {p}billing", 30))

        down = time.monotonic()
        assert srv.stop() == 0
        watch.wait_for(f"FIRING ENDPOINT-UNREACHABLE {srv.endpoint}", 30, after=down)
        time.sleep(3 * INTERVAL)
        assert watch.proc.poll() is None, "watch survives the endpoint being down"
        back = time.monotonic()
        srv.start()  # same port, same data: the topology is back as it was
        watch.wait_for(f"RESOLVED ENDPOINT-UNREACHABLE {srv.endpoint}", 30, after=back)
        time.sleep(3 * INTERVAL)
        assert watch.count("DOWN route", after=ready) == 0, \
            "an unreachable endpoint is one alert, not one per route:\n" + watch.text
        assert watch.count("FIRING ENDPOINT-UNREACHABLE") == 2 and watch.count("RESOLVED ENDPOINT-UNREACHABLE") == 2
        assert watch.count("Traceback") == 0, watch.text
    finally:
        rc = watch.stop()
    assert rc == 0


def test_moto_down_then_up_again_is_reported_and_watch_carries_on(tmp_path: Path) -> None:
    moto, p = Moto(_free_port()), unique_prefix()
    file = tmp_path / "postroom.yaml"
    file.write_text(spec(p, ROUTES))
    watch = WatchProcess(["-f", str(file), "--env", "test", "--interval", str(INTERVAL), "--probe-timeout",
                          str(PROBE_TIMEOUT), "--consume", f"{p}*"], watch_env(moto.url))
    try:
        moto.start()
        make_live(_client(moto.url, "sqs"), _client(moto.url, "sns"), p, ROUTES)
        watch.wait_for(f"UP route {p}orders → {p}shipping", 30)
        down = time.monotonic()
        moto.stop()
        watch.wait_for(f"FIRING ENDPOINT-UNREACHABLE {moto.url}", 30, after=down)
        time.sleep(3 * INTERVAL)
        assert watch.count("DOWN route", after=down) == 0, watch.text
        back = time.monotonic()
        moto.start()  # moto keeps nothing: the routes are gone, and watch says so
        watch.wait_for(f"RESOLVED ENDPOINT-UNREACHABLE {moto.url}", 30, after=back)
        watch.wait_for(f"DOWN route {p}orders → {p}shipping", 30, after=back)
        watch.wait_for(f"FIRING DRIFT {p}orders", 30, after=back)
        assert watch.count("audit: skipped") == 1, watch.text
    finally:
        rc = watch.stop()
        moto.stop()
    assert rc == 0
