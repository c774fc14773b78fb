"""Every file in the shared third-party corpus, read or refused exactly as expected.

The corpus (shared/wire-samples/, third-party copyright, never copied into this repository)
sits next to the repository: /work/shared/wire-samples for a checkout at /work/main. Set
BROADSHEET_WIRE_SAMPLES to read it from elsewhere; without it these tests are skipped.

`EXPECTED` names every file, so a regression in any one of them fails, and so does a file
added to the corpus without an expectation. The `malformed/` folder holds both files that
must be refused (hostile XML, invalid JSON, unknown statuses) and files that are merely odd
and are read (a DOCTYPE to ignore, a truncated tail after the last item, a wrong encoding
declaration, a missing headline); GUIDE.md section 9 explains each.
"""

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import pytest

from broadsheet.wire.parsers import NOTHING_TO_PUBLISH, Block, Kind, Status, Unreadable, parse
from broadsheet.wire.parsers.bodies import block_text
from tests.wire.parsers.conftest import deadline

SAMPLES = Path(
    os.environ.get("BROADSHEET_WIRE_SAMPLES")
    or Path(__file__).resolve().parents[3].parent / "shared" / "wire-samples"
)
FOLDERS = ("newsml-g2", "afp-newsml-1.2", "ninjs", "feeds", "malformed")

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the shared wire-sample corpus is not at {SAMPLES} (set BROADSHEET_WIRE_SAMPLES)",
)


class Read(NamedTuple):
    """Read into `count` items; the first one has these fields (None: not checked)."""

    count: int
    format: str | None = None
    kind: str | None = None
    status: str | None = None
    version: str | None = None
    headline: str | None = None  # how the headline starts
    language: str | None = None


class Refused(NamedTuple):
    """Refused with a reason that contains this."""

    reason: str


