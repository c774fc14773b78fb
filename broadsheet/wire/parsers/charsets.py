"""The encoding of a wire file, settled before any XML parser reads it.

The parser is handed bytes, so the BOM and the XML declaration decide; these rules come
first, each from a real file:

* UTF-16 and UTF-32 (a BOM, or "<" followed by a zero byte) are re-encoded as UTF-8, so
  every later step sees ASCII-compatible bytes.
* A UTF-8 BOM, or a declared UTF-8, on bytes that are not UTF-8 is refused with the offset.
* An unknown encoding name ("bogus") is refused with the name.
* A file that declares a single-byte encoding (or UTF-16) but whose bytes are valid
  multi-byte UTF-8 (AFP's "DÃ©cÃ¨s") is read as UTF-8, with a warning: the declaration is
  the mistake, and honouring it prints mojibake.
* Blank lines before the XML declaration (TechCrunch) are removed, with a warning.
* No declaration and bytes that are not UTF-8: marked `undeclared_non_utf8`. Wire XML is
  then refused; a feed may be read in a guessed legacy encoding (`guess_legacy`).
"""

import codecs
import re
from dataclasses import dataclass, field

from .items import Unreadable


@dataclass
class Prepared:
    """Bytes made safe to hand to a parser, and what was noticed on the way."""

    data: bytes
    warnings: list[str] = field(default_factory=list)
    encoding: str = ""  # the encoding the bytes are declared or detected in ("" = UTF-8)
    undeclared_non_utf8: bool = False  # no declaration, no BOM, and the bytes are not UTF-8
    line_offset: int = 0  # lines removed before the document (for error positions)


_DECLARATION = re.compile(
    rb"""^<\?xml\s+version\s*=\s*["'][^"']*["']"""
    rb"""(?:\s+encoding\s*=\s*["']([^"']*)["'])?""",
)
_SINGLE_BYTE = ("latin", "iso8859", "cp125", "cp437", "cp850", "mac-", "koi8", "ascii")


def declare_encoding(data: bytes, encoding: str) -> bytes:
    """The document with `encoding` in its XML declaration (rewritten, or added).

    For bytes whose real encoding is known better than the file says: UTF-16 re-encoded as
    UTF-8, a single-byte declaration on UTF-8 bytes, or a legacy encoding guessed for a feed
    that declares none. The parser then reads the bytes as they really are.
    """
    match = _DECLARATION.match(data)
    if not match:
        return b'<?xml version="1.0" encoding="' + encoding.encode() + b'"?>' + data
    if match.group(1) is None:
        end = match.end()
        return data[:end] + b' encoding="' + encoding.encode() + b'"' + data[end:]
    start, end = match.span(1)
    return data[:start] + encoding.encode() + data[end:]


def bad_utf8(data: bytes) -> UnicodeDecodeError | None:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        return error
    return None


def _transcode(data: bytes, codec: str, label: str) -> bytes:
    """The document re-encoded as UTF-8 (and declared so): every later step sees UTF-8."""
    try:
        decoded = data.decode(codec)
    except UnicodeDecodeError as error:
        raise Unreadable(
            f"The file is marked as {label} but is not valid {label} (at byte offset {error.start})"
        ) from None
    return declare_encoding(decoded.lstrip("\ufeff").encode("utf-8"), "UTF-8")


