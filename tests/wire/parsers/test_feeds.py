"""RSS, Atom and JSON Feed: news sites' feeds, read leniently but never unsafely."""

from datetime import UTC, datetime

import pytest

from broadsheet.wire.parsers import Block, Status, parse
from tests.wire.parsers.conftest import parse_sample, refusal


def rss(
    items: str,
    *,
    head: str = '<?xml version="1.0" encoding="UTF-8"?>',
    tail: str = "</channel></rss>",
) -> bytes:
    return (
        f'{head}<rss version="2.0"><channel><title>T</title>'
        f"<link>https://paper.example.com/</link>{items}{tail}"
    ).encode()


ITEM = "<item><title>{0}</title><guid>{0}</guid><description>Text of {0}.</description></item>"


def html_of(blocks: list[Block]) -> str:
    return " ".join(block.value for block in blocks)


# --- the project's samples ----------------------------------------------------------------


def test_rss_items_are_read_with_their_metadata():
    first, second = parse_sample("rss2-media.xml")
    assert first.format == "rss" and first.status == Status.USABLE
    assert first.guid == "gazette-2025-0311-market"
    assert first.link == "https://gazette.example.com/local/market-hall-roof"
    assert first.headline == "Market hall gets a new roof"
    assert first.byline == "Tom Beam"
    assert first.language == "en-gb"
    assert first.provider == "gazette.example.com"
    assert first.first_created == datetime(2025, 3, 11, 8, 0, tzinfo=UTC)
    assert first.sequence == int(first.version_created.timestamp())
    assert [(s.code, s.kind) for s in first.subjects] == [("Local", "category")]
    assert first.standfirst == "Work starts in April."
    # No guid: the link stands in.
    assert second.guid == "https://gazette.example.com/local/bus-lane"
    assert second.body == [Block("paragraph", "<p>The council wants views by <b>31 March</b>.</p>")]


def test_rss_content_is_sanitised():
    first = parse_sample("rss2-media.xml")[0]
    assert first.body == [
        Block("paragraph", "<p>Work on the market hall roof starts in April.</p>"),
        Block("paragraph", "<p>Traders said they welcome it.</p>"),
    ]


def test_media_rss_gives_each_picture_its_own_caption_and_credit():
    [picture] = parse_sample("rss2-media.xml")[0].pictures
    assert picture.headline == "The market hall"
    assert picture.caption == "The market hall on Tuesday."
    assert picture.credit == "Ana Roof/Example Gazette"
    assert [(r.name, r.width, r.height) for r in picture.renditions] == [
        ("content", 1200, 800),
        ("thumbnail", 120, 80),
    ]


def test_atom_entries_with_media_content():
    [entry] = parse_sample("atom-media.xml")
    assert entry.format == "atom"
    assert entry.guid == "tag:quotidien.example.com,2025:noel"
    assert entry.headline == "Le marché de Noël revient place Kléber"
    assert (entry.byline, entry.language) == ("Louise Martin", "fr")
    assert entry.first_created == datetime(2025, 3, 12, 7, 0, tzinfo=UTC)
    assert entry.version_created == datetime(2025, 3, 12, 8, 30, tzinfo=UTC)
    assert entry.body == [
        Block("paragraph", "<p>Les chalets seront installés en novembre.</p>"),
        Block("crosshead", "Plus de stands"),
        Block("paragraph", "<p>Cent vingt exposants sont attendus.</p>"),
    ]
    assert entry.standfirst == ""  # the summary only repeats the first paragraph
    [picture] = entry.pictures
    assert (picture.caption, picture.credit) == (
        "La place Kléber en décembre dernier.",
        "Exemple Quotidien",
    )


def test_json_feed_items():
    park, notes = parse_sample("jsonfeed.json")
    assert park.format == "json-feed"
    assert park.guid == "https://weekly.example.com/2025/03/park"
    assert (park.byline, park.language, park.provider) == (
        "Dana Green",
        "en-us",
        "weekly.example.com",
    )
    assert park.version_created == datetime(2025, 3, 8, 16, 0, tzinfo=UTC)
    assert park.body == [
        Block("paragraph", "<p>The park reopened on Saturday.</p>"),
        Block("paragraph", "<p>Children tried the slides first.</p>"),
    ]
    assert park.pictures[0].renditions[0].href == "https://weekly.example.com/img/park.jpg"
    assert [s.code for s in park.subjects] == ["parks", "families"]
    assert notes.byline == "Example Weekly staff"
    assert notes.headline == "Short notes from the week"
    assert "No headline: the first sentence of the body stands in" in notes.warnings


def test_a_hebrew_feed_declared_windows_1255_reads_right_to_left_text():
    [item] = parse_sample("rss-hebrew-windows1255.xml")
    assert item.language == "he"
    assert item.headline == "הספרייה העירונית נפתחת מחדש"
    assert item.body == [Block("paragraph", "<p>הספרייה נפתחה הבוקר אחרי שיפוץ של שנה.</p>")]


