"""Benchmark of ``postroom recover``: parse rate, and end-to-end recovery rate into postroom with
moto's server side by side in the same run.

1. **Parse rate**: the extraction pipeline alone (read lines → parse → map → filter → plan) over a
   generated log set (the one tests/recovery uses: JSON lines, one gzipped file, unrelated and
   malformed lines, duplicates), in this process, on one core; best of ``--parse-runs``.
2. **End to end**: each server is started on a free port pinned to core 0 (``taskset``), and
   ``postroom recover … --execute`` runs as a subprocess pinned to core 1, as a user runs it, into a
   FIFO queue (and, for postroom, a standard queue). The send rate is messages / the time between the
   checkpoint's creation and its last write (the parse before it is excluded); the server's CPU per
   message is read from /proc. moto recovers a smaller log set (it is ~100× slower).

    .venv/bin/python bench/recover.py                       # 45,000 messages into postroom, 300 into moto
    .venv/bin/python bench/recover.py --messages 10000 --moto-messages 200

The machine is shared (2 cores, other jobs running): compare ratios, not absolute rates.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent

from tests.recovery.logset import MAPPING_ARGS, SINCE, UNTIL, generate  # noqa: E402

from postroom.recovery.filters import Window  # noqa: E402
from postroom.recovery.mapping import Extractor, Mapping, finalize, line_parser  # noqa: E402
from postroom.recovery.plan import build_plan  # noqa: E402
from postroom.recovery.rules import TargetRules  # noqa: E402
from postroom.recovery.scan import RejectSink, scan  # noqa: E402
from postroom.recovery.sources import expand_inputs, read_lines  # noqa: E402
from postroom.recovery.timeparse import parse_time  # noqa: E402

MAPPING = finalize(Mapping(marker='"msg":"published"', fields={
    "body": "detail.body", "group": "detail.group", "id": "detail.message_id", "time": "ts"},
    attributes={"event_type": "detail.attributes.type"}))


def parse_rate(directory: Path, runs: int) -> dict[str, Any]:
    files = expand_inputs([str(directory)])
    window = Window(parse_time(SINCE), parse_time(UNTIL))
    best: dict[str, Any] = {}
    for _ in range(runs):
        cpu0, t0 = time.process_time(), time.perf_counter()
        found, stats = scan(read_lines(files), files, line_parser(MAPPING), Extractor(MAPPING, TargetRules(fifo=True)),
                            [], window, RejectSink(None))
        t1 = time.perf_counter()
        plan = build_plan(found, "queue::bench.fifo")
        t2, cpu = time.perf_counter(), time.process_time() - cpu0
        rate = stats.lines / (t2 - t0)
        if not best or rate > best["lines_per_s"]:
            best = {"lines": stats.lines, "messages": len(plan.messages), "scan_s": t1 - t0, "plan_s": t2 - t1,
                    "lines_per_s": rate, "cpu_s": cpu, "lines_per_cpu_s": stats.lines / cpu}
    return best


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pinned(cmd: list[str], core: int) -> list[str]:
    taskset = shutil.which("taskset")
    return [taskset, "-c", str(core), *cmd] if taskset and core >= 0 else cmd


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, name: str, core: int) -> None:
        self.name = name
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dir = Path(tempfile.mkdtemp(prefix=f"bench-recover-{name}-"))
        if name == "postroom":
            cmd = [str(BIN / "postroom"), "serve", "--host", "127.0.0.1", "--port", str(self.port), "--data-dir",
                   str(self.dir / "data"), "--log-level", "warning"]
        else:
            cmd = [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        self.log = open(self.dir / "server.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(_pinned(cmd, core), stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/health", timeout=1)
                return
            except urllib.error.HTTPError:
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{name} did not start; see {self.dir / 'server.log'}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def _client(url: str, service: str) -> Any:
    import boto3

    return boto3.session.Session().client(service, endpoint_url=url, region_name="us-east-1",
                                          aws_access_key_id="x", aws_secret_access_key="x")


def recover_into(server: Server, logs: Path, queue: str, core: int, concurrency: int) -> dict[str, Any]:
    sqs = _client(server.url, "sqs")
    attrs = {"FifoQueue": "true"} if queue.endswith(".fifo") else {}
    url = sqs.create_queue(QueueName=queue, Attributes=attrs)["QueueUrl"]
    work = Path(tempfile.mkdtemp(prefix="bench-recover-run-"))
    env = dict(os.environ, POSTROOM_ENDPOINT_URL=server.url, AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x",
               AWS_DEFAULT_REGION="us-east-1")
    cmd = _pinned([str(BIN / "postroom"), "recover", str(logs), *MAPPING_ARGS, "--since", SINCE, "--until", UNTIL,
                   "--to", queue, "--execute", "--no-progress", "--concurrency", str(concurrency)], core)
    cpu0 = _cpu_seconds(server.proc.pid)
    t0 = time.perf_counter()
    run = subprocess.run(cmd, cwd=work, env=env, capture_output=True, text=True, timeout=3600)
    wall = time.perf_counter() - t0
    server_cpu = _cpu_seconds(server.proc.pid) - cpu0
    if run.returncode != 0:
        raise RuntimeError(f"recover into {server.name} failed ({run.returncode}):\n{run.stdout}\n{run.stderr}")
    cp = json.loads((work / "postroom-recover.checkpoint.json").read_text())
    send_s = cp["updated"] - cp["started"]
    count = int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
                ["Attributes"]["ApproximateNumberOfMessages"])
    return {"server": server.name, "queue": queue, "messages": cp["sent"], "in_queue": count, "send_s": send_s,
            "wall_s": wall, "msgs_per_s": cp["sent"] / send_s, "server_cpu_us_per_msg": server_cpu / cp["sent"] * 1e6}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=45_000)
    ap.add_argument("--groups", type=int, default=200)
    ap.add_argument("--moto-messages", type=int, default=300)
    ap.add_argument("--parse-runs", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--server-core", type=int, default=0)
    ap.add_argument("--client-core", type=int, default=1)
    args = ap.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-recover-"))
    big = generate(root / "big", messages=args.messages, groups=args.groups)
    small = generate(root / "small", messages=args.moto_messages, groups=min(args.groups, 20), outside=10,
                     malformed=6)
    parse = parse_rate(big.directory, args.parse_runs)
    print(f"parse: {parse['lines']:,} lines, {parse['messages']:,} messages, "
          f"{parse['lines_per_s']:,.0f} lines/s ({parse['lines_per_cpu_s']:,.0f} per CPU second)", flush=True)

    results = []
    for name, logs, queues in (("postroom", big.directory, ("bench.fifo", "bench-standard")),
                               ("moto", small.directory, ("bench.fifo",))):
        server = Server(name, args.server_core)
        try:
            for queue in queues:
                r = recover_into(server, logs, queue, args.client_core, args.concurrency)
                print(json.dumps(r), flush=True)
                results.append(r)
        finally:
            server.stop()

    def row(server: str, queue: str) -> dict[str, Any]:
        return next(r for r in results if r["server"] == server and r["queue"] == queue)

    pf, ps, mf = row("postroom", "bench.fifo"), row("postroom", "bench-standard"), row("moto", "bench.fifo")
    print()
    print(f"`bench/recover.py --messages {args.messages} --moto-messages {args.moto_messages}`, "
          f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC, server on core {args.server_core}, "
          f"recover on core {args.client_core}, {args.concurrency} senders")
    print()
    print("| measure | postroom FIFO | postroom standard | moto FIFO | postroom/moto (FIFO) |")
    print("|---|---|---|---|---|")
    print(f"| parse (one core, extraction pipeline) | {parse['lines_per_s']:,.0f} lines/s "
          f"({parse['lines_per_cpu_s']:,.0f} per CPU s) | | | |")
    print(f"| messages recovered | {pf['messages']:,} | {ps['messages']:,} | {mf['messages']:,} | |")
    print(f"| arrived in the queue | {pf['in_queue']:,} | {ps['in_queue']:,} | {mf['in_queue']:,} | |")
    print(f"| send rate (msgs/s) | {pf['msgs_per_s']:,.0f} | {ps['msgs_per_s']:,.0f} | {mf['msgs_per_s']:,.1f} "
          f"| {pf['msgs_per_s'] / mf['msgs_per_s']:,.0f}× |")
    print(f"| server CPU µs/msg | {pf['server_cpu_us_per_msg']:,.0f} | {ps['server_cpu_us_per_msg']:,.0f} | "
          f"{mf['server_cpu_us_per_msg']:,.0f} | |")
    print(f"| whole command, wall s | {pf['wall_s']:.1f} | {ps['wall_s']:.1f} | {mf['wall_s']:.1f} | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
