"""Agency bodies (NITF, XHTML, HTML, TT's own markup, plain text) → Broadsheet body blocks.

Every body, whatever it came as, is sanitised by one nh3 allow-list, so a paragraph block
only ever holds `<p>`, `<ul>`/`<ol>`/`<li>`, `<b>`, `<i>`, `<br>` and `<a href>` with an
http(s) or mailto address. The steps:

1. The body becomes an lxml tree (it already is one inside NewsML; HTML strings are read
   by lxml's HTML parser) and is normalised: namespaces dropped, tag names lower-cased,
   the agencies' own tags mapped (NITF `hl2` and TT `MELLIS` are crossheads, TT `CITAT` a
   quote), `strong`/`em` renamed `b`/`i`, and metadata that must not be printed (NITF
   `body.head`, TT's headline and picture boxes, XHTML `head`, `header`, `figure`) marked
   for removal together with its content, and removed.
2. nh3 cleans the serialised tree: anything not on the list loses its tag but keeps its
   text; scripts, styles and the marked metadata lose their content too; every attribute
   but `href` goes, and `href` only survives with an http, https or mailto address.
3. The clean HTML is cut into blocks: paragraphs and lists, crossheads (`h2`–`h6`, plain
   text, at most 120 characters) and quotes (`blockquote`, plain text). Empty paragraphs
   (AFP's `<p/>` spacers) are dropped, and a tag wrapped around blocks (`<b>` around a
   table) is unwrapped, so that a paragraph block only ever holds inline markup.

What the agencies write into their copy (sign-offs, notes for editors, bylines) is dealt
with afterwards, in `conventions`.
"""

import html
import re

import nh3
from lxml import etree

from . import charsets, safexml
from .items import Block
from .safexml import local

CROSSHEAD_MAX = 120

_DROP = "x-drop"  # the tag given to elements removed with their content

_ALLOWED = {
    "p", "ul", "ol", "li", "b", "i", "a", "br",
    "h2", "h3", "h4", "h5", "h6", "blockquote",
    "table", "thead", "tbody", "tfoot", "tr", "td", "th",
}  # fmt: skip
_CLEAN_CONTENT = {
    "script", "style", "head", "title", "h1", "figure", "figcaption", "header", "footer",
    "nav", "aside", "noscript", "iframe", "object", "embed", "template", "svg", "math",
    "video", "audio", "canvas", "form", "button", "select", "textarea", "caption", _DROP,
}  # fmt: skip

_CLEANER = nh3.Cleaner(
    tags=_ALLOWED,
    clean_content_tags=_CLEAN_CONTENT,
    attributes={"a": {"href"}, "*": set()},
    url_schemes={"http", "https", "mailto"},
    url_relative="deny",
    link_rel=None,
    strip_comments=True,
)
_TEXT_ONLY = nh3.Cleaner(tags=set(), clean_content_tags={"script", "style"}, link_rel=None)

# Agency tags → HTML, and what is never printed.
_RENAME = {
    "strong": "b",
    "em": "i",
    "hl2": "h3",  # NITF crosshead
    "mellis": "h3",  # TT crosshead ("mellanrubrik")
    "citat": "blockquote",  # TT quote paragraph
    "bq": "blockquote",  # NITF block quote
    "body.content": "div",
    "block": "div",
    "body": "div",
    "html": "div",
    "nitf": "div",
    "section": "div",
    "article": "div",
    "text": "div",
    "ingress": "div",
    "brodtext": "div",
    "hl1": _DROP,  # the headline again
    "head": _DROP,
    "body.head": _DROP,  # NITF headline, byline, dateline: read as metadata instead
    "body.end": _DROP,
    "hedline": _DROP,
    "note": _DROP,  # NITF editorial notes
    "media": _DROP,  # NITF embedded media
    "rubrik": _DROP,  # TT headline
    "dat": _DROP,  # TT dateline box
    "byline": _DROP,
    "bild": _DROP,  # TT picture box
    "title": _DROP,
    "meta": _DROP,
}
# TT's rich HTML puts metadata in classed divs (`<div class="dat">Litteratur TT</div>`).
_DROP_CLASSES = {"dat", "byline", "slugline", "vignette", "genre"}
_CONTAINERS = {"div", "td", "th", "li", "blockquote", "dd"}
_BLOCKS = {"p", "div", "ul", "ol", "table", "blockquote", "h2", "h3", "h4", "h5", "h6", "li"}
_HEADINGS = {"h2", "h3", "h4", "h5", "h6"}

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_LOOKS_LIKE_HTML = re.compile(
    r"<(p|div|br|ul|ol|li|h[1-6]|table|blockquote|html|body|section|article)\b[^>]*>", re.I
)
_INLINE_MARKUP = re.compile(r"</?(b|i|a|strong|em|u|span)\b[^>]*>", re.I)
_BLANK_LINE = re.compile(r"\n[ \t\u00a0]*\n")
_ASCII_SPACE = re.compile(r"[ \t\r\n\f\v]+")
_DASHED = re.compile(r"^[\s\-–—]+(.*?)[\s\-–—]+$")
_TAGS = re.compile(r"<[^>]*>")


