"""Sitemaps and robots.txt, read as crawlers read them: validated against the published
sitemap and Google News schemas (schemas/README.md), with every date checked."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from defusedxml import ElementTree
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from wagtail.models import Site

from broadsheet.distribution import sitemaps
from broadsheet.news import services
from broadsheet.news.models import ArticlePage, StoryPage
from broadsheet.news.paper import root_url
from tests.conftest import HIDDEN

NS = {
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
LONDON = ZoneInfo("Europe/London")


def fetch(client, url, **extra):
    response = client.get(url, **extra)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("application/xml")
    return response


def entries(response) -> dict[str, dict]:
    """{loc: {"lastmod": datetime, ...news fields}} of a urlset or a sitemap index."""
    root = ElementTree.fromstring(response.content)
    found = {}
    for entry in root.findall("sm:url", NS) + root.findall("sm:sitemap", NS):
        fields = {"lastmod": None}
        lastmod = entry.findtext("sm:lastmod", namespaces=NS)
        if lastmod:
            fields["lastmod"] = parse_datetime(lastmod)
        news = entry.find("news:news", NS)
        if news is not None:
            fields |= {
                "name": news.findtext("news:publication/news:name", namespaces=NS),
                "language": news.findtext("news:publication/news:language", namespaces=NS),
                "published": parse_datetime(news.findtext("news:publication_date", namespaces=NS)),
                "title": news.findtext("news:title", namespaces=NS),
            }
        found[entry.findtext("sm:loc", namespaces=NS)] = fields
    return found


def paper(path: str) -> str:
    return root_url(Site.objects.get(is_default_site=True)) + path


def to_second(moment):
    return moment.replace(microsecond=0)


@pytest.fixture
def archive(newsroom_morning, make_article, make_blog_post, world, days_ago):
    """Articles in October and November 2026, one in World, and a blog post."""
    october = make_article(
        title="October story",
        slug="october",
        published_at=datetime(2026, 10, 14, 9, 0, tzinfo=LONDON),
    )
    november = make_article(title="November story", slug="november", published_at=days_ago(10))
    abroad = make_article(title="World story", slug="abroad", parent=world)
    post = make_blog_post(title="Notes from the quay", slug="quay")
    return {"october": october, "november": november, "abroad": abroad, "post": post}


def all_sitemap_urls(client, **extra):
    """Every page URL in every sitemap the index lists (each page of a split one)."""
    urls = {}
    for sitemap in entries(fetch(client, "/sitemap.xml", **extra)):
        urls |= entries(fetch(client, sitemap.removeprefix(paper("")), **extra))
    return urls


# The index ----------------------------------------------------------------------------


def test_the_index_lists_each_month_and_each_kind_of_sitemap(client, archive, siteindex_schema):
    response = fetch(client, "/sitemap.xml")

    siteindex_schema.validate(response.content)
    assert set(entries(response)) == {
        paper("/sitemap-articles-2026-10.xml"),
        paper("/sitemap-articles-2026-11.xml"),
        paper("/sitemap-sections.xml"),
        paper("/sitemap-blogs.xml"),
        paper("/sitemap-authors.xml"),
        paper("/sitemap-news.xml"),
    }


def test_the_index_dates_a_month_by_its_newest_change(client, archive):
    october = archive["october"]

    listed = entries(fetch(client, "/sitemap.xml"))

    assert listed[paper("/sitemap-articles-2026-10.xml")]["lastmod"] == to_second(
        october.last_updated_at
    )


def test_links_start_from_the_sites_address_not_the_requests_host(client, archive):
    Site.objects.filter(is_default_site=True).update(hostname="courier.example", port=443)

    index = entries(fetch(client, "/sitemap.xml", HTTP_HOST="courier.example"))
    month = entries(fetch(client, "/sitemap-articles-2026-10.xml", HTTP_HOST="courier.example"))

    assert paper("/sitemap-articles-2026-10.xml") == (
        "https://courier.example/sitemap-articles-2026-10.xml"
    )
    assert all(loc.startswith("https://courier.example/") for loc in [*index, *month])


def test_a_month_bigger_than_a_sitemap_is_split_into_pages(
    client, newsroom_morning, make_article, monkeypatch, siteindex_schema, urlset_schema
):
    monkeypatch.setattr(sitemaps.PaperSitemap, "limit", 2)
    for n in range(5):
        make_article(slug=f"busy-{n}")
    month = f"/sitemap-articles-{timezone.localdate():%Y-%m}.xml"

    index = fetch(client, "/sitemap.xml")
    pages = [fetch(client, month + query) for query in ["", "?p=2", "?p=3"]]

    siteindex_schema.validate(index.content)
    assert {paper(month), paper(month + "?p=2"), paper(month + "?p=3")} <= set(entries(index))
    for page in pages:
        urlset_schema.validate(page.content)
    assert [len(entries(page)) for page in pages] == [2, 2, 1]
    assert client.get(month + "?p=4").status_code == 404


# Each sitemap ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/sitemap-articles-2026-10.xml",
        "/sitemap-articles-2026-11.xml",
        "/sitemap-sections.xml",
        "/sitemap-blogs.xml",
        "/sitemap-authors.xml",
        "/sitemap-news.xml",
    ],
)
def test_every_sitemap_is_valid_against_the_published_schemas(client, archive, urlset_schema, url):
    response = fetch(client, url)

    urlset_schema.validate(response.content)
    assert entries(response)
    assert response["X-Robots-Tag"].startswith("noindex")


def test_a_month_lists_its_articles_at_the_address_wagtail_serves_them(client, archive):
    october, november = archive["october"], archive["november"]

    listed = entries(fetch(client, "/sitemap-articles-2026-10.xml"))

    assert set(listed) == {october.get_full_url()}
    assert november.get_full_url() not in listed
    assert listed[october.get_full_url()]["lastmod"] == to_second(october.last_updated_at)


def test_the_sections_sitemap_dates_each_section_by_its_newest_story(client, archive, news):
    abroad = StoryPage.objects.get(pk=archive["abroad"].pk)
    post = StoryPage.objects.get(pk=archive["post"].pk)

    listed = entries(fetch(client, "/sitemap-sections.xml"))

    assert set(listed) == {paper("/"), paper("/news/"), paper("/news/world/")}
    # World's story is News's newest too; the front page also shows the blog post.
    assert listed[paper("/news/world/")]["lastmod"] == to_second(abroad.last_updated_at)
    assert listed[paper("/news/")]["lastmod"] == to_second(abroad.last_updated_at)
    assert listed[paper("/")]["lastmod"] == to_second(
        max(abroad.last_updated_at, post.last_updated_at)
    )


def test_the_blogs_sitemap_lists_the_blog_and_its_posts(client, archive, blog):
    post = archive["post"]

    listed = entries(fetch(client, "/sitemap-blogs.xml"))

    assert set(listed) == {blog.get_full_url(), post.get_full_url()}
    assert listed[blog.get_full_url()]["lastmod"] == to_second(post.last_updated_at)


def test_the_authors_sitemap_lists_authors_with_stories_readers_may_see(
    client, archive, news, reporter_author
):
    from broadsheet.news.models import Author, Byline

    unpublished = Author.objects.create(name="Ann Drafts", slug="ann-drafts")
    draft = ArticlePage(title="Not yet", slug="not-yet", standfirst="Soon.", body=[])
    draft.bylines = [Byline(author=unpublished)]
    services.draft_story(parent=news, story=draft)

    listed = entries(fetch(client, "/sitemap-authors.xml"))

    newest = StoryPage.objects.order_by(F("last_updated_at").desc(nulls_last=True)).first()
    assert set(listed) == {paper("/authors/miriam-okafor/")}
    assert listed[paper("/authors/miriam-okafor/")]["lastmod"] == to_second(newest.last_updated_at)


# lastmod is the real last update --------------------------------------------------------


def month_lastmod(client, story):
    month = f"/sitemap-articles-{timezone.localtime(story.first_published_at):%Y-%m}.xml"
    return entries(fetch(client, month))[story.get_full_url()]["lastmod"]


def test_a_minor_update_leaves_lastmod_alone_and_a_real_update_moves_it(
    client, newsroom_morning, story
):
    published = to_second(story.first_published_at)
    assert month_lastmod(client, story) == published

    newsroom_morning.shift(timedelta(hours=2))
    services.revise_story(story=story, standfirst="A typo fixed.", minor_update=True)
    assert month_lastmod(client, story) == published

    newsroom_morning.shift(timedelta(hours=3))
    services.revise_story(
        story=story, standfirst="The bridge stays shut until May.", minor_update=False
    )
    updated = StoryPage.objects.get(pk=story.pk).last_updated_at
    assert updated - story.first_published_at >= timedelta(hours=5)
    assert month_lastmod(client, story) == to_second(updated)


# Google News ----------------------------------------------------------------------------


def test_the_news_sitemap_has_only_the_last_two_days_articles(
    client, newsroom_morning, make_article, make_blog_post, days_ago, urlset_schema
):
    fresh = make_article(title="Ferry strike ends", slug="ferry")
    yesterday = make_article(title="Tide record", slug="tide", published_at=days_ago(1.5))
    make_article(title="Old news", slug="old", published_at=days_ago(2.1))
    make_blog_post(title="A blog post", slug="post")

    response = fetch(client, "/sitemap-news.xml")

    urlset_schema.validate(response.content)
    listed = entries(response)
    assert list(listed) == [fresh.get_full_url(), yesterday.get_full_url()]
    assert listed[fresh.get_full_url()] | {"lastmod": None} == {
        "lastmod": None,
        "name": "The Test Courier",
        "language": "en",
        "published": to_second(fresh.first_published_at),
        "title": "Ferry strike ends",
    }


def test_news_language_is_the_papers_unless_the_story_has_its_own(
    client, newsroom_morning, make_article, settings
):
    settings.BROADSHEET_LANGUAGE = "fr"
    own = make_article(title="Sans langue", slug="fr-story")
    arabic = make_article(title="عنوان", slug="ar-story", language="ar")
    chinese = make_article(title="標題", slug="zh-story", language="zh-Hant-TW")

    listed = entries(fetch(client, "/sitemap-news.xml"))

    assert listed[own.get_full_url()]["language"] == "fr"
    assert listed[arabic.get_full_url()]["language"] == "ar"
    assert listed[chinese.get_full_url()]["language"] == "zh-tw"
    assert listed[arabic.get_full_url()]["title"] == "عنوان"


def test_news_titles_with_markup_are_escaped(client, newsroom_morning, make_article):
    story = make_article(title="<script>alert(1)</script> & more", slug="escaped")

    response = fetch(client, "/sitemap-news.xml")

    assert b"<script>" not in response.content
    assert entries(response)[story.get_full_url()]["title"] == ("<script>alert(1)</script> & more")


def test_the_news_schema_is_applied_to_news_entries(client, newsroom_morning, story, urlset_schema):
    good = fetch(client, "/sitemap-news.xml").content
    title = b"<news:title>Harbour bridge to close for repairs</news:title>"
    without_title = good.replace(title, b"")
    assert without_title != good

    urlset_schema.validate(good)
    assert not urlset_schema.is_valid(without_title)


def test_the_news_sitemap_holds_at_most_a_thousand_articles(newsroom_morning, story, monkeypatch):
    monkeypatch.setattr(sitemaps, "NEWS_LIMIT", 0)
    site = Site.objects.get(is_default_site=True)

    assert sitemaps.NewsSitemap(sitemaps.PaperAddress(site)).items() == []


# What readers may not see ----------------------------------------------------------------


def test_no_sitemap_lists_a_story_readers_may_not_see(client, newsroom):
    listed = all_sitemap_urls(client)

    assert newsroom["Public story"].get_full_url() in listed
    for title in HIDDEN:
        assert newsroom[title].url_path.split("/")[-2] not in " ".join(listed), title
    assert paper("/members/") not in listed


def test_the_other_site_lists_only_its_own_story(client, newsroom):
    listed = all_sitemap_urls(client, HTTP_HOST="other.test")

    assert set(listed) == {
        "http://other.test/",
        "http://other.test/other-news/",
        "http://other.test/other-news/other/",
        "http://other.test/authors/miriam-okafor/",
    }


# robots.txt -------------------------------------------------------------------------------


def test_robots_txt_names_the_sitemaps_and_keeps_crawlers_out_of_the_admin(client, home):
    response = client.get("/robots.txt")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    lines = response.content.decode().splitlines()
    assert f"Sitemap: {paper('/sitemap.xml')}" in lines
    assert f"Sitemap: {paper('/sitemap-news.xml')}" in lines
    assert "Disallow: /admin/" in lines
    assert "Disallow: /engagement/" in lines
    assert "Disallow: /search/" not in lines  # results carry noindex; see the file


# Hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/sitemap-articles-9999-99.xml",
        "/sitemap-articles-2026-00.xml",
        "/sitemap-articles-0000-01.xml",
        "/sitemap-articles-9999-12.xml",
        "/sitemap-articles-abc.xml",
        "/sitemap-articles-2026-11-01.xml",
        "/sitemap-articles-2025-01.xml",  # a month without stories
        "/sitemap-whatever.xml",
        "/sitemap-articles-2026-10.xml?p=-1",
        "/sitemap-articles-2026-10.xml?p=0",
        "/sitemap-articles-2026-10.xml?p=2",
        "/sitemap-articles-2026-10.xml?p=abc",
        "/sitemap-articles-2026-10.xml?p=1e9999",
        "/sitemap-articles-2026-10.xml?p=" + "9" * 400,
        "/sitemap-authors.xml?p=99999999999999999999",
        "/sitemap-news.xml?p=2",
    ],
)
def test_hostile_sitemap_addresses_are_404s(client, archive, url):
    assert client.get(url).status_code == 404


# Query budget -----------------------------------------------------------------------------


def queries_for(client, url):
    with CaptureQueriesContext(connection) as queries:
        fetch(client, url)
    return len(queries)


@pytest.mark.parametrize("url", ["month", "/sitemap-news.xml", "/sitemap.xml"])
def test_a_sitemap_costs_the_same_queries_however_many_stories(
    client, newsroom_morning, make_article, make_blog_post, url
):
    make_article()
    make_blog_post()
    if url == "month":
        url = f"/sitemap-articles-{timezone.localdate():%Y-%m}.xml"
    few = queries_for(client, url)

    for _ in range(6):
        make_article()
        make_blog_post()
    many = queries_for(client, url)

    assert many == few
    assert many <= (INDEX_QUERY_BUDGET if url == "/sitemap.xml" else SITEMAP_QUERY_BUDGET)


# Uncached, a sitemap page costs at most this many queries (today: the site, the count,
# the rows); the index, one for all the months together and one or two per other kind of
# sitemap. Raise them only with a reason.
SITEMAP_QUERY_BUDGET = 4
INDEX_QUERY_BUDGET = 8
