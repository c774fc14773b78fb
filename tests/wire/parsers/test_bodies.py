"""Agency bodies become clean body blocks: only what an article may print survives."""

import pytest
from lxml import etree

from broadsheet.wire.parsers import Block, bodies


def blocks(markup: str) -> list[Block]:
    return bodies.html_blocks(markup)


def only(markup: str) -> str:
    [block] = blocks(markup)
    return block.value


# --- sanitising ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "hostile",
    [
        '<p>Hello<script>alert("x")</script></p>',
        "<p>Hello<style>p { color: red }</style></p>",
        '<p onclick="steal()" onmouseover="x()">Hello</p>',
        '<p style="position:fixed;top:0">Hello</p>',
        '<p>Hello<img src="x" onerror="alert(1)"></p>',
        '<p>Hello<iframe src="https://evil.example/"></iframe></p>',
        '<p>Hello<svg onload="alert(1)"><p>inside svg</p></svg></p>',
        "<p>Hello<math><mi>x</mi></math></p>",
        '<p>Hello<form action="https://evil.example/"><input value="x"></form></p>',
        "<p>Hello<!-- a comment --></p>",
        '<p><span style="x">Hello</span></p>',
        "<p><u>Hello</u></p>",
    ],
)
def test_scripts_styles_handlers_and_embeds_never_survive(hostile):
    assert only(hostile) == "<p>Hello</p>"


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " javascript:alert(1)",
        "JAVASCRIPT:alert(1)",
        "jav&#x61;script:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "/relative/path",
        "//evil.example/x",
        "file:///etc/passwd",
    ],
)
def test_links_other_than_web_and_mail_lose_their_tag_but_keep_their_text(href):
    assert only(f'<p>Read <a href="{href}">more</a>.</p>') == "<p>Read more.</p>"


@pytest.mark.parametrize(
    "href", ["https://example.org/a", "http://example.org/b", "mailto:desk@example.org"]
)
def test_web_and_mail_links_keep_only_their_address(href):
    markup = f'<p><a href="{href}" target="_blank" rel="x" title="t" onclick="y()">link</a></p>'
    assert only(markup) == f'<p><a href="{href}">link</a></p>'


def test_strong_and_em_become_b_and_i():
    assert (
        only("<p><strong>bold</strong> and <em>leaning</em></p>")
        == "<p><b>bold</b> and <i>leaning</i></p>"
    )


# --- the shape of a story -------------------------------------------------------------------


@pytest.mark.parametrize(
    "markup",
    [
        "<h2>Ferries running</h2>",
        "<h3>Ferries running</h3>",
        "<h6>Ferries running</h6>",
        "<hl2>Ferries running</hl2>",  # NITF
        "<MELLIS>Ferries running</MELLIS>",  # TT
        "<hl2>- Ferries running -</hl2>",  # AFP dresses crossheads in dashes
    ],
)
def test_crossheads_are_kept_as_crosshead_blocks(markup):
    assert blocks(f"<p>Before.</p>{markup}<p>After.</p>") == [
        Block("paragraph", "<p>Before.</p>"),
        Block("crosshead", "Ferries running"),
        Block("paragraph", "<p>After.</p>"),
    ]


def test_a_heading_too_long_for_a_crosshead_is_a_paragraph():
    long = "word " * 40
    [block] = blocks(f"<h2>{long}</h2>")
    assert block.kind == "paragraph"


def test_lists_stay_lists():
    assert blocks("<ul><li>One <b>b</b></li><li>Two</li></ul><ol><li>First</li></ol>") == [
        Block("paragraph", "<ul><li>One <b>b</b></li><li>Two</li></ul>"),
        Block("paragraph", "<ol><li>First</li></ol>"),
    ]


def test_quotes_and_tables():
    assert blocks(
        "<blockquote>We will rebuild.</blockquote><table><tr><td>Ajax</td><td>2</td></tr></table>"
    ) == [
        Block("quote", "We will rebuild."),
        Block("paragraph", "<p>Ajax | 2</p>"),
    ]


def test_empty_spacers_are_dropped_and_double_breaks_split_paragraphs():
    assert blocks("<p/><p>  </p>One<br><br>Two") == [
        Block("paragraph", "<p>One</p>"),
        Block("paragraph", "<p>Two</p>"),
    ]


def test_metadata_inside_a_nitf_body_is_not_printed():
    nitf = etree.fromstring(
        "<nitf><body><body.head><hedline><hl1>Headline</hl1></hedline>"
        "<byline>By Jo</byline></body.head><body.content><p>Text.</p>"
        '<media media-type="image"><media-caption>Caption</media-caption></media>'
        "<note>Editors: check</note></body.content></body></nitf>"
    )
    assert bodies.element_blocks(nitf) == [Block("paragraph", "<p>Text.</p>")]


def test_tt_metadata_boxes_are_not_printed():
    markup = '<div class="dat">Litteratur TT</div><p>Text.</p><div class="byline">Jo</div>'
    assert blocks(markup) == [Block("paragraph", "<p>Text.</p>")]


def test_plain_text_becomes_paragraphs_escaped():
    assert bodies.text_blocks("One & two < three\n\nSecond paragraph") == [
        Block("paragraph", "<p>One &amp; two &lt; three</p>"),
        Block("paragraph", "<p>Second paragraph</p>"),
    ]
    assert bodies.text_blocks("Line one\nLine two") == [
        Block("paragraph", "<p>Line one</p>"),
        Block("paragraph", "<p>Line two</p>"),
    ]


def test_plain_text_that_is_really_html_is_sanitised_as_html():
    assert bodies.text_blocks("<p>Real <script>x</script>HTML</p>") == [
        Block("paragraph", "<p>Real HTML</p>")
    ]


def test_plain_text_helper_strips_tags_and_decodes_entities():
    assert bodies.plain_text("<b>Caf&eacute;</b>\n  <i>open</i>") == "Café open"