def _html_parser() -> etree.HTMLParser:
    # A parser per call: lxml parsers must not be shared between threads, and making one
    # costs about a microsecond.
    return etree.HTMLParser(no_network=True, remove_comments=True, remove_pis=True)


def looks_like_html(value: str) -> bool:
    """True when a "plain text" body is really HTML (ANSA's CDATA labelled text/plain)."""
    return bool(_LOOKS_LIKE_HTML.search(value))


def plain_text(markup: str) -> str:
    """Markup → text, tags removed and entities decoded, whitespace collapsed."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    return " ".join(html.unescape(_TEXT_ONLY.clean(markup)).split())


def block_text(block: Block) -> str:
    """The readable text of a block."""
    if block.kind != "paragraph":
        return block.value
    return " ".join(html.unescape(_TAGS.sub(" ", block.value)).split())


# --- trees → blocks ---------------------------------------------------------------------


def _normalise_tree(root: etree._Element) -> None:
    """Map agency markup to HTML in place (see the module docstring)."""
    for node in root.iter():
        tag = node.tag
        if not isinstance(tag, str):
            continue
        name = local(tag).lower()
        # Removed here, not only by nh3: an HTML5 parser lifts a <p> out of <svg> or
        # <math>, so their content would survive as text.
        name = _DROP if name in _CLEAN_CONTENT else _RENAME.get(name, name)
        if name != _DROP and node.get("class") in _DROP_CLASSES:
            name = _DROP
        node.tag = name
    for node in root.iter(*_HEADINGS):
        # TT wraps its lead paragraphs in an <h4>: a heading with blocks inside is a box.
        if any(isinstance(child.tag, str) and child.tag in _BLOCKS for child in node):
            node.tag = "div"
    for node in root.iter("div"):
        # A div that holds text itself, not paragraphs, is a paragraph.
        has_text = bool((node.text or "").strip()) or any(
            (child.tail or "").strip() for child in node
        )
        if has_text and not any(
            isinstance(child.tag, str) and child.tag in _BLOCKS for child in node
        ):
            node.tag = "p"
    if root.tag == "p" and any(isinstance(c.tag, str) and c.tag in _BLOCKS for c in root):
        root.tag = "div"


def element_blocks(root: etree._Element | None) -> list[Block]:
    """Blocks from a parsed body element (NITF, XHTML, TT markup). Mutates `root`."""
    if root is None:
        return []
    _normalise_tree(root)
    if root.tag == _DROP:
        return []
    for node in list(root.iter(_DROP)):
        _remove(node)
    markup = etree.tostring(root, encoding="unicode", method="html", with_tail=False)
    return _clean_blocks(markup)


def _remove(node: etree._Element) -> None:
    """Take an element and its content out of the tree, keeping the text after it.

    Done here rather than left to nh3: an HTML5 parser lets a <p> inside a marked element
    close the paragraph around it, and the inner text would escape the removal.
    """
    parent = node.getparent()
    if parent is None:
        return
    if node.tail:
        previous = node.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + node.tail
        else:
            parent.text = (parent.text or "") + node.tail
    parent.remove(node)


def html_blocks(markup: str) -> list[Block]:
    """Blocks from an HTML string (feeds, ninjs, CDATA)."""
    if not markup or not markup.strip():
        return []
    markup = _XML_DECLARATION.sub("", markup)
    try:
        document = etree.fromstring(markup, _html_parser())
    except (etree.XMLSyntaxError, etree.ParserError, ValueError):
        document = None
    if document is None:
        return text_blocks(plain_text(markup))
    body = document.find("body")
    return element_blocks(body if body is not None else document)


def nitf_document(value: str, *, max_bytes: int) -> tuple[list[Block], str, str, list[str]]:
    """(blocks, headline, byline, warnings) from a whole NITF document held in a string.

    ninjs carries NITF as a JSON string: it goes through the same hardened parser as any
    wire XML, re-declared as UTF-8 since that is what the string is encoded in here.
    """
    data = charsets.declare_encoding(value.lstrip().encode("utf-8"), "UTF-8")
    document = safexml.parse(data, max_bytes=max_bytes)
    found: dict[str, etree._Element] = {}
    for element in document.root.iter():
        name = local(element.tag)
        if name in ("hl1", "byline", "body.content"):
            found.setdefault(name, element)
    content = found.get("body.content")
    blocks = element_blocks(content if content is not None else document.root)
    headline, byline = safexml.text(found.get("hl1")), safexml.text(found.get("byline"))
    return blocks, headline, byline, document.warnings


def text_blocks(value: str) -> list[Block]:
    """Blocks from plain text: paragraphs on blank lines, else one per line."""
    if not value or not value.strip():
        return []
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    if looks_like_html(value):
        return html_blocks(value)
    # Blank lines separate paragraphs; text without any has one paragraph a line.
    pieces = _BLANK_LINE.split(value) if _BLANK_LINE.search(value) else value.split("\n")
    blocks = []
    for piece in pieces:
        piece = " ".join(piece.split())
        if not piece:
            continue
        if _INLINE_MARKUP.search(piece):
            blocks.extend(html_blocks(f"<p>{piece}</p>"))
        else:
            blocks.append(Block("paragraph", f"<p>{html.escape(piece, quote=False)}</p>"))
    return blocks


def _collapse(element: etree._Element) -> None:
    for node in element.iter():
        if node.text:
            node.text = _ASCII_SPACE.sub(" ", node.text)
        if node is not element and node.tail:
            node.tail = _ASCII_SPACE.sub(" ", node.tail)


def _serialise(element: etree._Element) -> str:
    for anchor in element.iter("a"):
        href = anchor.get("href")
        if not href:
            anchor.tag = "x-unwrap"
        elif '"' in href:
            # A quote inside an address is legal but makes lxml switch to single quotes:
            # encoded, every link in a block reads the same way.
            anchor.set("href", href.replace('"', "%22"))
    etree.strip_tags(element, "x-unwrap")
    _collapse(element)
    markup = etree.tostring(element, encoding="unicode", method="html", with_tail=False)
    tag = element.tag
    head = len(tag) + 2
    # Trim the space just inside the outer tag: "<p> Text </p>" → "<p>Text</p>".
    return f"<{tag}>{markup[head : -(head + 1)].strip()}</{tag}>"


def _heading(text: str) -> Block:
    # AFP dresses crossheads in dashes: "- Media offices destroyed -".
    match = _DASHED.match(text)
    if match and match.group(1):
        text = match.group(1)
    if len(text) <= CROSSHEAD_MAX:
        return Block("crosshead", text)
    return Block("paragraph", f"<p>{html.escape(text, quote=False)}</p>")


_INLINE_OR_P = ("b", "i", "a", "p")
_CLEAN_BLOCKS = {"p", "ul", "ol", "li", "table", "tr", "blockquote", *_HEADINGS}


def _unwrap_around_blocks(container: etree._Element) -> None:
    """Unwrap a paragraph or inline tag that holds blocks (`<b>` around a whole table,
    `<p>` around a list), until every block stands on its own: a paragraph block may
    only hold inline markup."""
    while True:
        wrappers = [
            node
            for node in container.iter(*_INLINE_OR_P)
            if node is not container
            and any(inner.tag in _CLEAN_BLOCKS for inner in node.iterdescendants())
        ]
        if not wrappers:
            return
        for node in wrappers:
            node.tag = "x-unwrap"
        etree.strip_tags(container, "x-unwrap")


def _clean_blocks(markup: str) -> list[Block]:
    cleaned = _CLEANER.clean(markup)
    if not cleaned.strip():
        return []
    document = etree.fromstring(f"<div>{cleaned}</div>", _html_parser())
    container = document.find("body/div")
    _unwrap_around_blocks(container)
    blocks: list[Block] = []
    loose = etree.Element("p")  # text and inline tags found between blocks

    def flush() -> None:
        nonlocal loose
        if "".join(loose.itertext()).strip():
            blocks.append(Block("paragraph", _serialise(loose)))
        loose = etree.Element("p")

    def add_loose_text(value: str | None) -> None:
        if not value:
            return
        if len(loose):
            last = loose[-1]
            last.tail = (last.tail or "") + value
        else:
            loose.text = (loose.text or "") + value

    add_loose_text(container.text)
    for child in list(container):
        tag = child.tag
        tail = child.tail
        child.tail = None
        if tag in ("p", "ul", "ol"):
            flush()
            if "".join(child.itertext()).strip():
                if tag == "p":
                    etree.strip_tags(child, *(_ALLOWED - {"b", "i", "a", "br"}))
                else:
                    etree.strip_tags(child, *(_ALLOWED - {"b", "i", "a", "br", "ul", "ol", "li"}))
                blocks.append(Block("paragraph", _serialise(child)))
        elif tag in _HEADINGS:
            flush()
            text = " ".join("".join(child.itertext()).split())
            if text:
                blocks.append(_heading(text))
        elif tag == "blockquote":
            flush()
            text = " ".join("".join(child.itertext()).split())
            if text:
                blocks.append(Block("quote", text))
        elif tag in ("table", "thead", "tbody", "tfoot", "tr"):
            flush()
            rows = [child] if tag == "tr" else list(child.iter("tr"))
            for row in rows:
                cells = [" ".join("".join(cell.itertext()).split()) for cell in row]
                line = " | ".join(cell for cell in cells if cell)
                if line:
                    blocks.append(Block("paragraph", f"<p>{html.escape(line, quote=False)}</p>"))
        elif (
            tag == "br"
            and len(loose)
            and loose[-1].tag == "br"
            and not (loose[-1].tail or "").strip()
        ):
            # Two line breaks in a row separate paragraphs.
            loose.remove(loose[-1])
            flush()
        elif tag in ("li", "td", "th"):
            flush()
            text = " ".join("".join(child.itertext()).split())
            if text:
                blocks.append(Block("paragraph", f"<p>{html.escape(text, quote=False)}</p>"))
        else:
            loose.append(child)
        add_loose_text(tail)
    flush()
    return blocks
