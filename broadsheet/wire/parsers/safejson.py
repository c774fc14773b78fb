"""The one careful way to read wire JSON (ninjs, JSON Feed).

JSON has no entities, but the standard library parser recurses per nesting level (deep
arrays end in RecursionError), accepts any size, lets a duplicated key silently override
the first one ("pubstatus": "usable" … "pubstatus": "canceled"), accepts NaN and Infinity
(which are not JSON), turns 1e999 into infinity, and crashes with a bare ValueError on an
integer of more than 4,300 digits. So: a size cap, a depth cap, duplicate keys refused,
numbers JSON cannot carry refused, and a precise reason for any invalid JSON (including
raw control characters inside strings and files in UTF-16).
"""

import json
import math
from typing import Any

from .items import Unreadable

MAX_DEPTH = 64
# Nothing in a news item needs more digits: urgencies, versions, sizes, epoch seconds.
MAX_DIGITS = 30


class _DuplicateKey(Exception):
    pass


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


class _BadNumber(Exception):
    pass


def _no_constants(name: str) -> Any:
    raise _BadNumber(f"{name}, which JSON does not allow")


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _BadNumber(f"an integer of {len(text.lstrip('-')):,} digits")
    return int(text)


def _float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"the number {text[:40]!r}, too large for any field")
    return value


def _depth_exceeds(value: Any, limit: int) -> bool:
    """True when containers nest deeper than `limit` (checked without recursion)."""
    stack = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(current, dict):
            stack.extend(
                (child, depth + 1) for child in current.values() if isinstance(child, dict | list)
            )
        elif isinstance(current, list):
            stack.extend((child, depth + 1) for child in current if isinstance(child, dict | list))
    return False


def loads(data: bytes, *, max_bytes: int) -> Any:
    """Decoded JSON, or `Unreadable` with the exact reason."""
    if len(data) > max_bytes:
        raise Unreadable(f"The file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable(
            "JSON in UTF-16 (it starts with a UTF-16 byte-order mark): JSON must be UTF-8"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Unreadable(
            f"JSON must be UTF-8, but byte 0x{data[error.start]:02X} at offset {error.start} "
            "is not valid UTF-8"
        ) from None
    try:
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constants,
            parse_int=_int,
            parse_float=_float,
        )
    except RecursionError:
        raise Unreadable(f"JSON is nested too deeply (more than {MAX_DEPTH} levels)") from None
    except _BadNumber as number:
        raise Unreadable(f"JSON holds {number.args[0]}: refused") from None
    except _DuplicateKey as duplicate:
        raise Unreadable(
            f"JSON object has the key {duplicate.args[0]!r} twice: ambiguous, refused"
        ) from None
    except json.JSONDecodeError as error:
        if error.msg.startswith("Invalid control character"):
            char = text[error.pos] if error.pos < len(text) else ""
            raise Unreadable(
                f"Invalid JSON at line {error.lineno}, column {error.colno}: a raw control "
                f"character (U+{ord(char):04X}) inside a string; JSON requires it escaped"
            ) from None
        raise Unreadable(
            f"Invalid JSON at line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None
    if _depth_exceeds(value, MAX_DEPTH):
        raise Unreadable(f"JSON is nested too deeply (more than {MAX_DEPTH} levels)")
    return value
