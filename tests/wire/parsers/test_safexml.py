"""Hostile and broken XML: refused before anything is expanded, fetched or guessed.

Each case asserts the kind of reason the desk sees. None asserts a time: the
billion-laughs tests finishing at all shows nothing was expanded, and `deadline` only turns
a hang into a failure.
"""

import pytest

from broadsheet.wire.parsers import MAX_BYTES, Unreadable, detect, parse, safexml
from tests.wire.parsers.conftest import deadline, refusal

G2_ITEM = (
    '<newsItem xmlns="http://iptc.org/std/nar/2006-10-01/" guid="urn:test:1" version="1" '
    'standardversion="2.35"><itemMeta><itemClass qcode="ninat:text"/>'
    "<versionCreated>2025-03-01T08:00:00Z</versionCreated></itemMeta>"
    "<contentMeta><headline>{headline}</headline></contentMeta></newsItem>"
)


def g2(doctype: str = "", headline: str = "Harbour road reopens") -> bytes:
    return (doctype + G2_ITEM.format(headline=headline)).encode()


# --- entity attacks ---------------------------------------------------------------------


def test_billion_laughs_is_refused_for_its_entity_declarations():
    bomb = b"""<!DOCTYPE bomb [
<!ENTITY a "1234567890">
<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">
<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">
<!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">
]>
<bomb>&d;</bomb>"""
    with deadline(10):
        reason = refusal(bomb)
    assert reason.startswith("The DOCTYPE declares entities (a, b, c, d)")
    assert "entity declarations are refused" in reason


def test_a_billion_laughs_of_twenty_levels_is_refused_without_expanding_anything():
    # Expanded, this would be 10**21 characters: finishing proves nothing was expanded.
    levels = ['<!ENTITY e0 "lol">'] + [
        f'<!ENTITY e{n} "{f"&e{n - 1};" * 10}">' for n in range(1, 21)
    ]
    bomb = f"<!DOCTYPE lolz [{''.join(levels)}]><newsItem>&e20;</newsItem>".encode()
    with deadline(10):
        reason = refusal(bomb)
    assert "and 16 more): entity declarations are refused" in reason


def test_quadratic_blowup_is_refused_for_its_entity_declaration():
    entity = "B" * 100_000
    bomb = f'<!DOCTYPE bomb [<!ENTITY a "{entity}">]><bomb>{"&a;" * 20_000}</bomb>'.encode()
    with deadline(10):
        reason = refusal(bomb)
    assert reason.startswith("The DOCTYPE declares entities (a)")


def test_cyclic_entities_are_refused_for_their_declarations():
    cyclic = b'<!DOCTYPE x [<!ENTITY a "123 &b;"><!ENTITY b "&a;">]><x>&a;</x>'
    assert "declares entities (a, b)" in refusal(cyclic)


def test_an_internal_parameter_entity_is_refused():
    data = b"""<!DOCTYPE rss [<!ENTITY % p "<!ENTITY x 'y'>"> %p;]><rss/>"""
    assert "entity declarations are refused" in refusal(data)