EXPECTED: dict[str, Read | Refused] = {
    "afp-newsml-1.2/iptc-newsinjson--afp.com_newsml1.2_sample.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Israel strikes key Hamas targets", "en"
    ),
    "afp-newsml-1.2/iptc-newsinjson--businesswire-newsml-20130612006110-zh.xml": Read(
        1,
        "newsml-1",
        "text",
        "usable",
        "1",
        "APP发布“2020 可持续发展路线图”第三次工作进展报告",
        "zh",
    ),
    "afp-newsml-1.2/superdesk-belga--afp_belga.xml": Read(
        1, "newsml-1", "text", "usable", "1", "France: deux ex-policiers aux fr", "fr"
    ),
    "afp-newsml-1.2/superdesk-belga--anp_belga.xml": Read(
        1, "newsml-1", "text", "usable", "2", "FNV staat alleen met acties bij ", "nl-nl"
    ),
    "afp-newsml-1.2/superdesk-belga--belga_newsml_1_2.xml": Read(
        1, "newsml-1", "text", "usable", "4", "Mediawatch dinsdag 29/01/2019 - ", "nl"
    ),
    "afp-newsml-1.2/superdesk-belga--belga_newsml_1_2_video.xml": Read(
        1, "newsml-1", "other", "usable", "12", "Le bureau fédéral de la FGTB act", "fr"
    ),
    "afp-newsml-1.2/superdesk-belga--belga_remote_newsml_1_2.xml": Read(
        1, "newsml-1", "text", "usable", "0", "Knooppunt Schijnpoort in Antwerp", "nl"
    ),
    "afp-newsml-1.2/superdesk-belga--efe_belga.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Leones matan a un joven que se c", "es-es"
    ),
    "afp-newsml-1.2/superdesk-belga--tass_belga.xml": Read(
        1, "newsml-1", "text", "usable", "", "Kremlin has 'negative reaction' ", "en"
    ),
    "afp-newsml-1.2/superdesk-core--afp.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Sweden court accepts receivershi", "en"
    ),
    "afp-newsml-1.2/superdesk-core--ana1-ana-mpe.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Wage employment balance positive", "en"
    ),
    "afp-newsml-1.2/superdesk-ntb--afp.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Burkina Faso bans imports from N", "en"
    ),
    "afp-newsml-1.2/superdesk-ntb--solita_se_1-nordicir.xml": Read(
        2, "newsml-1", "text", "usable", "1", "This is the title", "en"
    ),
    "feeds/feed-rs--atom_mediarss_newscred.xml": Read(
        1, "atom", "text", "usable", "", "The Day Off: Tampa", ""
    ),
    "feeds/feed-rs--rss_1.0_golem-iso8859-1.xml": Read(
        1, "rss", "text", "usable", "", "Digitalministerium: Neue Glasfas", ""
    ),
    "feeds/feed-rs--rss_2.0_encoding_1-iso8859-1.xml": Read(
        1, "rss", "text", "usable", "", "Revolução nas telas com pontos q", "pt-br"
    ),
    "feeds/feed-rs--rss_2.0_ilgiornale.xml": Read(
        1, "rss", "text", "usable", "", "Arrestato in Pakistan Shabbar Ab", "it"
    ),
    "feeds/feed-rs--rss_2.0_nbcny.xml": Read(
        1, "rss", "text", "usable", "", "NYC cops search for stabbing sus", "en-us"
    ),
    "feeds/feed-rs--rss_2.0_spiegel.xml": Read(
        1, "rss", "text", "usable", "", "07.02. – die Wochenvorschau: Loc", "de"
    ),
    "feeds/feed-rs--rss_2.0_wirecutter.xml": Read(
        1, "rss", "text", "usable", "", "How to Teach Someone a Board Gam", "en-us"
    ),
    "feeds/feedjira--HuffPostCanada.xml": Read(
        2, "rss", "text", "usable", "", "Winnipeg High School Orders Cust", "en"
    ),
    "feeds/feedjira--google_alerts_atom.xml": Read(
        20, "atom", "text", "usable", "", "Report offers Prediction of Auto", ""
    ),
    "feeds/feedjira--json_feed.json": Read(
        20, "json-feed", "text", "usable", "", "James Dempsey and the Breakpoint", "en-us"
    ),
    "feeds/feedparser--large_atom_cyrillic_css.xml": Read(
        15, "atom", "text", "usable", "", "Невидимая броня для Вашего Nokia", ""
    ),
    "feeds/feedparser--media_group.xml": Read(1, "atom", "text", "usable", "", "Example Atom", ""),
    "feeds/feedparser--utf-16le-bom.xml": Read(0),
    "feeds/superdesk-core--wenn-atom.xml": Read(
        2, "atom", "text", "usable", "", "Suge Knight involved in fatal hi", "en"
    ),
    "malformed/defusedxml--cyclic-entities.xml": Refused(
        "declares entities (a, b): entity declarations are refused"
    ),
    "malformed/defusedxml--quadratic-blowup.xml": Refused(
        "declares entities (a): entity declarations are refused"
    ),
    "malformed/defusedxml--xmlbomb-billion-laughs.xml": Refused(
        "declares entities (a, b, c, d): entity declarations are refused"
    ),
    "malformed/defusedxml--xxe-external-file.xml": Refused(
        "external entity 'ee' (\"file:///PATH/TO/xmltestdata/simple.xml\"): external entities"
    ),
    "malformed/defusedxml--xxe-external-http.xml": Refused(
        "external entity 'ee' (\"http://www.w3schools.com/xml/note.xml\"): external entities"
    ),
    "malformed/feed-rs--ilmessaggero-double-encoded.xml": Read(
        1, "rss", "text", "usable", "", "Missili Polonia, cosa è successo", "it-it"
    ),
    "malformed/feed-rs--reuters-rss-truncated.xml": Refused(
        "(truncated: it stops before its closing </rss> tag) and has no readable item"
    ),
    "malformed/feedjira--InvalidDateFormat-truncated.xml": Read(
        2, "rss", "text", "usable", "", "Item 0 with an invalid date", "en-us"
    ),
    "malformed/feedjira--TechCrunch-leading-newline.xml": Read(
        20, "rss", "text", "usable", "", "Angie’s List Sets Price Range IP", "en"
    ),
    "malformed/feedjira--atom-inside-xhtml-doctype.xml": Read(
        10, "atom", "text", "usable", "", "Down time", ""
    ),
    "malformed/feedparser--bogus_encoding.xml": Refused(
        "The XML declaration names an unknown encoding 'bogus'"
    ),
    "malformed/feedparser--doctype_external_dtd.xml": Read(0),
    "malformed/feedparser--entity_in_doctype.xml": Refused(
        "declares entities (id): entity declarations are refused"
    ),
    "malformed/feedparser--greek_pubdate_iso8859-7.xml": Read(0),
    "malformed/feedparser--invalid-bytes-with-bom.xml": Refused(
        "UTF-8 byte-order mark but is not valid UTF-8 (byte 0xF1 at offset 203)"
    ),
    "malformed/feedparser--rss_incomplete_cdata.xml": Refused(
        "The feed is truncated inside an item"
    ),
    "malformed/feedparser--undeclared_namespace.xml": Refused(
        "Namespace prefix itunes on subtitle is not defined) and has no readable item"
    ),
    "malformed/feedparser--windows1255-hebrew-undeclared.xml": Read(
        1, "rss", "text", "usable", "", "האם תדפיס נייר של אתר אינטרנט שמ", ""
    ),
    "malformed/iptc-2.29-should_fail-001_incomplete_file.xml": Refused(
        "no catalogRef, which NewsML-G2 2.29 requires"
    ),
    "malformed/iptc-2.29-should_fail-002_newsitem_with_no_catalog.xml": Refused(
        "no catalogRef, which NewsML-G2 2.29 requires"
    ),
    "malformed/ninjs-1.0--016_versioncreated_bad_datetime.json": Read(
        1, "ninjs-1", "text", "usable", "", "", ""
    ),
    "malformed/ninjs-1.0--023_pubstatus_canceled-KILL.json": Read(
        1, "ninjs-1", "text", "canceled", "", "", ""
    ),
    "malformed/ninjs-1.0--should_fail-007_pubstatus_cancelled.json": Refused(
        "Unknown publishing status 'cancelled'"
    ),
    "malformed/ninjs-1.0--should_fail-009_body_text_with_cr.json": Refused(
        "a raw control character (U+000A) inside a string"
    ),
    "malformed/ninjs-3.0--should_fail-004_invalid_truncated_date.json": Refused(
        "declares ninjs 2.2 but is of type 'event'"
    ),
    "malformed/superdesk-belga--ats-sda-doctype-external-dtd.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Un taureau entre dans un magasin", "fr"
    ),
    "malformed/superdesk-belga--kyodo-newsml-1.0-doctype.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Ex-Chinese Premier Li Peng dies ", "en-us"
    ),
    "malformed/superdesk-core--afp20-encoding-mismatch.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Décès de Naomi Musenga: l'opérat", "fr"
    ),
    "malformed/superdesk-core--bbc-ninjs-envelope.json": Read(
        1, "ninjs-1", "text", "usable", "", "abcdef", "en"
    ),
    "malformed/superdesk-core--reuters-L1N14N0FF_KILL.xml": Read(
        1, "newsml-g2", "text", "canceled", "1542761538", "S. Illinois battles flooding as ", "en"
    ),
    "malformed/superdesk-core--reuters-MTZXEE13ZXCZES_whitespace.xml": Read(
        1, "newsml-g2", "text", "usable", "2", "UPDATE 2-Primeira Liga Results", "en-us"
    ),
    "malformed/superdesk-core--scoop-businessdesk.xml": Read(
        1, "newsml-g2", "text", "usable", "3", "Dick Smith receivers install Don", ""
    ),
    "malformed/superdesk-core--stt_no_headline.xml": Read(
        1, "newsml-g2", "text", "usable", "4", "The Parliament has approved the ", "fi-fi"
    ),
    "malformed/superdesk-ntb--afp_no_headline.xml": Read(
        1, "newsml-1", "text", "usable", "1", "Burkina Faso is banning imports ", "en"
    ),
    "malformed/superdesk-stt--events_ml_259431_delete.xml": Read(
        1, "newsml-g2", "other", "canceled", "14", "SDP:n puoluevaltuuston kokous", "fi-fi"
    ),
    "newsml-g2/iptc-2.17-CR00174_expires.xml": Read(
        1, "newsml-g2", "text", "usable", "1", "", "en-gb"
    ),
    "newsml-g2/iptc-2.30-CR00211_newsitem_without_catalog.xml": Read(
        1, "newsml-g2", "text", "usable", "1", "", "en-gb"
    ),
    "newsml-g2/iptc-2.33-CR00217_digitalSourceType_newsItem.xml": Read(
        1, "newsml-g2", "text", "usable", "11", 'Fed to halt QE to avert "bubble"', "en-us"
    ),
    "newsml-g2/iptc-2.34-CR00219_datamining_rightsinfo.xml": Read(
        1, "newsml-g2", "text", "usable", "1", "", "en-gb"
    ),
    "newsml-g2/iptc-LISTING_10_Abstract_Concept_Item.xml": Read(
        1, "newsml-g2", "other", "usable", "11", "arts, culture and entertainment", ""
    ),
    "newsml-g2/iptc-LISTING_1_A_NewsML-G2_News_Item.xml": Read(
        1, "newsml-g2", "text", "usable", "11", 'Fed to halt QE to avert "bubble"', "en-gb"
    ),
    "newsml-g2/iptc-LISTING_26_Embedded_photo_metadata_mapped.xml": Read(
        1, "newsml-g2", "picture", "usable", "11", "A firefighter walks past the rem", "en-us"
    ),
    "newsml-g2/iptc-LISTING_28_Located_Subject_and_Dateline.FRAGMENT.xml": Read(
        1, "newsml-g2", "other", "usable", "", "", "en-us"
    ),
    "newsml-g2/iptc-LISTING_29_Hop_History.xml": Read(
        1, "newsml-g2", "text", "usable", "11", "", "en-us"
    ),
    "newsml-g2/iptc-LISTING_2_NewsML-G2_Text_Document.xml": Read(
        1, "newsml-g2", "text", "usable", "11", 'Fed to halt QE to avert "bubble"', "en-us"
    ),
    "newsml-g2/iptc-LISTING_3_Photo_in_NewsML-G2.xml": Read(
        1, "newsml-g2", "picture", "usable", "11", "Variety Of Recessionary Forces L", "en-us"
    ),
    "newsml-g2/iptc-LISTING_4_Multiple_Renditions_of_a_Video_in_NewsML-G2.xml": Read(
        1, "newsml-g2", "other", "usable", "11", "", "en"
    ),
    "newsml-g2/iptc-LISTING_6_Simple_NewsML-G2_Package.xml": Read(
        1, "newsml-g2", "package", "usable", "11", "UK", "en"
    ),
    "newsml-g2/iptc-ap_metadata_example.xml": Read(
        1, "newsml-g2", "other", "usable", "11", "", "en"
    ),
    "newsml-g2/iptc-newsinjson--TT_newsmlg2_sample.xml": Read(
        3, "newsml-g2", "package", "usable", "1", "", "sv"
    ),
    "newsml-g2/superdesk-aap--reuters_byline_in_body.xml": Read(
        1, "newsml-g2", "text", "usable", "1345039779", "UPDATE 1-Statue of Liberty to re", "en"
    ),
    "newsml-g2/superdesk-core--ansa-newsmlg2-text.xml": Read(
        1, "newsml-g2", "text", "usable", "1", "Catalan independence declaration", "it"
    ),
    "newsml-g2/superdesk-core--ap.xml": Read(
        3, "newsml-g2", "text", "usable", "2", "Nutrisystem beats 4Q earnings an", "en"
    ),
    "newsml-g2/superdesk-core--dpa.xml": Read(
        1, "newsml-g2", "text", "usable", "1", "Eintracht in London: Hinteregger", "de"
    ),
    "newsml-g2/superdesk-core--reuters-KBN0FL0NM_v10-package.xml": Read(
        1, "newsml-g2", "package", "usable", "10", "Confident Assad launches new ter", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-KBN0FL0NN_v5-text.xml": Read(
        1, "newsml-g2", "text", "usable", "5", "Confident Assad launches new ter", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-KBN0FL0ZP_v2-text.xml": Read(
        1, "newsml-g2", "text", "usable", "2", "Syria's Assad says foreign state", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-L1N14N0FF_corrected.xml": Read(
        1, "newsml-g2", "text", "usable", "978556838", "S. Illinois battles flooding as ", "en"
    ),
    "newsml-g2/superdesk-core--reuters-LYNXMPEA6F0MS_v2-picture.xml": Read(
        1, "newsml-g2", "picture", "usable", "2", "Still image from video shows Syr", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-LYNXMPEA6F0MT_v2-picture.xml": Read(
        1, "newsml-g2", "picture", "usable", "2", "Still image from video shows Syr", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-LYNXMPEA6F13M_v1-picture.xml": Read(
        1, "newsml-g2", "picture", "usable", "1", "Syria's President Bashar al-Assa", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-picture.xml": Read(
        1, "newsml-g2", "picture", "usable", "360624134", "A woman casts her ballot inside ", "en"
    ),
    "newsml-g2/superdesk-core--reuters-snep-linklist-package.xml": Read(
        1, "newsml-g2", "package", "usable", "472094323", "OUSTPM Link List", "en-us"
    ),
    "newsml-g2/superdesk-core--reuters-text.xml": Read(
        1, "newsml-g2", "text", "usable", "263518268", "Soccer-Smiling Benitez pleads fo", "en"
    ),
    "newsml-g2/superdesk-core--reuters-video-package.xml": Read(
        5, "newsml-g2", "package", "usable", "1", "Cardinals arrive for pre-conclav", "en"
    ),
    "newsml-g2/superdesk-core--stt1.xml": Read(
        1, "newsml-g2", "text", "usable", "2", "Mikko Moilanen siirtyy Revenion ", "fi-fi"
    ),
    "newsml-g2/superdesk-core--stt_long_body_v7.xml": Read(
        1, "newsml-g2", "text", "usable", "7", "Vastaamoon kohdistunut tietomurt", "fi-fi"
    ),
    "newsml-g2/superdesk-ntb--tt_newsml_test.xml": Read(
        1, "newsml-g2", "text", "usable", "1", "Polen: EU hämnas för flyktingmot", "sv"
    ),
    "ninjs/ninjs-1.0--018_embargoed.json": Read(1, "ninjs-1", "text", "usable", "", "", ""),
    "ninjs/ninjs-1.0--022_pubstatus_withheld.json": Read(
        1, "ninjs-1", "text", "withheld", "", "", ""
    ),
    "ninjs/ninjs-1.4--businesswire-zh.json": Read(
        1,
        "ninjs-1",
        "text",
        "usable",
        "1",
        "APP发布“2020 可持续发展路线图”第三次工作进展报告",
        "zh",
    ),
    "ninjs/ninjs-1.4--ninjsExComplex1.json": Read(
        1, "ninjs-1", "text", "usable", "", "Captain of wrecked cruise ship o", "en"
    ),
    "ninjs/ninjs-1.4--ninjsExSimplePhoto1.json": Read(
        1, "ninjs-1", "picture", "usable", "", "Costa Concordia cruise ship", ""
    ),
    "ninjs/ninjs-1.6--005_complex_text_article.json": Read(
        1, "ninjs-1", "text", "usable", "", "Captain of wrecked cruise ship o", "en"
    ),
    "ninjs/ninjs-2.1--SIPA_image_2.json": Read(
        1, "ninjs-2", "picture", "usable", "1", "Italy: Italy Demonstration of th", "en"
    ),
    "ninjs/ninjs-2.1--ap_image.json": Read(
        1, "ninjs-2", "picture", "usable", "0", "Turkey Islamic State", "en"
    ),
    "ninjs/ninjs-2.1--dpa_text.json": Read(
        1, "ninjs-2", "text", "usable", "2", "Faktencheck Derby-Elfmeter: Hat ", "de"
    ),
    "ninjs/ninjs-2.1--imageEncodedRights.json": Read(
        1, "ninjs-2", "picture", "usable", "", "MotoGP - Spain - Valentino Rossi", ""
    ),
    "ninjs/ninjs-2.1--ntb_text.json": Read(
        1, "ninjs-2", "text", "usable", "6", "Google har kjøpt giganttomt i Sk", "nb-no"
    ),
    "ninjs/ninjs-2.1--tt_text_image_2.json": Read(
        1, "ninjs-2", "text", "usable", "1", "Militärövning i jätteformat håll", "sv"
    ),
    "ninjs/ninjs-2.2--005_complex_text_article.json": Read(
        1, "ninjs-2", "text", "usable", "", "Captain of wrecked cruise ship o", "en"
    ),
    "ninjs/ninjs-3.0--addb-anti-doping-nitf-body.json": Read(
        1, "ninjs-3", "text", "usable", "2", "Anti-doping measures at the 'Tou", "en"
    ),
    "ninjs/ninjs-3.0--ap_video.json": Read(
        1, "ninjs-3", "other", "usable", "0", "House leaders double down on imp", "en"
    ),
    "ninjs/ninjs-3.0--dpa_text.json": Read(
        1, "ninjs-3", "text", "usable", "2", "Faktencheck Derby-Elfmeter: Hat ", "de"
    ),
    "ninjs/ninjs-3.0--event-timeline-collection.json": Read(
        14, "ninjs-3", "other", "usable", "", "Athlete uses medicine containing", ""
    ),
    "ninjs/ninjs-3.0--tt_text_image_3.json": Read(
        1, "ninjs-3", "text", "usable", "1", "Militärövning i jätteformat håll", "sv"
    ),
    "ninjs/ninjs-3.1--005_complex_text_article.json": Read(
        1, "ninjs-3", "text", "usable", "", "Captain of wrecked cruise ship o", "en"
    ),
    "ninjs/ninjs-3.1--008_event.json": Read(
        1, "ninjs-3", "other", "usable", "", "2023 NATO Summit Press Conferenc", ""
    ),
    "ninjs/superdesk-core--ninjs4-de.json": Read(
        1, "ninjs-1", "text", "usable", "1", "China behauptet, einen Polizeihu", "de"
    ),
    "ninjs/superdesk-core--ninjs6-picture.json": Read(
        1, "ninjs-1", "picture", "usable", "3", "German Air Force Museum", "en"
    ),
    "ninjs/superdesk-core--ninjs_embargoed.json": Read(
        1, "ninjs-1", "text", "usable", "11", "Trouble is brewing for the futur", "en"
    ),
    "ninjs/superdesk-ntb--tt-ttninjs.json": Read(
        1, "ninjs-1", "text", "usable", "", "Krisen allt djupare – Mellberg s", "sv"
    ),
}


