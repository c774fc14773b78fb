"""The pages readers browse: the front page, sections, blogs, authors, agencies, tags, archive."""

from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup
from django.test import override_settings

from broadsheet.news.models import HomeTopStory
from tests.conftest import add_section


def headlines(response):
    soup = BeautifulSoup(response.content, "html.parser")
    return [a.get_text() for a in soup.select(".card__headline a")]


def test_front_page_leads_with_the_newest_story_then_top_stories_and_sections(
    client, home, news, make_article, make_blog_post, days_ago
):
    older = make_article(title="Older story", published_at=days_ago(2))
    newest = make_article(title="Newest story", published_at=days_ago(0.1))
    post = make_blog_post(title="Notes from the quay")

    response = client.get("/")
    soup = BeautifulSoup(response.content, "html.parser")

    assert response.status_code == 200
    assert soup.select_one(".front__lead .card__headline").get_text() == newest.title
    assert older.title in [h.get_text() for h in soup.select(".front__top-list .card__headline")]
    assert post.title in [h.get_text() for h in soup.select(".front__blogs .card__headline")]
    assert soup.select_one("[data-slot=newsletter] input[type=email]") is not None


def test_editors_picks_lead_and_order_the_front_page(client, home, make_article, days_ago):
    pick_lead = make_article(title="Editor's lead", published_at=days_ago(5))
    pick_two = make_article(title="Second pick", published_at=days_ago(4))
    make_article(title="Newest but not picked", published_at=days_ago(0.1))
    home.lead_story = pick_lead
    home.top_stories = [HomeTopStory(story=pick_two)]
    home.save_revision().publish()

    soup = BeautifulSoup(client.get("/").content, "html.parser")

    assert soup.select_one(".front__lead .card__headline").get_text() == "Editor's lead"
    top = [h.get_text() for h in soup.select(".front__top-list .card__headline")]
    assert top[:2] == ["Second pick", "Newest but not picked"]


def test_a_story_appears_once_on_the_front_page(client, home, news, make_article):
    for _ in range(3):
        make_article()

    titles = headlines(client.get("/"))

    assert len(titles) == len(set(titles)) == 3


def test_front_page_of_an_empty_paper_says_so(client, home):
    response = client.get("/")

    assert response.status_code == 200
    assert b"No stories have been published yet." in response.content


def test_section_lists_its_own_and_its_subsections_stories_newest_first(
    client, news, world, make_article, days_ago
):
    local = make_article(title="Local story", published_at=days_ago(3))
    abroad = make_article(parent=world, title="World story", published_at=days_ago(1))

    assert headlines(client.get("/news/")) == [abroad.title, local.title]
    assert headlines(client.get("/news/world/")) == [abroad.title]


@override_settings(BROADSHEET_LISTING_PAGE_SIZE=2)
def test_section_paginates_and_bad_page_numbers_never_fail(client, news, make_article, days_ago):
    for day in range(5):
        make_article(title=f"Story {day}", published_at=days_ago(day))

    assert headlines(client.get("/news/")) == ["Story 0", "Story 1"]
    assert headlines(client.get("/news/?page=3")) == ["Story 4"]
    assert headlines(client.get("/news/?page=abc")) == ["Story 0", "Story 1"]
    assert client.get("/news/?page=4").status_code == 404
    assert client.get("/news/?page=-1").status_code == 404
    assert client.get("/news/?page=99999999999999999999999").status_code == 404
    assert client.get("/news/?page=%00").status_code == 200


def test_blog_lists_its_posts_and_writers(client, blog, make_blog_post):
    post = make_blog_post(title="The bench on Chapel Street")

    response = client.get(blog.url)

    assert headlines(response) == [post.title]
    assert b"Written by" in response.content and b"Miriam Okafor" in response.content


