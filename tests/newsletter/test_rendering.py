"""The daily email as readers get it: both parts, every link absolute, and its web copy."""

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.utils import timezone

from broadsheet.news import services as news_services
from broadsheet.newsletter.composing import Composition, compose
from broadsheet.newsletter.models import DailyIssue, send_moment
from broadsheet.newsletter.rendering import (
    UNSUBSCRIBE_PLACEHOLDER,
    WEB_COPY_ANCHOR,
    WITHDRAWN,
    personalise,
    preheader,
    render_issue,
    web_copy,
)

BASE = "http://courier.test"
HOSTILE = """<script>alert("boo")</script> Mayor's "plan" & the <b>budget</b>"""
# What a real signed unsubscribe link looks like: letters, digits, colons, dashes.
READER_LINK = f"{BASE}/newsletter/unsubscribe/MTI:1vN9zQ:k3Xy-Ab_cD/"


class Page(HTMLParser):
    """Everything the tests look at in an HTML part, gathered in one pass."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.links, self.images, self.styled, self.tags, self.text = [], [], 0, [], []
        self.in_style = False
        self.style = ""
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "href" in attrs:
            self.links.append(attrs["href"])
        if "src" in attrs:
            self.links.append(attrs["src"])
        if tag == "img":
            self.images.append(attrs)
        if attrs.get("style"):
            self.styled += 1
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.style += data
        else:
            self.text.append(data)

    @property
    def words(self):
        return " ".join(" ".join(self.text).split())


@pytest.fixture(autouse=True)
def paper(settings):
    settings.WAGTAILADMIN_BASE_URL = BASE
    settings.WAGTAIL_SITE_NAME = "The Test Courier"


@pytest.fixture
def issue(db):
    return DailyIssue.objects.create(
        date=timezone.localdate(), introduction="Good morning.\r\nRain & wind by noon."
    )


@pytest.fixture
def stories(issue, make_article, make_blog_post):
    moment = send_moment(issue)
    lead = make_article(
        title="Harbour bridge to close for repairs",
        slug="harbour-bridge",
        published_at=moment - timedelta(hours=2),
    )
    hostile = make_article(
        title=HOSTILE,
        slug="hostile",
        standfirst='Quotes "here" & <i>there</i>',
        lead_photo=None,
        published_at=moment - timedelta(hours=3),
    )
    post = make_blog_post(title="Notes from the quay", slug="quay")
    news_services.backdate_story(story=post, published_at=moment - timedelta(hours=5))
    return [lead, hostile, post]


@pytest.fixture
def rendered(issue, stories):
    return render_issue(compose(issue, now=send_moment(issue)))


def sent(issue, rendered, status=DailyIssue.Status.SENT):
    issue.sent_subject, issue.sent_html, issue.sent_text = (
        rendered.subject,
        rendered.html,
        rendered.text,
    )
    issue.status = status
    issue.save()
    return issue


def test_both_parts_carry_every_headline_and_its_absolute_link(rendered, stories):
    page = Page(rendered.html)
    for story in stories:
        url = f"{BASE}{story.url}"
        assert story.title in page.words
        assert story.title in rendered.text
        assert url in page.links
        assert url in rendered.text.split()
    assert "Top stories" in page.words and "From our blogs" in page.words


def test_every_link_and_image_in_the_html_is_absolute(rendered):
    links = [link for link in Page(rendered.html).links if link != UNSUBSCRIBE_PLACEHOLDER]

    assert links
    assert all(link.startswith(f"{BASE}/") for link in links), links


def test_the_view_in_browser_link_is_absolute_in_both_parts(issue, rendered):
    view = f"{BASE}/newsletter/issues/{issue.date.isoformat()}/"

    assert view in Page(rendered.html).links
    assert view in rendered.text


def test_css_is_inlined_and_only_the_phone_rules_stay_in_the_head(rendered):
    page = Page(rendered.html)

    assert page.styled > 20
    assert re.search(r'<h3 class="headline[^"]*" style="[^"]*font-family', rendered.html)
    assert "@media" in page.style and "max-width: 480px" in page.style
    # Everything else was inlined, not shipped twice.
    assert page.style.strip().startswith("@media") and page.style.count("@media") == 1
    assert ".masthead-rule" not in page.style and "#f6f4ef" not in page.style


def test_the_unsubscribe_placeholder_survives_rendering_intact(rendered):
    page = Page(rendered.html)

    assert UNSUBSCRIBE_PLACEHOLDER in page.links
    assert rendered.html.count(UNSUBSCRIBE_PLACEHOLDER) == 1
    assert f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}" in rendered.text


def test_personalise_puts_the_readers_link_in_both_parts(rendered):
    html = personalise(rendered.html, unsubscribe_url=READER_LINK)
    text = personalise(rendered.text, unsubscribe_url=READER_LINK)

    assert UNSUBSCRIBE_PLACEHOLDER not in html and UNSUBSCRIBE_PLACEHOLDER not in text
    assert READER_LINK in Page(html).links
    assert READER_LINK in text.split()


def test_story_text_is_escaped_in_html_and_left_as_text_in_plain_text(rendered):
    page = Page(rendered.html)

    assert "<script>" not in rendered.html and "<b>budget" not in rendered.html
    assert "script" not in page.tags and page.tags.count("b") == 0
    assert HOSTILE in page.words
    assert 'Quotes "here" & <i>there</i>' in page.words
    assert HOSTILE in rendered.text  # plain text shows what the editor typed


def test_the_lead_photo_has_alt_text_size_and_an_absolute_url(rendered, photo):
    images = Page(rendered.html).images

    assert len(images) == 1  # one photo, the lead's: the email stays light
    image = images[0]
    assert image["alt"] == photo.description
    assert image["src"].startswith(f"{BASE}/media/")
    assert image["width"] == "600" and 337 <= int(image["height"]) <= 338  # 16:9


def test_the_text_part_has_no_html_and_fits_72_columns(issue, make_article):
    make_article(
        title="A long headline " * 8,
        slug="long",
        standfirst="A long standfirst that goes on and on " * 6,
        published_at=send_moment(issue) - timedelta(hours=1),
    )
    text = render_issue(compose(issue, now=send_moment(issue))).text

    assert not re.search(r"</?[a-zA-Z][^>]*>|&[a-z]+;|&#", text)
    too_long = [line for line in text.splitlines() if len(line) > 72 and "http" not in line]
    assert not too_long
    assert "\n\n\n" not in text
    assert "Rain & wind by noon." in text


def test_the_editors_introduction_leads_and_fills_the_preview(rendered):
    page = Page(rendered.html)

    assert "From the editor Good morning. Rain & wind by noon. Top stories" in page.words
    # The preheader, hidden, is what mail programs show beside the subject.
    assert re.search(r'<div class="preheader"[^>]*>Good morning\. Rain &amp; wind', rendered.html)


def test_a_long_preview_is_cut_at_a_word(issue):
    note = "Councillors argued past midnight about the library budget " * 5
    preview = preheader(Composition(issue=issue, subject="s", introduction=note))

    assert preview.endswith("…") and len(preview) <= 141
    assert note.startswith(preview.removesuffix("…") + " ")


def test_an_issue_without_blog_posts_has_no_blog_heading(issue, make_article):
    make_article(published_at=send_moment(issue) - timedelta(hours=1))
    rendered = render_issue(compose(issue, now=send_moment(issue)))

    assert "From our blogs" not in rendered.html and "FROM OUR BLOGS" not in rendered.text


def test_the_subject_is_one_line(issue, stories):
    issue.subject = "Storm warning\r\nand more"
    issue.save()

    assert render_issue(compose(issue, now=send_moment(issue))).subject == (
        "Storm warning and more"
    )


# The web copy ---------------------------------------------------------------------------


def test_a_sent_issue_can_be_read_in_the_browser(client, issue, rendered):
    sent(issue, rendered)

    response = client.get(f"/newsletter/issues/{issue.date.isoformat()}/")

    assert response.status_code == 200
    assert "Harbour bridge to close for repairs" in Page(response.text).words
    cache = response["Cache-Control"]
    assert "public" in cache and "max-age=86400" in cache
    # No reader here: the unsubscribe link explains where each reader's own link is.
    assert UNSUBSCRIBE_PLACEHOLDER not in response.text
    assert f'href="#{WEB_COPY_ANCHOR}"' in response.text
    assert f'id="{WEB_COPY_ANCHOR}"' in response.text
    # The email's inlined styles are allowed on this page alone; scripts stay the site's own.
    policy = response["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in policy
    assert "script-src 'self';" in policy + ";"


def test_an_issue_still_going_out_can_be_read_too(client, issue, rendered):
    sent(issue, rendered, status=DailyIssue.Status.SENDING)

    assert client.get(f"/newsletter/issues/{issue.date.isoformat()}/").status_code == 200


@pytest.mark.parametrize("status", [DailyIssue.Status.DRAFT, DailyIssue.Status.SKIPPED])
def test_an_issue_that_did_not_go_out_is_not_found(client, issue, rendered, status):
    sent(issue, rendered, status=status)

    response = client.get(f"/newsletter/issues/{issue.date.isoformat()}/")

    assert response.status_code == 404
    assert "We can’t find that page" in response.text  # the site's own 404 page
    assert "public" not in response.get("Cache-Control", "")


@pytest.mark.parametrize(
    "date", ["2001-01-01", "2026-13-45", "2026-02-30", "x", "20260101", "2026-W01-1", "0000-00-00"]
)
def test_unknown_and_malformed_dates_are_not_found(client, db, date):
    response = client.get(f"/newsletter/issues/{date}/")

    assert response.status_code == 404
    assert "We can’t find that page" in response.text


def test_the_publishers_postal_address_is_at_the_foot_of_both_parts(make_article):
    from broadsheet.newsletter.composing import compose
    from broadsheet.newsletter.models import NewsletterSettings
    from broadsheet.newsletter.rendering import render_issue
    from broadsheet.newsletter.scheduling import issue_for

    make_article(title="Harbour wall to be rebuilt")
    settings = NewsletterSettings.load()
    settings.postal_address = "The Courier Building\n1 Quay Street, Northgate NG1 1AA"
    settings.save()

    rendered = render_issue(compose(issue_for(timezone.localdate())))

    assert "1 Quay Street, Northgate NG1 1AA" in rendered.text
    assert "The Courier Building<br>1 Quay Street" in rendered.html


# A story taken down since (the signal and the service: test_withdrawn_stories.py) --------


def test_every_story_is_marked_in_the_inlined_html(rendered, stories):
    lead, *others = stories

    # The lead's photo row and its text row; one row for each of the others.
    assert rendered.html.count(f'data-story="{lead.pk}"') == 2
    for story in others:
        assert rendered.html.count(f'data-story="{story.pk}"') == 1


def test_cutting_a_story_keeps_the_rest_of_the_email_as_it_was_sent(rendered, stories):
    lead, hostile, post = stories

    html = web_copy(rendered.html, withdrawn=[lead.pk])

    page = Page(html)
    assert lead.title not in html and not page.images
    assert WITHDRAWN in page.words
    assert "From the editor Good morning. Rain & wind by noon. Top stories" in page.words
    assert hostile.title in page.words and "<script>" not in html  # still escaped
    assert post.title in page.words and "From our blogs" in page.words
    assert "@media" in page.style  # the phone rules
    assert html.count("<!--[if mso]>") == 2  # Outlook's fixed-width wrapper
    assert f'href="#{WEB_COPY_ANCHOR}"' in html and f'id="{WEB_COPY_ANCHOR}"' in html
    assert html.startswith("<!DOCTYPE html>")


def test_a_web_copy_with_nothing_taken_down_is_the_html_as_sent(rendered, stories):
    assert web_copy(rendered.html, withdrawn=[]) == web_copy(rendered.html)
    assert web_copy(rendered.html, withdrawn=[10**9]) == web_copy(rendered.html)
