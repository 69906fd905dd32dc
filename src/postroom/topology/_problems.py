"""What is wrong with a postroom.yaml: each problem names the line, the path, what is wrong and
how to fix it; :class:`SpecError` carries all of them, because a file with five mistakes should
not take five runs to correct."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One mistake in the file. ``line`` is 1-based (None when the mistake has no place, such as
    an unknown ``--env``); ``path`` is the dotted key path (``queues.billing.fifo.dlq``)."""

    line: int | None
    path: str
    message: str
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "path": self.path, "message": self.message, "fix": self.fix}

    def render(self, source: str = "postroom.yaml") -> str:
        where = f"{source}:{self.line}" if self.line is not None else source
        return f"{where}: {self.path}: {self.message} — fix: {self.fix}"


class SpecError(Exception):
    """The file cannot be used; ``problems`` lists every mistake found, in line order."""

    def __init__(self, problems: list[Problem], source: str = "postroom.yaml") -> None:
        self.problems = sorted(problems, key=lambda p: (p.line is None, p.line or 0, p.path))
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        return "\n".join(problem.render(self.source) for problem in self.problems)

    def __str__(self) -> str:
        return self.render()
