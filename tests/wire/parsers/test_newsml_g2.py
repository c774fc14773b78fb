"""NewsML-G2: versions, statuses, embargoes, pictures, packages and bodies."""

from datetime import UTC, datetime

import pytest

from broadsheet.wire.parsers import NOTHING_TO_PUBLISH, Block, Kind, Status, parse
from broadsheet.wire.parsers.bodies import block_text
from tests.wire.parsers.conftest import parse_sample, refusal

STORY = "urn:newsml:wire.example.org:20250301:harbour-road"
PHOTO = "urn:newsml:wire.example.org:20250301:harbour-road-photo-1"


def g2(item_meta="", content_meta="", content_set="", *, attrs='version="1"', item_class="text"):
    """A small newsItem around the given parts."""
    return (
        '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:test:story" '
        f'standardversion="2.35" xml:lang="en" {attrs}>'
        f'<itemMeta><itemClass qcode="ninat:{item_class}"/>'
        f"<versionCreated>2025-03-01T08:00:00Z</versionCreated>{item_meta}</itemMeta>"
        f"<contentMeta>{content_meta}</contentMeta>"
        f"<contentSet>{content_set}</contentSet></newsItem>"
    ).encode()


def text_of(blocks: list[Block]) -> str:
    return " ".join(block_text(block) for block in blocks)


# --- versions ---------------------------------------------------------------------------


def test_a_message_with_two_versions_gives_two_items_ordered_by_sequence():
    first, second = parse_sample("g2-text-two-versions.xml")
    assert first.guid == second.guid == STORY
    assert (first.version, second.version) == ("1", "2")
    assert first.sequence < second.sequence
    assert second.version_created == datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    assert second.first_created == first.first_created


def test_the_later_version_carries_its_own_metadata():
    story = parse_sample("g2-text-two-versions.xml")[1]
    assert story.format == "newsml-g2"
    assert story.kind == Kind.TEXT and story.status == Status.USABLE
    assert story.headline == "Fire shuts harbour road, chief says cause unknown"
    assert story.standfirst == "Firefighters kept the blaze away from the ferry terminal."
    assert story.byline == "Jane Porter"
    assert story.dateline == "PORTSMOUTH, March 1"
    assert story.located == "Portsmouth"
    assert story.language == "en-gb"
    assert story.urgency == 3
    assert story.provider == "Example Wire"
    assert story.slugline == "UK-HARBOUR-FIRE"
    assert story.signals == ["sig:update"]


def test_subjects_resolve_their_scheme_and_take_the_label_in_the_item_language():
    story = parse_sample("g2-text-two-versions.xml")[1]
    by_kind = {subject.kind: subject for subject in story.subjects}
    assert by_kind["mediatopic"].code == "medtop:20000139"
    assert by_kind["mediatopic"].scheme == "http://cv.iptc.org/newscodes/mediatopic/"
    assert by_kind["mediatopic"].name == "fire"
    assert by_kind["genre"].name == "update"
    assert by_kind["keyword"].code == "harbour"


def test_reuters_versions_are_opaque_numbers_compared_as_integers():
    low = parse(g2(attrs='version="978556838"'))[0]
    high = parse(g2(attrs='version="1542761538"'))[0]
    assert low.sequence < high.sequence
    assert high.version == "1542761538"


def test_an_item_without_a_version_is_version_one_as_the_schema_says():
    [item] = parse(g2(attrs=""))
    assert (item.version, item.sequence) == ("1", 1)


def test_a_version_that_is_not_a_number_is_kept_and_reported():
    [item] = parse(g2(attrs='version="2b"'))
    assert item.version == "2b" and item.sequence == 0
    assert "version '2b' is not an integer; sequence left at 0" in item.warnings


# --- statuses and embargoes ---------------------------------------------------------------


def test_a_kill_is_canceled_keeps_its_guid_and_outranks_the_story():
    [kill] = parse_sample("g2-canceled.xml")
    story = parse_sample("g2-text-two-versions.xml")[1]
    assert kill.status == Status.CANCELED
    assert kill.guid == story.guid and kill.sequence > story.sequence
    assert "withdrawn" in kill.ednote
    assert NOTHING_TO_PUBLISH not in kill.warnings


def test_withheld_is_read_as_withheld():
    [item] = parse_sample("g2-withheld.xml")
    assert item.status == Status.WITHHELD
    assert item.ednote == "WITHHOLD: legal advice awaited."


def test_an_embargo_time_is_read_in_utc_and_its_ednote_flagged():
    [item] = parse_sample("g2-embargoed.xml")
    assert item.embargo == datetime(2025, 3, 2, 5, 0, tzinfo=UTC)
    assert item.embargo_pending is False
    assert item.raw_dates["embargoed"] == "2025-03-02T06:00:00+01:00"
    assert any(w.startswith("The edNote mentions an embargo") for w in item.warnings)


