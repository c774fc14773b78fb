"""The article page shows every element of the reference page, in the reference's order."""

from datetime import UTC, date, datetime

import pytest
from bs4 import BeautifulSoup
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from broadsheet.news.models import Author, Byline, Correction
from tests.conftest import crosshead, paragraph


def soup_of(client, story):
    response = client.get(story.url)
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def position(html, fragment):
    index = html.find(fragment)
    assert index >= 0, f"{fragment!r} is not on the page"
    return index


def test_article_elements_appear_in_reference_order(client, make_article):
    story = make_article(
        title="Council approves new library",
        standfirst="The branch will reopen next spring.",
        body=[
            paragraph("The council voted on Tuesday."),
            crosshead("'A place for everyone'"),
            paragraph("Work starts in March."),
            crosshead("'Long overdue'"),
            paragraph("Campaigners welcomed it."),
        ],
    )
    html = client.get(story.url).content.decode()

    order = [
        position(html, "You are here"),
        position(html, '<h1 id="story-headline"'),
        position(html, 'class="story__standfirst"'),
        position(html, 'class="story__byline"'),
        position(html, 'class="story__lead-photo"'),
        position(html, 'class="dateline"'),
        position(html, '<h2 class="crosshead">'),
        position(html, 'data-slot="votes"'),
        position(html, 'data-slot="comments"'),
        position(html, 'data-slot="newsletter"'),
    ]
    assert order == sorted(order)


def test_breadcrumb_leads_from_home_through_nested_sections(client, world, make_article):
    story = make_article(parent=world)
    crumbs = soup_of(client, story).select(".breadcrumb li a")

    assert [a.get_text() for a in crumbs] == ["Home", "News", "World"]
    assert [a["href"] for a in crumbs] == ["/", "/news/", "/news/world/"]


def test_byline_names_authors_and_agency_with_both_times(client, make_article, agency):
    second = Author.objects.create(name="Tomasz Wilk", slug="tomasz-wilk")
    story = make_article(agency=agency)
    Byline.objects.create(story=story, author=second, sort_order=1)
    byline = soup_of(client, story).select_one(".story__byline")

    text = " ".join(byline.get_text().split())
    assert text.startswith("By Miriam Okafor, Tomasz Wilk and CPA - ")
    assert " - Last updated at " in text
    times = byline.find_all("time")
    assert len(times) == 2
    assert all(t["datetime"] for t in times)
    assert [a["href"] for a in byline.find_all("a")] == [
        "/authors/miriam-okafor/",
        "/authors/tomasz-wilk/",
        "/agencies/cpa/",
    ]


def test_agency_only_byline(client, make_article, agency):
    story = make_article(agency=agency)
    Byline.objects.filter(story=story).delete()
    byline = soup_of(client, story).select_one(".story__byline").get_text()

    assert " ".join(byline.split()).startswith("By CPA - ")


@override_settings(TIME_ZONE="Asia/Amman")
def test_times_are_shown_in_the_newsroom_time_zone(client, make_article):
    published = datetime(2026, 7, 4, 22, 30, tzinfo=UTC)  # 01:30 next day in Amman
    story = make_article(published_at=published)
    times = soup_of(client, story).select(".story__byline time")

    assert times[0].get_text() == "5 Jul 2026, 01:30"
    assert times[0]["datetime"] == "2026-07-05T01:30:00+03:00"


def test_lead_photo_is_a_figure_with_caption_credit_and_srcset(client, make_article):
    figure = soup_of(client, make_article()).select_one("figure.story__lead-photo")

    img = figure.find("img")
    assert img["alt"] == "Fishing boats moored in the harbour at dusk"
    assert len(img["srcset"].split(",")) >= 3
    caption = " ".join(figure.figcaption.get_text().split())
    assert caption == "The old library on Mill Lane (Courier photo)"


def test_dateline_opens_the_first_paragraph_in_capitals(client, make_article):
    story = make_article(dateline="Beirut", body=[paragraph("Protesters gathered at dawn.")])
    first = soup_of(client, story).select_one(".story__body p")

    assert first.get_text().startswith("BEIRUT — Protesters gathered at dawn.")


def test_dateline_is_escaped(client, make_article):
    story = make_article(dateline="<script>alert(1)</script>")
    html = client.get(story.url).content.decode()

    assert "<script>alert(1)" not in html.lower()
    assert "&lt;SCRIPT&gt;" in html


