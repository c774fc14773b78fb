"""ninjs 1.x, 2.x and 3.x: one reader, every version's spelling."""

import json
from datetime import UTC, datetime

import pytest

from broadsheet.wire.parsers import NOTHING_TO_PUBLISH, Block, Kind, Status, parse
from tests.wire.parsers.conftest import parse_sample, refusal


def ninjs(**fields) -> bytes:
    return json.dumps({"uri": "urn:test:ninjs", **fields}).encode()


def html_of(blocks: list[Block]) -> str:
    return " ".join(block.value for block in blocks)


# --- the three versions ----------------------------------------------------------------


def test_ninjs_1_text_with_its_featured_picture():
    [item] = parse_sample("ninjs1-text.json")
    assert item.format == "ninjs-1"
    assert (item.guid, item.version, item.sequence) == (
        "urn:example:wire:20250304:tram-strike",
        "3",
        3,
    )
    assert item.headline == "Tram drivers vote to strike"
    assert item.standfirst == "The walkout would be the first in ten years."
    assert (item.byline, item.located, item.language) == ("Ravi Shah", "Manchester", "en-gb")
    assert item.embargo == datetime(2025, 3, 4, 10, 0, tzinfo=UTC)  # "+0000", Superdesk style
    assert item.ednote == "Corrects date of ballot in third paragraph."
    [picture] = item.pictures
    assert picture.guid == "urn:example:wire:20250304:tram-depot-photo"
    assert picture.caption == "Trams parked at the depot in Manchester, March 4, 2025."
    assert (picture.headline, picture.credit, picture.byline) == (
        "The tram depot",
        "Example Wire",
        "Lee Frame",
    )
    assert [r.name for r in picture.renditions] == ["original", "thumbnail"]
    assert picture.best_rendition().href == "https://media.wire.example.org/tram-depot.jpg"


def test_ninjs_1_html_body_is_sanitised_into_blocks():
    [item] = parse_sample("ninjs1-text.json")
    assert item.body == [
        Block("paragraph", "<p>Tram drivers voted to strike over pay.</p>"),
        Block("crosshead", "Talks next week"),
        Block(
            "paragraph",
            '<p>Managers and the union <a href="https://union.example.org/ballot">will meet</a>'
            " on Monday.</p>",
        ),
        Block("paragraph", "<ol><li>First stoppage: 14 March</li><li>Second: 21 March</li></ol>"),
    ]


def test_ninjs_2_text_takes_the_richest_body_and_the_main_headline():
    [item] = parse_sample("ninjs2-text.json")
    assert item.format == "ninjs-2"
    assert item.headline == "City library reopens after flood"
    assert item.standfirst == "The building was shut for eight months."
    assert item.byline == "Mia Lund"
    assert Block("crosshead", "New children's floor") in item.body
    [picture] = item.pictures
    assert picture.headline == "The reading room"
    assert picture.caption == "The reading room on reopening day."
    assert picture.alt_text == "Rows of empty desks under tall windows"
    assert [(r.name, r.width) for r in picture.renditions] == [("main", 2000), ("preview", 500)]


def test_ninjs_3_text_reads_the_camel_case_keys():
    [item] = parse_sample("ninjs3-text.json")
    assert item.format == "ninjs-3"
    assert item.headline == "Ny bru åpner i morgen"
    assert item.language == "nb-no"
    assert item.embargo == datetime(2025, 3, 6, 8, 30, tzinfo=UTC)
    assert item.version_created == datetime(2025, 3, 6, 6, 0, tzinfo=UTC)
    assert item.ednote == "Bilder kommer."
    [picture] = item.pictures
    assert (picture.caption, picture.credit) == ("Brua sett fra fjorden.", "Example Wire")


def test_the_same_story_in_1_x_and_3_x_spelling_reads_the_same():
    one = parse(ninjs(versioncreated="2025-03-01T08:00:00Z", pubstatus="withheld", headline="A"))[0]
    three = parse(ninjs(versionCreated="2025-03-01T08:00:00Z", pubStatus="withheld",
                        headlines=[{"role": "main", "value": "A"}]))[0]  # fmt: skip
    assert (one.format, three.format) == ("ninjs-1", "ninjs-3")
    assert (one.version_created, one.status, one.headline) == (
        three.version_created,
        three.status,
        three.headline,
    )


# --- statuses, embargoes, versions ------------------------------------------------------------


def test_a_kill_is_canceled_and_needs_no_copy():
    [item] = parse(ninjs(pubstatus="canceled"))
    assert item.status == Status.CANCELED
    assert NOTHING_TO_PUBLISH not in item.warnings


def test_the_british_spelling_of_cancelled_is_refused_not_read_as_usable():
    reason = refusal(ninjs(pubstatus="cancelled"))
    assert reason.startswith("ninjs item: Unknown publishing status 'cancelled'")


