"""The one hardened way to read wire XML.

Wire files are untrusted input from the network. Every XML document (NewsML-G2, NewsML 1.x,
a NITF body carried inside ninjs JSON, and feeds before feedparser sees them) goes through
`prepare` and, except for feeds, `parse`:

* Entity declarations are refused before any parser runs: a `<!ENTITY` in the DOCTYPE is how
  billion-laughs, quadratic blow-up and XXE (file:// or http:// entities) work, and no
  supported format needs one.
* A DOCTYPE without entity declarations (an external DTD reference, as ATS and Kyodo send)
  is cut out, and the DTD is never loaded. The one kind of declaration tolerated in it is
  the "import the NITF DTD" idiom, an *external parameter entity* that is then referenced
  (`<!ENTITY % nitf SYSTEM "nitf-3-0.dtd"> %nitf;`): it only names a DTD file, and since
  the whole DOCTYPE is removed nothing it could define survives; any entity reference left
  in the body then fails as undefined.
* lxml runs with an explicit parser: no entity resolution, no network, no DTD loading or
  validation, no huge_tree (libxml2's amplification and size limits stay on), no recover
  mode. Element depth is capped at `MAX_DEPTH`.
* The parser is handed bytes, so the BOM and the XML declaration decide the encoding
  (`charsets` settles it first, and repairs the one fault agencies really make).
"""

import re
from dataclasses import dataclass, field

from lxml import etree

from . import charsets
from .charsets import Prepared
from .items import Unreadable

MAX_DEPTH = 200
MAX_BYTES = 20 * 1024 * 1024

_PARSER_OPTIONS = {
    "resolve_entities": False,
    "no_network": True,
    "load_dtd": False,
    "dtd_validation": False,
    "huge_tree": False,
    "recover": False,
    "remove_comments": True,
    "remove_pis": True,
    "collect_ids": False,
}

# One path of `MAX_DEPTH + 1` steps matches an element that deep; evaluated in C, it costs
# about as much as walking the tree once.
_TOO_DEEP = etree.XPath("/*" + "/*" * MAX_DEPTH)

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


class MalformedXML(Unreadable):
    """Not well-formed XML (as opposed to refused on purpose): feeds may still be read."""


@dataclass
class Document:
    root: etree._Element
    warnings: list[str] = field(default_factory=list)


def local(tag: object) -> str:
    """The local name of an element tag, whatever its namespace or prefix."""
    if not isinstance(tag, str):
        return ""
    return tag[tag.rfind("}") + 1 :]


def text(element: etree._Element | None) -> str:
    """All the text inside an element, whitespace collapsed."""
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


# Wire XML is matched by local name, case-insensitively: namespaces, prefixes (Reuters'
# `ns0:`) and case slips (BusinessDesk's `<ednote>`, TASS's `Descriptivemetada`) abound.


def lname(element: etree._Element) -> str:
    """The local name of an element, lower case ("" for comments and PIs)."""
    return local(element.tag).lower()


def children(element: etree._Element | None, name: str) -> list[etree._Element]:
    """The child elements with local name `name` (lower case)."""
    if element is None:
        return []
    return [child for child in element if lname(child) == name]


def child(element: etree._Element | None, name: str) -> etree._Element | None:
    """The first child element with local name `name` (lower case), else None."""
    if element is None:
        return None
    for candidate in element:
        if lname(candidate) == name:
            return candidate
    return None


# --- DOCTYPE screening ------------------------------------------------------------------

_QUOTED = rb"""(?:"[^"]*"|'[^']*')"""
_NAME = rb"[^\s%;>\"']+"
_SUBSET_TOKEN = re.compile(
    rb"\s+"
    rb"|<!--.*?-->"
    rb"|%(?P<ref>" + _NAME + rb");"
    rb"|<!ENTITY\s+%\s+(?P<pe>" + _NAME + rb")\s+"
    rb"(?:SYSTEM\s+" + _QUOTED + rb"|PUBLIC\s+" + _QUOTED + rb"\s+" + _QUOTED + rb")\s*>",
    re.DOTALL,
)
_ENTITY_DECLARATION = re.compile(
    rb"<!ENTITY\s+(%\s+)?(" + _NAME + rb")\s+(?:(SYSTEM|PUBLIC)\s+(" + _QUOTED + rb"))?"
)


