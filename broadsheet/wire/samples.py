"""Small agency files of our own, in each format the desk reads: fictional copy for the
demo, the benchmark and the tests.

Real agency files are third-party copyright and stay outside the project; these follow
the same shapes (see ../shared/wire-samples/GUIDE.md), so a fresh clone exercises ingest.

    newsml_g2(story(guid="urn:example:1", version=2, headline="…"))  -> bytes
"""

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr


@dataclass
class Story:
    """What a generated item says; every format writes the same story its own way."""

    guid: str
    headline: str
    paragraphs: list[str] = field(default_factory=lambda: ["A paragraph of copy."])
    version: int = 1
    sent: datetime = field(default_factory=lambda: datetime(2026, 11, 26, 6, 0, tzinfo=UTC))
    standfirst: str = ""
    byline: str = ""
    dateline: str = ""
    language: str = "en"
    provider: str = "Fictional Press"
    status: str = "usable"  # usable, withheld, canceled
    embargo: datetime | None = None
    embargo_pending: bool = False
    subjects: list[str] = field(default_factory=list)  # media topic qcodes: "medtop:11000000"
    keywords: list[str] = field(default_factory=list)
    crosshead: str = ""  # put between the first and the other paragraphs
    correction: bool = False
    ednote: str = ""
    picture: str = ""  # a picture file's name (or URL) for the story's photo
    caption: str = ""


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _body_html(story: Story, *, p="p", h="h2") -> str:
    paragraphs = [f"<{p}>{escape(text)}</{p}>" for text in story.paragraphs]
    if story.crosshead:
        paragraphs.insert(1, f"<{h}>{escape(story.crosshead)}</{h}>")
    return "".join(paragraphs)


def newsml_g2(*stories: Story, pictures: dict[str, str] | None = None) -> bytes:
    """One newsMessage with a text newsItem per story; with `pictures` (story guid ->
    picture guid), also a picture item and a package tying them (main + picture)."""
    items = []
    for story in stories:
        items.append(_g2_text(story))
        if pictures and story.guid in pictures:
            items.append(_g2_picture(story, pictures[story.guid]))
            items.append(_g2_package(story, pictures[story.guid]))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/">'
        f"<header><sent>{_stamp(stories[0].sent)}</sent></header>"
        f"<itemSet>{''.join(items)}</itemSet></newsMessage>"
    ).encode()


def _g2_meta(story: Story, item_class: str) -> str:
    if story.embargo_pending:
        embargo = "<embargoed/>"
    else:
        embargo = f"<embargoed>{_stamp(story.embargo)}</embargoed>" if story.embargo else ""
    signal = '<signal qcode="sig:correction"/>' if story.correction else ""
    ednote = f"<edNote>{escape(story.ednote)}</edNote>" if story.ednote else ""
    return (
        f'<itemMeta><itemClass qcode="ninat:{item_class}"/>'
        f"<provider literal={quoteattr(story.provider)}/>"
        f"<versionCreated>{_stamp(story.sent)}</versionCreated>"
        f"<firstCreated>{_stamp(story.sent)}</firstCreated>{embargo}"
        f'<pubStatus qcode="stat:{story.status}"/>{signal}{ednote}</itemMeta>'
    )


def _g2_text(story: Story) -> str:
    subjects = "".join(f'<subject qcode="{escape(code)}"/>' for code in story.subjects)
    keywords = "".join(f"<keyword>{escape(word)}</keyword>" for word in story.keywords)
    optional = "".join(
        f"<{tag}>{escape(value)}</{tag}>"
        for tag, value in (("by", story.byline), ("dateline", story.dateline))
        if value
    )
    standfirst = (
        f'<description role="drol:summary">{escape(story.standfirst)}</description>'
        if story.standfirst
        else ""
    )
    return (
        f'<newsItem guid={quoteattr(story.guid)} version="{story.version}" '
        f'standard="NewsML-G2" standardversion="2.30" xml:lang="{story.language}">'
        f"{_g2_meta(story, 'text')}<contentMeta><headline>{escape(story.headline)}</headline>"
        f'{optional}{standfirst}{subjects}{keywords}<language tag="{story.language}"/>'
        '</contentMeta><contentSet><inlineXML contenttype="application/xhtml+xml">'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><body>{_body_html(story)}</body></html>'
        "</inlineXML></contentSet></newsItem>"
    )


