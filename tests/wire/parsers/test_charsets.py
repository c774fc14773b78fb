"""Encodings: the bytes and the declaration decide, and a mismatch is never silent."""

import pytest

from broadsheet.wire.parsers import charsets, parse
from tests.wire.parsers.conftest import refusal

ITEM = (
    '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:test:1" version="1" '
    'standardversion="2.35"><itemMeta><itemClass qcode="ninat:text"/></itemMeta>'
    "<contentMeta><headline>{headline}</headline></contentMeta></newsItem>"
)


def item(headline: str, declaration: str = "") -> str:
    return declaration + ITEM.format(headline=headline)


def test_an_unknown_encoding_name_is_refused_with_the_name():
    data = b'<?xml version="1.0" encoding="bogus"?><rss/>'
    assert refusal(data) == "The XML declaration names an unknown encoding 'bogus'"


@pytest.mark.parametrize("codec", ["base64", "rot13", "utf-7"])
def test_codecs_that_are_no_character_encoding_for_xml_are_refused(codec):
    data = f'<?xml version="1.0" encoding="{codec}"?><rss/>'.encode()
    assert refusal(data) == f"The XML declaration names {codec!r}, which XML is never sent in"


def test_declared_utf8_that_is_not_utf8_is_refused_with_the_offset():
    data = item("caf\xe9", '<?xml version="1.0" encoding="UTF-8"?>').encode("latin-1")
    reason = refusal(data)
    assert reason.startswith("The file declares encoding UTF-8 but is not valid UTF-8")
    assert "(byte 0xE9 at offset " in reason


def test_undeclared_bytes_that_are_not_utf8_are_refused_for_wire_xml():
    data = item("Gr\xfc\xdfe").encode("latin-1")
    assert refusal(data).startswith("No encoding is declared, so the file must be UTF-8")


def test_a_utf8_byte_order_mark_followed_by_invalid_bytes_is_refused():
    data = b"\xef\xbb\xbf" + item("ma\xf1ana").encode("latin-1")
    assert refusal(data).startswith("The file starts with a UTF-8 byte-order mark but is not")


def test_utf8_with_a_byte_order_mark_is_read():
    data = b"\xef\xbb\xbf" + item("Café reopens", '<?xml version="1.0" encoding="utf-8"?>').encode()
    assert parse(data)[0].headline == "Café reopens"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_are_read_with_or_without_a_byte_order_mark(codec):
    text = item("Ζωή στην πόλη", f'<?xml version="1.0" encoding="{codec}"?>')
    assert parse(text.encode(codec))[0].headline == "Ζωή στην πόλη"


def test_utf16_that_breaks_off_mid_character_is_refused():
    data = item("x").encode("utf-16")[:-1]
    assert refusal(data).startswith("The file is marked as UTF-16 but is not valid UTF-16")


def test_a_latin1_declaration_on_utf8_bytes_is_read_as_utf8_with_a_warning():
    # AFP's real fault: honouring the declaration would print "DÃ©cÃ¨s".
    data = item("Décès d'un élu", '<?xml version="1.0" encoding="iso-8859-1"?>').encode()
    [story] = parse(data)
    assert story.headline == "Décès d'un élu"
    assert story.warnings == [
        "The file declares encoding iso-8859-1 but its bytes are valid multi-byte UTF-8: "
        "read as UTF-8"
    ]


def test_real_latin1_and_windows1252_bytes_are_decoded_as_declared():
    for codec in ("iso-8859-1", "windows-1252", "iso-8859-15"):
        declaration = f'<?xml version="1.0" encoding="{codec}"?>'
        assert parse(item("Noël à Liège", declaration).encode(codec))[0].headline == "Noël à Liège"


def test_a_byte_the_declared_encoding_does_not_define_is_refused_with_the_offset():
    data = item("x\x81y", '<?xml version="1.0" encoding="windows-1252"?>').encode("latin-1")
    reason = refusal(data)
    assert reason.startswith("The file is marked as windows-1252 but is not valid windows-1252")
    assert "at byte offset" in reason


def test_a_utf16_declaration_on_single_byte_text_is_read_as_what_it_is():
    data = item("Plain text", '<?xml version="1.0" encoding="UTF-16"?>').encode("ascii")
    [story] = parse(data)
    assert story.headline == "Plain text"
    assert "declares encoding UTF-16 but its bytes are ASCII: read as UTF-8" in story.warnings[0]


def test_the_reuters_alias_utf8_is_understood():
    data = item("Flood warning", "<?xml version='1.0' encoding='utf8'?>").encode()
    assert parse(data)[0].headline == "Flood warning"


def test_blank_lines_before_the_xml_declaration_are_repaired_with_a_warning():
    data = b"\n\n" + item("x", '<?xml version="1.0" encoding="UTF-8"?>').encode()
    assert "Blank space before the XML declaration was removed" in parse(data)[0].warnings


@pytest.mark.parametrize(
    ("text", "codec", "guess"),
    [
        ("הספרייה העירונית נפתחת מחדש אחרי שיפוץ", "cp1255", "windows-1255"),
        ("Le café de la gare a rouvert près de l'école", "cp1252", "windows-1252"),
        ("Библиотека снова открыта для читателей", "cp1251", "windows-1252"),
        ("plain ascii", "ascii", "windows-1252"),
    ],
)
def test_the_legacy_guess_takes_hebrew_only_when_the_bytes_look_hebrew(text, codec, guess):
    assert charsets.guess_legacy(text.encode(codec)) == guess


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"<rss/>", b'<?xml version="1.0" encoding="UTF-8"?><rss/>'),
        (b'<?xml version="1.0"?><rss/>', b'<?xml version="1.0" encoding="UTF-8"?><rss/>'),
        (
            b"<?xml version='1.0' encoding='latin-1'?><rss/>",
            b"<?xml version='1.0' encoding='UTF-8'?><rss/>",
        ),
    ],
)
def test_declare_encoding_rewrites_or_adds_the_declaration(data, expected):
    assert charsets.declare_encoding(data, "UTF-8") == expected
