"""The AWS SDK for JavaScript v3 signs with its own SigV4 implementation: good credentials work
(with the credentials file's account), a wrong secret, an unknown key and a missing session
token are refused with AWS's errors. Node is required in CI (CI=true); elsewhere the test skips
without it (as tests/api/test_js_sdk.py)."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import pytest

from tests.api.test_js_sdk import JS_DIR, _node_with_sdk
from tests.auth.conftest import ACCOUNT, GOOD, TEMP, AuthServer

SCRIPT = JS_DIR / "sqs_auth.mjs"


def run(server: AuthServer, *credentials: str) -> dict[str, Any]:
    node = _node_with_sdk()
    env = {**os.environ, "AWS_SDK_LOAD_CONFIG": "0", "NODE_NO_WARNINGS": "1"}
    r = subprocess.run([node, str(SCRIPT), server.endpoint, *credentials], cwd=JS_DIR, env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"{r.stdout}\n{r.stderr}"
    result: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    return result


def test_good_credentials(auth_server: AuthServer) -> None:
    assert run(auth_server, *GOOD) == {"ok": True, "account": ACCOUNT}
    assert run(auth_server, *TEMP) == {"ok": True, "account": ACCOUNT}


@pytest.mark.parametrize(("credentials", "code"), [
    ((GOOD[0], "wrong secret"), "SignatureDoesNotMatch"),
    (("AKIAUNKNOWNKEY000000", "x"), "InvalidClientTokenId"),
    (TEMP[:2], "InvalidClientTokenId"),
], ids=["wrong-secret", "unknown-key", "missing-session-token"])
def test_bad_credentials(auth_server: AuthServer, credentials: tuple[str, ...], code: str) -> None:
    result = run(auth_server, *credentials)
    assert result["ok"] is False and result["status"] == 403, result
    assert code in (result["code"], result["name"]), result
