"""Fuzz a running postroom with mutated real SDK requests (issue #15).

    .venv/bin/python bench/fuzz.py --count 1000000          # or: make fuzz FUZZ_ARGS="--count 1000000"
    .venv/bin/python bench/fuzz.py --seconds 600 --seed 7
    .venv/bin/python bench/fuzz.py --replay bench/results/fuzz-<stamp>.jsonl   # send the findings again

It starts a server of its own on 127.0.0.1 (data dir in /dev/shm when there is one, so fsync costs
nothing), records what boto3/botocore send for every SQS action over both wire protocols and for every
SNS action (bench/fuzz_corpus.py), creates an untouched *sentinel* queue and topic, then sends mutated
copies of the recorded requests from several keep-alive connections: bytes flipped, inserted, deleted
and truncated; JSON members and form parameters deleted, duplicated, retyped, renamed, re-indexed;
strings replaced by lone surrogates, NUL, U+FFFE, invalid UTF-8, huge numbers, 300 kB strings, deeply
nested JSON (also inside the JSON-valued attributes: policies, filter and redrive policies); wrong
content types, targets, methods, paths and Authorization headers; and now and then raw HTTP that is
not HTTP at all. Requests are signed again after mutation (SigV4, as the SDK would), unless the
mutation is of the signature itself.

Every answer is counted by status. A *finding* is an answer ≥ 500, a connection closed without an
answer (to a well-formed HTTP request), an answer slower than --timeout, or the server process dying
(it is then restarted); each is written with its request to bench/results/fuzz-<stamp>.jsonl. At the
end the sentinel queue and topic must be exactly as they were (attributes, tags, messages, bodies,
attributes of every message; the topic's attributes and subscriptions), and the server's log must hold
no traceback. Exit status 0 only when there is no finding at all.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fuzz_corpus as corpus

from postroom.server.app import MAX_DRAINED  # a body over it is answered 413 and cut off

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
CREDENTIALS = Credentials("AKIDFUZZ", "x")
SCOPE = re.compile(r"Credential=[^/]*/\d+/([^/]+)/([^/]+)/")

# ---- values a mutation puts in ---------------------------------------------------

EVIL_STRINGS: list[str] = [
    "", " ", "\ud800", "\udfff", "a\udc00b", "\ud83d", "\x00", "a\x00b", "\ufffe", "\uffff", "\x1f", "\x7f",
    "\u202e", "\U0001f680", "\u00e9", "\t\r\n", "A" * 300_000, "x" * 1025, "x" * 257, "-1", "0", "1",
    "2147483648", "-9223372036854775809", "9" * 400, "1e309", "NaN", "Infinity", "-0", "0x10", "1.5", "true",
    "null", "[]", "{}", "%", "%%%", "%ff", "../../etc/passwd", "<x/>", "]]>", "&amp;", "&#0;", "'\"",
    "arn:aws:sqs:us-east-1:000000000000:", "arn:aws:sqs:us-east-1:000000000000:fz-std",
    "arn:aws:sns:us-east-1:000000000000:fz-topic", "arn:aws:sns:us-east-1:000000000000:fz-topic:x",
    "arn:aws:sqs:eu-west-1:123456789012:fz-std", "arn:::::", "http://localhost/000000000000/fz-std",
    "http://localhost/queue/eu-west-1/000000000000/fz-std", "fz-std", "fz-fifo.fifo", "All", ".*", "*",
    "String", "Number", "Binary", "String.Array", "\\ud800", "[" * 50_000, "{\"a\":" * 20_000,
    '{"a": "\\ud800"}', '{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:000000000000:fz-dlq", '
    '"maxReceiveCount": 1e400}', '{"kind": [{"numeric": [">", 1e308, "<", -1e308]}]}',
    '{"kind": [{"prefix": "\\u0000"}]}', '{"a": ' * 300 + "1" + "}" * 300, "[" * 300 + "]" * 300,
]
EVIL_JSON: list[Any] = [None, True, False, 0, -1, 2**31, 2**63, 2**64, 10**300, -(10**300), 1.5, 1e308, -0.0,
                        float("inf"), float("nan"), [], {}, [None], {"": None}, [[[[[]]]]], "x"]
INTERESTING_BYTES = [b"\x00", b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xef\xbf\xbe", b"\"", b"\\", b"{", b"}",
                     b"[", b"]", b",", b":", b"&", b"=", b"%", b".", b"\r\n", b"\\u0000", b"\\ud800", b"9" * 30]
CONTENT_TYPES = ["application/x-amz-json-1.0", "application/x-amz-json-1.1", "application/json",
                 "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
                 "text/xml", "text/plain", "multipart/form-data; boundary=x", "", "\x7f", "a" * 5000]
METHODS = ["GET", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST", "TRACE", "FOO"]
PATHS = ["/", "/000000000000/fz-std", "/queue/us-east-1/000000000000/fz-std", "/queue/x", "/a/b/c/d/e",
         "/000000000000/", "/%ff", "/%00", "/" + "a" * 8000, "/_postroom/outbox/sms", "/_postroom/accounting",
         "/_postroom/outbox/nope?limit=-1", "/_postroom/clock/advance?seconds=nan", "/health", "/metrics",
         "/000000000000/fz-std?Action=ReceiveMessage", "/?Action=ListQueues&Version=2012-11-05", "//", "/..",
         "/_postroom/sms/opted-out", "/_postroom/sns/unsubscribe?x=1"]
RAW_HTTP = [b"GET / HTTP/1.1\r\n\r\n", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
            b"POST / HTTP/9.9\r\nHost: x\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", b"POST / HTTP/1.1\r\nHost: x\r\n"
            b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", b"GARBAGE\r\n\r\n", b"POST / HTTP/1.1\r\nHost: x\r\n"
            b"Content-Length: 5\r\nContent-Length: 7\r\n\r\nabcdefg", b"POST / HTTP/1.1\r\nX: \x00\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"]


# ---- the request being mutated ---------------------------------------------------

@dataclass
class Req:
    service: str
    action: str
    method: str
    path: str
    headers: list[tuple[str, str]]
    body: bytes
    ops: list[str] = field(default_factory=list)
    resign: bool = True
    raw: bytes | None = None  # when set: exactly these bytes go on the wire (not HTTP, or not quite)

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def set_header(self, name: str, value: str | None) -> None:
        self.headers = [(k, v) for k, v in self.headers if k.lower() != name.lower()]
        if value is not None:
            self.headers.append((name, value))


def _json_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for k, v in node.items():
            out.extend(_json_paths(v, (*path, k)))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.extend(_json_paths(v, (*path, i)))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        node = node[p]
    return node


DEEP = re.compile(r'"__deep_(\d+)__"')


def _deep(depth: int) -> Any:
    """A marker that ``_dumps`` writes as ``depth`` nested arrays (json.dumps itself cannot)."""
    return f"__deep_{depth}__"


def _dumps(value: Any) -> str:
    text = json.dumps(value, allow_nan=True)
    return DEEP.sub(lambda m: "[" * int(m.group(1)) + "1" + "]" * int(m.group(1)), text)


def _evil_string(rng: random.Random, old: str | None) -> str:
    choice = rng.random()
    if old and choice < 0.25:  # an edge character put into the real value
        i = rng.randrange(len(old) + 1)
        return old[:i] + rng.choice(["\ud800", "\x00", "\ufffe", "\udfff", "\x08", "%", "\\", '"', "\u0085"]) + old[i:]
    if old and choice < 0.35 and old[:1] in "{[":  # a JSON-valued attribute: mutate the inner JSON
        try:
            inner = json.loads(old)
        except (ValueError, RecursionError):
            return old[: len(old) // 2]
        holder = [inner]
        _mutate_json_tree(rng, holder, 0)
        return _dumps(holder[0])
    if old and choice < 0.4:  # repeated, up to 32 MiB (the server's limit is 4 MiB, 16 MiB read)
        return old * min(rng.choice([2, 100, 5000]), max(1, (32 << 20) // len(old)))
    return rng.choice(EVIL_STRINGS)


def _mutate_json_tree(rng: random.Random, holder: list[Any], index: int) -> str:
    """One structural mutation somewhere in ``holder[index]``; returns its name."""
    root = holder[index]
    paths = _json_paths(root)
    path = rng.choice(paths)
    if not path:
        holder[index] = rng.choice([*EVIL_JSON, _deep(rng.choice([100, 2000, 100_000]))])
        return "json-root"
    parent = _get(root, path[:-1])
    key = path[-1]
    old = parent[key]
    r = rng.random()
    if r < 0.2:
        del parent[key]
        return "json-delete"
    if r < 0.45:
        parent[key] = _evil_string(rng, old if isinstance(old, str) else None)
        return "json-evil-string"
    if r < 0.65:
        parent[key] = rng.choice(EVIL_JSON)
        return "json-evil-value"
    if r < 0.72:
        parent[key] = _deep(rng.choice([50, 1000, 100_000]))
        return "json-deep"
    if r < 0.8 and isinstance(parent, dict):
        parent[rng.choice(["Unknown", "QueueUrl", "Entries", "Id", "", "__proto__", "MessageBody"])] = old
        return "json-add-member"
    if r < 0.88 and isinstance(parent, list):
        parent.extend([old] * rng.choice([1, 10, 200]))
        return "json-duplicate-entry"
    if r < 0.94 and isinstance(old, str):
        parent[key] = old[: rng.randrange(len(old) + 1)]
        return "json-truncate-string"
    parent[key] = [old] if rng.random() < 0.5 else {"v": old}
    return "json-wrap"


def _mutate_json_body(rng: random.Random, req: Req) -> None:
    try:
        data = json.loads(req.body) if req.body else {}
    except (ValueError, RecursionError):
        _mutate_bytes(rng, req)
        return
    holder = [data]
    req.ops.append(_mutate_json_tree(rng, holder, 0))
    text = _dumps(holder[0])
    if rng.random() < 0.1:  # a duplicate key, which only raw JSON text can carry
        text = text.replace("{", '{"QueueUrl": "http://localhost/000000000000/fz-dlq", ', 1)
        req.ops.append("json-duplicate-key")
    req.body = text.encode("utf-8", "surrogatepass")


def _mutate_form_body(rng: random.Random, req: Req) -> None:
    try:
        pairs = parse_qsl(req.body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        _mutate_bytes(rng, req)
        return
    r = rng.random()
    raw_values: dict[int, str] = {}
    if not pairs or r < 0.15:
        pairs.append((rng.choice(["Action", "Version", "QueueUrl", "Entries.1.Id", "Attribute.1.Name",
                                  "MessageAttribute.1.Name", "Attributes.entry.1.key", "X"]),
                      rng.choice(EVIL_STRINGS[:60])))
        req.ops.append("form-add")
    elif r < 0.3:
        del pairs[rng.randrange(len(pairs))]
        req.ops.append("form-delete")
    elif r < 0.45:
        k, v = rng.choice(pairs)
        pairs.append((k, _evil_string(rng, v)))
        req.ops.append("form-duplicate")
    elif r < 0.7:
        i = rng.randrange(len(pairs))
        pairs[i] = (pairs[i][0], _evil_string(rng, pairs[i][1]))
        req.ops.append("form-evil-value")
    elif r < 0.82:
        i = rng.randrange(len(pairs))
        k, v = pairs[i]
        parts = k.split(".")
        j = rng.randrange(len(parts))
        parts[j] = rng.choice(["0", "-1", "99999999999999999999", "1", "11", "x", "", "member", "entry",
                               "1.2.3", "Name", "Value", parts[j] * 3])
        pairs[i] = (".".join(parts), v)
        req.ops.append("form-rename")
    elif r < 0.9:
        i = rng.randrange(len(pairs))
        raw_values[i] = rng.choice(["%ff", "%ed%a0%80", "%c3", "%00", "%", "%zz", "%ef%bf%be", "+%2B+"])
        req.ops.append("form-raw-bytes")
    else:
        action = rng.choice(list(SNS_ACTIONS | SQS_ACTIONS))
        pairs = [(k, action if k == "Action" else v) for k, v in pairs]
        req.ops.append("form-other-action")
    parts_out = []
    for i, (k, v) in enumerate(pairs):
        value = raw_values.get(i)
        if value is None:
            value = quote(v.encode("utf-8", "surrogatepass"), safe="")
        parts_out.append(quote(k.encode("utf-8", "surrogatepass"), safe="") + "=" + value)
    req.body = "&".join(parts_out).encode()


def _mutate_bytes(rng: random.Random, req: Req) -> None:
    b = bytearray(req.body)
    r = rng.random()
    if not b or r < 0.15:
        b[len(b):] = rng.choice(INTERESTING_BYTES)
        req.ops.append("bytes-append")
    elif r < 0.35:
        i = rng.randrange(len(b))
        b[i] ^= 1 << rng.randrange(8)
        req.ops.append("bytes-flip")
    elif r < 0.55:
        i = rng.randrange(len(b) + 1)
        b[i:i] = rng.choice(INTERESTING_BYTES)
        req.ops.append("bytes-insert")
    elif r < 0.7:
        i = rng.randrange(len(b))
        del b[i:i + rng.randrange(1, 16)]
        req.ops.append("bytes-delete")
    elif r < 0.85:
        del b[rng.randrange(len(b)):]
        req.ops.append("bytes-truncate")
    else:
        i = rng.randrange(len(b))
        j = min(len(b), i + rng.randrange(1, 64))
        b[i:i] = b[i:j] * rng.choice([2, 50])
        req.ops.append("bytes-repeat")
    req.body = bytes(b)


def _mutate_headers(rng: random.Random, req: Req) -> None:
    r = rng.random()
    if r < 0.25:
        req.set_header("Content-Type", rng.choice(CONTENT_TYPES))
        req.ops.append("content-type")
    elif r < 0.4:
        target = req.header("x-amz-target")
        if target is not None and rng.random() < 0.5:
            req.set_header("X-Amz-Target", None)
            req.ops.append("target-removed")
        else:
            req.set_header("X-Amz-Target", rng.choice(
                [f"AmazonSQS.{rng.choice(sorted(SQS_ACTIONS))}", "AmazonSQS.", "AmazonSQS", "AmazonSNS.Publish",
                 "AmazonSQS.Nope", "", "\x7f", "AmazonSQS.SendMessage.SendMessage", "a" * 3000]))
            req.ops.append("target-set")
    elif r < 0.55:
        req.resign = False
        req.set_header("Authorization", rng.choice(
            [None, "", "AWS4-HMAC-SHA256", "AWS4-HMAC-SHA256 Credential=", "Bearer x",
             "AWS4-HMAC-SHA256 Credential=x/20250101/eu-west-1/sqs/aws4_request, SignedHeaders=host, Signature=0",
             "AWS4-HMAC-SHA256 Credential=123456789012/20250101/us-east-1/sns/aws4_request, SignedHeaders=, "
             "Signature=zz", "AWS4-HMAC-SHA256 Credential=a/b/c/d/e/f/g/h, Signature=",
             "AWS4-HMAC-SHA256 Credential=x/20250101/" + "r" * 500 + "/sqs/aws4_request, SignedHeaders=host, "
             "Signature=0", "AWS4-HMAC-SHA256 Credential=x/20250101/us-east-1/sts/aws4_request, SignedHeaders=host"
             ", Signature=0", "AWS4-HMAC-SHA256 Credential=\u00e9/1/2/3/4, Signature=1"]))
        req.ops.append("authorization")
    elif r < 0.65:
        req.set_header("Accept", rng.choice(["application/json", "*/*", "text/xml", "application/JSON;q=1"]))
        req.ops.append("accept")
    elif r < 0.72:
        req.set_header("Content-Encoding", rng.choice(["gzip", "deflate", "br", "identity", "amz-1.0"]))
        req.ops.append("content-encoding")
    elif r < 0.8:
        req.set_header("Host", rng.choice(["", "sqs.eu-west-1.example.com", "sqs.us-east-1.amazonaws.com:1",
                                           "[::1]:9", "a" * 1000, "h:99999", "h:-1", "\u00e9", "x:y:z",
                                           "sqs.%ff.example"]))
        req.ops.append("host")
    elif r < 0.86:
        req.set_header("X-Amz-Date", rng.choice(["", "20250101", "99999999T999999Z", "x"]))
        req.ops.append("x-amz-date")
    elif r < 0.92:
        for i in range(rng.choice([10, 100])):
            req.headers.append((f"X-Fuzz-{i}", "v" * rng.choice([10, 1000])))
        req.ops.append("many-headers")
    else:
        req.set_header("X-Amzn-Trace-Id", rng.choice(["Root=1-2-3", "\ud800" if False else "\u00ff", "x" * 5000]))
        req.ops.append("trace-header")


def mutate(rng: random.Random, base: corpus.Recorded) -> Req:
    req = Req(base.service, base.action, base.method, base.path,
              [(k, v) for k, v in base.headers if k.lower() not in ("content-length", "authorization")],
              base.body)
    if rng.random() < 0.01:
        req.raw = rng.choice(RAW_HTTP) if rng.random() < 0.7 else bytes(rng.randrange(256) for _ in range(64))
        req.ops.append("raw-http")
        return req
    json_body = req.header("x-amz-target") is not None
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        r = rng.random()
        if r < 0.45:
            (_mutate_json_body if json_body else _mutate_form_body)(rng, req)
        elif r < 0.65:
            _mutate_bytes(rng, req)
        elif r < 0.88:
            _mutate_headers(rng, req)
        elif r < 0.95:
            req.path = rng.choice(PATHS) if rng.random() < 0.7 else req.path + rng.choice(
                ["?Action=PurgeQueue", "?x=%ff", "?" + "a=1&" * 500, "/..", "%2F"])
            req.ops.append("path")
        else:
            req.method = rng.choice(METHODS)
            req.ops.append("method")
    return req


def sign(req: Req, host: str) -> None:
    if not req.resign:
        return
    service, region = "sqs", corpus.REGION
    if req.service in ("sns", "sts"):
        service = req.service
    aws = AWSRequest(method=req.method, url=f"http://{host}{req.path}",
                     data=req.body, headers={k: v for k, v in req.headers if k.lower() != "authorization"})
    try:
        SigV4Auth(CREDENTIALS, service, region).add_auth(aws)
    except Exception:  # a mutated header botocore cannot sign (e.g. not latin-1): send it unsigned
        return
    req.set_header("Authorization", aws.headers["Authorization"])
    req.set_header("X-Amz-Date", aws.headers["X-Amz-Date"])


def wire_bytes(req: Req, host: str) -> bytes:
    if req.raw is not None:
        return req.raw
    lines = [f"{req.method} {req.path} HTTP/1.1", f"Host: {host}"] if req.header("host") is None else \
        [f"{req.method} {req.path} HTTP/1.1"]
    for k, v in req.headers:
        lines.append(f"{k}: {v}")
    lines.append(f"Content-Length: {len(req.body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogatepass")
    return head + req.body


SQS_ACTIONS: set[str] = set()
SNS_ACTIONS: set[str] = set()


# ---- the HTTP client ---------------------------------------------------------------

class NoAnswer(Exception):
    pass


async def exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, data: bytes, head_only: bool,
                   timeout: float) -> tuple[int, dict[str, str], bytes]:
    writer.write(data)
    await writer.drain()

    async def read() -> tuple[int, dict[str, str], bytes]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise NoAnswer(type(exc).__name__) from None
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
        body = b""
        if head_only:
            return status, headers, body
        if headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip() or b"0", 16)
                chunk = await reader.readexactly(size + 2)
                body += chunk[:-2]
                if size == 0:
                    break
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        else:
            body = await reader.read()
        return status, headers, body
    return await asyncio.wait_for(read(), timeout)


# ---- the server --------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServerProcess:
    def __init__(self, data_dir: Path, port: int, log_path: Path, extra: list[str]) -> None:
        self.data_dir, self.port, self.log_path, self.extra = data_dir, port, log_path, extra
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child keeps it
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "postroom", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(self.data_dir), "--log-level", "warning", *self.extra],
            cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                with urllib.request.urlopen(self.endpoint + "/health", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise SystemExit("server did not become healthy")

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                return -9
        return self.proc.returncode


# ---- the sentinel ------------------------------------------------------------------

SENTINEL_QUEUE = "sentinel-" + os.urandom(6).hex()
SENTINEL_TOPIC = "sentinel-topic-" + os.urandom(6).hex()


def make_sentinel(c: corpus.Clients) -> None:
    sqs = c.sqs_json
    url = sqs.create_queue(QueueName=SENTINEL_QUEUE, Attributes={"VisibilityTimeout": "7", "DelaySeconds": "0"},
                           tags={"owner": "fuzz"})["QueueUrl"]
    for i in range(5):
        sqs.send_message(QueueUrl=url, MessageBody=f"sentinel {i} ü", MessageAttributes=corpus.ATTRS)
    topic = c.sns.create_topic(Name=SENTINEL_TOPIC, Attributes={"DisplayName": "sentinel"})["TopicArn"]
    c.sns.subscribe(TopicArn=topic, Protocol="email", Endpoint="sentinel@example.com")


def sentinel_state(c: corpus.Clients) -> dict[str, Any]:
    sqs = c.sqs_json
    url = sqs.get_queue_url(QueueName=SENTINEL_QUEUE)["QueueUrl"]
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    topic = corpus.arn("sns", SENTINEL_TOPIC)
    tattrs = c.sns.get_topic_attributes(TopicArn=topic)["Attributes"]
    subs = [(s["Protocol"], s["Endpoint"]) for s in c.sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]]
    return {"attributes": attrs, "tags": sqs.list_queue_tags(QueueUrl=url).get("Tags"),
            "topic": tattrs, "subscriptions": subs}


def sentinel_messages(c: corpus.Clients) -> list[tuple[str, str, dict[str, Any]]]:
    sqs = c.sqs_json
    url = sqs.get_queue_url(QueueName=SENTINEL_QUEUE)["QueueUrl"]
    got: dict[str, tuple[str, str, dict[str, Any]]] = {}
    for _ in range(20):
        r = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"],
                                AttributeNames=["ApproximateReceiveCount"])
        for m in r.get("Messages", []):
            got[m["MessageId"]] = (m["Body"], m["MD5OfBody"], m.get("MessageAttributes", {}))
        if len(got) >= 5 and not r.get("Messages"):
            break
    return sorted(got.values(), key=lambda t: t[0])


# ---- the run -------------------------------------------------------------------------

@dataclass
class Stats:
    sent: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    findings: int = 0
    crashes: int = 0
    slowest: float = 0.0


def _finding(out: Any, kind: str, req: Req, wire: bytes, status: int | None, body: bytes, seconds: float) -> None:
    out.write(json.dumps({"kind": kind, "service": req.service, "action": req.action, "ops": req.ops,
                          "status": status, "seconds": round(seconds, 3),
                          "request": base64.b64encode(wire[:2_000_000]).decode(),
                          "request_preview": wire[:1500].decode("latin-1"),
                          "response": body[:3000].decode("latin-1")}) + "\n")
    out.flush()


async def run(args: argparse.Namespace) -> int:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_path = RESULTS / f"fuzz-{stamp}.jsonl"
    base_dir = Path("/dev/shm") if Path("/dev/shm").is_dir() else None
    work = Path(tempfile.mkdtemp(prefix="postroom-fuzz-", dir=base_dir))
    server = ServerProcess(work / "data", free_port(), work / "server.log", args.server_arg or [])
    server.start()
    print(f"server pid {server.proc.pid if server.proc else '?'} on {server.endpoint}, data {work}, "
          f"findings -> {out_path}", flush=True)
    rng = random.Random(args.seed)
    clean = False
    try:
        recorded = corpus.record(server.endpoint)
        for r in recorded:
            (SNS_ACTIONS if r.service == "sns" else SQS_ACTIONS).add(r.action)
        clients = corpus.Clients(server.endpoint)
        make_sentinel(clients)
        before = sentinel_state(clients)
        print(f"corpus: {len(recorded)} recorded requests, {len({(r.service, r.action) for r in recorded})} "
              f"(service, action) pairs", flush=True)
        stats = Stats()
        host = f"127.0.0.1:{server.port}"
        deadline = time.monotonic() + args.seconds if args.seconds else None
        started = time.monotonic()
        lock = asyncio.Lock()
        restarting = asyncio.Event()
        restarting.set()
        with open(out_path, "a") as out:
            async def refresh_fixtures() -> None:
                await asyncio.to_thread(corpus.setup_fixtures, clients, True)

            async def worker(wid: int) -> None:
                wrng = random.Random(rng.random())
                reader: asyncio.StreamReader | None = None
                writer: asyncio.StreamWriter | None = None
                while True:
                    async with lock:
                        if stats.sent >= args.count or (deadline is not None and time.monotonic() > deadline):
                            break
                        stats.sent += 1
                        n = stats.sent
                    if n % args.refresh_every == 0:
                        await refresh_fixtures()
                    if n % 20_000 == 0:
                        rate = n / (time.monotonic() - started)
                        print(f"{n} sent, {rate:.0f}/s, statuses {dict(sorted(stats.statuses.items()))}, "
                              f"findings {stats.findings}", flush=True)
                    await restarting.wait()
                    req = mutate(wrng, wrng.choice(recorded))
                    sign(req, host)
                    data = wire_bytes(req, host)
                    t0 = time.monotonic()
                    try:
                        for attempt in (1, 2):
                            # A keep-alive connection the server closed after its last answer (it may, e.g.
                            # after a 413) is retried once on a new one, as HTTP clients do.
                            reused = writer is not None and reader is not None and not writer.is_closing()
                            if not reused:
                                reader, writer = await asyncio.open_connection("127.0.0.1", server.port,
                                                                               limit=2**24)
                            assert reader is not None and writer is not None
                            try:
                                status, headers, body = await exchange(reader, writer, data, req.method == "HEAD",
                                                                       args.timeout)
                                break
                            except (NoAnswer, ConnectionError):
                                if not reused or attempt == 2 or req.raw is not None:
                                    raise
                                writer.close()
                                writer = reader = None
                                stats.kinds["stale-connection-retried"] += 1
                    except (TimeoutError, NoAnswer, ConnectionError, ValueError, IndexError) as exc:
                        seconds = time.monotonic() - t0
                        if writer is not None:
                            writer.close()
                        writer = reader = None
                        if isinstance(exc, asyncio.TimeoutError):
                            stats.kinds["timeout"] += 1
                            stats.findings += 1
                            _finding(out, "timeout", req, data, None, b"", seconds)
                        elif not server.alive():
                            stats.crashes += 1
                            stats.findings += 1
                            _finding(out, "crash", req, data, None, b"", seconds)
                            restarting.clear()
                            await asyncio.to_thread(server.start)
                            await refresh_fixtures()
                            restarting.set()
                        elif len(req.body) > MAX_DRAINED and isinstance(exc, ConnectionError):
                            # refused (413) and closed at once, as meant: the client was still writing
                            stats.kinds["oversized-body-closed"] += 1
                        elif req.raw is None:
                            stats.kinds["no-answer"] += 1
                            stats.findings += 1
                            _finding(out, "no-answer", req, data, None, repr(exc).encode(), seconds)
                        else:
                            stats.kinds["closed-on-raw"] += 1
                        continue
                    seconds = time.monotonic() - t0
                    stats.slowest = max(stats.slowest, seconds)
                    stats.statuses[status] += 1
                    if status >= 500:
                        stats.findings += 1
                        _finding(out, "5xx", req, data, status, body, seconds)
                    elif (status == 408 and req.raw is None) or seconds > args.slow:
                        # not a failure, but the server stalled: kept for a look
                        stats.kinds["slow-or-408"] += 1
                        _finding(out, "slow", req, data, status, body, seconds)
                    if headers.get("connection", "").lower() == "close":
                        writer.close()
                        writer = reader = None
                if writer is not None:
                    writer.close()

            await asyncio.gather(*(worker(i) for i in range(args.connections)))
            elapsed = time.monotonic() - started
            after = sentinel_state(clients)
            messages = sentinel_messages(clients)
            expected = sorted((f"sentinel {i} ü", _md5(f"sentinel {i} ü"), _wire_attrs()) for i in range(5))
            unchanged = _comparable(before) == _comparable(after) and messages == expected
            log_text = server.log_path.read_text(errors="replace")
            tracebacks = log_text.count("Traceback")
            summary = {"kind": "summary", "sent": stats.sent, "seconds": round(elapsed, 1),
                       "rate": round(stats.sent / elapsed, 1), "statuses": dict(sorted(stats.statuses.items())),
                       "other": dict(stats.kinds), "findings": stats.findings, "crashes": stats.crashes,
                       "slowest_s": round(stats.slowest, 3), "sentinel_unchanged": unchanged,
                       "server_tracebacks": tracebacks, "seed": args.seed, "corpus": len(recorded)}
            if not unchanged:
                summary["sentinel_before"] = _comparable(before)
                summary["sentinel_after"] = _comparable(after)
                summary["sentinel_messages"] = messages
            out.write(json.dumps(summary, default=str) + "\n")
        print(json.dumps(summary, indent=1, default=str))
        if tracebacks:
            print(f"server log with tracebacks: {server.log_path}")
        clean = stats.findings == 0 and unchanged and tracebacks == 0
        return 0 if clean else 1
    finally:
        rc = server.stop()
        print(f"server stopped (exit {rc})")
        if clean:
            shutil.rmtree(work, ignore_errors=True)  # kept (log, database) when something was found
        else:
            print(f"server data and log kept in {work}")


def _md5(text: str) -> str:
    import hashlib
    return hashlib.md5(text.encode()).hexdigest()


def _wire_attrs() -> dict[str, Any]:
    return {k: {kk: vv for kk, vv in v.items()} for k, v in corpus.ATTRS.items()}


def _comparable(state: dict[str, Any]) -> dict[str, Any]:
    """The sentinel's state; ApproximateNumberOfMessagesNotVisible aside, nothing may move."""
    return json.loads(json.dumps(state, default=str))


