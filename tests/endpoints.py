"""Real SNS/SQS endpoints for the tests of the client-side tools (topology, recovery, consumer).

Those tools speak only the public AWS APIs, so each is tested against a real postroom server
(started as a subprocess, the same as tests/api) and against moto's server (a peer implementation,
started as a subprocess too). Import the fixtures into a test package's conftest.py:

    from tests.endpoints import endpoint, postroom_endpoint, moto_endpoint  # noqa: F401

``endpoint`` is parametrised over both; ``postroom_endpoint`` / ``moto_endpoint`` pick one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests
from botocore.config import Config

from tests.api.conftest import Server, _free_port

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
REGION = "us-east-1"


@dataclass
class Endpoint:
    """One running SNS+SQS endpoint: its name ("postroom" or "moto"), URL, and the postroom
    Server object when it is ours (None for moto)."""

    name: str
    url: str
    server: Server | None = None
    env: dict[str, str] = field(default_factory=dict)

    def client(self, service: str, **config: Any) -> Any:
        return boto3.session.Session().client(
            service, endpoint_url=self.url, region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"max_attempts": 3, "mode": "standard"}, read_timeout=60, connect_timeout=5,
                          **config),
        )

    def cli_env(self) -> dict[str, str]:
        """Environment for running `postroom …` client commands against this endpoint."""
        env = dict(os.environ)
        env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
                    "POSTROOM_ENDPOINT_URL": self.url})
        env.pop("AWS_PROFILE", None)
        return env


class MotoServer:
    """moto's standalone server on a free local port."""

    def __init__(self) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        exe = BIN / "moto_server"
        cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        log = Path(tempfile.mkdtemp(prefix="moto-")) / "moto.log"
        self._log = open(log, "wb")  # noqa: SIM115 - open for the life of the process
        self.proc = subprocess.Popen([*cmd, "-H", "127.0.0.1", "-p", str(self.port)], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}; log: {log}")
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"moto_server did not answer within 30 s; log: {log}")
            time.sleep(0.1)

    def reset(self) -> None:
        """Forget every resource (moto's own reset API)."""
        requests.post(self.url + "/moto-api/reset", timeout=10).raise_for_status()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._log.close()


def _start_postroom(extra: tuple[str, ...] = ()) -> Server:
    root = Path(tempfile.mkdtemp(prefix="postroom-tools-"))
    srv = Server(root / "data", extra)
    srv.start()
    return srv


def _stop_postroom(srv: Server) -> None:
    if srv.proc is not None and srv.proc.poll() is None:
        rc = srv.stop()
        assert rc == 0, f"postroom exited {rc} on SIGTERM (expected a clean 0)"


@pytest.fixture(scope="module")
def postroom_endpoint() -> Iterator[Endpoint]:
    srv = _start_postroom()
    yield Endpoint("postroom", srv.endpoint, srv)
    _stop_postroom(srv)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[Endpoint]:
    moto = MotoServer()
    yield Endpoint("moto", moto.url)
    moto.stop()


@pytest.fixture(scope="module", params=["postroom", "moto"])
def endpoint(request: pytest.FixtureRequest) -> Iterator[Endpoint]:
    """Each test module runs once against postroom and once against moto's server."""
    if request.param == "postroom":
        srv = _start_postroom()
        yield Endpoint("postroom", srv.endpoint, srv)
        _stop_postroom(srv)
    else:
        moto = MotoServer()
        yield Endpoint("moto", moto.url)
        moto.stop()
