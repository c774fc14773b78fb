"""How a composed issue looks: the HTML and plain-text parts of the daily email.

`render_issue` turns a `Composition` into the subject and both bodies, the same for every
reader. The one per-reader part, the unsubscribe link, is left as UNSUBSCRIBE_PLACEHOLDER
and filled in by `personalise` as each message is sent, so an issue is rendered once, not
once per subscriber.

The HTML is written with a `<style>` block and passed through css-inline: every rule is
copied into `style` attributes (webmail such as Gmail for non-Google accounts and Outlook
ignore or strip most `<style>` blocks), and only the `@media` rules stay in the `<head>`,
where the clients that understand them (Apple Mail, Gmail, iOS and Android mail) adapt
the layout to phone widths.

`web_copy` turns the HTML that was sent into the public view-in-browser page, less any
story taken down since (`without_stories`).
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

import css_inline
import lxml.html
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from lxml import etree

from broadsheet.news.paper import absolute_url, paper_name

from .composing import Composition

UNSUBSCRIBE_PLACEHOLDER = "%%unsubscribe_url%%"

# Mail clients show the first text of the body beside the subject. After the preheader,
# invisible zero-width characters fill the preview so that it does not run on into the
# footer's or masthead's words.
PREHEADER_FILL = "&#847;&zwnj;&nbsp;" * 60
PREHEADER_LENGTH = 140

# The web copy has no reader, so no unsubscribe link: its footer link jumps to this note.
WEB_COPY_ANCHOR = "how-to-unsubscribe"


@dataclass(frozen=True)
class RenderedIssue:
    subject: str
    html: str
    text: str


def inliner() -> css_inline.CSSInliner:
    # keep_at_rules: the @media rules stay in a <style> in <head> (they cannot be
    # inlined); everything else is inlined and dropped from the <style>, so the message
    # does not carry its stylesheet twice. Nothing is fetched from the network.
    return css_inline.CSSInliner(
        keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False
    )


def issue_url(issue) -> str:
    """The issue's view-in-browser page, absolute."""
    return absolute_url(reverse("newsletter:issue", args=[issue.date.isoformat()]))


def preheader(composition: Composition) -> str:
    """The preview text: the editor's note if there is one, else the first headlines."""
    if composition.introduction.strip():
        text = " ".join(composition.introduction.split())
    else:
        text = " · ".join(item.title for item in composition.top_stories + composition.blog_posts)
    if len(text) <= PREHEADER_LENGTH:
        return text
    cut = text[: PREHEADER_LENGTH + 1]
    cut = cut.rsplit(" ", 1)[0] if " " in cut else cut[:PREHEADER_LENGTH]
    return cut.rstrip(",;:·- ") + "…"


def render_issue(composition: Composition) -> RenderedIssue:
    """Render the issue's subject, HTML and plain text, with UNSUBSCRIBE_PLACEHOLDER where
    each reader's unsubscribe link goes; all links and images are absolute URLs."""
    issue = composition.issue
    site_url = absolute_url("/")
    context = {
        "subject": " ".join(composition.subject.split()),
        "paper_name": paper_name(),
        "issue_date": issue.date,
        "introduction": composition.introduction.replace("\r\n", "\n").strip(),
        "top_stories": composition.top_stories,
        "blog_posts": composition.blog_posts,
        "preheader": preheader(composition),
        "preheader_fill": PREHEADER_FILL,
        "view_url": issue_url(issue),
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "site_url": site_url,
        "site_host": urlsplit(site_url).netloc,
        "postal_address": composition.postal_address.strip(),
    }
    html = inliner().inline(render_to_string("newsletter/email/issue.html", context))
    text = render_to_string("newsletter/email/issue.txt", context)
    return RenderedIssue(subject=context["subject"], html=html, text=tidy_text(text))