def test_xxe_to_a_local_file_is_refused_and_the_file_is_never_read(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text("root:SECRET-TOKEN")
    data = g2(f'<!DOCTYPE newsItem [<!ENTITY ee SYSTEM "file://{secret}">]>', "&ee;")
    reason = refusal(data)
    assert reason.startswith("The DOCTYPE declares an external entity 'ee'")
    assert "external entities (XXE) are refused" in reason
    assert "SECRET-TOKEN" not in reason


def test_xxe_to_a_web_address_is_refused_without_a_connection():
    # The autouse `no_network` guard fails the test if anything connects.
    data = b'<!DOCTYPE r [<!ENTITY ee SYSTEM "http://attacker.example/note.xml">]><rss>&ee;</rss>'
    reason = refusal(data)
    assert "external entity 'ee'" in reason
    assert "http://attacker.example/note.xml" in reason


def test_a_public_external_entity_is_refused_too():
    data = b'<!DOCTYPE r [<!ENTITY ee PUBLIC "-//X//Y" "http://a.example/y">]><rss>&ee;</rss>'
    assert "(XXE) are refused" in refusal(data)


def test_a_benign_looking_entity_in_a_feed_is_refused_all_the_same():
    data = b'<!DOCTYPE rss [<!ENTITY id "tag:example.com,">]><rss><channel/></rss>'
    assert "declares entities (id)" in refusal(data)


def test_the_refusal_comes_before_format_detection():
    # The root <bomb> is no wire format; the reason must still name the entities.
    bomb = b'<!DOCTYPE bomb [<!ENTITY a "x">]><bomb>&a;</bomb>'
    with pytest.raises(Unreadable, match="entity declarations are refused"):
        detect(bomb)


# --- DTDs -------------------------------------------------------------------------------


def test_a_dtd_with_an_external_subset_is_ignored_and_never_loaded():
    data = g2('<!DOCTYPE newsItem SYSTEM "http://dtd.example.invalid/newsml.dtd">\n')
    [item] = parse(data)
    assert item.headline == "Harbour road reopens"
    assert item.warnings[0].startswith("DOCTYPE ignored and not loaded: <!DOCTYPE newsItem")


def test_an_entity_the_unloaded_dtd_would_define_stays_undefined(tmp_path):
    dtd = tmp_path / "wire.dtd"
    dtd.write_text('<!ENTITY secret "SECRET-FROM-DTD">')
    reason = refusal(g2(f'<!DOCTYPE newsItem SYSTEM "file://{dtd}">', "&secret;"))
    assert "the entity &secret; is not defined (DTDs are never loaded" in reason
    assert "SECRET-FROM-DTD" not in reason


def test_the_nitf_dtd_import_idiom_is_tolerated_and_cut_out():
    # SDA-ATS and Kyodo send this: an external parameter entity naming the NITF DTD.
    doctype = (
        '<!DOCTYPE newsItem [<!ENTITY % nitf SYSTEM "http://dtd.example.invalid/nitf.dtd"> '
        "%nitf; ]>"
    )
    [item] = parse(g2(doctype))
    assert "DOCTYPE ignored and not loaded" in item.warnings[0]


def test_a_second_doctype_is_refused():
    data = b'<!DOCTYPE a><!DOCTYPE b [<!ENTITY x "y">]><rss/>'
    assert refusal(data) == "The prolog has a second DOCTYPE declaration: refused"


def test_an_unclosed_doctype_is_malformed():
    assert "the DOCTYPE internal subset is not closed" in refusal(b"<!DOCTYPE rss [ <rss/>")


def test_a_bracket_inside_a_quoted_declaration_does_not_end_the_subset():
    data = b'<!DOCTYPE rss [\n<!-- ]> -->\n<!ENTITY x "]>">\n]>\n<rss/>'
    assert "declares entities (x)" in refusal(data)


# --- size, depth, breakage --------------------------------------------------------------


def test_a_60_megabyte_file_is_refused_by_its_size_before_any_parser_sees_it(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("the file was read although it is over the limit")

    monkeypatch.setattr(safexml, "prepare", must_not_run)
    monkeypatch.setattr(safexml, "parse_prepared", must_not_run)
    data = b"<newsMessage>" + b" " * (60 * 1024 * 1024) + b"</newsMessage>"
    reason = refusal(data)
    assert reason == (f"The file is {len(data):,} bytes, over the {MAX_BYTES:,}-byte limit")


def test_the_size_limit_can_be_set_per_call():
    assert "over the 1,000-byte limit" in refusal(g2() + b" " * 1000, max_bytes=1000)


def test_elements_nested_ten_thousand_deep_are_refused():
    data = b"<newsItem>" + b"<p>" * 10_000 + b"</p>" * 10_000 + b"</newsItem>"
    with deadline(10):
        assert refusal(data).startswith(f"Elements are nested deeper than {safexml.MAX_DEPTH}")


def test_nesting_just_past_the_cap_is_refused_even_where_libxml2_would_allow_it():
    depth = safexml.MAX_DEPTH + 10
    data = b'<newsItem guid="x">' + b"<p>" * depth + b"</p>" * depth + b"</newsItem>"
    assert refusal(data) == f"Elements are nested deeper than {safexml.MAX_DEPTH} levels"


def test_ordinary_nesting_is_read():
    document = safexml.parse(b"<a>" + b"<b>" * 100 + b"</b>" * 100 + b"</a>")
    assert document.root.tag == "a"


def test_truncated_xml_says_where_it_stops():
    data = g2()[:-40]
    reason = refusal(data)
    assert reason.startswith("Truncated XML: the file stops before its closing </newsItem> tag")
    assert "the parser gave up at line 1" in reason


def test_xml_that_is_broken_in_the_middle_says_where():
    data = b'<newsItem guid="x"><itemMeta></contentMeta></newsItem>'
    assert refusal(data).startswith("Malformed XML at line 1, column ")


def test_the_parser_never_keeps_a_dtd_on_the_tree():
    document = safexml.parse(g2('<!DOCTYPE newsItem SYSTEM "newsml.dtd">'))
    assert document.root.getroottree().docinfo.internalDTD is None
    assert document.root.getroottree().docinfo.doctype == ""


def test_safexml_parse_refuses_entities_on_its_own():
    # The path used for NITF carried inside ninjs JSON.
    with pytest.raises(Unreadable, match="entity declarations are refused"):
        safexml.parse(b'<!DOCTYPE nitf [<!ENTITY a "b">]><nitf>&a;</nitf>')
