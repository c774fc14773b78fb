"""RSS, Atom and JSON Feed: one WireItem per entry.

Feeds are news sites' syndication, not a wire of record: they have no versions and no kill
semantics, so every item is `usable`, and `sequence` is the updated (else published) time
in epoch seconds, else 0. The id is the entry's guid/id, else its link.

The bytes first go through `safexml.prepare`, exactly like wire XML (entity declarations
refused, DOCTYPE cut out, encodings checked), then through lxml's strict parser. Two
outcomes, decided on purpose:

* Well-formed: feedparser maps the entries (it is lenient about dates and the zoo of
  RSS/Atom dialects), and Media RSS is read from the lxml tree, because feedparser flattens
  `media:description` into the entry summary and loses which credit belongs to which image.
* Not well-formed: a feed cut off inside an entry (a truncated download, a server error
  written into the response) is refused, since that entry may be incomplete. Cut off
  after its last complete entry, or broken any other way (an undeclared prefix, stray
  bytes), it is read leniently by feedparser, with a warning on every item; if nothing
  can be read it is refused, and the reason says how the feed is broken.

A feed with no encoding declaration whose bytes are not UTF-8 is guessed: Hebrew
windows-1255 when the high bytes look like Hebrew letters, else windows-1252 (what
feedparser assumes); either way with a warning. Wire XML in that state is refused instead:
agencies declare their encodings, and a guess there would print mojibake under their name.

Dates are feedparser's, except a bare number, which feedparser misreads ("1518478934"
became 3 July 2015): it is Unix time, and read as such, with a warning.

feedparser is handed a stream, never bytes or a string: given a string it fetches URLs and
opens files, and given bytes it tries them as a file name first.
"""

import calendar
import hashlib
import io
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import feedparser
from lxml import etree

from . import bodies, charsets, conventions, normalise, safexml
from .items import Rendition, Subject, Unreadable, WireItem, WirePicture
from .safexml import local

_ENTRY_NAMESPACES = {
    "",
    "http://purl.org/rss/1.0/",
    "http://www.w3.org/2005/Atom",
    "http://purl.org/atom/ns#",
    "http://backend.userland.com/rss2",
    "http://my.netscape.com/rdf/simple/0.9/",
}
_MEDIA = "http://search.yahoo.com/mrss"
_IMAGE_PATH = re.compile(r"\.(jpe?g|png|gif|webp|avif)(\?|$)", re.IGNORECASE)
_ENTRY_START = re.compile(rb"<(?:[\w.\-]+:)?(?:item|entry)[\s>/]")
_ENTRY_END = re.compile(rb"</(?:[\w.\-]+:)?(?:item|entry)\s*>")


def _cut_inside_entry(data: bytes) -> bool:
    """True when a truncated feed stops inside an entry (its last entry is not closed)."""
    starts = [match.start() for match in _ENTRY_START.finditer(data)]
    ends = [match.start() for match in _ENTRY_END.finditer(data)]
    return bool(starts) and (not ends or starts[-1] > ends[-1])