def test_an_empty_embargoed_element_means_hold_until_a_time_is_given():
    [item] = parse_sample("g2-embargo-pending.xml")
    assert item.embargo is None
    assert item.embargo_pending is True


def test_an_embargo_that_is_not_a_date_holds_the_item_too():
    [item] = parse(g2("<embargoed>after the match</embargoed>", "<headline>x</headline>"))
    assert item.embargo is None and item.embargo_pending is True
    assert "embargoed: 'after the match' is not a date; left empty" in item.warnings


def test_an_unknown_status_is_refused_not_guessed():
    reason = refusal(g2('<pubStatus qcode="stat:cancelled"/>', "<headline>x</headline>"))
    assert reason.startswith("newsItem urn:test:story: Unknown publishing status 'stat:cancelled'")


@pytest.mark.parametrize(
    ("signal", "warning"),
    [
        ("edStat:D", "Reuters signal edStat:D (deleted) read as a kill"),
        ("sttinstruct:remove", "STT private signal sttinstruct:remove read as a kill"),
    ],
)
def test_provider_delete_signals_are_read_as_kills(signal, warning):
    [item] = parse(
        g2(f'<pubStatus qcode="stat:usable"/><signal qcode="{signal}"/>', "<headline>x</headline>")
    )
    assert item.status == Status.CANCELED
    assert any(w.startswith(warning) for w in item.warnings)


def test_the_iptc_correction_signal_marks_a_correction():
    [item] = parse(
        g2('<signal qcode="sig:correction"/>', "<headline>Flood defences hold</headline>")
    )
    assert item.correction is True


def test_a_reuters_correction_is_marked_and_its_headline_prefix_removed():
    meta = '<signal qcode="edStat:C"/>'
    [item] = parse(g2(meta, "<headline>CORRECTED-Flood defences hold</headline>"))
    assert item.correction is True
    assert item.headline == "Flood defences hold"


def test_expiry_keeps_the_earliest_takedown():
    meta = (
        '<expires pubconstraint="channel:web">2025-04-01T00:00:00Z</expires>'
        "<expires>2025-05-01T00:00:00Z</expires>"
    )
    [item] = parse(g2(meta, "<headline>x</headline>"))
    assert item.expires == datetime(2025, 4, 1, tzinfo=UTC)


def test_tt_names_the_item_a_new_id_replaces():
    content_meta = (
        '<headline>x</headline><altId type="tt:uno">585200</altId>'
        '<altId type="tt:refuno">585152</altId>'
    )
    data = g2('<signal qcode="tt_sig:replace"/>', content_meta).replace(
        b'guid="urn:test:story"', b'guid="urn:newsml:tt.se:20171220:TT:585200"'
    )
    assert parse(data)[0].replaces == ["urn:newsml:tt.se:20171220:TT:585152"]


# --- pictures and packages ---------------------------------------------------------------


def test_a_picture_item_carries_caption_alt_text_credit_and_renditions():
    [item] = parse_sample("g2-picture.xml")
    assert item.kind == Kind.PICTURE
    [picture] = item.pictures
    assert picture.guid == PHOTO
    assert picture.headline == "Smoke over the harbour road"
    assert picture.caption.startswith("Smoke rises over the harbour road")
    assert picture.alt_text == "A column of grey smoke above warehouse roofs"
    assert picture.credit == "Example Wire/Sam Lens"
    assert picture.byline == "Sam Lens"
    assert [r.name for r in picture.renditions] == ["highRes", "thumbnail"]
    best = picture.best_rendition()
    assert (best.href, best.width, best.height, best.size) == (
        "https://media.wire.example.org/harbour-1-hi.jpg",
        3000,
        2000,
        2456123,
    )


def test_a_rendition_that_points_at_a_local_file_is_dropped_with_a_warning():
    [item] = parse_sample("g2-picture.xml")
    assert all(not r.href.startswith("file:") for r in item.pictures[0].renditions)
    assert any("Rendition 'preview' dropped" in w for w in item.warnings)


def test_a_package_ties_the_story_to_its_picture_by_guid_and_version():
    [package] = parse_sample("g2-package.xml")
    assert package.kind == Kind.PACKAGE
    main, picture = package.members
    assert (main.guid, main.version, main.role, main.item_class) == (STORY, "2", "main", "text")
    assert (picture.guid, picture.version, picture.item_class) == (PHOTO, "1", "picture")
    # The members are the items the other samples carry.
    assert main.guid == parse_sample("g2-text-two-versions.xml")[1].guid
    assert picture.guid == parse_sample("g2-picture.xml")[0].guid


