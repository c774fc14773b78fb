"""The rules every format shares: dates, languages, statuses, codes, renditions."""

from datetime import UTC, datetime

import pytest

from broadsheet.wire.parsers import Rendition, Status, Unreadable, WireItem, WirePicture, normalise


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2016-01-04T15:43:34.000Z", datetime(2016, 1, 4, 15, 43, 34, tzinfo=UTC)),
        ("2022-06-29T02:30:00+0000", datetime(2022, 6, 29, 2, 30, tzinfo=UTC)),
        ("2025-03-02T06:00:00+01:00", datetime(2025, 3, 2, 5, 0, tzinfo=UTC)),
        ("20210516T080625+0000", datetime(2021, 5, 16, 8, 6, 25, tzinfo=UTC)),
        ("20140829T135002Z", datetime(2014, 8, 29, 13, 50, 2, tzinfo=UTC)),
        ("  2019-04-15T13:49:15+03:00\n", datetime(2019, 4, 15, 10, 49, 15, tzinfo=UTC)),
    ],
)
def test_the_date_forms_the_wires_send_are_read_in_utc(raw, expected):
    warnings, raw_dates = [], {}
    assert normalise.date_field(raw, "when", warnings, raw_dates) == expected
    assert warnings == [] and raw_dates["when"] == raw.strip()


def test_a_date_without_a_time_zone_is_read_as_utc_and_said():
    warnings = []
    moment = normalise.date_field("2016-01-12 12:35:40", "versionCreated", warnings, {})
    assert moment == datetime(2016, 1, 12, 12, 35, 40, tzinfo=UTC)
    assert warnings == ["versionCreated: '2016-01-12 12:35:40' has no time zone; read as UTC"]


@pytest.mark.parametrize(
    "raw", ["Last Tuesday", "February 29th 2024", "mer, 16 nov 2022", "2025-13-45"]
)
def test_text_that_is_not_a_date_is_left_empty_and_kept(raw):
    warnings, raw_dates = [], {}
    assert normalise.date_field(raw, "when", warnings, raw_dates) is None
    assert raw_dates == {"when": raw}
    assert warnings == [f"when: {raw!r} is not a date; left empty"]


def test_a_number_is_unix_time():
    assert normalise.date_field(1518478934, "when", [], {}) == datetime.fromtimestamp(
        1518478934, UTC
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("en-GB", "en-gb"),
        ("en_US", "en-us"),
        ("EN", "en"),
        ("IT-it", "it-it"),
        ("swe", "sv"),
        ("heb", "he"),
        ("iw", "he"),
        ("ara", "ar"),
        ("ar", "ar"),
        ("und", ""),
        ("x-default", ""),
        ("not a tag!", ""),
        (None, ""),
    ],
)
def test_languages_are_canonical_bcp47(raw, expected):
    assert normalise.language(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stat:usable", Status.USABLE),
        ("http://cv.iptc.org/newscodes/pubstatusg2/withheld", Status.WITHHELD),
        (" CANCELED ", Status.CANCELED),
    ],
)
def test_statuses_come_from_one_table(raw, expected):
    assert normalise.status(raw, "pubStatus") == expected


@pytest.mark.parametrize("raw", ["cancelled", "killed", "", None, 1])
def test_anything_outside_the_table_is_refused(raw):
    with pytest.raises(Unreadable, match="Unknown publishing status"):
        normalise.status(raw, "pubstatus")


def test_urgency_outside_iptc_range_is_ignored_with_a_warning():
    warnings = []
    assert normalise.urgency(" 2 ", warnings) == 2
    assert normalise.urgency("high", warnings) is None
    assert warnings == ["urgency 'high' is not 0-9; ignored"]


def test_labels_prefer_the_item_language_then_english():
    names = [("de", "Kultur"), ("en-GB", "culture"), ("fr", "culture (fr)")]
    assert normalise.pick_label(names, "de") == "Kultur"
    assert normalise.pick_label(names, "sv") == "culture"
    assert normalise.pick_label(names, "en-us") == "culture"


def test_a_dateline_loses_the_dash_that_joins_it_to_the_story():
    assert normalise.dateline("  London (dpa) -  ") == "London (dpa)"
    assert normalise.dateline("BEIRUT, May 3 —") == "BEIRUT, May 3"


def test_an_embargo_in_free_text_is_a_warning_not_a_time():
    assert normalise.embargo_warning("STRICTLY EMBARGOED until noon", "edNote").startswith(
        "The edNote mentions an embargo"
    )
    assert normalise.embargo_warning("Adds quotes", "edNote") == ""


def test_renditions_at_anything_but_a_web_address_or_reference_are_dropped():
    kept = [
        Rendition("https://media.example.org/a.jpg", name="a"),
        Rendition("tag:reuters.com,0000:binary_X-BASEIMAGE", name="b"),
        Rendition("urn:example:img:1", name="c"),
        Rendition("photo.jpg", name="d"),
    ]
    dropped = [
        Rendition("file:///etc/passwd", name="e"),
        Rendition("data:image/png;base64,xx", name="f"),
    ]
    item = WireItem(format="newsml-g2", guid="x", pictures=[WirePicture(renditions=kept + dropped)])
    normalise.screen_renditions(item)
    assert item.pictures[0].renditions == kept
    assert len(item.warnings) == 2 and item.warnings[0].startswith("Rendition 'e' dropped")
