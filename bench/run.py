"""Benchmark postroom against moto's server with the shared yardstick (../shared/bench/sqsbench.py).

For each server: start it pinned to one core on a free port, wait until it answers, run sqsbench
pinned to the other core (it samples the server's CPU time through --server-pid), stop the server
(SIGTERM, then SIGKILL), and finally print a markdown table with the servers side by side. Raw
JSON lines and the table are written to bench/results/<timestamp>.jsonl and .md.

    .venv/bin/python bench/run.py                                  # postroom and moto, defaults
    .venv/bin/python bench/run.py --servers postroom --n 50000
    .venv/bin/python bench/run.py --servers moto --moto-n 300 --moto-n-fifo 200
    .venv/bin/python bench/run.py --endpoint http://127.0.0.1:9700 --server-pid 1234
    .venv/bin/python bench/run.py --baseline HEAD~1 --servers postroom,postroom-base,postroom-pg,postroom-pg-base

With ``--baseline REV`` the servers ``postroom-base`` and ``postroom-pg-base`` run the code of REV
(from a temporary git worktree), so a change is compared with what came before it in one run, on
one machine; the table gains new/base ratio columns.

See bench/README.md for what the workloads are and how to read the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
DEFAULT_SQSBENCH = REPO.parent / "shared" / "bench" / "sqsbench.py"
BIN = Path(sys.executable).parent
KNOWN_SERVERS = ("postroom", "postroom-pg", "postroom-base", "postroom-pg-base", "moto")
PG_SERVERS = ("postroom-pg", "postroom-pg-base")
BASELINE_SRC: Path | None = None  # src/ of the --baseline worktree, set by main()
PG_DSN = os.environ.get("POSTROOM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
WORKLOAD_NAMES = {"w1": "W1 SendMessage", "w2": "W2 SendMessageBatch (10)", "w3": "W3 receive + delete batch",
                  "w4": "W4 FIFO ordered drain", "w5": "W5 SNS fan-out", "w6": "W6 boto3 round trip"}
RESULT_WORKLOAD = {"w1_send": "w1", "w2_send_batch": "w2", "w3_drain": "w3", "w4_fifo": "w4", "w5_fanout": "w5"}


@dataclass
class Run:
    """One server's benchmark run."""

    name: str
    endpoint: str = ""
    n: int = 0
    n_fifo: int = 0
    lines: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def result(self, wl: str) -> dict[str, Any] | None:
        for d in self.lines:
            w = d.get("workload", "")
            if RESULT_WORKLOAD.get(w, w) == wl or w.startswith(wl + "_"):
                return d
        return None


# ---------------------------------------------------------------------------------------------
# servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def server_command(name: str, port: int, data_dir: Path, pg_schema: str = "") -> list[str]:
    if name.startswith("postroom"):
        exe = BIN / "postroom"
        base = [str(exe)] if exe.exists() else [sys.executable, "-m", "postroom"]
        sep = "&" if "?" in PG_DSN else "?"
        store = ["--store", f"{PG_DSN}{sep}schema={pg_schema}"] if name in PG_SERVERS else []
        if name.endswith("-base"):
            base = [sys.executable, "-m", "postroom"]
        return [*base, "serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(data_dir),
                "--log-level", "warning", *store]
    if name == "moto":
        exe = BIN / "moto_server"
        base = [str(exe)] if exe.exists() else [sys.executable, "-m", "moto.server"]
        return [*base, "-H", "127.0.0.1", "-p", str(port)]
    raise SystemExit(f"unknown server {name!r}; known: {', '.join(KNOWN_SERVERS)}")


def responds(url: str, need_200: bool) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200 or not need_200
    except urllib.error.HTTPError as e:  # an HTTP answer, e.g. moto's 404 for /health
        return not need_200 and e.code < 500
    except (OSError, urllib.error.URLError):
        return False


def pinned(cmd: list[str], core: int | None) -> tuple[list[str], Any]:
    """The command pinned to `core` with taskset (or sched_setaffinity when taskset is missing)."""
    if core is None:
        return cmd, None
    taskset = shutil.which("taskset")
    if taskset:
        return [taskset, "-c", str(core), *cmd], None
    return cmd, lambda: os.sched_setaffinity(0, {core})


