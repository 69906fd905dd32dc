"""Every line, accounted for: found, unrelated, filtered out, or rejected with its reason.

The reject file is JSON lines, one per rejected line:
``{"source": "app-2.log.gz", "line": 1187, "reason": "invalid JSON: …", "text": "…"}``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import IO

from postroom.recovery.filters import Where, Window
from postroom.recovery.formats import LineParser, ParseFailure
from postroom.recovery.mapping import Extractor, Reject
from postroom.recovery.model import Recovered, Rejection, ScanStats
from postroom.recovery.sources import NotUtf8, SourceLine

REJECT_TEXT_LIMIT = 4096


class RejectSink:
    """Writes rejections as JSON lines (and keeps the first few for the report)."""

    def __init__(self, stream: IO[str] | None, keep: int = 5) -> None:
        self.stream = stream
        self.keep = keep
        self.first: list[Rejection] = []

    def write(self, rejection: Rejection) -> None:
        if len(self.first) < self.keep:
            self.first.append(rejection)
        if self.stream is not None:
            self.stream.write(json.dumps({"source": rejection.source, "line": rejection.line,
                                          "reason": rejection.reason, "text": rejection.text[:REJECT_TEXT_LIMIT]},
                                         ensure_ascii=False) + "\n")


def scan(lines: Iterable[SourceLine], inputs: Sequence[str], parse: LineParser, extractor: Extractor,
         where: Sequence[Where], window: Window, sink: RejectSink) -> tuple[list[Recovered], ScanStats]:
    stats = ScanStats(inputs=list(inputs))
    found: list[Recovered] = []
    extract = extractor.extract
    check_window = window.active

    def reject(source: int, lineno: int, reason: str, text: str) -> None:
        stats.count_reject(reason)
        sink.write(Rejection(inputs[source], lineno, reason, text))

    for source, lineno, text in lines:
        stats.lines += 1
        if type(text) is NotUtf8:
            reject(source, lineno, "not UTF-8: the line holds bytes that are not valid UTF-8", text)
            continue
        try:
            record = parse(text)
            if record is None:
                stats.unrelated += 1
                continue
            message = extract(record, source, lineno)
        except (ParseFailure, Reject) as e:
            reject(source, lineno, str(e), text)
            continue
        if message is None:
            stats.unrelated += 1
            continue
        if where and not all(w.matches(record) for w in where):
            stats.filtered_where += 1
            continue
        if check_window:
            if message.time is None:
                reject(source, lineno, "no time: --since/--until need a time field (--time-field)", text)
                continue
            if not window.contains(message.time):
                stats.filtered_window += 1
                continue
        found.append(message)
    stats.found = len(found)
    return found, stats
