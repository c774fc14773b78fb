"""NewsML 1.x as AFP and its followers send it."""

from datetime import UTC, datetime

import pytest

from broadsheet.wire.parsers import Block, Kind, Status, parse
from broadsheet.wire.parsers.bodies import block_text
from tests.wire.parsers.conftest import parse_sample, refusal

SAMPLE = "newsml1-afp-embargoed.xml"


REVISION_1 = '<RevisionId PreviousRevision="0" Update="N">1</RevisionId>'


def newsml(
    status="Usable",
    *,
    will_change="",
    revision=REVISION_1,
    lines="<HeadLine>Storm closes the port</HeadLine>",
    body="<p>The port closed at noon.</p>",
    lang="en",
    namespace="",
):
    """A small AFP-style NewsML 1.2 document."""
    xmlns = f' xmlns="{namespace}"' if namespace else ""
    return f"""<NewsML Version="1.2"{xmlns}><NewsItem xml:lang="{lang}">
<Identification><NewsIdentifier><ProviderId>wire.example.org</ProviderId>
<DateId>20250310</DateId><NewsItemId>TX-1</NewsItemId>{revision}</NewsIdentifier></Identification>
<NewsManagement><FirstCreated>20250310T100000Z</FirstCreated>
<ThisRevisionCreated>20250310T101500Z</ThisRevisionCreated>
<Status FormalName="{status}"/>{will_change}</NewsManagement>
<NewsComponent><NewsLines>{lines}</NewsLines>
<ContentItem><Format FormalName="NITF3.1"/><DataContent><nitf><body><body.content>{body}
</body.content></body></nitf></DataContent></ContentItem></NewsComponent></NewsItem></NewsML>""".encode()


def test_identity_is_the_public_identifier_without_its_revision():
    [item] = parse_sample(SAMPLE)
    assert item.format == "newsml-1"
    assert item.guid == "urn:newsml:wire.example.org:20250302T050000Z:TX-EXW-BUDGET"
    assert (item.version, item.sequence) == ("2", 2)


def test_embargoed_status_with_a_time_is_usable_from_that_time():
    [item] = parse_sample(SAMPLE)
    assert item.status == Status.USABLE
    assert item.embargo == datetime(2025, 3, 3, 5, 0, tzinfo=UTC)
    assert item.embargo_pending is False
    assert item.raw_dates["StatusWillChange"] == "20250303T060000+0100"


def test_embargoed_status_without_a_time_holds_the_item():
    [item] = parse(newsml("Embargoed"))
    assert item.embargo is None and item.embargo_pending is True


def test_an_embargo_that_ends_in_a_kill_is_canceled():
    change = (
        '<StatusWillChange><FutureStatus FormalName="Canceled"/>'
        "<DateAndTime>20250311T060000Z</DateAndTime></StatusWillChange>"
    )
    assert parse(newsml("Embargoed", will_change=change))[0].status == Status.CANCELED


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        ("Usable", Status.USABLE),
        ("USABLE", Status.USABLE),
        ("usable", Status.USABLE),
        ("Withheld", Status.WITHHELD),
        ("Canceled", Status.CANCELED),
    ],
)
def test_statuses_in_any_case_go_through_the_one_table(sent, status):
    assert parse(newsml(sent))[0].status == status


def test_a_status_outside_the_table_is_refused():
    reason = refusal(newsml("Killed"))
    assert reason.startswith("NewsItem 1: Unknown publishing status 'Killed'")


def test_a_partial_update_is_refused():
    revision = '<RevisionId PreviousRevision="1" Update="U">2</RevisionId>'
    reason = refusal(newsml(revision=revision))
    assert "a partial update (RevisionId Update='U') that patches revision 1" in reason


def test_the_advisory_line_is_an_editor_note_and_never_body_text():
    [item] = parse_sample(SAMPLE)
    assert item.ednote == "EMBARGOED until 0600 CET Monday. ADDS minister's reaction"
    assert any(w.startswith("The advisory line mentions an embargo") for w in item.warnings)
    assert "ADDS" not in " ".join(block_text(block) for block in item.body)


