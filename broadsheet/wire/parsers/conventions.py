"""The agencies' copy conventions, applied to every text item once its body is in blocks.

Agencies write things into the copy that are not the story: the desk's sign-off ("bur-dar-
gl/fz"), a note for editors ("(Adds minister's reaction)"), the byline as a paragraph ("By
Joseph Ax"), the headline repeated as the first paragraph. `finish_text` takes them out in
one order for every format, and gives a headline-less item its stand-in, or marks it
`NOTHING_TO_PUBLISH` (see `items`).
"""

import re

from .bodies import CROSSHEAD_MAX, block_text
from .items import NOTHING_TO_PUBLISH, Block, Kind, Status, WireItem

# AFP closes a story with the desk's initials: "bur-dar-gl/fz", "hh/ph/ts/hd", "sst/dl".
_SIGNOFF = re.compile(r"^[a-z]{2,5}(?:\s?[-/]\s?[a-z]{1,5}){1,8}$")
_BYLINE = re.compile(r"^By\s+([A-Z][^\n]{1,78})$")


def is_signoff(text: str) -> bool:
    return bool(_SIGNOFF.match(text.strip()))


def strip_signoff(blocks: list[Block]) -> tuple[list[Block], str]:
    """Drop a desk sign-off last paragraph; returns the blocks and the sign-off ("" if none)."""
    if blocks and blocks[-1].kind == "paragraph":
        text = block_text(blocks[-1])
        if is_signoff(text):
            return blocks[:-1], text
    return blocks, ""


# Reuters opens an update with a note for editors: "(Adds Gov. Cuomo's announcement ...)".
_ADVISORY = re.compile(
    r"^\((?:adds|updates|recasts|corrects|changes|refiles|repeats|removes|inserts|rewrites"
    r"|fixes|clarifies|deletes|tops|writes through)\b.{0,300}\)$",
    re.IGNORECASE | re.DOTALL,
)


def take_advisory(blocks: list[Block]) -> tuple[list[Block], str]:
    """A note for editors in the first two paragraphs: out of the body, returned as text."""
    for index, block in enumerate(blocks[:2]):
        text = block_text(block)
        if block.kind == "paragraph" and _ADVISORY.match(text):
            return blocks[:index] + blocks[index + 1 :], text
    return blocks, ""


def finish_text(item: WireItem, *, body_byline: str = "") -> None:
    """The rules every agency's text item goes through, in this order.

    The headline repeated as the first paragraph is dropped, then the desk's sign-off,
    then a note for editors (which joins `ednote`); a byline paragraph becomes the byline
    (else the byline found in the body's markup, `body_byline`); a missing headline gets
    its stand-in. Feeds, which follow no agency's conventions, only take the last step.
    """
    if item.kind != Kind.TEXT:
        return
    item.body = drop_repeated_headline(item.body, item.headline)
    item.body, _signoff = strip_signoff(item.body)
    item.body, advisory = take_advisory(item.body)
    if advisory:
        item.ednote = "\n".join(note for note in (item.ednote, advisory) if note)
    item.body, item.byline = take_byline(item.body, item.byline)
    item.byline = item.byline or body_byline.removeprefix("By ").strip()
    stand_in_headline(item)


def take_byline(blocks: list[Block], byline: str = "") -> tuple[list[Block], str]:
    """Reuters writes "By Jane Doe" as an early paragraph: move it out of the body.

    Only the first three paragraphs are looked at, and only a short line that starts with
    "By" and a capital and does not end like a sentence. When the item has no byline the
    name (without "By") becomes it; when the line repeats the byline it is only removed;
    a different name is left where it is. Returns the blocks and the byline.
    """
    for index, block in enumerate(blocks[:3]):
        if block.kind != "paragraph":
            continue
        text = block_text(block)
        match = _BYLINE.match(text)
        if match and len(text.split()) <= 10 and not text.endswith((".", "!", "?", ":")):
            name = match.group(1).strip()
            if byline and name.casefold() != byline.removeprefix("By ").strip().casefold():
                return blocks, byline
            return blocks[:index] + blocks[index + 1 :], byline or name
    return blocks, byline


def drop_repeated_headline(blocks: list[Block], headline: str) -> list[Block]:
    """Some bodies start with the headline again (TT plain text): drop that paragraph."""
    if blocks and headline and block_text(blocks[0]).casefold() == headline.casefold():
        return blocks[1:]
    return blocks


_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
# A line fenced in asterisks is a notice, not the story: "*** DISCLAIMER: … ***" (STT).
_BANNER = re.compile(r"^\*{2,}.*\*{2,}$")


def first_sentence(blocks: list[Block], limit: int = CROSSHEAD_MAX) -> str:
    """A stand-in headline: the first sentence of the body, cut at a word under `limit`."""
    for block in blocks:
        if block.kind != "paragraph":
            continue
        text = block_text(block)
        if not text or _BANNER.match(text):
            continue
        sentence = _SENTENCE_END.split(text, 1)[0].rstrip(".")
        if len(sentence) > limit:
            sentence = sentence[:limit].rsplit(" ", 1)[0] + "…"
        return sentence
    return ""


def stand_in_headline(item: WireItem) -> None:
    """The one rule for a text item that came without a headline, in every format.

    The first sentence of the body stands in, with a warning, so the desk sees something
    to rewrite rather than a blank. With no body either, the item is marked
    `NOTHING_TO_PUBLISH` (see `items`), unless it is a kill, which needs no copy.
    """
    if item.kind != Kind.TEXT or item.headline:
        return
    item.headline = first_sentence(item.body)
    if item.headline:
        item.warnings.append("No headline: the first sentence of the body stands in")
    elif item.status == Status.CANCELED:
        return
    elif item.body:
        item.warnings.append("No headline, and no paragraph in the body to stand in")
    else:
        item.warnings.append(NOTHING_TO_PUBLISH)
