"""Where log lines come from: files, globs, directories, gzip files and stdin.

Inputs are expanded in the order given; a directory contributes its files (recursively) in name
order, a glob its matches in name order. Each line keeps its position (input index, 1-based line
number): ordering falls back to it, and the reject file points at it. An input that does not exist
or matches nothing is an error, never silently nothing.
"""

from __future__ import annotations

import glob
import gzip
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

STDIN = "-"



class NotUtf8(str):
    """A line that is not valid UTF-8, decoded with replacement characters (so the reject file can
    show it)."""


SourceLine = tuple[int, int, str]
"""(input index, 1-based line number, text without the line ending — a :class:`NotUtf8` if the
bytes are not valid UTF-8)."""


class InputError(Exception):
    """An input path that does not exist or a glob that matches nothing."""


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Turn paths, globs and directories into the ordered list of files to read (``-`` is stdin)."""
    out: list[str] = []
    for item in inputs or [STDIN]:
        if item == STDIN:
            out.append(STDIN)
        elif os.path.isdir(item):
            files = sorted(str(p) for p in Path(item).rglob("*") if p.is_file())
            if not files:
                raise InputError(f"directory {item!r} holds no files")
            out.extend(files)
        elif os.path.exists(item):
            out.append(item)
        elif glob.has_magic(item):
            matches = sorted(p for p in glob.glob(item, recursive=True) if os.path.isfile(p))
            if not matches:
                raise InputError(f"{item!r} matches no file")
            out.extend(matches)
        else:
            raise InputError(f"{item!r} does not exist")
    seen: set[str] = set()
    unique = []
    for path in out:
        real = path if path == STDIN else os.path.realpath(path)
        if real not in seen:
            seen.add(real)
            unique.append(path)
    return unique


def _open(path: str) -> BinaryIO:
    if path == STDIN:
        return sys.stdin.buffer
    raw = open(path, "rb")  # noqa: SIM115 - closed by the caller
    head = raw.read(2)
    raw.seek(0)
    if head == b"\x1f\x8b":  # gzip magic, whatever the file is called
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]
    return raw


def read_lines(files: Sequence[str]) -> Iterator[SourceLine]:
    """Every line of every file, in order, decoded as UTF-8 (a line that is not yields None)."""
    for index, path in enumerate(files):
        stream = _open(path)
        try:
            for lineno, raw in enumerate(stream, 1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    yield index, lineno, NotUtf8(raw.decode("utf-8", "replace").rstrip("\r\n"))
                    continue
                yield index, lineno, text.rstrip("\r\n")
        finally:
            if path != STDIN:
                stream.close()
