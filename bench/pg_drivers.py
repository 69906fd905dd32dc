"""Compare asyncpg and psycopg 3 on the statements postroom's PostgreSQL store runs most:
a one-row insert committed per call (SendMessage) and a SKIP LOCKED dequeue of ten rows
(ReceiveMessage), each from 8 concurrent connections. Prints JSON lines.

    .venv/bin/python bench/pg_drivers.py --dsn postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import asyncpg
import psycopg
from psycopg_pool import AsyncConnectionPool

SETUP = """
DROP TABLE IF EXISTS bench_msgs;
CREATE UNLOGGED TABLE bench_msgs (id bigserial PRIMARY KEY, q int NOT NULL, body text NOT NULL,
                                  visible_ms bigint NOT NULL);
CREATE INDEX ON bench_msgs (q, visible_ms);
"""
INSERT = "INSERT INTO bench_msgs (q, body, visible_ms) VALUES ($1, $2, 0)"
DEQUEUE = """
UPDATE bench_msgs SET visible_ms = $2 WHERE id IN (
  SELECT id FROM bench_msgs WHERE q = $1 AND visible_ms <= 0 ORDER BY visible_ms, id LIMIT 10
  FOR UPDATE SKIP LOCKED) RETURNING id, body
"""


async def run_asyncpg(dsn: str, n: int, conc: int) -> dict[str, float]:
    pool = await asyncpg.create_pool(dsn, min_size=conc, max_size=conc)
    await pool.execute(SETUP)
    body = "x" * 256

    async def inserter(k: int) -> None:
        for _ in range(k):
            await pool.execute(INSERT, 1, body)

    t = time.perf_counter()
    await asyncio.gather(*[inserter(n // conc) for _ in range(conc)])
    ins = n / (time.perf_counter() - t)
    got = 0

    async def dequeuer() -> None:
        nonlocal got
        while True:
            rows = await pool.fetch(DEQUEUE, 1, 10**12)
            if not rows:
                return
            got += len(rows)

    t = time.perf_counter()
    await asyncio.gather(*[dequeuer() for _ in range(conc)])
    deq = got / (time.perf_counter() - t)
    await pool.close()
    return {"insert_commits_per_s": round(ins), "dequeue_rows_per_s": round(deq)}


async def run_psycopg(dsn: str, n: int, conc: int) -> dict[str, float]:
    pool = AsyncConnectionPool(dsn, min_size=conc, max_size=conc, open=False)
    await pool.open()
    async with pool.connection() as c:
        await c.execute(SETUP)
    body = "x" * 256
    ins_sql = INSERT.replace("$1", "%s").replace("$2", "%s")
    deq_sql = DEQUEUE.replace("$1", "%s").replace("$2", "%s")  # $2 comes first in the text

    async def inserter(k: int) -> None:
        for _ in range(k):
            async with pool.connection() as c:
                await c.execute(ins_sql, (1, body))

    t = time.perf_counter()
    await asyncio.gather(*[inserter(n // conc) for _ in range(conc)])
    ins = n / (time.perf_counter() - t)
    got = 0

    async def dequeuer() -> None:
        nonlocal got
        while True:
            async with pool.connection() as c:
                rows = await (await c.execute(deq_sql, (10**12, 1))).fetchall()
            if not rows:
                return
            got += len(rows)

    t = time.perf_counter()
    await asyncio.gather(*[dequeuer() for _ in range(conc)])
    deq = got / (time.perf_counter() - t)
    await pool.close()
    return {"insert_commits_per_s": round(ins), "dequeue_rows_per_s": round(deq)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--n", type=int, default=8000)
    ap.add_argument("-c", type=int, default=8)
    a = ap.parse_args()
    for name, fn in (("asyncpg", run_asyncpg), ("psycopg", run_psycopg)):
        res = asyncio.run(fn(a.dsn, a.n, a.c))
        print(json.dumps({"driver": name, "version": (asyncpg.__version__ if name == "asyncpg"
                                                      else psycopg.__version__), **res}))
    with psycopg.connect(a.dsn, autocommit=True) as c:
        c.execute("DROP TABLE IF EXISTS bench_msgs")


if __name__ == "__main__":
    main()
