"""Wire parsers: the bytes an agency sent → normalised `WireItem`s, or `Unreadable`.

    from broadsheet.wire.parsers import parse, detect, Unreadable

    items = parse(data, filename="afp-123.xml")   # list[WireItem]; raises Unreadable(reason)

The format is detected from the bytes (the XML root element, the JSON shape), never from
the file name; the name only breaks a tie (bytes that are neither XML nor JSON). Pure
Python: nothing here imports Django.

What a caller can rely on:
* `parse` returns at least one item, except for a well-formed feed that has no entries
  (feeds are polled; an empty poll is not an error).
* An item that reads but has nothing to print is returned, marked: see `items`.
* Every refusal is an `Unreadable` whose `reason` says exactly what is wrong and where.
* Hostile XML (entity declarations, external entities or DTDs, deep nesting, oversize
  files) is refused before any parser expands or fetches anything; see `safexml`.
"""

import re

from . import feeds, newsml1, newsml_g2, ninjs, normalise, safejson, safexml
from .items import (
    NOTHING_TO_PUBLISH,
    Block,
    Kind,
    MemberRef,
    Rendition,
    Status,
    Subject,
    Unreadable,
    WireItem,
    WirePicture,
)

MAX_BYTES = safexml.MAX_BYTES

# What `detect` can answer, and what each reader does with it.
FORMATS: dict[str, str] = {
    "newsml-g2": "IPTC NewsML-G2: newsMessage, newsItem (text, picture, video), packageItem, "
    "conceptItem",
    "newsml-1": "IPTC NewsML 1.x as AFP, Belga, EFE, ANP, TASS, ANA-MPE send it (with or "
    "without the 2003-10-10 namespace)",
    "ninjs": "IPTC ninjs 1.x, 2.x and 3.x (one object, an array of them, or an envelope)",
    "rss": "RSS 0.9x, 1.0 (RDF) and 2.0, with Media RSS",
    "atom": "Atom 1.0 (and 0.3), with Media RSS",
    "json-feed": "JSON Feed 1.x",
}

__all__ = [
    "FORMATS",
    "MAX_BYTES",
    "NOTHING_TO_PUBLISH",
    "Block",
    "Kind",
    "MemberRef",
    "Rendition",
    "Status",
    "Subject",
    "Unreadable",
    "WireItem",
    "WirePicture",
    "detect",
    "parse",
]

_XML_ROOTS = {
    **dict.fromkeys(newsml_g2.ROOTS, "newsml-g2"),
    "newsml": "newsml-1",
    "rss": "rss",
    "rdf": "rss",
    "feed": "atom",
}
_ROOT = re.compile(rb"<([A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)")
_JSON_FEED = re.compile(rb'"version"\s*:\s*"https?://jsonfeed\.org/version/')


def _skip_prolog(head: bytes) -> int:
    """Where the root element starts: after declarations, comments and the DOCTYPE."""
    position = 0
    length = len(head)
    while position < length:
        while position < length and head[position] in b" \t\r\n":
            position += 1
        if head.startswith(b"<?", position):
            end = head.find(b"?>", position)
            end = end + 1 if end >= 0 else end
        elif head.startswith(b"<!--", position):
            end = head.find(b"-->", position)
            end = end + 2 if end >= 0 else end
        elif head.startswith(b"<!", position):
            # A DOCTYPE, possibly with an internal subset: up to "]>" or the first ">".
            close = head.find(b"]>", position)
            simple = head.find(b">", position)
            bracket = head.find(b"[", position)
            end = close + 1 if 0 <= bracket < simple and close >= 0 else simple
        else:
            return position
        if end < 0:
            return length
        position = end + 1
    return position


def _text_head(data: bytes) -> bytes:
    """The first bytes as ASCII-compatible bytes (UTF-16/32 documents are decoded)."""
    head = data[:65536]
    for bom, codec in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "ignore").encode("utf-8")
    if head[:2] == b"<\x00":
        return head.decode("utf-16-le", "ignore").encode("utf-8")
    if head[:2] == b"\x00<":
        return head.decode("utf-16-be", "ignore").encode("utf-8")
    return head.removeprefix(b"\xef\xbb\xbf")


def _xml_format(data: bytes) -> str:
    """The format of XML that went through `safexml.prepare`, from its root element."""
    head = data[:65536]
    start = _skip_prolog(head)
    match = _ROOT.match(head, start)
    if not match:
        raise Unreadable("XML without a root element (only a prolog or comments)")
    root = match.group(2).decode("ascii")
    fmt = _XML_ROOTS.get(root.lower())
    if fmt:
        return fmt
    if root.lower() == "html":
        # Atom or RSS served inside an XHTML page: feedparser finds the feed in it.
        if re.search(rb"<(\w+:)?feed[\s>]", head):
            return "atom"
        if re.search(rb"<rss[\s>]", head):
            return "rss"
        raise Unreadable("An HTML page, not a wire file")
    raise Unreadable(
        f"Unknown XML format: root element <{root}> is not NewsML-G2, NewsML 1.x, RSS or Atom"
    )


def _sniff(data: bytes, filename: str, max_bytes: int) -> tuple[str, safexml.Prepared | None]:
    """The format, and for XML the bytes `safexml.prepare` made safe.

    XML is screened before anything looks for its root element: a billion-laughs file must
    be refused for its entity declarations, not for having an unknown root.
    """
    if len(data) > max_bytes:
        raise Unreadable(f"The file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    stripped = _text_head(data).lstrip()
    if not stripped:
        raise Unreadable("The file is empty" if not data else "The file holds only white space")
    first = stripped[:1]
    if first in (b"{", b"["):
        return ("json-feed" if _JSON_FEED.search(stripped[:4096]) else "ninjs"), None
    if first == b"<":
        prepared = safexml.prepare(data, max_bytes=max_bytes)
        return _xml_format(prepared.data), prepared
    if filename.lower().endswith(".json"):
        raise Unreadable(f"Invalid JSON: the file starts with {stripped[:20]!r}, not {{ or [")
    raise Unreadable(f"Neither XML nor JSON: the file starts with {stripped[:20]!r}")


def detect(data: bytes, *, filename: str = "", max_bytes: int = MAX_BYTES) -> str:
    """The format of a file, one of `FORMATS`, from its bytes; `Unreadable` if none.

    Hostile XML is refused here too, with the reason, exactly as `parse` would refuse it.
    """
    return _sniff(bytes(data), filename, max_bytes)[0]


def parse(data: bytes, *, filename: str = "", max_bytes: int = MAX_BYTES) -> list[WireItem]:
    """Read one received file into wire items, or raise `Unreadable` with the reason."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("parse() takes the file's bytes, not a decoded string")
    items = _read(bytes(data), filename, max_bytes)
    for item in items:
        normalise.screen_renditions(item)
    return items


def _read(data: bytes, filename: str, max_bytes: int) -> list[WireItem]:
    fmt, prepared = _sniff(data, filename, max_bytes)
    if prepared is None:  # JSON
        value = safejson.loads(data, max_bytes=max_bytes)
        if fmt == "json-feed":
            return feeds.read_json_feed(value)
        return ninjs.read(value, max_bytes=max_bytes)
    if fmt in ("rss", "atom"):
        return feeds.read(prepared, fmt)
    document = safexml.parse_prepared(prepared)
    reader = newsml_g2 if fmt == "newsml-g2" else newsml1
    return reader.read(document.root, document.warnings)