def corpus_files() -> list[str]:
    return sorted(
        f"{path.parent.name}/{path.name}"
        for folder in FOLDERS
        for path in (SAMPLES / folder).glob("*")
        if path.is_file()
    )


def read(name: str) -> list:
    return parse((SAMPLES / name).read_bytes(), filename=name)


ALL_ITEMS: dict[str, list] = {}


def items_of(name: str) -> list:
    """Each readable file parsed once per session."""
    if name not in ALL_ITEMS:
        ALL_ITEMS[name] = read(name)
    return ALL_ITEMS[name]


READABLE = [name for name, expected in EXPECTED.items() if isinstance(expected, Read)]


def test_every_file_in_the_corpus_has_an_expectation_and_no_expectation_is_stale():
    files = corpus_files()
    assert [name for name in files if name not in EXPECTED] == []
    assert [name for name in EXPECTED if name not in files] == []


@pytest.mark.parametrize("name", list(EXPECTED))
def test_each_file_is_read_or_refused_as_expected(name):
    expected = EXPECTED[name]
    if isinstance(expected, Refused):
        with deadline(10), pytest.raises(Unreadable) as refused:
            read(name)
        assert expected.reason in refused.value.reason
        return
    items = items_of(name)
    assert len(items) == expected.count
    if not items:
        return
    first = items[0]
    actual = {
        "format": first.format,
        "kind": first.kind.value,
        "status": first.status.value,
        "version": first.version,
        "language": first.language,
    }
    wanted = {key: getattr(expected, key) for key in actual if getattr(expected, key) is not None}
    assert {key: actual[key] for key in wanted} == wanted
    assert first.headline.startswith(expected.headline)