def _doctype_end(data: bytes, start: int) -> tuple[int, int, int]:
    """(end of the DOCTYPE, start and end of its internal subset or -1, -1)."""
    position = start + len(b"<!DOCTYPE")
    quote = 0
    subset_start = -1
    length = len(data)
    while position < length:
        char = data[position]
        if quote:
            if char == quote:
                quote = 0
        elif char in b"\"'":
            quote = char
        elif char == ord("["):
            subset_start = position + 1
            break
        elif char == ord(">"):
            return position + 1, -1, -1
        position += 1
    if subset_start < 0:
        raise MalformedXML("Malformed XML: the DOCTYPE declaration is not closed")
    # Inside the internal subset: skip quoted strings and comments, stop at "]".
    position = subset_start
    while position < length:
        char = data[position]
        if char in b"\"'":
            close = data.find(bytes([char]), position + 1)
            if close < 0:
                break
            position = close + 1
            continue
        if data.startswith(b"<!--", position):
            close = data.find(b"-->", position + 4)
            if close < 0:
                break
            position = close + 3
            continue
        if char == ord("]"):
            close = data.find(b">", position)
            if close < 0:
                break
            return close + 1, subset_start, position
        position += 1
    raise MalformedXML("Malformed XML: the DOCTYPE internal subset is not closed")


def _refuse_subset(subset: bytes) -> None:
    """Refuse an internal subset with anything but external parameter entities."""
    declared = _ENTITY_DECLARATION.findall(subset)
    general = [(name, kind, ident) for pe, name, kind, ident in declared if not pe]
    if general:
        names = ", ".join(name.decode("utf-8", "replace") for name, _, _ in general[:5])
        more = f" and {len(general) - 5} more" if len(general) > 5 else ""
        external = [(name, ident) for name, kind, ident in general if kind]
        if external:
            name, ident = external[0]
            raise Unreadable(
                f"The DOCTYPE declares an external entity {name.decode('utf-8', 'replace')!r} "
                f"({ident.decode('utf-8', 'replace')}): external entities (XXE) are refused"
            )
        raise Unreadable(
            f"The DOCTYPE declares entities ({names}{more}): entity declarations are refused "
            "(entity-expansion attacks such as billion laughs)"
        )
    position = 0
    while position < len(subset):
        token = _SUBSET_TOKEN.match(subset, position)
        if token is None:
            excerpt = subset[position : position + 60].decode("utf-8", "replace").strip()
            if excerpt.startswith("<!ENTITY"):
                raise Unreadable(
                    f"The DOCTYPE declares an internal parameter entity ({excerpt}…): "
                    "entity declarations are refused"
                )
            raise Unreadable(
                f"The DOCTYPE internal subset declares {excerpt!r}…: only references to "
                "external DTD files are tolerated, and those are never loaded"
            )
        position = token.end()


def _screen_prolog(prepared: Prepared) -> None:
    """Find the DOCTYPE in the prolog (only there), refuse entities, cut it out."""
    data = prepared.data
    position = 0
    length = len(data)
    seen = False
    while position < length:
        while position < length and data[position] in b" \t\r\n":
            position += 1
        if data.startswith(b"<?", position):
            end = data.find(b"?>", position)
            position = length if end < 0 else end + 2
        elif data.startswith(b"<!--", position):
            end = data.find(b"-->", position)
            position = length if end < 0 else end + 3
        elif data.startswith(b"<!DOCTYPE", position):
            if seen:
                # Not XML; refused here so that nothing ever reads the second one.
                raise Unreadable("The prolog has a second DOCTYPE declaration: refused")
            seen = True
            start = position
            end, subset_start, subset_end = _doctype_end(data, start)
            if subset_start >= 0:
                _refuse_subset(data[subset_start:subset_end])
            declaration = " ".join(data[start:end].decode("utf-8", "replace").split())
            if len(declaration) > 160:
                declaration = declaration[:157] + "..."
            prepared.warnings.append(f"DOCTYPE ignored and not loaded: {declaration}")
            # Replaced by as many newlines, so that error positions stay true.
            newlines = b"\n" * data.count(b"\n", start, end)
            data = prepared.data = data[:start] + newlines + data[end:]
            length = len(data)
            position = start + len(newlines)
        else:
            return