def read(
    source: bytes | safexml.Prepared, fmt: str, *, max_bytes: int = safexml.MAX_BYTES
) -> list[WireItem]:
    """WireItems from an RSS or Atom document (see the module docstring for the policy).

    `source` is the file's bytes, or what `safexml.prepare` already made of them.
    """
    if isinstance(source, safexml.Prepared):
        prepared = source
    else:
        prepared = safexml.prepare(source, max_bytes=max_bytes)
    warnings = list(prepared.warnings)
    if prepared.undeclared_non_utf8:
        encoding = charsets.guess_legacy(prepared.data)
        warnings.append(
            f"No encoding declared and the bytes are not UTF-8: read as {encoding} (a guess)"
        )
        prepared.data = charsets.declare_encoding(prepared.data, encoding)
        prepared.encoding = encoding
        prepared.undeclared_non_utf8 = False
    root = None
    try:
        root = safexml.parse_prepared(prepared).root
    except safexml.MalformedXML as error:
        problem = error.reason
        closed, root_name = safexml.root_closed(prepared.data)
        if not closed and _cut_inside_entry(prepared.data):
            raise Unreadable(
                f"The feed is truncated inside an item: it stops before its closing "
                f"</{root_name}> tag, so that item may be incomplete"
            ) from None
        if not closed:
            problem = f"truncated: it stops before its closing </{root_name}> tag"
        warnings.append(f"The feed is not well-formed ({problem}): read leniently")

    result = feedparser.parse(io.BytesIO(prepared.data))
    entries = result.entries
    if root is None and not entries:
        raise Unreadable(f"The feed is not well-formed ({problem}) and has no readable item")
    tree_entries = _tree_entries(root) if root is not None else None
    if tree_entries is not None and len(tree_entries) != len(entries):
        tree_entries = None
    feed = result.feed
    context = {
        "fmt": fmt,
        "language": normalise.language(feed.get("language")),
        "provider": urlparse(feed.get("link") or "").netloc or normalise.clean(feed.get("title")),
        "base": feed.get("link") or feed.get("id") or "",
    }
    items = []
    for index, entry in enumerate(entries):
        element = tree_entries[index] if tree_entries is not None else None
        items.append(_entry(entry, element, context, list(warnings)))
    return items


def _tree_entries(root: etree._Element) -> list[etree._Element]:
    found = []
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        namespace = tag[1 : tag.find("}")] if tag.startswith("{") else ""
        if local(tag) in ("item", "entry") and namespace in _ENTRY_NAMESPACES:
            found.append(element)
    return found


