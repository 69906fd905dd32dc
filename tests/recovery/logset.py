"""A generated, realistic log set for the recovery tests and benchmark.

Messages published by services to a bus, logged as JSON lines by the publisher:

    {"ts": "...Z", "level": "info", "logger": "bus.publisher", "msg": "published", "service": "orders-api",
     "detail": {"message_id": "...", "group": "customer-017", "attributes": {"type": "order.created"},
                "body": "{\\"customer\\": \\"customer-017\\", \\"seq\\": 12, ...}"}}

The body is JSON-in-a-string; every group's messages carry seq 0, 1, 2 … in time order, so a
consumer can check per-group order. Several files overlap in time; one is gzipped; some messages
are logged twice (by the publisher and by the worker that relayed them, in another file, a few ms
later); unrelated lines (access logs, plain-text warnings) are interleaved; malformed lines carry
the ``"msg":"published"`` marker but are truncated, have a time that is not one, or are not UTF-8.
Messages before the window and after it (the ones that were delivered) are in the files too.
"""

from __future__ import annotations

import gzip
import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

WINDOW_START = datetime(2026, 11, 28, 22, 0, tzinfo=UTC).timestamp()
WINDOW_HOURS = 10
SINCE = "2026-11-28T22:00:00Z"
UNTIL = "2026-11-29T08:00:00Z"
MARKER = '"msg":"published"'
MAPPING_ARGS = ["--marker", MARKER, "--body-field", "detail.body", "--group-field", "detail.group",
                "--id-field", "detail.message_id", "--time-field", "ts",
                "--attr-field", "event_type=detail.attributes.type"]
FILES = ("orders-api-1.log", "orders-api-2.log", "billing-api.log", "relay-worker.log.gz")
TYPES = ("order.created", "order.paid", "order.shipped", "order.cancelled")


@dataclass
class LogSet:
    directory: Path
    messages: int
    groups: dict[str, list[str]] = field(default_factory=dict)
    """group → message ids in the order they were published (inside the window)."""
    duplicates: int = 0
    outside_window: int = 0
    malformed: dict[tuple[str, int], str] = field(default_factory=dict)
    """(file name, line number) → expected reason prefix."""
    unrelated: int = 0
    lines: int = 0


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _line(t: float, service: str, msg_id: str, group: str, seq: int, kind: str) -> str:
    body = json.dumps({"customer": group, "seq": seq, "order_id": f"o-{msg_id[:8]}", "type": kind,
                       "amount": round(10 + seq * 0.37, 2)}, separators=(",", ":"))
    return json.dumps({"ts": _iso(t), "level": "info", "logger": "bus.publisher", "msg": "published",
                       "service": service, "detail": {"message_id": msg_id, "group": group,
                                                      "attributes": {"type": kind}, "body": body}},
                      separators=(",", ":"))


def generate(directory: Path, messages: int = 45_000, groups: int = 200, seed: int = 6,
             outside: int = 600, malformed: int = 150) -> LogSet:
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    names = [f"customer-{i:03d}" for i in range(groups)]
    weights = [1 + (i % 7) for i in range(groups)]
    per_file: dict[str, list[tuple[float, str, str | None]]] = {f: [] for f in FILES}
    result = LogSet(directory, messages)
    seqs: dict[str, int] = {}
    span = WINDOW_HOURS * 3600
    step = span / (messages + 1)
    # before the window, inside it, after it; times strictly increasing
    schedule: list[tuple[float, bool]] = []
    for i in range(outside // 2):
        schedule.append((WINDOW_START - 600 + i * (600 / (outside // 2 + 1)), False))
    for i in range(messages):
        schedule.append((WINDOW_START + (i + rng.random() * 0.5) * step, True))
    for i in range(outside - outside // 2):
        schedule.append((WINDOW_START + span + 1 + i, False))
    for t, inside in schedule:
        group = rng.choices(names, weights)[0]
        seq = seqs.get(group, 0)
        seqs[group] = seq + 1
        msg_id = str(uuid.UUID(int=rng.getrandbits(128)))
        kind = TYPES[rng.randrange(len(TYPES))]
        producer = FILES[0] if t < WINDOW_START + span / 2 else FILES[1]
        if rng.random() < 0.3:
            producer = FILES[2]
        per_file[producer].append((t, _line(t, producer.split(".")[0].rsplit("-", 1)[0], msg_id, group, seq, kind),
                                   None))
        if inside:
            result.groups.setdefault(group, []).append(msg_id)
        else:
            result.outside_window += 1
        if rng.random() < 0.05:  # relayed: logged again by the worker, in the gzipped file, a bit later
            t2 = t + 0.004
            per_file[FILES[3]].append((t2, _line(t2, "relay-worker", msg_id, group, seq, kind), None))
            if inside and t2 < WINDOW_START + span:
                result.duplicates += 1
    # unrelated lines
    for _ in range(messages // 4):
        t = WINDOW_START + rng.random() * span
        f = FILES[rng.randrange(len(FILES))]
        if rng.random() < 0.5:
            text = json.dumps({"ts": _iso(t), "level": "info", "msg": "request", "path": "/health", "status": 200,
                               "ms": rng.randint(1, 30)}, separators=(",", ":"))
        else:
            text = f"{_iso(t)} WARN [pool-{rng.randint(1, 8)}] connection pool exhausted, waiting 50ms"
        per_file[f].append((t, text, "unrelated"))
    # malformed lines: truncated JSON, a time that is not one, bytes that are not UTF-8
    for i in range(malformed):
        t = WINDOW_START + rng.random() * span
        f = FILES[rng.randrange(len(FILES))]
        good = _line(t, "orders-api", str(uuid.UUID(int=rng.getrandbits(128))), "customer-000", 0, TYPES[0])
        kind = i % 3
        if kind == 0:
            per_file[f].append((t, good[: rng.randint(len(good) // 2, len(good) - 2)], "invalid JSON"))
        elif kind == 1:
            per_file[f].append((t, good.replace(_iso(t), "yesterday evening"), "bad time"))
        else:
            per_file[f].append((t, good.replace("order_id", "order_\udcff"), "not UTF-8"))
    for name, entries in per_file.items():
        entries.sort(key=lambda e: e[0])
        path = directory / name
        raw = b"".join(text.encode("utf-8", "surrogateescape") + b"\n" for _, text, _ in entries)
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(raw, compresslevel=1))
        else:
            path.write_bytes(raw)
        for lineno, (_, _, kind) in enumerate(entries, 1):
            if kind == "unrelated":
                result.unrelated += 1
            elif kind is not None:
                result.malformed[(str(path), lineno)] = kind
        result.lines += len(entries)
    return result