# --- the entry points -------------------------------------------------------------------


def prepare(data: bytes, *, max_bytes: int = MAX_BYTES) -> Prepared:
    """Size, encoding and DOCTYPE checks; the returned bytes are safe for any XML parser."""
    if len(data) > max_bytes:
        raise Unreadable(f"The file is {len(data):,} bytes, over the {max_bytes:,}-byte limit")
    prepared = Prepared(bytes(data))
    charsets.settle(prepared)
    if b"<!" in prepared.data:
        _screen_prolog(prepared)
    return prepared


_POSITION = re.compile(r",\s*line \d+, column \d+\s*$")
_UNDEFINED_ENTITY = re.compile(r"^Entity '([^']+)' not defined")
_COMMENT = re.compile(rb"<!--.*?-->", re.DOTALL)
_FIRST_TAG = re.compile(rb"<(?![?!])([^\s/>]+)")


def root_closed(data: bytes) -> tuple[bool, str]:
    """(whether the document ends with its root element's closing tag, the root's name).

    One that does not is truncated: a download cut short, or a server that wrote its error
    message into the response (Reuters' RSS). Trailing comments do not count.
    """
    first = _FIRST_TAG.search(_COMMENT.sub(b"", data[:65536]))
    root = first.group(1) if first else b""
    tail = data.rstrip()
    while tail.endswith(b"-->") and tail.rfind(b"<!--") >= 0:
        tail = tail[: tail.rfind(b"<!--")].rstrip()
    closed = bool(root) and (
        re.search(rb"</" + re.escape(root) + rb"\s*>$", tail) is not None
        or (tail.endswith(b"/>") and data.count(b"<" + root) == 1)
    )
    return closed, root.decode("utf-8", "replace")


def syntax_error(error: etree.XMLSyntaxError, prepared: Prepared) -> Unreadable:
    """A precise reason from lxml's error: what, and where."""
    message = _POSITION.sub("", str(error.msg or error)).strip()
    line, column = error.position if error.position else (error.lineno or 0, 0)
    if message.startswith("Excessive depth"):
        return Unreadable(f"Elements are nested deeper than {MAX_DEPTH} levels (at line {line})")
    if message.startswith(("Document is empty", "Start tag expected")) and line <= 1:
        return MalformedXML("Malformed XML: there is no root element")
    where = f"line {line + prepared.line_offset}, column {column}"
    closed, root = root_closed(prepared.data)
    if not closed:
        return MalformedXML(
            f"Truncated XML: the file stops before its closing </{root}> tag "
            f"(the parser gave up at {where}: {message})"
        )
    if undefined := _UNDEFINED_ENTITY.match(message):
        return MalformedXML(
            f"Malformed XML at {where}: the entity &{undefined.group(1)}; is not defined "
            "(DTDs are never loaded: only XML's own five entities and character references "
            "can be used)"
        )
    return MalformedXML(f"Malformed XML at {where}: {message}")


def parse_prepared(prepared: Prepared) -> Document:
    """Parse bytes that went through `prepare`."""
    if prepared.undeclared_non_utf8:
        raise Unreadable(charsets.not_utf8_reason(prepared.data))
    parser = etree.XMLParser(**_PARSER_OPTIONS)
    try:
        root = etree.fromstring(prepared.data, parser)
    except etree.XMLSyntaxError as error:
        raise syntax_error(error, prepared) from None
    if root is None:
        raise MalformedXML("Malformed XML: there is no root element")
    if _TOO_DEEP(root):
        raise Unreadable(f"Elements are nested deeper than {MAX_DEPTH} levels")
    if root.getroottree().docinfo.internalDTD is not None:
        # Cannot happen after the screening above; refusing keeps it that way.
        raise Unreadable("The document still carries a DTD after screening")
    return Document(root, prepared.warnings)


def parse(data: bytes, *, max_bytes: int = MAX_BYTES) -> Document:
    """Hardened XML parse of untrusted bytes, or `Unreadable` with the exact reason."""
    return parse_prepared(prepare(data, max_bytes=max_bytes))