def _epoch(text: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(text), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def _struct_time(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _entry(entry: Any, element: Any, context: dict, warnings: list[str]) -> WireItem:
    item = WireItem(format=context["fmt"], guid="", provider=context["provider"])
    item.warnings = warnings
    item.link = normalise.clean(entry.get("link"))
    item.headline = bodies.plain_text(entry.get("title") or "")
    item.guid = normalise.clean(entry.get("id")) or item.link
    if not item.guid:
        # Without a title, the text tells items apart (the Hebrew sample has only that).
        text = item.headline or bodies.plain_text(entry.get("summary") or "")[:500]
        basis = "\n".join((context["base"], text, entry.get("published", "")))
        digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
        item.guid = f"urn:sha256:{digest}"
        item.warnings.append("The entry has no id and no link: its guid is derived from its title")

    for key in ("published", "updated"):
        # Plain dict reads: feedparser's own `get("updated")` answers with the published
        # date when there is none (its deprecated issue-310 fallback).
        raw = dict.get(entry, key)
        if not raw:
            continue
        text = item.raw_dates[key] = normalise.clean(str(raw))
        parsed = dict.get(entry, f"{key}_parsed")
        moment = _epoch(text) if text.isdigit() else _struct_time(parsed)
        if moment is None:
            item.warnings.append(f"{key}: {text!r} is not a date; left empty")
            continue
        if text.isdigit():
            item.warnings.append(f"{key}: {text!r} read as Unix time")
        if key == "published":
            item.first_created = moment
        else:
            item.version_created = moment
    item.version_created = item.version_created or item.first_created
    item.sequence = normalise.epoch(item.version_created)

    detail = entry.get("title_detail") or {}
    item.language = normalise.language(detail.get("language")) or context["language"]
    item.byline = normalise.clean(entry.get("author"))
    for tag in entry.get("tags") or []:
        term = normalise.clean(tag.get("term"))
        if term:
            scheme = normalise.clean(tag.get("scheme"))
            label = normalise.clean(tag.get("label")) or term
            item.subjects.append(Subject(term, scheme, label, "category"))

    summary = entry.get("summary") or ""
    contents = entry.get("content") or []
    content = next((c for c in contents if "html" in (c.get("type") or "")), None)
    content = content or (contents[0] if contents else None)
    if content and (content.get("value") or "").strip():
        item.body = _blocks(content.get("value", ""), content.get("type", ""))
        lead = bodies.plain_text(summary)
        body_text = " ".join(bodies.block_text(block) for block in item.body)
        if lead and not body_text.startswith(lead[:80]):
            item.standfirst = lead
    elif summary:
        summary_type = (entry.get("summary_detail") or {}).get("type", "")
        item.body = _blocks(summary, summary_type)

    item.pictures = _tree_media(element) if element is not None else _parsed_media(entry)
    if item.standfirst and any(item.standfirst == p.caption for p in item.pictures):
        item.standfirst = ""  # feedparser's summary was the picture's media:description
    item.body = conventions.drop_repeated_headline(item.body, item.headline)
    conventions.stand_in_headline(item)
    return item


def _blocks(value: str, content_type: str) -> list:
    if "html" in content_type or bodies.looks_like_html(value):
        return bodies.html_blocks(value)
    return bodies.text_blocks(value)


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _media_children(element: etree._Element, name: str) -> list[etree._Element]:
    return [
        child
        for child in element
        if isinstance(child.tag, str)
        and child.tag.startswith("{" + _MEDIA)
        and local(child.tag) == name
    ]


def _media_text(name: str, *elements: etree._Element) -> str:
    for element in elements:
        for child in _media_children(element, name):
            value = bodies.plain_text(safexml.text(child))
            if value:
                return value
    return ""


def _thumbnail(element: etree._Element) -> Rendition:
    return Rendition(
        href=(element.get("url") or "").strip(),
        width=_int(element.get("width")),
        height=_int(element.get("height")),
        name="thumbnail",
    )


def _tree_media(entry: etree._Element) -> list[WirePicture]:
    """Media RSS pictures, each with its own caption, title and credit."""
    pictures = []
    groups = _media_children(entry, "group")
    contents = [(content, entry) for content in _media_children(entry, "content")]
    for group in groups:
        contents.extend((content, group) for content in _media_children(group, "content"))
    for content, parent in contents:
        url = (content.get("url") or "").strip()
        medium = (content.get("medium") or "").lower()
        content_type = (content.get("type") or "").strip()
        is_image = medium == "image" or content_type.startswith("image/")
        if not url or not (
            is_image or (not medium and not content_type and _IMAGE_PATH.search(url))
        ):
            continue
        scopes = (content, parent, entry) if parent is not entry else (content, entry)
        picture = WirePicture(
            headline=_media_text("title", *scopes),
            caption=_media_text("description", *scopes),
            credit=_media_text("credit", *scopes),
            renditions=[
                Rendition(
                    href=url,
                    content_type=content_type,
                    width=_int(content.get("width")),
                    height=_int(content.get("height")),
                    size=_int(content.get("fileSize")),
                    name="content",
                )
            ],
        )
        picture.renditions.extend(_thumbnail(t) for t in _media_children(content, "thumbnail"))
        pictures.append(picture)
    thumbnails = [_thumbnail(t) for t in _media_children(entry, "thumbnail")]
    thumbnails = [t for t in thumbnails if t.href]
    if thumbnails:
        if pictures:
            pictures[0].renditions.extend(thumbnails)
        else:
            pictures.append(WirePicture(renditions=thumbnails))
    return pictures


def _parsed_media(entry: Any) -> list[WirePicture]:
    """The same from feedparser's flattened keys, for feeds lxml could not parse."""
    pictures = []
    credits = [normalise.clean(c.get("content")) for c in entry.get("media_credit") or []]
    for content in entry.get("media_content") or []:
        url = (content.get("url") or "").strip()
        medium = (content.get("medium") or "").lower()
        content_type = content.get("type") or ""
        if url and (
            medium == "image" or content_type.startswith("image/") or _IMAGE_PATH.search(url)
        ):
            rendition = Rendition(
                url, content_type, _int(content.get("width")), _int(content.get("height"))
            )
            pictures.append(WirePicture(credit=next(iter(credits), ""), renditions=[rendition]))
    for thumbnail in entry.get("media_thumbnail") or []:
        url = (thumbnail.get("url") or "").strip()
        if url:
            rendition = Rendition(
                url,
                "",
                _int(thumbnail.get("width")),
                _int(thumbnail.get("height")),
                name="thumbnail",
            )
            if pictures:
                pictures[0].renditions.append(rendition)
            else:
                pictures.append(WirePicture(renditions=[rendition]))
    return pictures


# --- JSON Feed --------------------------------------------------------------------------


def read_json_feed(value: Any) -> list[WireItem]:
    """WireItems from a decoded JSON Feed 1.x document."""
    if not isinstance(value, dict) or not isinstance(value.get("items"), list):
        raise Unreadable("A JSON Feed must be an object with an 'items' list")
    version = str(value.get("version", ""))
    if not version.startswith(("https://jsonfeed.org/version/1", "http://jsonfeed.org/version/1")):
        raise Unreadable(f"Unsupported JSON Feed version {version!r} (1.x is read)")
    language = normalise.language(
        value.get("language") if isinstance(value.get("language"), str) else ""
    )
    home = value.get("home_page_url") if isinstance(value.get("home_page_url"), str) else ""
    title = value.get("title") if isinstance(value.get("title"), str) else ""
    provider = urlparse(home).netloc or normalise.clean(title)
    feed_author = _json_author(value)
    items = []
    for position, entry in enumerate(value["items"], start=1):
        if not isinstance(entry, dict):
            raise Unreadable(f"JSON Feed item {position}: not an object")
        items.append(_json_item(entry, language, provider, feed_author))
    return items


def _json_author(obj: dict) -> str:
    authors = obj.get("authors")
    if isinstance(authors, list):
        names = [
            a.get("name") for a in authors if isinstance(a, dict) and isinstance(a.get("name"), str)
        ]
        return ", ".join(normalise.clean(n) for n in names if n)
    author = obj.get("author")
    if isinstance(author, dict) and isinstance(author.get("name"), str):
        return normalise.clean(author["name"])
    return ""


def _json_text(entry: dict, key: str) -> str:
    value = entry.get(key)
    return value if isinstance(value, str) else ""


def _json_item(entry: dict, language: str, provider: str, feed_author: str) -> WireItem:
    item = WireItem(format="json-feed", guid="", provider=provider)
    item.link = normalise.clean(_json_text(entry, "url"))
    raw_id = entry.get("id")
    item.guid = normalise.clean(str(raw_id)) if isinstance(raw_id, str | int) else ""
    item.guid = item.guid or item.link
    if not item.guid:
        raise Unreadable("JSON Feed item without an id or url")
    item.headline = bodies.plain_text(_json_text(entry, "title"))
    if html_content := _json_text(entry, "content_html"):
        item.body = bodies.html_blocks(html_content)
    elif text_content := _json_text(entry, "content_text"):
        item.body = bodies.text_blocks(text_content)
    item.standfirst = bodies.plain_text(_json_text(entry, "summary"))
    item.first_created = normalise.date_field(
        entry.get("date_published"), "date_published", item.warnings, item.raw_dates
    )
    item.version_created = (
        normalise.date_field(
            entry.get("date_modified"), "date_modified", item.warnings, item.raw_dates
        )
        or item.first_created
    )
    item.sequence = normalise.epoch(item.version_created)
    item.language = normalise.language(_json_text(entry, "language")) or language
    item.byline = _json_author(entry) or feed_author
    tags = entry.get("tags")
    if isinstance(tags, list):
        for tag in tags:
            if isinstance(tag, str) and tag.strip():
                item.subjects.append(Subject(tag.strip(), "", tag.strip(), "category"))
    for key in ("image", "banner_image"):
        url = _json_text(entry, key).strip()
        if url:
            item.pictures.append(WirePicture(renditions=[Rendition(url, name=key)]))
    attachments = entry.get("attachments")
    if isinstance(attachments, list):
        for attachment in attachments:
            if isinstance(attachment, dict) and str(attachment.get("mime_type", "")).startswith(
                "image/"
            ):
                url = _json_text(attachment, "url").strip()
                if url:
                    rendition = Rendition(
                        url, attachment["mime_type"], size=_int(attachment.get("size_in_bytes"))
                    )
                    item.pictures.append(
                        WirePicture(
                            caption=normalise.clean(_json_text(attachment, "title")),
                            renditions=[rendition],
                        )
                    )
    item.body = conventions.drop_repeated_headline(item.body, item.headline)
    conventions.stand_in_headline(item)
    return item