# --- what holds for every item of every readable file ------------------------------------

_PARAGRAPH = re.compile(r"^<(p|ul|ol)>.*</\1>$", re.DOTALL)
_TAG = re.compile(r"<(/?)([a-z0-9]+)([^>]*)>")
_ALLOWED_TAGS = {"p", "ul", "ol", "li", "b", "i", "a", "br"}


def assert_clean(block: Block) -> None:
    assert block.kind in ("paragraph", "crosshead", "quote")
    if block.kind != "paragraph":
        assert "<" not in block.value
        assert block.kind == "quote" or len(block.value) <= 120
        return
    assert _PARAGRAPH.match(block.value), block.value[:80]
    for _closing, tag, attributes in _TAG.findall(block.value):
        assert tag in _ALLOWED_TAGS, block.value[:120]
        if attributes.strip():
            assert tag == "a", block.value[:120]
            assert re.fullmatch(r' href="(https?://|mailto:)[^"]*"', attributes), attributes


@pytest.mark.parametrize("name", READABLE)
def test_every_body_is_sanitised(name):
    for item in items_of(name):
        for block in item.body:
            assert_clean(block)


@pytest.mark.parametrize("name", READABLE)
def test_editor_notes_never_reach_the_body(name):
    for item in items_of(name):
        if item.ednote:
            body = " ".join(block_text(block) for block in item.body)
            assert item.ednote not in body