def test_news_lines_and_metadata_are_read():
    [item] = parse_sample(SAMPLE)
    assert item.headline == "Budget watchdog to warn on deficit"
    assert item.byline == "Claire Dupont"
    assert item.dateline == "Paris, March 2, 2025 (EXW)"
    assert item.located == "Paris"
    assert item.slugline == "France-budget-deficit"
    assert (item.language, item.urgency, item.provider) == ("en", 3, "EXW")
    codes = {(s.code, s.kind) for s in item.subjects}
    assert {("04000000", "subject"), ("04016000", "subject"), ("Update", "genre")} <= codes
    assert item.subjects[1].scheme == "http://cv.iptc.org/newscodes/subjectcode/"


def test_the_nitf_body_keeps_crossheads_and_drops_spacers_and_the_signoff():
    [item] = parse_sample(SAMPLE)
    assert item.body == [
        Block(
            "paragraph",
            "<p>The public finance watchdog will warn on Monday that the deficit is set to "
            "overshoot its target.</p>",
        ),
        Block("crosshead", "Minister responds"),
        Block(
            "paragraph", '<p>The finance minister said the figures were "already out of date".</p>'
        ),
    ]


def test_the_namespaced_schema_form_reads_like_the_dtd_form():
    plain = parse(newsml())[0]
    spaced = parse(newsml(namespace="http://iptc.org/std/NewsML/2003-10-10/"))[0]
    assert (spaced.guid, spaced.headline, spaced.body) == (plain.guid, plain.headline, plain.body)


def test_a_hebrew_item_keeps_its_language_and_text():
    [item] = parse(newsml(lang="he", lines="<HeadLine>סערה סוגרת את הנמל</HeadLine>",
                          body="<p>הנמל נסגר בצהריים.</p>"))  # fmt: skip
    assert item.language == "he"
    assert item.headline == "סערה סוגרת את הנמל"
    assert item.body == [Block("paragraph", "<p>הנמל נסגר בצהריים.</p>")]


def test_an_empty_headline_borrows_the_first_sentence():
    [item] = parse(newsml(lines="<HeadLine/>", body="<p>  Ports shut. Ships wait.  </p>"))
    assert item.headline == "Ports shut"
    assert "No headline: the first sentence of the body stands in" in item.warnings


def test_a_missing_revision_is_reported_and_sequence_left_at_zero():
    [item] = parse(newsml(revision=""))
    assert item.sequence == 0
    assert "No RevisionId: sequence left at 0" in item.warnings


def test_a_document_without_a_news_item_is_refused():
    assert refusal(b'<NewsML Version="1.2"><NewsEnvelope/></NewsML>') == (
        "NewsML 1.x document without a NewsItem"
    )


def test_a_picture_component_becomes_a_picture_with_its_rendition():
    data = b"""<NewsML><NewsItem xml:lang="nl"><Identification><NewsIdentifier>
<ProviderId>belga.example</ProviderId><DateId>20250310</DateId><NewsItemId>9</NewsItemId>
<RevisionId>1</RevisionId></NewsIdentifier></Identification>
<NewsManagement><Status FormalName="USABLE"/></NewsManagement>
<NewsComponent><Role FormalName="Picture"/>
<NewsLines><HeadLine>Brug dicht</HeadLine><CreditLine>BELGA</CreditLine></NewsLines>
<ContentItem Href="https://media.belga.example/brug.jpg"><MediaType FormalName="Photo"/>
<MimeType FormalName="image/jpeg"/><Characteristics><SizeInBytes>2048</SizeInBytes>
<Property FormalName="Width" Value="800"/><Property FormalName="Height" Value="600"/>
</Characteristics></ContentItem></NewsComponent></NewsItem></NewsML>"""
    [item] = parse(data)
    assert item.kind == Kind.PICTURE
    [picture] = item.pictures
    assert (picture.headline, picture.credit) == ("Brug dicht", "BELGA")
    [rendition] = picture.renditions
    assert (rendition.href, rendition.width, rendition.height, rendition.size) == (
        "https://media.belga.example/brug.jpg",
        800,
        600,
        2048,
    )
