"""`detect` and `parse`'s dispatch: the bytes decide the format, never the file name."""

import json

import pytest

from broadsheet.wire.parsers import FORMATS, Unreadable, detect, parse
from tests.wire.parsers.conftest import refusal, sample


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("g2-text-two-versions.xml", "newsml-g2"),
        ("g2-picture.xml", "newsml-g2"),
        ("g2-package.xml", "newsml-g2"),
        ("newsml1-afp-embargoed.xml", "newsml-1"),
        ("ninjs1-text.json", "ninjs"),
        ("ninjs3-text.json", "ninjs"),
        ("rss2-media.xml", "rss"),
        ("rss-hebrew-windows1255.xml", "rss"),
        ("atom-media.xml", "atom"),
        ("jsonfeed.json", "json-feed"),
    ],
)
def test_each_sample_is_recognised_by_its_content(name, expected):
    assert detect(sample(name)) == expected
    assert expected in FORMATS


def test_a_misleading_file_name_does_not_change_the_format():
    assert detect(sample("atom-media.xml"), filename="story.json") == "atom"
    assert detect(sample("ninjs2-text.json"), filename="story.xml") == "ninjs"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'/>", "rss"),
        (b"<ns0:newsMessage xmlns:ns0='http://iptc.org/std/nar/2006-10-01/'/>", "newsml-g2"),
        (b"<conceptItem guid='x'/>", "newsml-g2"),
        (b"<contentMeta><headline>A fragment</headline></contentMeta>", "newsml-g2"),
        (b"\xef\xbb\xbf<?xml version='1.0'?><NewsML/>", "newsml-1"),
        (
            b"<!-- a comment first -->\n<?pi x?>\n<feed xmlns='http://www.w3.org/2005/Atom'/>",
            "atom",
        ),
        (b"<html><body><feed xmlns='http://www.w3.org/2005/Atom'></feed></body></html>", "atom"),
        (b'[{"uri": "a"}, {"uri": "b"}]', "ninjs"),
        (b'  {"uri": "a"}', "ninjs"),
    ],
)
def test_roots_and_shapes_that_name_a_format(data, expected):
    assert detect(data) == expected


def test_rss_in_utf16_is_recognised_through_its_byte_order_mark():
    data = '<?xml version="1.0" encoding="utf-16"?><rss version="2.0"/>'.encode("utf-16")
    assert detect(data) == "rss"


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "The file is empty"),
        (b" \r\n\t ", "The file holds only white space"),
        (b"<html><body><p>Page not found</p></body></html>", "An HTML page, not a wire file"),
        (b"<!DOCTYPE html>\n<html><head><title>502</title></head></html>", "An HTML page"),
        (b"<invoice><total>3</total></invoice>", "root element <invoice> is not NewsML-G2"),
        (b"<?xml version='1.0'?><!-- nothing else -->", "XML without a root element"),
        (bytes(range(256)), "Neither XML nor JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Neither XML nor JSON"),
    ],
)
def test_files_that_are_no_wire_format_are_refused_with_what_they_are(data, reason):
    with pytest.raises(Unreadable, match=reason):
        detect(data)
    assert reason in refusal(data)


def test_a_json_named_file_that_is_not_json_says_so():
    assert refusal(b"uri: x", filename="item.json").startswith("Invalid JSON")


def test_hostile_xml_is_refused_by_detect_for_what_it_is_not_for_its_root():
    bomb = b'<!DOCTYPE bomb [<!ENTITY a "1234567890">]><bomb>&a;</bomb>'
    with pytest.raises(Unreadable, match="entity declarations are refused"):
        detect(bomb)


def test_parse_wants_bytes_not_a_decoded_string():
    with pytest.raises(TypeError, match="bytes"):
        parse(json.dumps({"uri": "x"}))  # type: ignore[arg-type]


def test_parse_accepts_a_bytearray_or_memoryview():
    data = sample("ninjs2-text.json")
    assert parse(bytearray(data))[0].guid == parse(memoryview(data))[0].guid
