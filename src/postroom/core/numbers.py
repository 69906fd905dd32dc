"""Integers written as text in request parameters and attribute values.

Python's ``int()`` refuses more than 4,300 digits (ValueError) and accepts any Unicode digit
(``"٣"``), while ``str.isdigit()`` is also true of ``"²"``, which ``int()`` refuses: a check of
``isdigit()`` followed by ``int()`` can raise. :func:`decimal_int` reads only what AWS
accepts, ASCII digits, and only as many as any limit needs.
"""

from __future__ import annotations

import re
from typing import Final

_DECIMAL: Final = re.compile(r"[+-]?[0-9]{1,40}")


def decimal_int(text: str, signed: bool = False) -> int | None:
    """``text`` (surrounding spaces aside) as an integer of at most 40 ASCII digits, else None."""
    text = text.strip()
    if _DECIMAL.fullmatch(text) is None or (not signed and text[0] in "+-"):
        return None
    return int(text)
