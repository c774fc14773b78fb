"""The one shape every agency format is read into: a normalised wire item.

Parsers (one module per format, pure Python, no Django) turn the bytes of a received file
into a list of `WireItem`s, or raise `Unreadable` with the exact reason the file is
quarantined. Everything downstream (routing, the desk, articles) reads only these.

A file is refused only when it cannot be read safely or unambiguously (hostile or broken
XML/JSON, an unknown publishing status, a partial update). An item that reads cleanly but
is not fit to print is returned, with the reason in `warnings`; deciding what to publish is
the ingest side's job. The one such case every parser marks the same way: a text item
with neither headline nor body (IPTC's schema fragments, ninjs test objects) carries the
warning `NOTHING_TO_PUBLISH`, and must never become an article. A kill (`canceled`) needs
no copy and is not marked.

Text direction is not decided here: the news app derives it from `language`.
"""

import enum
from dataclasses import dataclass, field
from datetime import datetime

# The warning on a text item with neither headline nor body (see the module docstring).
NOTHING_TO_PUBLISH = "No headline and no body: nothing to publish"


class Unreadable(Exception):  # a verdict on a file, shown to the desk as it is
    """A file that cannot be ingested: the message says exactly why (shown in the admin)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class Status(enum.StrEnum):
    """IPTC publishing status, normalised (anything else is refused, never guessed)."""

    USABLE = "usable"
    WITHHELD = "withheld"
    CANCELED = "canceled"


class Kind(enum.StrEnum):
    TEXT = "text"  # a story: becomes an article
    PICTURE = "picture"  # a photo item (NewsML-G2 pictures are items of their own)
    PACKAGE = "package"  # ties a story to its pictures (NewsML-G2 packageItem)
    OTHER = "other"  # video, graphics, events, concept items: kept, never an article


@dataclass(frozen=True)
class Subject:
    """A subject, media topic, place or keyword code: `scheme` + `code`, with a label."""

    code: str  # the qcode or code as sent ("medtop:20000763", "15054000")
    scheme: str = ""  # the scheme URI when known, else the prefix or "keyword"
    name: str = ""  # the label in the item's language, else English, else ""
    kind: str = "subject"  # "subject", "mediatopic", "geo", "genre", "keyword", "category"


@dataclass(frozen=True)
class Rendition:
    """One file of a picture. `href` is an http(s) address, or a reference the agency's
    server resolves (a residref "tag:…", a relative name); `parse` drops anything else."""

    href: str
    content_type: str = ""
    width: int | None = None
    height: int | None = None
    size: int | None = None  # bytes, when sent
    name: str = ""  # the agency's rendition name ("baseImage", "thumbnail", "viewImage")


@dataclass
class WirePicture:
    """A photo that belongs to a story, with what the paper prints under it."""

    guid: str = ""  # the picture's own id, when it has one
    headline: str = ""
    caption: str = ""
    credit: str = ""  # "AFP", "REUTERS/Jane Doe": printed after the caption
    byline: str = ""  # the photographer
    alt_text: str = ""
    renditions: list[Rendition] = field(default_factory=list)

    def best_rendition(self) -> Rendition | None:
        """The largest image rendition (by width, else size); None without an image."""
        images = [r for r in self.renditions if r.href and r.content_type.startswith("image")]
        images = images or [r for r in self.renditions if r.href]
        if not images:
            return None
        return max(images, key=lambda r: ((r.width or 0) * (r.height or 0), r.size or 0))


@dataclass(frozen=True)
class MemberRef:
    """A package's reference to another item: its guid and, when given, its version.

    The story a package is about is the first member with role "main" and item class
    "text"; its pictures are the members with item class "picture". A package need not
    say what its members are (TT does not): then the member's own item, ingested first,
    decides.
    """

    guid: str
    version: str = ""
    role: str = ""  # the group's role, code only, lower case: "main", "sidebars", "package"
    item_class: str = ""  # as the package says: "text", "picture", "video", …; "" if unsaid


@dataclass(frozen=True)
class Block:
    """One block of a story body, in Broadsheet's body blocks.

    kind "paragraph": `value` is sanitised HTML of one paragraph, or of a list: `<p>…</p>`,
    `<ul>…</ul>` or `<ol>…</ol>`, inline tags only b, i, a (http(s) and mailto links), br.
    kind "crosshead": `value` is plain text (at most 120 characters).
    kind "quote": `value` is plain text.
    """

    kind: str
    value: str


@dataclass
class WireItem:
    """One item as an agency sent it, in Broadsheet's terms."""

    # "newsml-g2", "newsml-1", "ninjs-1", "ninjs-2", "ninjs-3", "rss", "atom", "json-feed"
    format: str
    guid: str  # stable across versions
    version: str = ""  # as sent ("10", "360624134", "2"); "" when the format has none
    sequence: int = 0  # orders versions of one guid: higher supersedes (see parsers' docs)
    kind: Kind = Kind.TEXT
    provider: str = ""  # who the file says sent it ("AFP", "reuters.com", the feed's host)
    status: Status = Status.USABLE
    first_created: datetime | None = None  # aware, UTC
    version_created: datetime | None = None  # aware, UTC
    embargo: datetime | None = None  # aware, UTC: not before this time
    embargo_pending: bool = False  # embargoed, release time not yet given: hold
    expires: datetime | None = None  # takedown time, when sent
    headline: str = ""
    standfirst: str = ""  # the abstract, description or sub-headline
    slugline: str = ""
    byline: str = ""  # display text, as the agency writes it
    creditline: str = ""
    dateline: str = ""  # as printed ("BEIRUT", "London (dpa) -"): the place, without dash
    located: str = ""  # where it was filed
    language: str = ""  # BCP 47, lower-case language: "en", "en-gb", "ar", "he"
    urgency: int | None = None
    subjects: list[Subject] = field(default_factory=list)
    body: list[Block] = field(default_factory=list)
    ednote: str = ""  # for editors only: never printed
    pictures: list[WirePicture] = field(default_factory=list)  # carried in the item itself
    members: list[MemberRef] = field(default_factory=list)  # a package's items
    replaces: list[str] = field(default_factory=list)  # guids this item replaces (new id)
    signals: list[str] = field(default_factory=list)  # update/correction hints, as codes
    correction: bool = False  # the agency marks this version a correction
    link: str = ""  # the agency's web address for it (feeds)
    warnings: list[str] = field(default_factory=list)  # read, but something was off
    raw_dates: dict[str, str] = field(default_factory=dict)  # dates as sent, for audit