@pytest.mark.parametrize("name", READABLE)
def test_every_item_is_well_formed_for_the_ingest_side(name):
    for item in items_of(name):
        assert item.guid and item.guid == item.guid.strip()
        assert isinstance(item.status, Status) and isinstance(item.kind, Kind)
        assert item.sequence >= 0
        assert item.language == item.language.lower()
        for moment in (item.first_created, item.version_created, item.embargo, item.expires):
            assert moment is None or moment.utcoffset().total_seconds() == 0
        if item.kind == Kind.TEXT and not item.headline and item.status != Status.CANCELED:
            assert NOTHING_TO_PUBLISH in item.warnings or item.body
        for picture in item.pictures:
            for rendition in picture.renditions:
                assert not rendition.href.lower().startswith(("file:", "data:", "javascript:"))


# --- the cases the desk depends on -------------------------------------------------------


def one(name: str):
    [item] = items_of(name)
    return item


def test_iptc_embargo_time_is_read_and_its_ednote_flagged():
    item = one("newsml-g2/iptc-LISTING_1_A_NewsML-G2_News_Item.xml")
    assert item.embargo == datetime(2018, 10, 23, 12, 0, tzinfo=UTC)
    assert any("STRICTLY EMBARGOED" in warning for warning in item.warnings)


