"""A small filesystem that fills up, for the disk-full tests: a tmpfs mounted for one test
(we are root; without the permission the test skips with the mount error)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError


@contextmanager
def mounted_tmpfs(size: str, prefix: str) -> Iterator[Path]:
    if shutil.which("mount") is None:
        pytest.skip("no mount command")
    mnt = Path(tempfile.mkdtemp(prefix=prefix))
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        mnt.rmdir()
        pytest.skip(f"cannot mount a {size} tmpfs (needs root / CAP_SYS_ADMIN): {proc.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
        mnt.rmdir()


def error_of(exc: ClientError) -> tuple[int, str]:
    """(HTTP status, error code)."""
    return exc.response["ResponseMetadata"]["HTTPStatusCode"], exc.response["Error"]["Code"]


def receive_all(sqs: Any, url: str) -> dict[str, str]:
    """Every message of the queue, MessageId → body (each hidden for 5 minutes once received)."""
    got: dict[str, str] = {}
    empty = 0
    while empty < 2:
        msgs = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
        empty = empty + 1 if not msgs else 0
        for m in msgs:
            got[m["MessageId"]] = m["Body"]
    return got