def settle(prepared: Prepared) -> None:
    """Decide the encoding of `prepared.data` and leave it as bytes lxml reads correctly."""
    data = prepared.data
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
        error = bad_utf8(data)
        if error:
            raise Unreadable(
                "The file starts with a UTF-8 byte-order mark but is not valid UTF-8 "
                f"(byte 0x{data[error.start]:02X} at offset {error.start + 3})"
            )
        prepared.data = declare_encoding(data, "UTF-8") if b"encoding" in data[:100] else data
        return
    for bom, codec, label in (
        (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
    ):
        if data.startswith(bom):
            prepared.data = _transcode(data[len(bom) :], codec, label)
            prepared.encoding = label
            return
    if data[:2] in (b"<\x00", b"\x00<"):
        codec = "utf-16-le" if data[:1] == b"<" else "utf-16-be"
        prepared.data = _transcode(data, codec, "UTF-16")
        prepared.encoding = "UTF-16"
        return

    stripped = data.lstrip()
    if stripped is not data and stripped.startswith(b"<?xml"):
        # Only the declaration must come first; blank lines before it (TechCrunch) are
        # a harmless server fault, repaired so that strict parsers accept the file.
        prepared.line_offset = data[: len(data) - len(stripped)].count(b"\n")
        prepared.warnings.append("Blank space before the XML declaration was removed")
        data = stripped
    prepared.data = data

    match = _DECLARATION.match(data)
    declared = match.group(1).decode("ascii", "replace").strip() if match and match.group(1) else ""
    if declared:
        _declared(prepared, declared)
        return
    if not data.isascii() and bad_utf8(data) is not None:
        prepared.undeclared_non_utf8 = True


def _declared(prepared: Prepared, declared: str) -> None:
    """Bytes with an encoding declaration: checked against it, and left as UTF-8."""
    data = prepared.data
    try:
        info = codecs.lookup(declared)
    except LookupError:
        raise Unreadable(f"The XML declaration names an unknown encoding {declared!r}") from None
    codec = info.name
    # Python also "knows" base64, rot13 and zlib; UTF-7 is how markup gets smuggled past
    # filters. Neither is an encoding a wire file is in.
    if not getattr(info, "_is_text_encoding", True) or codec == "utf-7":
        raise Unreadable(f"The XML declaration names {declared!r}, which XML is never sent in")
    prepared.encoding = declared
    if codec == "utf-8":
        if error := bad_utf8(data):
            raise Unreadable(
                f"The file declares encoding {declared} but is not valid UTF-8 "
                f"(byte 0x{data[error.start]:02X} at offset {error.start})"
            )
        return
    # Real UTF-16/32 starts with a BOM or a zero byte (read above): this declaration is
    # itself in single bytes, so it is wrong.
    wide = codec.startswith(("utf-16", "utf-32"))
    mismatch = not data.isascii() and codec.startswith(_SINGLE_BYTE)
    if (wide or mismatch) and bad_utf8(data) is None:
        prepared.warnings.append(
            f"The file declares encoding {declared} but its bytes are "
            f"{'ASCII' if data.isascii() else 'valid multi-byte UTF-8'}: read as UTF-8"
        )
        prepared.data = declare_encoding(data, "UTF-8")
        prepared.encoding = "UTF-8"
        return
    if wide:
        raise Unreadable(f"The file declares encoding {declared} but its bytes are not {declared}")
    # Everything else is decoded here, so lxml and feedparser only ever see UTF-8, and a
    # byte the encoding does not define is refused with its offset.
    prepared.data = _transcode(data, codec, declared)


def not_utf8_reason(data: bytes) -> str:
    error = bad_utf8(data)
    offset = error.start if error else 0
    return (
        "No encoding is declared, so the file must be UTF-8, but it is not "
        f"(byte 0x{data[offset]:02X} at offset {offset})"
    )


_HIGH_RUN = re.compile(rb"[\x80-\xff]+")
_ASCII = bytes(range(128))
_HEBREW_LETTERS = bytes(range(0xE0, 0xFB))
_NOT_HEBREW = re.compile(rb"[\xfb\xfc\xff]")  # undefined in windows-1255; "я" in 1251


def guess_legacy(data: bytes) -> str:
    """Hebrew windows-1255 if the high bytes are Hebrew letters in words, else windows-1252.

    Latin text has isolated accented bytes ("café"); Hebrew text is runs of bytes all in
    0xE0-0xFA, and never 0xFF, which Russian in windows-1251 uses for "я". Nothing subtler
    is attempted: the caller reports the guess as a warning.
    """
    high = data.translate(None, _ASCII)
    if not high or _NOT_HEBREW.search(high):
        return "windows-1252"
    hebrew = len(high) - len(high.translate(None, _HEBREW_LETTERS))
    runs = _HIGH_RUN.findall(data)
    mean_run = sum(map(len, runs)) / len(runs)
    return "windows-1255" if hebrew / len(high) >= 0.9 and mean_run >= 2.5 else "windows-1252"