def test_businessdesk_empty_embargo_holds_the_item():
    item = one("malformed/superdesk-core--scoop-businessdesk.xml")
    assert item.embargo is None and item.embargo_pending is True


def test_reuters_commented_out_embargo_is_no_embargo():
    item = one("malformed/superdesk-core--reuters-MTZXEE13ZXCZES_whitespace.xml")
    assert item.embargo is None and item.embargo_pending is False


@pytest.mark.parametrize(
    ("name", "embargo"),
    [
        ("ninjs/ninjs-1.0--018_embargoed.json", datetime(2019, 10, 1, tzinfo=UTC)),
        ("ninjs/superdesk-core--ninjs_embargoed.json", datetime(2022, 6, 29, 2, 30, tzinfo=UTC)),
    ],
)
def test_ninjs_embargoes_are_read_in_utc(name, embargo):
    assert one(name).embargo == embargo


def test_the_reuters_kill_is_canceled_with_its_opaque_version():
    kill = one("malformed/superdesk-core--reuters-L1N14N0FF_KILL.xml")
    corrected = one("newsml-g2/superdesk-core--reuters-L1N14N0FF_corrected.xml")
    assert kill.status == Status.CANCELED
    assert kill.guid == corrected.guid == "tag:reuters.com,0000:newsml_L1N14N0FF"
    assert (corrected.version, kill.version) == ("978556838", "1542761538")
    assert kill.sequence > corrected.sequence


