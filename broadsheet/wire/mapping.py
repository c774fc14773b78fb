"""From a normalised wire item to what the newsroom stores: story fields, body blocks,
photos, and the section the desk's rules pick.

Nothing here writes a story: `broadsheet.wire.services` does, through the news services.
"""

import dataclasses
import hashlib
import io
import logging
import urllib.request
from datetime import datetime
from pathlib import PurePosixPath

from django.core.files.images import ImageFile
from django.utils.html import strip_tags
from django.utils.text import Truncator, slugify
from wagtail.rich_text import RichText

from broadsheet.news.models import LANGUAGE_TAG, Photo

from .parsers import Block, Kind, MemberRef, Rendition, Status, Subject, WireItem, WirePicture

logger = logging.getLogger(__name__)

# Limits of the story fields (news.StoryPage): longer agency text is cut at a word.
HEADLINE_MAX = 255
STANDFIRST_MAX = 400
DATELINE_MAX = 80
CAPTION_MAX = 400
PICTURE_MAX_BYTES = 25 * 1024 * 1024
PICTURE_TIMEOUT = 10  # seconds: a slow picture server must not hold the whole batch


# The payload: a WireItem as JSON, so the desk can preview and re-map any version ----


def item_to_payload(item: WireItem) -> dict:
    def plain(value):
        if isinstance(value, datetime):
            return value.isoformat()
        if isinstance(value, dict):
            return {key: plain(val) for key, val in value.items()}
        if isinstance(value, list | tuple):
            return [plain(val) for val in value]
        return value

    return plain(dataclasses.asdict(item))


def item_from_payload(payload: dict) -> WireItem:
    data = dict(payload)
    names = {field.name for field in dataclasses.fields(WireItem)}
    data = {key: value for key, value in data.items() if key in names}
    for key in ("first_created", "version_created", "embargo", "expires"):
        if data.get(key):
            data[key] = datetime.fromisoformat(data[key])
    data["kind"] = Kind(data.get("kind", Kind.TEXT))
    data["status"] = Status(data.get("status", Status.USABLE))
    data["subjects"] = [Subject(**subject) for subject in data.get("subjects", [])]
    data["body"] = [Block(**block) for block in data.get("body", [])]
    data["members"] = [MemberRef(**member) for member in data.get("members", [])]
    data["pictures"] = [
        WirePicture(
            **{**picture, "renditions": [Rendition(**r) for r in picture.get("renditions", [])]}
        )
        for picture in data.get("pictures", [])
    ]
    return WireItem(**data)


# Story fields -----------------------------------------------------------------------


def cut(text: str, limit: int) -> str:
    return Truncator(" ".join(text.split())).chars(limit, truncate="…")


def story_fields(item: WireItem) -> dict:
    """The fields of an article for this item (all but the photo and the section)."""
    paragraphs = [strip_tags(block.value) for block in item.body if block.kind == "paragraph"]
    headline = item.headline or (paragraphs[0] if paragraphs else "") or item.slugline
    standfirst = item.standfirst or (paragraphs[0] if paragraphs else headline)
    fields = {
        "title": cut(headline, HEADLINE_MAX) or "Untitled wire item",
        "standfirst": cut(strip_tags(standfirst), STANDFIRST_MAX) or cut(headline, STANDFIRST_MAX),
        "dateline": cut(item.dateline or item.located, DATELINE_MAX),
        # A code the page cannot carry is dropped, not allowed to refuse the whole file.
        "language": item.language if LANGUAGE_TAG.fullmatch(item.language or "") else "",
        "body": body_blocks(item),
    }
    return fields


def body_blocks(item: WireItem) -> list[tuple]:
    """The item's body as StoryBodyBlock values: paragraphs, crossheads, quotations.

    The parsers already sanitised the HTML with nh3 down to the tags a paragraph block
    allows, so it is stored as it is.
    """
    blocks = []
    for block in item.body:
        if block.kind == "crosshead":
            blocks.append(("crosshead", cut(block.value, 120)))
        elif block.kind == "quote":
            blocks.append(("quote", {"quotation": block.value, "attribution": ""}))
        elif block.value.strip():
            blocks.append(("paragraph", RichText(block.value)))
    if not blocks:
        blocks.append(
            ("paragraph", RichText(f"<p>{cut(item.standfirst or item.headline, 400)}</p>"))
        )
    return blocks


