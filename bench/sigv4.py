"""SigV4 verification cost: server CPU per request with verification off and on, side by side.

One postroom app runs in this process with a credentials file, driven through its ASGI
interface (no sockets, as ``bench/inprocess.py`` does), with ``--durability relaxed`` so that
fsync's kernel time does not drown the difference. The same requests, signed beforehand by
botocore (the client's signing is not counted), are sent in alternating rounds with
verification on (the app's authenticator) and off (no authenticator: what a server without
``--credentials`` runs), so drift on a shared machine hits both alike and both use the same
store. The CPU time of the process (``time.process_time``: every thread) is summed per mode.

Reported:

- ``verify``: ``Authenticator.authenticate`` alone on a signed request (header parsing, key
  lookup, clock check, canonical request, two SHA-256 and one HMAC with the cached signing key);
- per workload (``GetQueueUrl`` over SQS JSON, the cheapest request, and ``SendMessage`` with a
  256-byte body): µs of CPU per request off and on, the difference and the ratio.

    .venv/bin/python bench/sigv4.py --n 20000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

KEY, SECRET = "BENCHKEY000000000000", "bench-secret-0123456789abcdefghijklmnopqrstu"
HOST = "127.0.0.1:9700"


def signed_scope(target: str, body: bytes) -> tuple[dict[str, Any], bytes]:
    """An ASGI scope for a request botocore signed, as boto3 would send it."""
    request = AWSRequest(method="POST", url=f"http://{HOST}/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": target,
        "User-Agent": "Boto3/1.44.8 md/Botocore#1.44.8 ua/2.1 os/linux lang/python#3.11.7"})
    SigV4Auth(Credentials(KEY, SECRET), "sqs", "us-east-1").add_auth(request)
    headers = [(b"host", HOST.encode()), (b"content-length", str(len(body)).encode()),
               *((k.lower().encode(), str(v).encode()) for k, v in request.headers.items())]
    return {"type": "http", "method": "POST", "path": "/", "raw_path": b"/", "query_string": b"",
            "headers": headers, "client": ("127.0.0.1", 1)}, body


async def call(app: Any, scope: dict[str, Any], body: bytes) -> int:
    out: dict[str, int] = {}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]

    await app(scope, receive, send)
    return out["status"]


async def make_app(root: Path, credentials: Path | None) -> Any:
    from postroom.server.app import PostroomApp
    from postroom.server.config import ServerConfig

    app = PostroomApp(ServerConfig(data_dir=root, credentials_file=credentials, log_level="warning",
                                   durability="relaxed"))
    await app.startup()
    for task in app._background:  # background loops tick with wall time, not load
        task.cancel()
    return app


def bench_verify(app: Any, scope: dict[str, Any], body: bytes, n: int) -> float:
    from postroom.protocol.http import Request

    request = Request("POST", "/", b"", dict(scope["headers"]), body)
    auth = app.authenticator
    for _ in range(1000):
        auth.authenticate(request, "/", scope["headers"])
    start = time.process_time()
    for _ in range(n):
        auth.authenticate(request, "/", scope["headers"])
    return (time.process_time() - start) / n * 1e6


async def run(n: int, rounds: int) -> None:
    import logging

    logging.getLogger("postroom").setLevel(logging.ERROR)
    logging.getLogger("postroom.access").setLevel(logging.ERROR)
    tmp = Path(tempfile.mkdtemp(prefix="bench-sigv4-"))
    creds = tmp / "credentials.yaml"
    creds.write_text(f"keys:\n  {KEY}:\n    secret_access_key: {SECRET}\n")
    app = await make_app(tmp / "data", creds)
    authenticator = app.authenticator

    def verification(on: bool) -> Any:
        app.authenticator = authenticator if on else None
        return app

    try:
        create, create_body = signed_scope("AmazonSQS.CreateQueue", b'{"QueueName":"w"}')
        assert await call(app, create, create_body) == 200
        url = f"http://{HOST}/000000000000/w"
        workloads = {
            "GetQueueUrl": signed_scope("AmazonSQS.GetQueueUrl", b'{"QueueName":"w"}'),
            "SendMessage": signed_scope("AmazonSQS.SendMessage",
                                        json.dumps({"QueueUrl": url, "MessageBody": "x" * 256}).encode()),
        }
        print(f"verify (Authenticator.authenticate alone): "
              f"{bench_verify(app, *workloads['GetQueueUrl'], n):.1f} µs/request")
        for name, (scope, body) in workloads.items():
            spent = {"off": 0.0, "on": 0.0}
            per_round = max(1, n // rounds)
            for on in (False, True):  # warm up
                verification(on)
                for _ in range(min(500, per_round)):
                    assert await call(app, scope, body) == 200
            for _ in range(rounds):
                for label in ("off", "on"):
                    verification(label == "on")
                    start = time.process_time()
                    for _ in range(per_round):
                        await call(app, scope, body)
                    spent[label] += time.process_time() - start
            total = per_round * rounds
            us_off, us_on = spent["off"] / total * 1e6, spent["on"] / total * 1e6
            print(f"{name:<12} off {us_off:7.1f} µs/request   sigv4 {us_on:7.1f} µs/request   "
                  f"+{us_on - us_off:5.1f} µs   ×{us_on / us_off:.3f}   ({total} requests each)")
    finally:
        app.begin_shutdown()
        await app.shutdown()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=20000, help="requests per workload and mode")
    ap.add_argument("--rounds", type=int, default=20, help="alternations between the two apps")
    args = ap.parse_args()
    asyncio.run(run(args.n, args.rounds))


if __name__ == "__main__":
    main()