def test_the_reuters_correction_is_marked_and_its_prefix_removed():
    corrected = one("newsml-g2/superdesk-core--reuters-L1N14N0FF_corrected.xml")
    assert corrected.correction is True
    assert not corrected.headline.upper().startswith("CORRECTED")


def test_reuters_picture_versions_are_kept_as_sent():
    picture = one("newsml-g2/superdesk-core--reuters-picture.xml")
    assert (picture.version, picture.sequence) == ("360624134", 360624134)


def test_the_ninjs_kill_and_the_withheld_item():
    assert one("malformed/ninjs-1.0--023_pubstatus_canceled-KILL.json").status == Status.CANCELED
    assert one("ninjs/ninjs-1.0--022_pubstatus_withheld.json").status == Status.WITHHELD


def test_the_stt_delete_signal_is_a_kill():
    item = one("malformed/superdesk-stt--events_ml_259431_delete.xml")
    assert item.status == Status.CANCELED and item.version == "14"


@pytest.mark.parametrize(
    ("name", "replaced"),
    [
        ("newsml-g2/superdesk-ntb--tt_newsml_test.xml", "urn:newsml:tt.se:20171220:TT:585152:0"),
        (
            "ninjs/superdesk-ntb--tt-ttninjs.json",
            "http://tt.se/media/text/200702-allsvhelsingborg-1259429",
        ),
    ],
)
def test_tt_updates_under_a_new_id_name_what_they_replace(name, replaced):
    assert one(name).replaces == [replaced]


def test_ap_message_items_come_in_order_with_their_own_versions():
    versions = [item.version for item in items_of("newsml-g2/superdesk-core--ap.xml")]
    assert versions == ["2", "2", "1"]


def test_the_reuters_package_resolves_to_the_items_beside_it():
    package = one("newsml-g2/superdesk-core--reuters-KBN0FL0NM_v10-package.xml")
    assert package.kind == Kind.PACKAGE and package.version == "10"
    members = {(m.guid, m.version): m for m in package.members}
    for name in (
        "superdesk-core--reuters-KBN0FL0NN_v5-text.xml",
        "superdesk-core--reuters-KBN0FL0ZP_v2-text.xml",
        "superdesk-core--reuters-LYNXMPEA6F0MS_v2-picture.xml",
        "superdesk-core--reuters-LYNXMPEA6F0MT_v2-picture.xml",
        "superdesk-core--reuters-LYNXMPEA6F13M_v1-picture.xml",
    ):
        item = one(f"newsml-g2/{name}")
        member = members[(item.guid, item.version)]
        assert member.item_class == item.kind.value
    main = [m for m in package.members if m.role == "main" and m.item_class == "text"]
    assert main[0].guid == "tag_reuters.com_2014_newsml_KBN0FL0NN"


def test_a_tt_delivery_holds_the_package_and_both_of_its_members():
    package, text, picture = items_of("newsml-g2/iptc-newsinjson--TT_newsmlg2_sample.xml")
    assert package.kind == Kind.PACKAGE and text.kind == Kind.TEXT and picture.kind == Kind.PICTURE
    assert [m.guid for m in package.members] == [text.guid, picture.guid]
    assert [m.role for m in package.members] == ["main", "package"]