def slug_for(item: WireItem, title: str) -> str:
    """A readable slug, unique per item: the headline plus a few characters of the guid."""
    suffix = hashlib.sha1(item.guid.encode()).hexdigest()[:6]
    return f"{slugify(title, allow_unicode=True)[:60].strip('-') or 'wire'}-{suffix}"


# Routing ----------------------------------------------------------------------------


def codes(item: WireItem, match: str) -> set[str]:
    """What a routing rule of kind `match` can match on this item, lower-cased.

    A subject code matches with or without its scheme prefix ("medtop:11000000" and
    "11000000"), since agencies and desks write them both ways.
    """
    found = set()
    for subject in item.subjects:
        kind = subject.kind
        if (match == "keyword" and kind == "keyword") or (
            match == "category" and kind in ("category", "genre")
        ):
            found |= {subject.code.casefold(), subject.name.casefold()}
        elif match == "subject" and kind not in ("keyword", "category"):
            code = subject.code.casefold()
            found |= {code, code.rsplit(":", 1)[-1]}
    found.discard("")
    return found


def route(item: WireItem, *, source, default_section):
    """The section and whether to publish at once: the first matching rule of the
    source, else the source's default section, else the desk's. (None, False): queue."""
    publish_by_default = bool(source and source.publish_at_once)
    if source is not None:
        for rule in source.rules.all():
            if rule.value.strip().casefold() in codes(item, rule.match):
                publish = {"publish": True, "draft": False}.get(rule.then, publish_by_default)
                return rule.section, publish
        if source.default_section_id:
            return source.default_section, publish_by_default
    return default_section, False


# Pictures ---------------------------------------------------------------------------


class PictureUnavailable(Exception):
    pass


def fetch_picture(href: str, *, beside) -> bytes:
    """The bytes of a rendition: a file that arrived with the item (same source, by
    name), or an http(s) address. Anything else (file:, ftp:, data:) is refused."""
    if href.startswith(("http://", "https://")):
        request = urllib.request.Request(href, headers={"User-Agent": "Broadsheet wire desk"})
        with urllib.request.urlopen(request, timeout=PICTURE_TIMEOUT) as response:
            data = response.read(PICTURE_MAX_BYTES + 1)
    elif "://" not in href and ":" not in href.split("/")[0]:
        data = beside(PurePosixPath(href).name)
        if data is None:
            raise PictureUnavailable(f"the picture file {href!r} has not arrived")
    else:
        raise PictureUnavailable(f"the picture address {href[:80]!r} is not http(s)")
    if len(data) > PICTURE_MAX_BYTES:
        raise PictureUnavailable(f"the picture is over {PICTURE_MAX_BYTES // 1048576} MB")
    return data


def photo_for(picture: WirePicture, *, agency, beside) -> Photo:
    """A Wagtail image for an agency picture, with caption text as alt text and the
    agency's credit; the same picture sent twice is stored once (by its bytes)."""
    rendition = picture.best_rendition()
    if rendition is None:
        raise PictureUnavailable("the picture has no image rendition")
    try:
        data = fetch_picture(rendition.href, beside=beside)
    except PictureUnavailable:
        raise
    except (OSError, ValueError) as exc:
        raise PictureUnavailable(f"the picture could not be fetched ({exc})") from exc
    file_hash = hashlib.sha1(data).hexdigest()
    existing = Photo.objects.filter(file_hash=file_hash).first()
    if existing is not None:
        return existing
    image = ImageFile(io.BytesIO(data), name=PurePosixPath(rendition.href).name or "wire.jpg")
    try:
        width, height = image.width, image.height
    except Exception as exc:  # Pillow raises many kinds for a file that is not an image
        raise PictureUnavailable(f"the picture file is not an image ({exc})") from exc
    if not width or not height:
        raise PictureUnavailable("the picture file is not an image")
    credit = picture.credit or f"{agency.byline_name} photo"
    photo = Photo(
        title=cut(picture.headline or picture.caption or "Wire photo", 255),
        description=cut(picture.alt_text or picture.caption, 255),
        credit=cut(credit, 255),
        file=image,
        width=width,
        height=height,
    )
    photo.file_hash = file_hash
    photo.save()
    return photo
