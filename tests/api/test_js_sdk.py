"""A second real client: the AWS SDK for JavaScript v3 (@aws-sdk/client-sqs, pinned in
tests/js/package.json) round-trips messages with every attribute type through a real postroom
server. The script (tests/js/sqs_roundtrip.mjs) lets the SDK verify MD5OfMessageBody / MD5OfBody
(on by default, never disabled there) and checks MD5OfMessageAttributes and
MD5OfMessageSystemAttributes itself, since that SDK does not.

Node is required in CI (CI=true): without it this test fails; elsewhere it skips with a reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parents[1] / "js"
SCRIPT = JS_DIR / "sqs_roundtrip.mjs"
SUCCESS_LINE = "JS SDK ROUNDTRIP OK"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        reason = f"`{tool}` is not installed; the AWS SDK for JavaScript round-trip test needs Node.js 20+ and npm"
        if _in_ci():
            pytest.fail(reason + " (CI=true, so this is a failure, not a skip)")
        pytest.skip(reason)
    return path


def _node_with_sdk() -> str:
    """Path of `node`, with tests/js/node_modules installed from the lock file if missing.
    Called from the test itself (not a fixture) so that a missing node in CI is a test failure."""
    node = _require("node")
    if not (JS_DIR / "node_modules" / "@aws-sdk" / "client-sqs").is_dir():
        npm = _require("npm")
        r = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"npm ci in {JS_DIR} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
    return node


def test_js_sdk_roundtrip(server: Any) -> None:
    node = _node_with_sdk()
    env = dict(os.environ)
    env.pop("POSTROOM_ENDPOINT", None)  # the argv endpoint is the one under test
    # no real credentials or config files are consulted: the script passes static test credentials
    env["AWS_SDK_LOAD_CONFIG"] = "0"
    env["NODE_NO_WARNINGS"] = "1"  # the SDK's "node >= 22 will be needed from 2027" notice would bury failures
    r = subprocess.run([node, str(SCRIPT), server.endpoint], cwd=JS_DIR, env=env,
                       capture_output=True, text=True, timeout=110)
    out = f"--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
    assert r.returncode == 0, f"sqs_roundtrip.mjs exited {r.returncode} against {server.endpoint}\n{out}"
    assert any(line.startswith(SUCCESS_LINE) for line in r.stdout.splitlines()), f"no success line\n{out}"
