"""Inputs as users give them: stdin, directories, globs, gzip (by content), missing paths — through
the CLI, dry run (no endpoint needed: nothing is sent)."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from postroom.cli.main import main
from postroom.recovery.sources import InputError, expand_inputs, read_lines
from tests.recovery.conftest import POSTROOM


def test_expansion_order_dedup_and_errors(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ("d/b.log", "d/a.log", "d/sub/c.log", "x.log"):
        (tmp_path / name).write_text("line\n")
    files = expand_inputs([str(tmp_path / "d"), str(tmp_path / "*.log"), str(tmp_path / "d" / "a.log")])
    assert [Path(f).relative_to(tmp_path).as_posix() for f in files] == ["d/a.log", "d/b.log", "d/sub/c.log", "x.log"]
    with pytest.raises(InputError, match="does not exist"):
        expand_inputs([str(tmp_path / "nope.log")])
    with pytest.raises(InputError, match="matches no file"):
        expand_inputs([str(tmp_path / "*.txt")])


def test_gzip_is_recognised_by_content_and_positions_are_kept(tmp_path: Path) -> None:
    (tmp_path / "rotated.1").write_bytes(gzip.compress(b"one\r\ntwo\n\xff\xfe\n"))
    lines = list(read_lines([str(tmp_path / "rotated.1")]))
    assert [(i, n, t) for i, n, t in lines[:2]] == [(0, 1, "one"), (0, 2, "two")]
    assert type(lines[2][2]).__name__ == "NotUtf8"


def test_stdin_dry_run_report_and_report_json(tmp_path: Path) -> None:
    logs = "\n".join([json.dumps({"body": f"b{i}", "g": "x"}) for i in range(5)] + ["plain text", '{"body": "tr'])
    proc = subprocess.run([*POSTROOM, "recover", "-", "--group-field", "g", "--report-json", "r.json"], cwd=tmp_path,
                          input=logs, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "nothing sent" in proc.stdout and "inputs         1: stdin" in proc.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["lines"], report["messages"], report["unrelated"], report["rejected"]) == (7, 5, 1, 1)
    assert report["groups"] == {"x": 5}


def test_usage_errors_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for args, message in ((["--execute"], "--execute needs --to"),
                          (["--since", "2026-01-01"], "need a time field"),
                          (["--format", "regex"], "needs a pattern"),
                          (["--attr-field", "oops"], "expected NAME=path"),
                          (["--to", "arn:aws:s3:::bucket"], "not an SNS topic ARN"),
                          (["missing.log"], "does not exist")):
        result = CliRunner().invoke(main, ["recover", *args], input="")
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output, (args, result.output)
