"""Parsing: formats, dotted paths, JSON-in-a-string, times, and the line between "not a message"
(ignored, counted) and "looked like one but did not parse" (rejected with a reason)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postroom.recovery.formats import ParseFailure, format_logfmt, json_lines, logfmt, parse_logfmt, regex
from postroom.recovery.mapping import Extractor, Mapping, MappingError, Reject, finalize
from postroom.recovery.paths import MISSING, compile_path, get_path
from postroom.recovery.rules import TargetRules
from postroom.recovery.timeparse import TimeError, parse_time

keys = st.from_regex(r"[a-z_][a-z0-9_.\-]{0,12}", fullmatch=True)
values = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.dictionaries(keys, values, max_size=8))
def test_logfmt_round_trip(record: dict[str, str]) -> None:
    assert parse_logfmt(format_logfmt(record)) == record


@pytest.mark.parametrize("line, reason", [
    ('a=1 body="unterminated', "logfmt: unterminated quote"),
    ('a=1 body="x"y', "logfmt: unexpected"),
])
def test_logfmt_malformed_is_a_parse_failure(line: str, reason: str) -> None:
    with pytest.raises(ParseFailure, match=reason):
        logfmt(None, "body")(line)


def test_logfmt_without_the_body_key_is_not_a_candidate() -> None:
    assert logfmt(None, "body")('level=info msg="GET /health"') is None
    assert logfmt(None, "body")("body=hi group=g") == {"body": "hi", "group": "g"}


def test_json_lines_candidates_with_and_without_marker() -> None:
    plain = json_lines(None)
    assert plain("2026-11-29 INFO started") is None
    with pytest.raises(ParseFailure, match="invalid JSON"):
        plain('{"body": "trunc')
    with pytest.raises(ParseFailure, match="not an object"):
        json_lines('"published"')('["published"]')
    marked = json_lines('"msg":"published"')
    assert marked('{"msg":"request"}') is None
    with pytest.raises(ParseFailure):
        marked('{"msg":"published", "body": ')


def test_regex_marker_makes_non_matching_lines_rejections() -> None:
    parse = regex(r"sent (?P<body>\w+)$", "[pub]")
    assert parse("[pub] sent hello") == {"body": "hello"}
    assert parse("[other] something") is None
    with pytest.raises(ParseFailure, match="does not match"):
        parse("[pub] sent two words")


def test_dotted_paths_literal_keys_lists_and_json_in_a_string() -> None:
    record = {"a": {"b": {"c": 1}}, "x.y": 2, "items": [{"id": "i0"}], "payload": json.dumps({"customer": 42})}
    assert get_path(record, "a.b.c") == 1
    assert get_path(record, "x.y") == 2
    assert get_path(record, "items.0.id") == "i0"
    assert get_path(record, "payload.customer") == 42
    assert get_path(record, "a.nope") is MISSING
    assert get_path(record, "payload.nope") is MISSING


STANDARD = TargetRules()


def _extract(record: dict[str, object], rules: TargetRules = STANDARD, **fields: str) -> object:
    mapping = finalize(Mapping(fields=dict(fields), attributes={"kind": "type", "n": "count"}))
    return Extractor(mapping, rules).extract(record, 0, 1)


def test_bodies_strings_stay_as_logged_objects_become_compact_json() -> None:
    m = _extract({"body": '{"a": 1}', "type": "t", "count": 3})
    assert m.body == '{"a": 1}'  # type: ignore[attr-defined]
    assert m.attributes == {"kind": ("String", "t"), "n": ("Number", "3")}  # type: ignore[attr-defined]
    m = _extract({"payload": {"a": [1, "é"]}}, body="payload")
    assert m.body == '{"a":[1,"é"]}'  # type: ignore[attr-defined]


@pytest.mark.parametrize("record, reason", [
    ({"body": None}, "no body"),
    ({"body": "x", "ts": "soon"}, "bad time"),
    ({"body": "x"}, "no time"),
    ({"body": "x\u0001", "ts": 1}, "body character not allowed"),
    ({"body": "", "ts": 1}, "empty body"),
])
def test_rejections_carry_their_reason(record: dict[str, object], reason: str) -> None:
    with pytest.raises(Reject, match=reason):
        _extract(record, time="ts")


def test_fifo_target_needs_a_valid_group() -> None:
    fifo = TargetRules(fifo=True)
    with pytest.raises(Reject, match="no group"):
        _extract({"body": "x"}, fifo, group="g")
    with pytest.raises(Reject, match="group id not allowed"):
        _extract({"body": "x", "g": "has space"}, fifo, group="g")
    assert _extract({"body": "x", "g": 17}, fifo, group="g").group == "17"  # type: ignore[attr-defined]


def test_json_record_without_body_is_unrelated_unless_marked() -> None:
    assert _extract({"msg": "request"}) is None
    mapping = finalize(Mapping(marker="published"))
    with pytest.raises(Reject, match="no body"):
        Extractor(mapping, TargetRules()).extract({"msg": "published"}, 0, 1)


def test_mapping_checks() -> None:
    with pytest.raises(MappingError, match="named group for the body"):
        finalize(Mapping(format="regex", pattern=r"(?P<x>.*)"))
    with pytest.raises(MappingError, match="reserved"):
        finalize(Mapping(attributes={"postroom-recovery-id": "x"}))
    with pytest.raises(MappingError, match="not allowed by AWS"):
        finalize(Mapping(attributes={"AWS.thing": "x"}))
    regex_mapping = finalize(Mapping(format="regex", pattern=r"(?P<time>\S+) (?P<attr_kind>\S+) (?P<body>.*)"))
    assert regex_mapping.fields == {"body": "body", "time": "time"}
    assert regex_mapping.attributes == {"kind": "attr_kind"}


@pytest.mark.parametrize("value, expected", [
    ("2026-11-29T08:00:00Z", 1795939200.0),
    ("2026-11-29T09:00:00+01:00", 1795939200.0),
    ("2026-11-29 08:00:00", 1795939200.0),
    (1795939200, 1795939200.0),
    (1795939200123, 1795939200.123),
    ("1795939200.5", 1795939200.5),
])
def test_times(value: object, expected: float) -> None:
    assert parse_time(value) == pytest.approx(expected)


def test_time_format_and_errors() -> None:
    assert parse_time("29/11/2026 08:00", "%d/%m/%Y %H:%M") == 1795939200.0
    for bad in ("yesterday", True, None, ""):
        with pytest.raises(TimeError):
            parse_time(bad)


json_values = st.recursive(st.none() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abc"), inner,
                                                                                      max_size=3), max_leaves=12)


@given(st.dictionaries(st.sampled_from(["a", "b", "c", "a.b"]), json_values, max_size=4),
       st.lists(st.sampled_from(["a", "b", "c", "0", "1"]), min_size=1, max_size=4))
def test_compiled_paths_agree_with_the_reference_walker(record: dict[str, object], parts: list[str]) -> None:
    path = ".".join(parts)
    assert compile_path(path)(record) is get_path(record, path) or compile_path(path)(record) == get_path(record, path)