# --- encodings and breakage ---------------------------------------------------------------------


def test_an_undeclared_hebrew_feed_is_guessed_and_told():
    text = "<rss><channel><item><description>{}</description></item>{}</channel></rss>"
    second = "<item><description>שלום לכולם, זה פריט אחר.</description></item>"
    data = text.format("האם תדפיס נייר של אתר אינטרנט הוא העתק נאמן?", second).encode("cp1255")
    first, other = parse(data)
    assert first.headline == "האם תדפיס נייר של אתר אינטרנט הוא העתק נאמן?"
    assert first.warnings[0] == (
        "No encoding declared and the bytes are not UTF-8: read as windows-1255 (a guess)"
    )
    # Neither id, link nor title: the text tells the two items apart.
    assert first.guid != other.guid


def test_a_well_formed_feed_without_items_is_an_empty_poll():
    assert parse(rss("")) == []


def test_a_feed_cut_off_inside_an_item_is_refused():
    data = rss(ITEM.format("One") + "<item><title>Tw", tail="")
    assert refusal(data) == (
        "The feed is truncated inside an item: it stops before its closing </rss> tag, "
        "so that item may be incomplete"
    )


def test_a_feed_cut_off_after_its_last_item_is_read_with_a_warning():
    [item] = parse(rss(ITEM.format("One"), tail="</channel>"))
    assert item.headline == "One"
    assert item.warnings[0] == (
        "The feed is not well-formed (truncated: it stops before its closing </rss> tag): "
        "read leniently"
    )


def test_a_feed_cut_off_before_any_item_is_refused():
    data = rss("<!-- Exception rendering module on server -->", tail="")
    assert refusal(data) == (
        "The feed is not well-formed (truncated: it stops before its closing </rss> tag) "
        "and has no readable item"
    )


def test_an_undeclared_prefix_is_read_leniently_with_a_warning_on_every_item():
    items = "<itunes:subtitle>x</itunes:subtitle>" + ITEM.format("One") + ITEM.format("Two")
    one, two = parse(rss(items))
    assert one.headline == "One" and two.headline == "Two"
    for item in (one, two):
        assert item.warnings[0].startswith("The feed is not well-formed (Malformed XML at line 1")
        assert "Namespace prefix itunes" in item.warnings[0]


def test_an_unreadable_broken_feed_says_how_it_is_broken():
    data = rss("<itunes:subtitle>Foo</itunes:subtitle>")
    assert (
        "Namespace prefix itunes on subtitle is not defined) and has no readable item"
        in refusal(data)
    )


def test_a_unix_time_date_is_read_as_such_not_as_feedparser_guesses():
    item = '<item><title>x</title><guid>x</guid><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">1518478934</dc:date></item>'
    [entry] = parse(rss(item))
    assert entry.version_created == datetime.fromtimestamp(1518478934, UTC)
    assert "updated: '1518478934' read as Unix time" in entry.warnings


def test_a_date_feedparser_cannot_read_is_reported():
    item = "<item><title>x</title><guid>x</guid><pubDate>{}</pubDate></item>"
    item = item.format("mer, 16 nov 2022 00:38:15 +0100")
    [entry] = parse(rss(item))
    assert entry.first_created is None
    assert (
        "published: 'mer, 16 nov 2022 00:38:15 +0100' is not a date; left empty" in entry.warnings
    )


def test_a_feed_declaring_an_entity_is_refused():
    data = (
        b'<!DOCTYPE rss [<!ENTITY id "tag:x,">]>'
        b"<rss><channel><item><guid>&id;1</guid></item></channel></rss>"
    )
    assert "entity declarations are refused" in refusal(data)


def test_a_feed_behind_an_external_dtd_is_read_without_loading_it():
    head = '<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//X//DTD//EN" "http://site.invalid/">'
    [item] = parse(rss(ITEM.format("One"), head=head))
    assert item.warnings[0].startswith("DOCTYPE ignored and not loaded")


def test_atom_served_inside_an_xhtml_page_is_found():
    data = (
        b'<html xmlns="http://www.w3.org/1999/xhtml"><body>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        b"<entry><id>urn:e:1</id><title>Inside</title><content>x</content></entry></feed>"
        b"</body></html>"
    )
    [entry] = parse(data)
    assert (entry.format, entry.guid, entry.headline) == ("atom", "urn:e:1", "Inside")


@pytest.mark.parametrize(
    ("feed", "reason"),
    [
        (
            b'{"version": "https://jsonfeed.org/version/2", "items": []}',
            "Unsupported JSON Feed version",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": {}}',
            "must be an object with an 'items' list",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1", "items": [{"title": "x"}]}',
            "JSON Feed item without an id or url",
        ),
    ],
)
def test_json_feeds_that_do_not_follow_the_format_are_refused(feed, reason):
    assert reason in refusal(feed)