def tidy_text(text: str) -> str:
    """Trailing spaces off, at most one blank line in a row (template tags leave gaps)."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def personalise(text: str, *, unsubscribe_url: str) -> str:
    """Put one reader's unsubscribe link into a rendered part (HTML or text).

    The URL goes in as it is, unescaped: it must need no escaping in HTML, as a signed
    unsubscribe link (letters, digits, "-_:/.") never does.
    """
    return text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)


# Taking a story out of the web copy ---------------------------------------------------
#
# A story that goes down after its issue went out (a kill, a legal order) must leave the
# issue's public web copy. Its rows are cut out of the HTML that was sent, rather than the
# issue rendered again without it: a new render reads today's tables (other stories since
# edited or taken down, new comment counts, the ranking, editors' settings), so it would
# not be the email readers got; the frozen HTML less one story still is. For that, each
# story's rows carry data-story="<id>" (newsletter/email/issue.html). An attribute on the
# rows rather than a pair of comments around them: css-inline parses and writes the
# document again, and an attribute is part of the element it marks, so it cannot come
# apart from it, and there is no end marker to lose or pair wrongly. The rows are found
# with a real HTML parser (lxml), not a pattern, for the same reason.

WITHDRAWN = "This story is no longer available."
WITHDRAWN_STYLE = (
    "padding:14px 28px;font-family:'Segoe UI',-apple-system,Roboto,Helvetica,Arial,"
    "sans-serif;font-size:14px;line-height:20px;font-style:italic;color:#5c5c5c;"
    "border-bottom:1px solid #d8d4cc"
)
STORY_MARK = "data-story="


def marks_stories(html: str) -> bool:
    """Whether each story's rows in this sent HTML can be found (issues sent before the
    rows were marked cannot be edited)."""
    return STORY_MARK in html


def without_stories(html: str, story_ids) -> str:
    """`html` with the rows of these stories (photo, headline, standfirst, byline, link)
    replaced by one line saying the story is no longer available.

    The hidden preheader goes too once a story is cut, as it may be made of headlines; a
    browser never shows it. Issues sent before the rows were marked are returned as they
    are: nothing in them says where a story begins and ends, and a guess could cut the
    wrong text (`withdraw_story_from_issues` logs each such issue for a person to act on).
    What editors wrote themselves, the subject and the introduction, is left as written.
    """
    wanted = [str(story_id) for story_id in story_ids]
    if not wanted or not marks_stories(html):
        return html
    document = lxml.html.document_fromstring(html)
    cut = False
    for story_id in wanted:
        rows = document.xpath("//tr[@data-story=$id]", id=story_id)
        if not rows:
            continue
        cut = True
        note = lxml.html.Element("tr", {"data-withdrawn": story_id})
        etree.SubElement(note, "td", style=WITHDRAWN_STYLE).text = WITHDRAWN
        note.tail = rows[0].tail
        rows[0].getparent().replace(rows[0], note)
        for row in rows[1:]:
            row.drop_tree()
    if not cut:
        return html
    for hidden in document.xpath("//div[@class='preheader']"):
        hidden.drop_tree()
    return lxml.html.tostring(document, doctype="<!DOCTYPE html>", encoding="unicode")


def web_copy(html: str, *, withdrawn=()) -> str:
    """The HTML readers received, for the view-in-browser page, less any story taken
    down since (`withdrawn`: their ids; see `without_stories`).

    There is no reader on that page, so no unsubscribe link to give: the footer's link
    jumps to a note at the foot saying where each reader's own link is.
    """
    html = without_stories(html, withdrawn)
    note = format_html(
        '<div id="{}" style="box-sizing:border-box;max-width:600px;margin:0 auto;'
        "padding:16px 28px 40px;border-top:1px solid #d8d4cc;text-align:center;"
        "font-family:'Segoe UI',-apple-system,Roboto,Helvetica,Arial,sans-serif;"
        'font-size:14px;line-height:1.5;color:#444444;background-color:#f6f4ef">'
        "<p style=\"margin:0 0 8px\"><strong style='color:#121212'>To unsubscribe</strong>, "
        "use the “Unsubscribe” link at the foot of any issue in your inbox. It is "
        "personal to your address, so this web copy, which anyone can open, cannot carry "
        "it.</p>"
        '<p style="margin:0">Not subscribed? Sign up at the foot of any page of '
        '<a href="{}" style="color:#0b4f8a">{}</a>.</p></div>',
        WEB_COPY_ANCHOR,
        absolute_url("/"),
        paper_name(),
    )
    html = personalise(html, unsubscribe_url="#" + WEB_COPY_ANCHOR)
    if "</body>" in html:
        return html.replace("</body>", note + "</body>", 1)
    return html + note
