"""JSON that is not what it claims: refused with the exact reason, never half-read."""

import pytest

from broadsheet.wire.parsers import Unreadable, safejson
from tests.wire.parsers.conftest import deadline, refusal


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"uri": "x", "urgency": NaN}', "JSON holds NaN, which JSON does not allow: refused"),
        (b'{"uri": "x", "urgency": Infinity}', "JSON holds Infinity, which JSON does not allow"),
        (b'{"uri": "x", "urgency": -Infinity}', "JSON holds -Infinity"),
        (
            b'{"uri": "x", "urgency": 1e999}',
            "JSON holds the number '1e999', too large for any field",
        ),
        (b'{"uri": "x", "size": ' + b"9" * 5000 + b"}", "JSON holds an integer of 5,000 digits"),
    ],
)
def test_numbers_json_cannot_carry_are_refused(data, reason):
    assert reason in refusal(data)


def test_a_key_given_twice_is_refused_rather_than_the_last_one_winning():
    data = b'{"uri": "x", "pubstatus": "usable", "pubstatus": "canceled"}'
    assert refusal(data) == "JSON object has the key 'pubstatus' twice: ambiguous, refused"


def test_nesting_a_hundred_thousand_deep_is_refused_without_a_crash():
    data = b"[" * 100_000 + b"]" * 100_000
    with deadline(10):
        assert refusal(data) == f"JSON is nested too deeply (more than {safejson.MAX_DEPTH} levels)"


def test_nesting_just_past_the_cap_is_refused_too():
    depth = safejson.MAX_DEPTH + 1
    data = b'{"uri": "x", "a": ' + b"[" * depth + b"]" * depth + b"}"
    assert "nested too deeply" in refusal(data)


def test_a_raw_control_character_inside_a_string_is_named():
    data = b'{"uri": "x", "body_text": "line one\rline two"}'
    reason = refusal(data)
    assert reason == (
        "Invalid JSON at line 1, column 36: a raw control character (U+000D) inside a "
        "string; JSON requires it escaped"
    )


def test_broken_json_says_where():
    assert refusal(b'{"uri": "x",}').startswith("Invalid JSON at line 1, column 13:")


def test_truncated_json_says_where():
    assert refusal(b'{"uri": "x", "headline": "Harb').startswith("Invalid JSON at line 1")


def test_json_that_is_not_utf8_is_refused():
    assert "JSON must be UTF-8, but byte 0xE9" in refusal('{"uri": "café"}'.encode("latin-1"))


def test_json_in_utf16_is_refused_with_what_it_is():
    reason = refusal('{"uri": "x"}'.encode("utf-16"))
    assert reason == (
        "JSON in UTF-16 (it starts with a UTF-16 byte-order mark): JSON must be UTF-8"
    )


def test_a_utf8_byte_order_mark_is_accepted():
    assert safejson.loads(b'\xef\xbb\xbf{"uri": "x"}', max_bytes=100) == {"uri": "x"}


def test_oversize_json_is_refused():
    with pytest.raises(Unreadable, match="over the 10-byte limit"):
        safejson.loads(b'{"uri": "abcdefgh"}', max_bytes=10)


def test_ordinary_numbers_are_read():
    value = safejson.loads(b'{"a": 3, "b": -2.5, "c": 1700000000}', max_bytes=100)
    assert value == {"a": 3, "b": -2.5, "c": 1700000000}