class Server:
    def __init__(self, name: str, core: int | None, log_path: Path):
        self.name = name
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.data_dir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.log_path = log_path
        self.pg_schema = f"bench_{os.getpid()}_{self.port}" if name in PG_SERVERS else ""
        cmd, preexec = pinned(server_command(name, self.port, self.data_dir / "data", self.pg_schema), core)
        self.cmd = cmd
        env = dict(os.environ)
        if name.endswith("-base"):
            if BASELINE_SRC is None:
                raise SystemExit(f"{name} needs --baseline REV")
            env["PYTHONPATH"] = str(BASELINE_SRC)
        self._log = open(log_path, "wb")  # noqa: SIM115 - open for the life of the process
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=preexec, env=env)
        # taskset execs the server, so this pid is the server's own (sqsbench measures its tree)
        self.pid = self.proc.pid

    def wait_ready(self, timeout: float) -> None:
        # postroom answers GET /health with 200; moto has no /health, any HTTP answer will do
        url, need_200 = ((self.endpoint + "/health", True) if self.name.startswith("postroom")
                         else (self.endpoint + "/", False))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode} on start:\n{self.log_tail()}")
            if responds(url, need_200):
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer {url} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, chars: int = 2000) -> str:
        self._log.flush()
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self, timeout: float = 15.0) -> str:
        """SIGTERM, then SIGKILL after `timeout`; returns a note about how it ended."""
        note = ""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                note = f"{self.name} ignored SIGTERM for {timeout:.0f} s and was killed"
        else:
            note = f"{self.name} had already exited ({self.proc.returncode}) before the end of the run"
        if not note and self.proc.returncode not in (0, -signal.SIGTERM):
            note = f"{self.name} exited {self.proc.returncode} on SIGTERM"
        self._log.close()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        if self.pg_schema and shutil.which("psql"):
            subprocess.run(["psql", PG_DSN, "-qc", f'DROP SCHEMA IF EXISTS "{self.pg_schema}" CASCADE'],
                           capture_output=True, timeout=60)
        return note


# ---------------------------------------------------------------------------------------------
# running sqsbench


def sqsbench_command(args: argparse.Namespace, endpoint: str, label: str, n: int, n_fifo: int,
                     server_pid: int | None) -> list[str]:
    cmd = [sys.executable, str(args.sqsbench), "--endpoint", endpoint, "--workloads", args.workloads,
           "--n", str(n), "-c", str(args.concurrency), "--n-fifo", str(n_fifo),
           "--fifo-groups", str(args.fifo_groups), "--max-seconds", str(args.max_seconds),
           "--protocol", args.protocol, "--size", str(args.size), "--label", label]
    if args.client_core is not None:
        cmd += ["--pin-cpu", str(args.client_core)]
    if server_pid:
        cmd += ["--server-pid", str(server_pid)]
    return cmd


def bench_timeout(args: argparse.Namespace) -> float:
    if args.bench_timeout:
        return float(args.bench_timeout)
    n_wl = len([w for w in args.workloads.split(",") if w.strip()])
    # each workload has at most two bounded phases (W4: send, then drain), plus setup
    return args.max_seconds * 2 * n_wl + 180


def run_sqsbench(args: argparse.Namespace, run: Run, server_pid: int | None, jsonl: Any) -> None:
    cmd = sqsbench_command(args, run.endpoint, run.name, run.n, run.n_fifo, server_pid)
    print(f"# {run.name}: {' '.join(cmd)}", flush=True)
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + bench_timeout(args)
    assert proc.stdout is not None
    try:
        for line in proc.stdout:  # one JSON object per workload, streamed as each finishes
            line = line.strip()
            if not line:
                continue
            try:
                d = json.loads(line)
            except json.JSONDecodeError:
                print(f"  {run.name} (not JSON): {line}", flush=True)
                continue
            run.lines.append({**d, "_max_seconds": args.max_seconds})
            jsonl.write(json.dumps({"server": run.name, **d}) + "\n")
            jsonl.flush()
            print(f"  {run.name}: {summary(d)}", flush=True)
            if time.monotonic() > deadline:
                break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        pass
    if proc.poll() is None:
        proc.kill()
        proc.wait()
        run.problems.append(f"sqsbench did not finish within {bench_timeout(args):.0f} s and was killed")
    err = proc.stderr.read() if proc.stderr else ""
    if proc.returncode not in (0, None, -signal.SIGKILL):
        run.problems.append(f"sqsbench exited {proc.returncode}: {err.strip()[-1500:]}")
    for d in run.lines:
        if "failed" in d:
            run.problems.append(f"{d.get('workload')} failed: {d['failed']}")