def test_a_reuters_picture_carries_caption_credit_and_four_renditions():
    item = one("newsml-g2/superdesk-core--reuters-LYNXMPEA6F0MS_v2-picture.xml")
    [picture] = item.pictures
    assert picture.caption.startswith("A still image taken from video shows Syria's President")
    assert (picture.credit, picture.byline) == ("Reuters", "REUTERS TV")
    assert [r.name for r in picture.renditions] == [
        "thumbnail",
        "viewImage",
        "baseImage",
        "filedImage",
    ]
    assert picture.best_rendition().width == 1500


def test_the_iptc_photo_example_loses_its_file_renditions():
    [picture] = one("newsml-g2/iptc-LISTING_3_Photo_in_NewsML-G2.xml").pictures
    assert [r.href for r in picture.renditions] == ["./GYI0062134533.jpg"]
    assert (picture.credit, picture.byline) == ("Getty Images", "Spencer Platt")


def test_a_ninjs_story_brings_its_associated_picture():
    item = one("ninjs/ninjs-3.0--tt_text_image_3.json")
    [picture] = item.pictures
    assert picture.guid == "http://tt.se/media/image/sdlk2sirkPaauM"
    assert picture.byline == "Karl Melander/TT"
    assert len(picture.renditions) == 4


def test_media_rss_pictures_keep_their_own_credits():
    pictures = items_of("feeds/feedjira--HuffPostCanada.xml")[1].pictures
    assert len(pictures) == 8
    assert all(picture.renditions for picture in pictures)


def test_afp_crossheads_are_kept_and_the_signoff_dropped():
    item = one("afp-newsml-1.2/iptc-newsinjson--afp.com_newsml1.2_sample.xml")
    crossheads = [block.value for block in item.body if block.kind == "crosshead"]
    assert crossheads == [
        "Media offices destroyed",
        "'Grave concern'",
        "'They're striking our children'",
    ]
    assert "bur-dar-gl/fz" not in " ".join(block_text(block) for block in item.body)
    assert item.ednote.startswith("RECASTS with attack on Hamas targets")


@pytest.mark.parametrize(
    ("name", "ednote"),
    [
        ("newsml-g2/superdesk-core--dpa.xml", "Notizblock"),
        ("newsml-g2/superdesk-core--ap.xml", "Eds: Adds full-year results."),
    ],
)
def test_agency_notes_to_editors_are_ednotes(name, ednote):
    item = items_of(name)[0]
    assert item.ednote.startswith(ednote)
    assert ednote not in " ".join(block_text(block) for block in item.body)


def test_the_encoding_mismatch_is_read_as_utf8_and_said():
    item = one("malformed/superdesk-core--afp20-encoding-mismatch.xml")
    assert item.headline.startswith("Décès de Naomi Musenga")
    assert any("declares encoding iso-8859-1" in warning for warning in item.warnings)


def test_the_undeclared_hebrew_feed_is_read_in_windows_1255_with_a_warning():
    item = one("malformed/feedparser--windows1255-hebrew-undeclared.xml")
    assert item.headline.startswith("האם תדפיס נייר")
    assert "read as windows-1255 (a guess)" in item.warnings[0]


def test_the_utf16_feed_is_read_and_has_no_items():
    assert items_of("feeds/feedparser--utf-16le-bom.xml") == []


def test_the_truncated_feed_with_complete_items_is_read_with_a_warning():
    first = items_of("malformed/feedjira--InvalidDateFormat-truncated.xml")[0]
    assert "truncated: it stops before its closing </rss> tag" in first.warnings[0]
    assert first.version_created == datetime.fromtimestamp(1518478934, UTC)


def test_headline_less_items_borrow_a_first_sentence_or_are_marked():
    stt = one("malformed/superdesk-core--stt_no_headline.xml")
    assert stt.headline == "The Parliament has approved the Alcohol Act 124-65"
    for name in (
        "newsml-g2/iptc-2.17-CR00174_expires.xml",
        "newsml-g2/iptc-LISTING_29_Hop_History.xml",
        "ninjs/ninjs-1.0--018_embargoed.json",
    ):
        assert NOTHING_TO_PUBLISH in one(name).warnings


def test_a_nitf_document_inside_ninjs_json_is_read():
    item = one("ninjs/ninjs-3.0--addb-anti-doping-nitf-body.json")
    assert len(item.body) > 10
    assert item.headline.startswith("Anti-doping measures")


def test_reuters_byline_and_note_for_editors_leave_the_body():
    item = one("newsml-g2/superdesk-aap--reuters_byline_in_body.xml")
    assert item.byline == "Joseph Ax"
    assert item.ednote.startswith("(Adds Gov. Cuomo's announcement")
    assert block_text(item.body[0]).startswith("NEW YORK, Jan 21 (Reuters) - The Statue of Liberty")