def _g2_picture(story: Story, guid: str) -> str:
    caption = escape(story.caption or story.headline)
    return (
        f'<newsItem guid={quoteattr(guid)} version="{story.version}" standard="NewsML-G2" '
        f'standardversion="2.30">{_g2_meta(story, "picture")}<contentMeta>'
        f"<headline>{escape(story.headline)}</headline>"
        f'<description role="drol:caption">{caption}</description>'
        f"<creditline>{escape(story.provider)}</creditline></contentMeta><contentSet>"
        f'<remoteContent rendition="rnd:highRes" href={quoteattr(story.picture)} '
        'contenttype="image/jpeg" width="1200" height="800"/></contentSet></newsItem>'
    )


def _g2_package(story: Story, picture_guid: str) -> str:
    return (
        f'<packageItem guid={quoteattr(story.guid + ":package")} version="{story.version}" '
        f'standard="NewsML-G2" standardversion="2.30">{_g2_meta(story, "composite")}'
        f"<contentMeta><headline>{escape(story.headline)}</headline></contentMeta>"
        '<groupSet root="G1"><group id="G1" role="group:main">'
        f'<itemRef residref={quoteattr(story.guid)} version="{story.version}"/>'
        f'<itemRef residref={quoteattr(picture_guid)} version="{story.version}"/>'
        "</group></groupSet></packageItem>"
    )


def ninjs(story: Story) -> bytes:
    """ninjs 2.x: one text item, with its picture as an association."""
    item = {
        "uri": story.guid,
        "version": str(story.version),
        "type": "text",
        "versioncreated": _stamp(story.sent),
        "firstcreated": _stamp(story.sent),
        "pubstatus": story.status,
        "language": story.language,
        "headlines": [{"role": "main", "value": story.headline}],
        "bodies": [{"role": "main", "contenttype": "text/html", "value": _body_html(story)}],
        "subjects": [{"uri": code, "name": code} for code in story.subjects],
        "keywords": story.keywords,
        "copyrightholder": story.provider,
        "$schema": "http://www.iptc.org/std/ninjs/ninjs-schema_2.1.json",
    }
    if story.byline:
        item["by"] = story.byline
    if story.standfirst:
        item["descriptions"] = [{"role": "summary", "value": story.standfirst}]
    if story.embargo:
        item["embargoed"] = _stamp(story.embargo)
    if story.picture:
        item["associations"] = [
            {
                "name": "featureimage",
                "uri": story.guid + ":picture",
                "type": "picture",
                "headlines": [{"role": "main", "value": story.caption or story.headline}],
                "descriptions": [{"role": "caption", "value": story.caption or story.headline}],
                "renditions": [
                    {
                        "name": "original",
                        "href": story.picture,
                        "contenttype": "image/jpeg",
                        "width": 1200,
                        "height": 800,
                    }
                ],
            }
        ]
    return json.dumps(item, ensure_ascii=False).encode()


def rss(*stories: Story, title="Fictional Press: latest") -> bytes:
    """An RSS 2.0 feed of the stories, newest first, with Media RSS pictures."""
    entries = []
    for story in stories:
        media = (
            f'<media:content url={quoteattr(story.picture)} medium="image" type="image/jpeg">'
            f"<media:description>{escape(story.caption)}</media:description></media:content>"
            if story.picture
            else ""
        )
        entries.append(
            f'<item><guid isPermaLink="false">{escape(story.guid)}</guid>'
            f"<title>{escape(story.headline)}</title>"
            f"<description>{escape(story.standfirst or story.paragraphs[0])}</description>"
            f"<content:encoded>{escape(_body_html(story))}</content:encoded>"
            f"<pubDate>{story.sent.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
            + "".join(f"<category>{escape(word)}</category>" for word in story.keywords)
            + f"{media}</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:media="http://search.yahoo.com/mrss/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{escape(title)}</title><link>https://press.example/</link>"
        f"<description>{escape(title)}</description><language>en</language>"
        f"{''.join(entries)}</channel></rss>"
    ).encode()


def photo_bytes(*, width=1200, height=800, colour=(40, 70, 110)) -> bytes:
    """A plain JPEG to stand for an agency photo."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(image)
    for step in range(0, width, max(width // 12, 1)):
        draw.line([(step, 0), (width - step, height)], fill=(200, 200, 190), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()