def summary(d: dict[str, Any]) -> str:
    keys = ("workload", "msgs_per_s", "drain_msgs_per_s", "p50_ms", "p99_ms", "server_cpu_us_per_msg",
            "sent_ok", "received_unique", "not_received", "duplicates", "order_violations", "errors", "failed")
    return json.dumps({k: d[k] for k in keys if k in d})


# ---------------------------------------------------------------------------------------------
# the table


def metric_rows(wl: str) -> list[tuple[str, str, bool | None]]:
    """(label, key path, higher_is_better) for a workload; None: not a rate/cost comparison."""
    if wl == "w5":
        return [("delivered msgs/s", "delivered_msgs_per_s", True), ("publish msgs/s", "publish_msgs_per_s", True),
                ("publish→receive p50 ms", "e2e.p50_ms", False), ("publish→receive p99 ms", "e2e.p99_ms", False),
                ("server CPU µs/publish", "server_cpu_us_per_msg", False), ("lost", "lost", None),
                ("duplicates", "duplicates", None), ("errors", "publish_errors", None)]
    rate = ("drain msgs/s", "drain_msgs_per_s", True) if wl == "w4" else ("msgs/s", "msgs_per_s", True)
    rows: list[tuple[str, str, bool | None]] = [rate]
    if wl in ("w1", "w2"):
        rows += [("p50 ms", "p50_ms", False), ("p99 ms", "p99_ms", False)]
    elif wl == "w4":
        rows += [("send msgs/s", "send_msgs_per_s", True), ("send p50 ms", "send_lat.p50_ms", False),
                 ("send p99 ms", "send_lat.p99_ms", False)]
    rows.append(("server CPU µs/msg", "server_cpu_us_per_msg", False))
    if wl in ("w1", "w2", "w4"):
        rows.append(("sent / requested", "_sent", None))
    if wl in ("w3", "w4"):
        rows.append(("received / sent", "_received", None))
    if wl in ("w3", "w4"):
        rows += [("lost (not received)", "_lost", None), ("duplicates", "duplicates", None)]
    if wl == "w4":
        rows.append(("order violations", "order_violations", None))
    rows.append(("errors", "_errors", None))
    return rows


def value(d: dict[str, Any] | None, key: str) -> Any:
    if d is None:
        return None
    if key == "_sent":
        return f"{d['sent_ok']:,} / {d['n_requested']:,}" if "sent_ok" in d and "n_requested" in d else None
    if key == "_received":
        total = d.get("expected", d.get("sent_ok"))
        return f"{d['received_unique']:,} / {total:,}" if "received_unique" in d and total is not None else None
    if key == "_lost":
        missing = d.get("not_received")
        if not missing:
            return missing
        if d.get("completed") or (d.get("drain_seconds") or 0) < d.get("_max_seconds", float("inf")):
            return missing
        return f"{missing:,} not drained in time"
    if key == "_errors":
        return sum(int(d.get(k) or 0) for k in ("errors", "send_errors", "failed_entries", "delete_failures"))
    cur: Any = d
    for part in key.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:.1f}"
        return f"{v:.3g}"
    return str(v)


def ratio(a: Any, b: Any) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or isinstance(a, bool) or not b:
        return ""
    r = a / b
    if r >= 10:
        return f"{r:,.0f}×"
    if r >= 0.1:
        return f"{r:.2f}×"
    return f"{r:.2g}× (1/{1 / r:,.0f})"


