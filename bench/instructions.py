"""Instructions per message, this checkout beside another revision, counted by callgrind.

CPU time per message on a shared machine moves ±20 % between runs; instruction counts do
not. For each workload of ``bench/inprocess.py`` (the ASGI app driven in-process), each
build runs twice under ``valgrind --tool=callgrind``, with ``--small`` and ``--large``
messages; the difference divided by the difference in messages is the cost of one message,
start-up excluded. Builds run two at a time (one per core).

    .venv/bin/python bench/instructions.py --baseline HEAD~1
    .venv/bin/python bench/instructions.py --baseline 6acfcdd --workloads send,fanout --store postgresql://…

Instructions are not time (a cache miss or an fsync costs no more instructions), so this
compares CPU work of Python code paths; the sqsbench runs (``bench/run.py``) remain the
measure of throughput.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def count(src: Path | None, workload: str, n: int, store: str | None) -> int:
    out = Path(tempfile.mkstemp(prefix="cg-", suffix=".out")[1])
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    cmd = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable,
           str(REPO / "bench" / "inprocess.py"), "--workload", workload, "--n", str(n), "--warmup", "100"]
    if store:
        cmd += ["--store", store]
    subprocess.run(cmd, cwd=REPO, env=env, check=True, capture_output=True)
    found = re.search(r"^summary: (\d+)", out.read_text(), re.M)
    out.unlink()
    assert found, "callgrind wrote no summary"
    return int(found.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--baseline", required=True, help="git revision to compare with")
    ap.add_argument("--workloads", default="send,batch,receive,fanout")
    ap.add_argument("--small", type=int, default=200)
    ap.add_argument("--large", type=int, default=1200)
    ap.add_argument("--new", default="", help="git revision to measure instead of the working tree")
    ap.add_argument("--store", default=None, help="postgresql:// URL (default SQLite); each run needs an empty one")
    args = ap.parse_args()
    trees = {"base": args.baseline, **({"new": args.new} if args.new else {})}
    worktrees: dict[str, Path] = {}
    for build, rev in trees.items():
        worktrees[build] = Path(tempfile.mkdtemp(prefix=f"instr-{build}-"))
        subprocess.run(["git", "worktree", "add", "--detach", str(worktrees[build]), rev], cwd=REPO, check=True,
                       capture_output=True)
    try:
        builds = {"new": worktrees["new"] / "src" if "new" in worktrees else None, "base": worktrees["base"] / "src"}
        jobs = {(b, w, n): (src, w, n) for b, src in builds.items() for w in args.workloads.split(",")
                for n in (args.small, args.large)}
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = {k: pool.submit(count, src, w, n, args.store) for k, (src, w, n) in jobs.items()}
            results = {k: f.result() for k, f in futures.items()}
        print(f"| workload | new instr/msg | base ({args.baseline}) instr/msg | new/base |")
        print("|---|---|---|---|")
        for w in args.workloads.split(","):
            per = {b: (results[(b, w, args.large)] - results[(b, w, args.small)]) / (args.large - args.small)
                   for b in builds}
            print(f"| {w} | {per['new']:,.0f} | {per['base']:,.0f} | {per['new'] / per['base']:.3f}× |")
    finally:
        for tree in worktrees.values():
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO, capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
