"""Drive postroom's ASGI app in-process, without sockets, for instruction counts.

On a shared, noisy machine CPU time per message moves ±20 % from run to run, too much to
see a 5 % change. Instructions do not move: run this under callgrind and compare the
total per message of two builds, side by side, in one session:

    valgrind --tool=callgrind --callgrind-out-file=/tmp/new.cg .venv/bin/python bench/inprocess.py --n 2000
    PYTHONPATH=<other checkout>/src valgrind --tool=callgrind --callgrind-out-file=/tmp/base.cg \\
        .venv/bin/python bench/inprocess.py --n 2000
    callgrind_annotate /tmp/new.cg | head -5     # "PROGRAM TOTALS"

``bench/instructions.py`` does exactly that for a list of workloads and prints the ratios.
Each workload runs ``--warmup`` requests first; the script prints the instruction-free part
(start-up) separately by running with ``--n 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

AUTH = ("AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/{svc}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


class Client:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def call(self, target: str | None, body: bytes, content_type: str = "application/x-amz-json-1.0",
                   svc: str = "sqs") -> tuple[int, bytes]:
        headers = [(b"host", b"127.0.0.1:9700"), (b"content-type", content_type.encode()),
                   (b"authorization", AUTH.format(svc=svc).encode())]
        if target:
            headers.append((b"x-amz-target", target.encode()))
        scope = {"type": "http", "method": "POST", "path": "/", "query_string": b"", "headers": headers,
                 "client": ("127.0.0.1", 1)}
        sent = False
        out: dict[str, Any] = {}

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                out["status"] = message["status"]
            else:
                out["body"] = message.get("body", b"")

        await self.app(scope, receive, send)
        return out["status"], out["body"]

    async def sqs(self, action: str, params: dict[str, Any]) -> dict[str, Any]:
        status, body = await self.call(f"AmazonSQS.{action}", json.dumps(params).encode())
        assert status == 200, (action, status, body[:300])
        return json.loads(body) if body else {}

    async def sns(self, params: dict[str, str]) -> bytes:
        from urllib.parse import urlencode

        status, body = await self.call(None, urlencode({**params, "Version": "2010-03-31"}).encode(),
                                       "application/x-www-form-urlencoded", "sns")
        assert status == 200, (params, status, body[:300])
        return body


def _reuse_signing_key(data: Path) -> None:
    """RSA key generation searches for primes at random: its cost varies by hundreds of
    millions of instructions from run to run. Every run signs with one key made once."""
    import shutil

    from postroom.sns_signing import CERT_FILE, KEY_FILE, Signer

    kept = Path(tempfile.gettempdir()) / "postroom-inprocess-signing"
    if not (kept / KEY_FILE).exists():
        Signer.load_or_create(kept)
    data.mkdir(parents=True, exist_ok=True)
    for name in (KEY_FILE, CERT_FILE):
        shutil.copy(kept / name, data / name)


async def run(workload: str, n: int, warmup: int, store: str | None) -> None:
    from postroom.server.app import PostroomApp
    from postroom.server.config import ServerConfig

    data = Path(tempfile.mkdtemp(prefix="inproc-"))
    _reuse_signing_key(data)
    schema = None
    if store and store.startswith("postgres"):
        schema = f"inproc_{uuid.uuid4().hex[:10]}"
        store = f"{store}{'&' if '?' in store else '?'}schema={schema}"
    app = PostroomApp(ServerConfig(data_dir=data, store_url=store))
    await app.startup()
    for task in app._background:  # the move-task, outbox and retention loops tick with wall time, not load
        task.cancel()
    c = Client(app)
    body = "x" * 256
    try:
        url = (await c.sqs("CreateQueue", {"QueueName": "w"}))["QueueUrl"]
        if workload == "send":
            for _ in range(warmup + n):
                await c.sqs("SendMessage", {"QueueUrl": url, "MessageBody": body})
        elif workload == "batch":
            entries = [{"Id": str(i), "MessageBody": body} for i in range(10)]
            for _ in range((warmup + n) // 10):
                await c.sqs("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
        elif workload == "receive":
            entries = [{"Id": str(i), "MessageBody": body} for i in range(10)]
            for _ in range((warmup + n) // 10):
                await c.sqs("SendMessageBatch", {"QueueUrl": url, "Entries": entries})
            got = 0
            while got < warmup + n:
                msgs = (await c.sqs("ReceiveMessage", {"QueueUrl": url, "MaxNumberOfMessages": 10})).get(
                    "Messages", [])
                if not msgs:
                    break
                got += len(msgs)
                await c.sqs("DeleteMessageBatch", {"QueueUrl": url, "Entries": [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)]})
        elif workload == "fanout":
            xml = (await c.sns({"Action": "CreateTopic", "Name": "t"})).decode()
            topic = xml.split("<TopicArn>")[1].split("</TopicArn>")[0]
            for i in range(3):
                q = (await c.sqs("CreateQueue", {"QueueName": f"s{i}"}))["QueueUrl"]
                arn = (await c.sqs("GetQueueAttributes", {"QueueUrl": q, "AttributeNames": ["QueueArn"]}))[
                    "Attributes"]["QueueArn"]
                await c.sns({"Action": "Subscribe", "TopicArn": topic, "Protocol": "sqs", "Endpoint": arn,
                             "Attributes.entry.1.key": "RawMessageDelivery", "Attributes.entry.1.value": "true"})
            for _ in range(warmup + n):
                await c.sns({"Action": "Publish", "TopicArn": topic, "Message": body})
        else:
            raise SystemExit(f"unknown workload {workload}")
    finally:
        app.begin_shutdown()
        await app.shutdown()
        if schema and store:
            import asyncpg

            conn = await asyncpg.connect(store.split("?")[0])
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            await conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workload", default="send", choices=["send", "batch", "receive", "fanout"])
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--store", default=None, help="a postgresql:// URL (default: SQLite in a temp dir)")
    args = ap.parse_args()
    asyncio.run(run(args.workload, args.n, args.warmup, args.store))


if __name__ == "__main__":
    main()
