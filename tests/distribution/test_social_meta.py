"""Open Graph and Twitter cards on every page, read back with extruct and BeautifulSoup."""

from datetime import date

import extruct
import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders
from PIL import Image

from broadsheet.distribution.social import CARD_PHOTO, og_locale
from broadsheet.news.models import Correction
from broadsheet.news.paper import root_url

HOSTILE = '"><script>alert(1)</script>'


def card(client, url):
    """(Open Graph properties as a dict of lists, Twitter's as a dict, the page's soup)."""
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    (graph,) = extruct.extract(html, base_url=root_url() + "/", syntaxes=["opengraph"])["opengraph"]
    og = {}
    for name, value in graph["properties"]:
        og.setdefault(name, []).append(value)
    soup = BeautifulSoup(html, "html.parser")
    twitter = {m["name"]: m["content"] for m in soup.select('meta[name^="twitter:"]')}
    return og, twitter, soup


@pytest.fixture
def every_page(make_article, make_blog_post, agency):
    """{kind of page: its address}, for a small paper with one of each."""
    story = make_article(
        agency=agency, corrections=[Correction(date=date(2026, 11, 2), note="A name.")]
    )
    post = make_blog_post()
    month = story.first_published_at
    return {
        "front": "/",
        "section": "/news/",
        "article": story.url,
        "blog": "/notebook/",
        "blog post": post.url,
        "tag": "/tags/council/",
        "author": "/authors/miriam-okafor/",
        "agency": "/agencies/cpa/",
        "archive": "/archive/",
        "archive month": f"/archive/{month:%Y}/{month.month}/",
        "corrections": "/corrections/",
    }


KINDS = [
    "front",
    "section",
    "article",
    "blog",
    "blog post",
    "tag",
    "author",
    "agency",
    "archive",
    "archive month",
    "corrections",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_has_a_card_with_title_url_and_image(client, every_page, kind):
    og, twitter, soup = card(client, every_page[kind])

    assert og["og:site_name"] == ["The Test Courier"]
    (title,) = og["og:title"]
    assert title and title in soup.title.get_text()
    assert og["og:url"] == [soup.select_one("link[rel=canonical]")["href"]]
    assert og["og:url"][0].startswith(root_url() + "/")
    assert og["og:description"][0]
    assert og["og:type"] == ["article" if kind in ("article", "blog post") else "website"]
    assert og["og:locale"] == ["en_GB"]
    assert og["og:image"][0].startswith(root_url() + "/")
    assert twitter["twitter:card"] == "summary_large_image"
    assert twitter["twitter:title"] == title
    assert twitter["twitter:image"] == og["og:image"][0]


def test_a_story_card_is_an_article_with_times_section_tags_and_authors(
    client, newsroom_morning, world, make_article, agency
):
    story = make_article(parent=world, agency=agency, tags=("harbour", "council"))
    og, twitter, soup = card(client, story.url)

    assert og["og:type"] == ["article"]
    assert og["og:title"] == [soup.select_one("h1").get_text()]
    assert og["og:description"] == [soup.select_one(".story__standfirst").get_text()]
    assert og["article:published_time"] == [soup.select_one(".story__published")["datetime"]]
    assert og["article:modified_time"] == [soup.select_one(".story__updated")["datetime"]]
    assert og["article:section"] == [soup.select(".breadcrumb li a")[-1].get_text()] == ["World"]
    assert sorted(og["article:tag"]) == sorted(a.get_text() for a in soup.select(".story__tags a"))
    byline = [root_url() + a["href"] for a in soup.select(".story__byline a")]
    assert og["article:author"] == byline
    assert twitter["twitter:description"] == og["og:description"][0]


def test_the_card_image_is_the_lead_photo_at_1200_by_630(client, make_article, photo):
    story = make_article()
    og, twitter, _soup = card(client, story.url)
    rendition = photo.get_rendition(CARD_PHOTO)

    assert og["og:image"] == [root_url() + rendition.url]
    assert og["og:image:type"] == ["image/jpeg"]
    assert (og["og:image:width"], og["og:image:height"]) == (
        [str(rendition.width)],
        [str(rendition.height)],
    )
    with Image.open(rendition.file.path) as image:
        assert image.size == (1200, 630) and image.format == "JPEG"
    assert og["og:image:alt"] == [photo.description] == [twitter["twitter:image:alt"]]


def test_a_page_without_a_photo_shows_the_papers_card_image(client, make_article):
    story = make_article(lead_photo=None)
    og, twitter, _soup = card(client, story.url)

    assert og["og:image"][0].endswith("/static/broadsheet/social-card.png")
    with Image.open(finders.find("broadsheet/social-card.png")) as image:
        assert (og["og:image:width"], og["og:image:height"]) == (
            [str(image.width)],
            [str(image.height)],
        )
    assert og["og:image:type"] == ["image/png"]
    assert twitter["twitter:card"] == "summary_large_image"


def test_a_headline_with_markup_is_escaped_in_every_tag(client, make_article):
    story = make_article(title=HOSTILE)
    html = client.get(story.url).content.decode()
    og, twitter, _soup = card(client, story.url)

    assert "<script>alert(1)" not in html
    assert og["og:title"] == [HOSTILE]
    assert twitter["twitter:title"] == HOSTILE


def test_a_blog_post_card_names_its_blog_as_the_section(client, make_blog_post):
    og, _twitter, _soup = card(client, make_blog_post().url)

    assert og["og:type"] == ["article"]
    assert og["article:section"] == ["Northgate Notebook"]


def test_listing_cards_take_the_listings_own_name(client, every_page, agency, reporter_author):
    assert card(client, every_page["author"])[0]["og:title"] == [reporter_author.name]
    assert card(client, every_page["agency"])[0]["og:title"] == [agency.name]
    assert card(client, every_page["tag"])[0]["og:title"] == ["council"]
    assert card(client, every_page["corrections"])[0]["og:title"] == ["Corrections"]
    assert card(client, every_page["front"])[0]["og:title"] == ["The Test Courier"]


@pytest.mark.parametrize(
    ("language", "locale"), [("en-gb", "en_GB"), ("en", "en"), ("pt-br", "pt_BR"), ("fr", "fr")]
)
def test_open_graph_writes_locales_its_own_way(language, locale):
    assert og_locale(language) == locale


# Query budget: cards are rendered inside the pages' fixed budgets, pinned by
# tests/news/test_article_page.py (ARTICLE_QUERY_BUDGET) and tests/news/test_readers.py
# (front page, sections, listings): their meta costs no query of its own.
