"""The agencies' copy conventions: what is taken out of a story, and the stand-in headline."""

import pytest

from broadsheet.wire.parsers import NOTHING_TO_PUBLISH, Block, Kind, Status, WireItem, conventions
from broadsheet.wire.parsers.bodies import CROSSHEAD_MAX


def test_the_desk_signoff_is_dropped():
    story = [Block("paragraph", "<p>Text.</p>"), Block("paragraph", "<p>bur-dar-gl/fz</p>")]
    assert conventions.strip_signoff(story) == ([story[0]], "bur-dar-gl/fz")


def test_a_byline_paragraph_becomes_the_byline_once():
    story = [Block("paragraph", "<p>By Toby Davis</p>"), Block("paragraph", "<p>Text.</p>")]
    assert conventions.take_byline(story) == (story[1:], "Toby Davis")
    assert conventions.take_byline(story, "Toby Davis") == (story[1:], "Toby Davis")
    assert conventions.take_byline(story, "Someone Else") == (story, "Someone Else")


def test_a_body_that_starts_with_the_headline_loses_that_paragraph():
    story = [Block("paragraph", "<p>Storm hits coast</p>"), Block("paragraph", "<p>Text.</p>")]
    assert conventions.drop_repeated_headline(story, "Storm Hits Coast") == story[1:]


def test_the_stand_in_headline_skips_a_notice_fenced_in_asterisks():
    story = [
        Block("paragraph", "<p>*** DISCLAIMER: AUTOMATED TRANSLATION ***</p>"),
        Block("paragraph", "<p>Parliament approved the act. It takes effect in March.</p>"),
    ]
    assert conventions.first_sentence(story) == "Parliament approved the act"


def test_a_long_first_sentence_is_cut_at_a_word():
    sentence = conventions.first_sentence([Block("paragraph", "<p>" + "word " * 60 + "</p>")])
    assert sentence.endswith("…") and len(sentence) <= CROSSHEAD_MAX + 1


@pytest.mark.parametrize(
    ("status", "body", "headline", "warning"),
    [
        (Status.USABLE, [], "", NOTHING_TO_PUBLISH),
        (Status.WITHHELD, [], "", NOTHING_TO_PUBLISH),
        (Status.CANCELED, [], "", None),
        (
            Status.USABLE,
            [Block("crosshead", "Only a crosshead")],
            "",
            "No headline, and no paragraph in the body to stand in",
        ),
        (
            Status.USABLE,
            [Block("paragraph", "<p>First. Second.</p>")],
            "First",
            "No headline: the first sentence of the body stands in",
        ),
    ],
)
def test_the_one_rule_for_a_text_item_without_a_headline(status, body, headline, warning):
    item = WireItem(format="ninjs-1", guid="urn:x", status=status, body=list(body))
    conventions.stand_in_headline(item)
    assert item.headline == headline
    assert item.warnings == ([warning] if warning else [])


def test_pictures_and_other_items_need_no_headline():
    item = WireItem(format="newsml-g2", guid="urn:x", kind=Kind.PICTURE)
    conventions.stand_in_headline(item)
    assert item.warnings == []


def test_a_note_for_editors_opening_the_story_is_taken_out():
    story = [
        Block("paragraph", "<p>(Adds minister's reaction, details on closures)</p>"),
        Block("paragraph", "<p>LONDON (Reuters) - The bridge closed.</p>"),
    ]
    assert conventions.take_advisory(story) == (
        story[1:],
        "(Adds minister's reaction, details on closures)",
    )
    # A paragraph in brackets that is reporting stays.
    quoted = [Block("paragraph", "<p>(The figures are provisional.)</p>")]
    assert conventions.take_advisory(quoted) == (quoted, "")


def test_finish_text_applies_the_agency_rules_in_order():
    item = WireItem(
        format="newsml-g2",
        guid="urn:x",
        ednote="Eds: first take.",
        body=[
            Block("paragraph", "<p>(Updates with vote result)</p>"),
            Block("paragraph", "<p>By Jo Bloggs</p>"),
            Block("paragraph", "<p>The council voted to close the bridge. It reopens in May.</p>"),
            Block("paragraph", "<p>jb/ew</p>"),
        ],
    )
    conventions.finish_text(item)
    assert item.ednote == "Eds: first take.\n(Updates with vote result)"
    assert item.byline == "Jo Bloggs"
    assert item.headline == "The council voted to close the bridge"
    assert item.body == [
        Block("paragraph", "<p>The council voted to close the bridge. It reopens in May.</p>")
    ]