def test_blog_post_page_has_the_story_elements(client, make_blog_post):
    post = make_blog_post(title="Coffee and cardamom")
    soup = BeautifulSoup(client.get(post.url).content, "html.parser")

    assert soup.h1.get_text() == "Coffee and cardamom"
    assert [a.get_text() for a in soup.select(".breadcrumb a")] == ["Home", "Northgate Notebook"]
    assert soup.select_one(".story__byline").get_text().strip().startswith("By Miriam Okafor")


def test_author_page_lists_articles_and_blog_posts(
    client, reporter_author, make_article, make_blog_post
):
    article = make_article(title="An article")
    post = make_blog_post(title="A blog post")

    response = client.get("/authors/miriam-okafor/")

    assert response.status_code == 200
    assert set(headlines(response)) == {article.title, post.title}
    assert b"City reporter" in response.content


def test_agency_page_lists_its_copy_only(client, agency, make_article):
    wire = make_article(title="Wire story", agency=agency)
    make_article(title="Staff story")

    assert headlines(client.get("/agencies/cpa/")) == [wire.title]


def test_tag_page_lists_tagged_stories(client, make_article, make_blog_post):
    tagged = make_article(title="Tagged", tags=("floods",))
    make_article(title="Untagged", tags=("roads",))

    assert headlines(client.get("/tags/floods/")) == [tagged.title]


@override_settings(TIME_ZONE="Europe/London")
def test_archive_by_year_month_and_day(client, make_article):
    july = make_article(title="July story", published_at=datetime(2026, 7, 4, 12, tzinfo=UTC))
    make_article(title="March story", published_at=datetime(2026, 3, 1, 9, tzinfo=UTC))

    assert set(headlines(client.get("/archive/2026/"))) == {"July story", "March story"}
    assert headlines(client.get("/archive/2026/7/")) == [july.title]
    assert headlines(client.get("/archive/2026/7/4/")) == [july.title]
    assert headlines(client.get("/archive/2026/7/5/")) == []
    index = client.get("/archive/").content.decode()
    assert "/archive/2026/7/" in index and "/archive/2026/3/" in index


@override_settings(TIME_ZONE="Asia/Amman")
def test_archive_days_follow_the_newsroom_time_zone(client, make_article):
    # 22:30 UTC on 4 July is 01:30 on 5 July in Amman.
    make_article(title="Late story", published_at=datetime(2026, 7, 4, 22, 30, tzinfo=UTC))

    assert headlines(client.get("/archive/2026/7/5/")) == ["Late story"]
    assert headlines(client.get("/archive/2026/7/4/")) == []


@pytest.mark.parametrize(
    "url",
    [
        "/archive/2026/13/",
        "/archive/2026/2/30/",
        "/archive/2026/0/",
        "/archive/0/",
        "/archive/99999/",
        "/archive/2026/99999999999999999999/",
        "/archive/abc/",
        "/authors/nobody/",
        "/agencies/nobody/",
        "/tags/nothing/",
        "/no-such-page/",
        "/news/no-such-story/",
        "/news/%3Cscript%3E/",
    ],
)
def test_unknown_or_impossible_addresses_give_the_styled_404(client, home, news, url):
    response = client.get(url)

    assert response.status_code == 404
    assert "We can’t find that page".encode() in response.content
    assert b'class="masthead"' in response.content


def test_empty_listing_says_so(client, home):
    add_section(home, "Culture")

    response = client.get("/culture/")

    assert response.status_code == 200
    assert b"No stories in this section yet." in response.content


def test_dates_read_one_way_on_cards_and_bylines(client, news, make_article):
    story = make_article(
        title="Ferry strike ends", published_at=datetime(2026, 12, 1, 8, 23, tzinfo=UTC)
    )

    card = BeautifulSoup(client.get(news.url).content, "html.parser").select_one(".card__meta")
    page = BeautifulSoup(client.get(story.url).content, "html.parser")

    assert card.time.get_text() == "1 Dec 2026"
    assert page.select_one(".story__published").get_text() == "1 Dec 2026, 08:23"