async def replay(args: argparse.Namespace) -> int:
    """Send the requests of a findings file again to a fresh server and print what each gets now."""
    work = Path(tempfile.mkdtemp(prefix="postroom-fuzz-replay-"))
    server = ServerProcess(work / "data", free_port(), work / "server.log", args.server_arg or [])
    server.start()
    bad = 0
    try:
        corpus.record(server.endpoint)
        for line in Path(args.replay).read_text().splitlines():
            f = json.loads(line)
            if f.get("kind") == "summary":
                continue
            data = base64.b64decode(f["request"])
            data = re.sub(rb"Host: 127\.0\.0\.1:\d+", b"Host: 127.0.0.1:%d" % server.port, data, count=1)
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=2**24)
            try:
                status, _, body = await exchange(reader, writer, data, data.startswith(b"HEAD "), args.timeout)
            except Exception as exc:
                status, body = -1, repr(exc).encode()
            writer.close()
            bad += status >= 500 or status < 0
            print(f"{f['kind']:9} {f['service']:9} {f['action']:28} was {f['status']} now {status} "
                  f"{body[:160]!r}")
    finally:
        server.stop()
    print(f"{bad} still failing; server log {server.log_path}")
    return 1 if bad else 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--count", type=int, default=100_000, help="mutated requests to send (default 100000)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this many seconds (0: no limit)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--connections", type=int, default=8, help="concurrent keep-alive connections")
    p.add_argument("--timeout", type=float, default=30.0, help="an answer slower than this is a finding")
    p.add_argument("--slow", type=float, default=25.0,
                   help="answers slower than this (long polls wait up to 20 s) and 408s are saved as 'slow'")
    p.add_argument("--refresh-every", type=int, default=3000,
                   help="re-create (and purge) the corpus's queues and topics every N requests")
    p.add_argument("--server-arg", action="append", help="extra `postroom serve` argument (repeatable)")
    p.add_argument("--replay", help="a findings file: send its requests again and report")
    args = p.parse_args()
    if args.replay:
        return asyncio.run(replay(args))
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