def table(runs: list[Run], workloads: list[str]) -> str:
    names = [r.name for r in runs]
    with_ratio = "postroom" in names and "moto" in names
    with_pg = "postroom-pg" in names and "postroom" in names
    pairs = [(new, new + "-base") for new in ("postroom", "postroom-pg") if new in names and new + "-base" in names]
    head = (["workload", "metric", *names] + (["postroom/moto"] if with_ratio else [])
            + (["pg/sqlite"] if with_pg else []) + [f"{new} new/base" for new, _ in pairs])
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for wl in workloads:
        if wl not in ("w1", "w2", "w3", "w4", "w5"):
            continue
        results = {r.name: r.result(wl) for r in runs}
        if not any(results.values()):
            continue
        first = True
        for label, key, _better in metric_rows(wl):
            vals = [value(results[n], key) for n in names]
            if all(v is None for v in vals):
                continue
            row = [WORKLOAD_NAMES[wl] if first else "", label, *map(fmt, vals)]
            if with_ratio:
                row.append(ratio(value(results["postroom"], key), value(results["moto"], key))
                           if _better is not None else "")
            if with_pg:
                row.append(ratio(value(results["postroom-pg"], key), value(results["postroom"], key))
                           if _better is not None else "")
            for new, base in pairs:
                row.append(ratio(value(results[new], key), value(results[base], key)) if _better is not None else "")
            out.append("| " + " | ".join(row) + " |")
            first = False
    return "\n".join(out)


def notes(runs: list[Run], args: argparse.Namespace) -> list[str]:
    lines = []
    for r in runs:
        sizes = f"n={r.n:,}, n-fifo={r.n_fifo:,}"
        mem = next((d["server_mem"] for d in r.lines if d.get("server_mem")), None)
        rss = f"; server RSS after the standard-queue workloads {mem['rss_mib']} MiB" if mem else ""
        lines.append(f"- {r.name} ({r.endpoint}): {sizes}{rss}")
        if r.name == "moto" and (r.n, r.n_fifo) != (args.n, args.n_fifo):
            lines.append(f"  - moto ran with smaller counts ({sizes}, against n={args.n:,}, n-fifo={args.n_fifo:,} "
                         "for the others) so that it finishes: compare rates, CPU per message and ratios, "
                         "not totals")
        lines += [f"  - problem: {p}" for p in r.problems]
    where = ("server started elsewhere (--endpoint)" if args.endpoint
             else f"server on core {fmt(args.server_core)}")
    lines.append(f"- settings: workloads {args.workloads}, -c {args.concurrency}, fifo groups {args.fifo_groups}, "
                 f"max {args.max_seconds:g} s per phase, {args.protocol} protocol, {args.size}-byte bodies; "
                 f"{where}, sqsbench on core {fmt(args.client_core)}")
    if {"postroom", "moto"} <= {r.name for r in runs}:
        lines.append("- postroom/moto: ratio of the two figures (for msgs/s higher is better, "
                     "for ms and µs/msg lower is better)")
    return lines


# ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--servers", default="postroom,moto",
                    help="comma list of servers to start: postroom (SQLite), postroom-pg (PostgreSQL, "
                    "POSTROOM_TEST_PG_DSN), moto")
    ap.add_argument("--endpoint", default="", help="bench an already-running server at this URL instead")
    ap.add_argument("--baseline", default="", help="git revision the *-base servers run (a temporary worktree)")
    ap.add_argument("--label", default="external", help="name of the --endpoint server in the table")
    ap.add_argument("--server-pid", type=int, default=0, help="pid of the --endpoint server, for its CPU time")
    ap.add_argument("--workloads", default="w1,w2,w3,w4,w5")
    ap.add_argument("--n", type=int, default=20000, help="messages per workload (W1-W3)")
    ap.add_argument("--n-fifo", type=int, default=5000, help="messages for W4")
    ap.add_argument("--moto-n", type=int, default=2000, help="--n for moto (it is far slower)")
    ap.add_argument("--moto-n-fifo", type=int, default=1000, help="--n-fifo for moto")
    ap.add_argument("--concurrency", "-c", type=int, default=16)
    ap.add_argument("--fifo-groups", type=int, default=100)
    ap.add_argument("--max-seconds", type=float, default=15.0, help="time bound per workload phase")
    ap.add_argument("--protocol", choices=["json", "query"], default="json")
    ap.add_argument("--size", type=int, default=256, help="message body bytes")
    ap.add_argument("--server-core", type=int, default=0, help="core the server is pinned to (-1: no pinning)")
    ap.add_argument("--client-core", type=int, default=1, help="core sqsbench is pinned to (-1: no pinning)")
    ap.add_argument("--sqsbench", type=Path, default=DEFAULT_SQSBENCH, help="path of the yardstick")
    ap.add_argument("--results-dir", type=Path, default=REPO / "bench" / "results")
    ap.add_argument("--ready-timeout", type=float, default=60.0, help="seconds to wait for a server to answer")
    ap.add_argument("--bench-timeout", type=float, default=0.0,
                    help="kill sqsbench after this many seconds (default: derived from --max-seconds)")
    args = ap.parse_args(argv)
    ncpu = len(os.sched_getaffinity(0))
    for attr in ("server_core", "client_core"):
        core = getattr(args, attr)
        if core is not None and (core < 0 or core >= ncpu or core not in os.sched_getaffinity(0)):
            if core >= 0:
                print(f"warning: core {core} is not available here ({ncpu} CPUs); not pinning", file=sys.stderr)
            setattr(args, attr, None)
    if not args.sqsbench.is_file():
        ap.error(f"sqsbench not found at {args.sqsbench} (pass --sqsbench)")
    return args


def main(argv: list[str] | None = None) -> int:
    global BASELINE_SRC
    args = parse_args(argv)
    worktree = None
    if args.baseline:
        worktree = Path(tempfile.mkdtemp(prefix="bench-baseline-"))
        subprocess.run(["git", "worktree", "add", "--detach", str(worktree), args.baseline], cwd=REPO, check=True,
                       capture_output=True)
        BASELINE_SRC = worktree / "src"
    try:
        return _main(args)
    finally:
        if worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=REPO, capture_output=True)


def _main(args: argparse.Namespace) -> int:
    workloads = [w.strip().lower() for w in args.workloads.split(",") if w.strip()]
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    args.results_dir.mkdir(parents=True, exist_ok=True)
    jsonl_path = args.results_dir / f"{stamp}.jsonl"
    md_path = args.results_dir / f"{stamp}.md"
    runs: list[Run] = []
    with open(jsonl_path, "w") as jsonl:
        if args.endpoint:
            run = Run(args.label, args.endpoint.rstrip("/"), args.n, args.n_fifo)
            runs.append(run)
            run_sqsbench(args, run, args.server_pid or None, jsonl)
        else:
            for name in [s.strip().lower() for s in args.servers.split(",") if s.strip()]:
                if name not in KNOWN_SERVERS:
                    raise SystemExit(f"unknown server {name!r}; known: {', '.join(KNOWN_SERVERS)}")
                is_moto = name == "moto"
                run = Run(name, n=args.moto_n if is_moto else args.n,
                          n_fifo=args.moto_n_fifo if is_moto else args.n_fifo)
                runs.append(run)
                server = Server(name, args.server_core, args.results_dir / f"{stamp}.{name}.log")
                run.endpoint = server.endpoint
                print(f"# {name}: pid {server.pid}: {' '.join(server.cmd)}", flush=True)
                try:
                    server.wait_ready(args.ready_timeout)
                    run_sqsbench(args, run, server.pid, jsonl)
                except RuntimeError as e:
                    run.problems.append(str(e))
                finally:
                    note = server.stop()
                    if note:
                        run.problems.append(note)
    report = "\n".join([f"# sqsbench results {stamp}", "", table(runs, workloads), "", *notes(runs, args), ""])
    md_path.write_text(report)
    print()
    print(report)
    print(f"raw JSON lines: {jsonl_path}\ntable: {md_path}")
    return 1 if any(r.problems for r in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
