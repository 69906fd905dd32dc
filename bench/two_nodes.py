"""SendMessageBatch (W2) on one postroom node vs two nodes sharing one PostgreSQL (issue #3).

    .venv/bin/python bench/two_nodes.py [--n 40000]

One node: pinned to core 0, one sqsbench with 16 connections. Two nodes: pinned to cores 0
and 1, one sqsbench per node with 8 connections each, run at the same time; the figure is
the sum. On a 2-core machine the load generators and PostgreSQL share those cores, so this
shows how far the CPU-bound part of postroom spreads, not a clean scaling curve. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SQSBENCH = REPO.parent / "shared" / "bench" / "sqsbench.py"
DSN = os.environ.get("POSTROOM_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(store: str, core: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    proc = subprocess.Popen(["taskset", "-c", str(core), sys.executable, "-m", "postroom", "serve", "--port",
                             str(port), "--store", store, "--log-level", "warning"])
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    raise SystemExit("node did not start")


def bench(url: str, n: int, conc: int) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(SQSBENCH), "--endpoint", url, "--workloads", "w2", "--n", str(n),
                             "-c", str(conc), "--max-seconds", "20", "--protocol", "json"],
                            stdout=subprocess.PIPE, text=True)


def rate(p: subprocess.Popen[str]) -> float:
    out, _ = p.communicate(timeout=300)
    line = [x for x in out.splitlines() if x.startswith("{")][-1]
    return float(json.loads(line)["msgs_per_s"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=40000)
    a = ap.parse_args()
    schema = "twonodes_" + uuid.uuid4().hex[:8]
    store = f"{DSN}{'&' if '?' in DSN else '?'}schema={schema}"
    procs = []
    try:
        p, url = start(store, 0)
        procs.append(p)
        one = rate(bench(url, a.n, 16))
        p2, url2 = start(store, 1)
        procs.append(p2)
        b1, b2 = bench(url, a.n // 2, 8), bench(url2, a.n // 2, 8)
        two = rate(b1) + rate(b2)
        print(json.dumps({"workload": "w2_send_batch_nodes", "one_node_msgs_per_s": round(one),
                          "two_nodes_msgs_per_s": round(two), "ratio": round(two / one, 2)}))
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=20)
        subprocess.run(["psql", DSN, "-qc", f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'], capture_output=True)


if __name__ == "__main__":
    main()