# --- bodies -------------------------------------------------------------------------------


def test_the_body_keeps_crossheads_and_lists_and_loses_the_nitf_head():
    story = parse_sample("g2-text-two-versions.xml")[1]
    assert Block("crosshead", "Ferries running") in story.body
    assert story.body[0] == Block(
        "paragraph", "<p>A warehouse fire closed the harbour road on Saturday morning.</p>"
    )
    [listing] = [b for b in story.body if b.value.startswith("<ul>")]
    assert "<li>Evening crossings <i>delayed</i> by an hour</li>" in listing.value


def test_the_body_is_sanitised_and_the_desk_signoff_dropped():
    story = parse_sample("g2-text-two-versions.xml")[1]
    html = " ".join(block.value for block in story.body)
    assert "<script" not in html and "document.location" not in html
    assert "onclick" not in html and "onmouseover" not in html and "style=" not in html
    assert "javascript:" not in html
    assert '<a href="https://council.example.org/roads">the council site</a>' in html
    assert "jp/ew" not in text_of(story.body)


def test_the_ednote_never_reaches_the_body():
    story = parse_sample("g2-text-two-versions.xml")[1]
    assert story.ednote == "Adds quote from the fire chief; SECOND take follows."
    assert "SECOND take" not in text_of(story.body)


def test_an_arabic_story_keeps_its_language_and_text():
    [story] = parse_sample("g2-arabic.xml")
    assert story.language == "ar"
    assert story.headline == "أمطار غزيرة متوقعة في نهاية الأسبوع"
    assert story.dateline == "القاهرة"
    assert Block("crosshead", "تحذير للسائقين") in story.body


def test_the_root_element_decides_the_body_not_the_declared_content_type():
    body = (
        '<inlineXML contenttype="application/xhtml+html">'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Real text.</p></body></html>'
        "</inlineXML>"
    )
    assert parse(g2("", "<headline>x</headline>", body))[0].body == [
        Block("paragraph", "<p>Real text.</p>")
    ]


def test_html_inside_cdata_labelled_plain_text_is_sanitised_like_any_html():
    body = (
        '<inlineData contenttype="text/plain"><![CDATA[<p>Rome - The minister spoke.</p>'
        '<p><img src=x onerror="alert(1)">Second.</p>]]></inlineData>'
    )
    blocks = parse(g2("", "<headline>x</headline>", body))[0].body
    assert blocks == [
        Block("paragraph", "<p>Rome - The minister spoke.</p>"),
        Block("paragraph", "<p>Second.</p>"),
    ]


# --- items with something missing ------------------------------------------------------------


def test_a_text_item_with_neither_headline_nor_body_is_returned_and_marked():
    [item] = parse(g2("", "<slugline>US-SYRIA-CRISIS</slugline>"))
    assert item.headline == ""  # a slugline is never a stand-in headline
    assert NOTHING_TO_PUBLISH in item.warnings


def test_a_text_item_without_a_headline_borrows_its_first_sentence():
    body = '<inlineData contenttype="text/plain">Trains are running again. More later.</inlineData>'
    [item] = parse(g2("", "", body))
    assert item.headline == "Trains are running again"
    assert "No headline: the first sentence of the body stands in" in item.warnings


def test_before_version_2_30_an_item_without_a_catalog_is_refused():
    data = g2(attrs='version="1"').replace(b'standardversion="2.35"', b'standardversion="2.29"')
    assert "no catalogRef, which NewsML-G2 2.29 requires" in refusal(data)


def test_a_message_whose_items_have_no_guid_is_refused():
    data = (
        b'<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/"><itemSet>'
        b'<packageItem version="1"/></itemSet></newsMessage>'
    )
    assert "carries no readable item (A packageItem without a guid was skipped)" in refusal(data)


def test_a_bare_content_meta_fragment_is_kept_aside_with_a_derived_guid():
    data = b"<contentMeta><located literal='Moscow'/><dateline>MOSCOW</dateline></contentMeta>"
    [item] = parse(data)
    assert item.kind == Kind.OTHER
    assert item.guid.startswith("urn:sha256:")
    assert parse(data)[0].guid == item.guid
    assert item.dateline == "MOSCOW" and item.located == "Moscow"


def test_a_concept_item_is_kept_as_other_with_its_name():
    data = (
        b'<conceptItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:c:1" version="2" '
        b'standardversion="2.35"><itemMeta><itemClass qcode="cinat:concept"/></itemMeta>'
        b'<concept><name xml:lang="en">culture</name><name xml:lang="de">Kultur</name></concept>'
        b"</conceptItem>"
    )
    [item] = parse(data)
    assert (item.kind, item.headline, item.version) == (Kind.OTHER, "culture", "2")