def test_withheld_is_withheld():
    assert parse(ninjs(pubstatus="withheld"))[0].status == Status.WITHHELD


def test_an_object_with_only_an_embargo_has_its_embargo_and_nothing_to_publish():
    [item] = parse(ninjs(embargoed="2019-10-01T00:00:00Z"))
    assert item.embargo == datetime(2019, 10, 1, tzinfo=UTC)
    assert NOTHING_TO_PUBLISH in item.warnings


def test_an_embargo_that_is_not_a_date_holds_the_item():
    [item] = parse(ninjs(embargoed="tomorrow", headline="x"))
    assert item.embargo is None and item.embargo_pending is True


def test_without_a_numeric_version_the_version_time_orders_the_versions():
    [item] = parse(ninjs(version="v2", versioncreated="2025-03-01T08:00:00Z"))
    assert item.sequence == int(datetime(2025, 3, 1, 8, tzinfo=UTC).timestamp())


def test_a_date_that_is_not_a_date_is_kept_as_sent_and_reported():
    [item] = parse(ninjs(versioncreated="Last Tuesday"))
    assert item.version_created is None
    assert item.raw_dates["versioncreated"] == "Last Tuesday"
    assert "versioncreated: 'Last Tuesday' is not a date; left empty" in item.warnings


def test_tt_replacing_names_the_uris_a_new_item_replaces():
    data = ninjs(headline="x", replacing=["urn:test:old-1"], revisions=[{"uri": "urn:test:old-2"}])
    assert parse(data)[0].replaces == ["urn:test:old-1", "urn:test:old-2"]


# --- shapes ---------------------------------------------------------------------------------


def test_a_top_level_array_is_a_collection_of_items():
    data = json.dumps([{"uri": "urn:a", "headline": "A"}, {"uri": "urn:b", "headline": "B"}])
    assert [item.guid for item in parse(data.encode())] == ["urn:a", "urn:b"]


def test_a_search_envelope_is_unwrapped_with_a_warning():
    data = json.dumps({"total": 1, "item": [{"uri": "urn:a", "headline": "A"}]}).encode()
    [item] = parse(data)
    assert "ninjs items unwrapped from an envelope (its 'item' list)" in item.warnings


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b'{"headline": "no uri"}', "A JSON object that is not a ninjs item: it has no 'uri'"),
        (b"[]", "An empty ninjs collection"),
        (b'[{"uri": "a"}, 3]', "ninjs item 2: not a JSON object"),
    ],
)
def test_json_that_is_not_ninjs_is_refused(data, reason):
    assert refusal(data) == reason


def test_an_event_in_a_file_that_declares_ninjs_2_is_refused():
    data = ninjs(standard={"name": "ninjs", "version": "2.2"}, type="event")
    assert "declares ninjs 2.2 but is of type 'event'" in refusal(data)


def test_a_ninjs_3_event_is_kept_aside_as_other():
    [item] = parse(ninjs(type="event", title="Summit press conference"))
    assert (item.kind, item.headline) == (Kind.OTHER, "Summit press conference")


# --- NITF inside JSON -----------------------------------------------------------------------


def test_a_nitf_document_in_a_body_string_is_read_with_its_headline_and_byline():
    nitf = (
        '<?xml version="1.0" encoding="ISO-8859-1"?><nitf><body><body.head><hedline>'
        "<hl1>Riders face tougher tests</hl1></hedline><byline>By Ana Gomez</byline>"
        "</body.head><body.content><p>Testing starts on Monday.</p></body.content></body></nitf>"
    )
    [item] = parse(ninjs(bodies=[{"contentType": "text/vnd.IPTC.NITF", "value": nitf}]))
    assert item.headline == "Riders face tougher tests"
    assert item.byline == "Ana Gomez"
    assert item.body == [Block("paragraph", "<p>Testing starts on Monday.</p>")]
    assert item.warnings == []  # the string is UTF-8 here, whatever its declaration says


def test_a_nitf_body_goes_through_the_hardened_xml_parser():
    nitf = (
        '<!DOCTYPE nitf [<!ENTITY a "lol">]>'
        "<nitf><body><body.content>&a;</body.content></body></nitf>"
    )
    reason = refusal(ninjs(bodies=[{"contenttype": "application/nitf+xml", "value": nitf}]))
    assert reason.startswith(
        "ninjs item: its NITF body is unreadable: The DOCTYPE declares entities"
    )


def test_scripts_and_handlers_never_survive_a_ninjs_body():
    body = (
        '<p onclick="x()" style="color:red">Hi <a href="javascript:alert(1)">there</a></p>'
        "<script>x</script>"
    )
    [item] = parse(ninjs(headline="x", body_html=body))
    assert item.body == [Block("paragraph", "<p>Hi there</p>")]
