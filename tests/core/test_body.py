"""validate_body: AWS's message-body character rule, against a per-character reference."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.core.charset import INVALID_CHARACTERS_MESSAGE, first_invalid_character
from postroom.core.sqs.validate import validate_body
from postroom.errors import InvalidMessageContents, MissingParameter


def allowed(ch: str) -> bool:
    """#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF, one code point at a time."""
    c = ord(ch)
    return (c in (0x9, 0xA, 0xD) or 0x20 <= c <= 0xD7FF or 0xE000 <= c <= 0xFFFD
            or 0x10000 <= c <= 0x10FFFF)


def reference_ok(body: str) -> bool:
    return all(allowed(ch) for ch in body)


@pytest.mark.parametrize("body", [
    "hello", "\t\n\r", " ", "\ud7ff", "\ue000", "\ufffd", "\U00010000", "\U0010ffff", '{"json": [1, 2]}',
    "<xml>ok</xml>", "x" * 300_000,
])
def test_accepts(body: str) -> None:
    validate_body(body)


@pytest.mark.parametrize("body", [
    "\x00", "a\x01b", "\x08", "\x0b", "\x0c", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff", "ok\x7f\x00",
])
def test_rejects(body: str) -> None:
    with pytest.raises(InvalidMessageContents) as info:
        validate_body(body)
    assert info.value.message == INVALID_CHARACTERS_MESSAGE


def test_delete_char_is_allowed() -> None:
    validate_body("\x7f\x80\x9f")  # DEL and C1 controls are inside #x20-#xD7FF


def test_empty_body_is_missing() -> None:
    with pytest.raises(MissingParameter, match="MessageBody"):
        validate_body("")


# Any code point, with the edge cases (lone surrogates, U+FFFE/U+FFFF, C0 controls)
# drawn often enough to matter.
_chars = st.one_of(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=()),
    st.sampled_from(["\x00", "\x0b", "\x1f", "\ud800", "\udfff", "\ufffe", "\uffff", "\t", "\U0010ffff"]),
)


def test_boundaries_exhaustively_below_0x10000() -> None:
    for c in list(range(0, 0x21)) + list(range(0xD7F0, 0xE010)) + list(range(0xFFF0, 0x10010)):
        ch = chr(c)
        assert (first_invalid_character(ch) is None) == allowed(ch), hex(c)


@given(st.text(alphabet=_chars))
def test_matches_reference(body: str) -> None:
    expected = reference_ok(body)
    index = first_invalid_character(body)
    assert (index is None) == expected
    if index is not None:
        assert not allowed(body[index])
        assert reference_ok(body[:index])


@given(st.text(alphabet=_chars, min_size=1))
def test_validate_body_agrees(body: str) -> None:
    if reference_ok(body):
        validate_body(body)
    else:
        with pytest.raises(InvalidMessageContents):
            validate_body(body)


def test_fast_on_hot_path() -> None:
    body = ("The quick brown fox jumps over the lazy dog. " * 6)[:256]
    n = 20_000
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(n):
            validate_body(body)
        best = min(best, (time.perf_counter() - start) / n)
    assert best < 5e-6, f"{best * 1e6:.2f} µs per 256-byte body"