def test_crossheads_are_h2(client, make_article):
    story = make_article(body=[paragraph("One."), crosshead("'Long overdue'"), paragraph("Two.")])
    headings = soup_of(client, story).select(".story__body h2")

    assert [h.get_text() for h in headings] == ["'Long overdue'"]


def test_corrections_are_listed_with_their_dates(client, make_article):
    story = make_article(
        corrections=[Correction(date=date(2026, 11, 2), note="Misspelled a name.")]
    )
    corrections = soup_of(client, story).select_one(".story__corrections")

    assert "Misspelled a name." in corrections.get_text()
    assert corrections.find("time")["datetime"] == "2026-11-02"


def test_no_corrections_section_when_there_are_none(client, make_article):
    assert soup_of(client, make_article()).select_one(".story__corrections") is None


def test_tags_link_to_their_pages(client, make_article):
    story = make_article(tags=("libraries", "Northgate"))
    links = soup_of(client, story).select(".story__tags a")

    assert sorted(a["href"] for a in links) == ["/tags/libraries/", "/tags/northgate/"]


def test_related_stories_come_from_the_section_and_shared_tags(
    client, home, make_article, days_ago
):
    from tests.conftest import add_section

    sport = add_section(home, "Sport")
    story = make_article(tags=("libraries",))
    same_section = make_article(tags=("roads",), published_at=days_ago(1))
    shared_tag = make_article(parent=sport, tags=("libraries",), published_at=days_ago(2))
    unrelated = make_article(parent=sport, tags=("football",), published_at=days_ago(3))
    unpublished = make_article(tags=("libraries",))
    unpublished.unpublish()

    titles = [a.get_text() for a in soup_of(client, story).select(".related .card__headline a")]

    assert set(titles) == {same_section.title, shared_tag.title}
    assert story.title not in titles and unrelated.title not in titles


def build_story(make_article, photo, *, extra_authors, tags, blocks, related):
    for _ in range(related):
        make_article(tags=tags[:1])
    body = []
    for index in range(blocks):
        body.append(paragraph(f"Paragraph {index}."))
        if index % 5 == 0:
            body.append(crosshead(f"Crosshead {index}"))
        if index % 7 == 0:
            body.append({"type": "photo", "value": {"photo": photo.pk, "caption": "A scene."}})
        if index % 9 == 0:
            body.append({"type": "quote", "value": {"quotation": "Q.", "attribution": "A."}})
            body.append({"type": "fact_box", "value": {"title": "Facts", "body": "<p>F.</p>"}})
    story = make_article(tags=tags, body=body)
    for index in range(extra_authors):
        author = Author.objects.create(name=f"A {index}", slug=f"a-{index}")
        Byline.objects.create(story=story, author=author, sort_order=index + 1)
    return story


def count_queries(client, url, *, warm=True):
    if warm:
        client.get(url)  # renditions are created on the first view
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


# The article page costs this many queries, whatever the story holds (a story with no
# related stories at all skips three). Comments add none per comment: see
# tests/engagement/test_comments.py. Raise them only with a reason: every query here is
# paid on every uncached view of a breaking story. A story's address is found in one
# query (news.models.story_at) and the request's site and the sections are kept; the
# story's own parts (head, copy, comments, related stories) are kept rendered until a key
# they show is purged (docs/serving.md), so a page re-rendered because a comment was
# published reads the story and its breadcrumb, and a page whose parts were all purged
# (the story was published again) reads them afresh.
ARTICLE_QUERY_BUDGET = 2
ARTICLE_REBUILT_QUERY_BUDGET = 17


@pytest.mark.parametrize(
    "shape",
    [
        {"extra_authors": 0, "tags": ("one",), "blocks": 2, "related": 1},
        {
            "extra_authors": 4,
            "tags": ("one", "two", "three", "four", "five"),
            "blocks": 40,
            "related": 6,
        },
    ],
    ids=["small-story", "big-story"],
)
def test_article_page_query_count_is_fixed(client, make_article, photo, shape):
    story = build_story(make_article, photo, **shape)

    kept = count_queries(client, story.url)
    cache.clear()  # every kept part and the kept site and sections gone, as after purges
    rebuilt = count_queries(client, story.url, warm=False)

    assert (rebuilt, kept) == (ARTICLE_REBUILT_QUERY_BUDGET, ARTICLE_QUERY_BUDGET)
