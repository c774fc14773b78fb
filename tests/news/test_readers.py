"""What readers may see: one rule (`for_readers`), honoured by every page and output.

Each test builds the same newsroom: one story readers may read, and one of each kind they
must never be shown (a draft, an embargoed story, an expired one, one in a section behind
a password, one on another site of the same install), then asks one output for it.
"""

from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import Site

from broadsheet.news.models import HomePage, StoryPage
from broadsheet.newsletter.composing import compose
from broadsheet.newsletter.models import DailyIssue
from tests.conftest import HIDDEN, add_section


def card_titles(response):
    assert response.status_code == 200
    soup = BeautifulSoup(response.content, "html.parser")
    return {a.get_text(strip=True) for a in soup.select(".card__headline")}


def test_only_the_public_story_is_for_readers(newsroom):
    shown = set(StoryPage.objects.for_readers().values_list("title", flat=True))

    assert "Public story" in shown
    assert shown.isdisjoint(HIDDEN)


def test_the_other_site_reads_only_its_own_stories(newsroom):
    other = Site.objects.get(hostname="other.test")

    shown = set(StoryPage.objects.for_readers(other).values_list("title", flat=True))

    assert shown == {"Other site story"}


@pytest.mark.parametrize(
    "url",
    ["/", "/news/", "/tags/harbour/", "/authors/miriam-okafor/", "/agencies/cpa/"],
    ids=["front-page", "section", "tag", "author", "agency"],
)
def test_listings_show_only_what_readers_may_see(client, newsroom, url):
    titles = card_titles(client.get(url))

    assert "Public story" in titles
    assert titles.isdisjoint(HIDDEN)


def test_the_date_archive_shows_only_what_readers_may_see(client, newsroom):
    day = timezone.localdate()

    titles = card_titles(client.get(f"/archive/{day.year}/{day.month}/{day.day}/"))

    assert "Public story" in titles
    assert titles.isdisjoint(HIDDEN)


def test_related_stories_leave_out_what_readers_may_not_see(client, newsroom, make_article):
    reader_story = make_article(title="Harbour reopens", slug="reopens", tags=("harbour",))

    related = {story.title for story in reader_story.related_stories(limit=10)}

    assert related == {"Public story"}


def test_the_daily_email_leaves_out_what_readers_may_not_see(newsroom):
    issue = DailyIssue.objects.create(date=timezone.localdate())

    composition = compose(issue, now=timezone.now() + timedelta(minutes=1))
    titles = {item.title for item in composition.top_stories}

    assert "Public story" in titles
    assert titles.isdisjoint(HIDDEN)


@pytest.mark.parametrize("title", HIDDEN)
def test_readers_cannot_vote_on_a_story_they_may_not_see(client, newsroom, title):
    response = client.get(f"/engagement/stories/{newsroom[title].pk}/state/")

    assert response.status_code == 404


def test_readers_can_vote_on_the_public_story(client, newsroom):
    response = client.get(f"/engagement/stories/{newsroom['Public story'].pk}/state/")

    assert response.status_code == 200


def test_the_other_site_serves_its_own_story_at_its_own_address(client, newsroom):
    response = client.get("/other-news/other/", HTTP_HOST="other.test")

    assert response.status_code == 200
    assert b"Other site story" in response.content


def test_links_leave_from_the_sites_own_address(newsroom):
    Site.objects.filter(is_default_site=True).update(hostname="courier.example", port=443)

    story = StoryPage.objects.for_readers().for_listing().get(title="Public story")

    assert story.get_full_url() == "https://courier.example/news/public/"
    assert story.parent_title == "News"


def queries_for(client, url):
    client.get(url)  # renditions are made on the first view
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def add_sections_with_stories(home, make_article, numbers):
    for n in numbers:
        section = add_section(home, f"Desk {n}", slug=f"desk-{n}")
        for m in range(2):
            make_article(title=f"Desk {n} story {m}", slug=f"d{n}-s{m}", parent=section)


def test_the_front_page_costs_the_same_queries_however_many_sections(
    client, home, news, make_article, make_blog_post
):
    for _ in range(8):  # more than the top stories take, so the sections' blocks have some
        make_article()
    add_sections_with_stories(home, make_article, range(1))
    make_blog_post()
    few = queries_for(client, "/")

    add_sections_with_stories(HomePage.objects.get(), make_article, range(1, 6))
    many = queries_for(client, "/")

    assert many == few
    assert many <= FRONT_PAGE_QUERY_BUDGET


# Uncached views of the front page and a section pay this many queries each, however
# many sections and stories there are. Raise them only with a reason.
FRONT_PAGE_QUERY_BUDGET = 17
SECTION_QUERY_BUDGET = 14


def test_a_section_costs_the_same_queries_however_many_stories(client, news, make_article):
    make_article()
    few = queries_for(client, "/news/")

    for n in range(8):
        make_article(tags=("council", f"t{n}"))
    many = queries_for(client, "/news/")

    assert many == few
    assert many <= SECTION_QUERY_BUDGET


@pytest.mark.parametrize(
    "url", ["/tags/council/", "/authors/miriam-okafor/", "/agencies/cpa/", "/archive/"]
)
def test_listings_cost_the_same_queries_however_many_stories(client, agency, make_article, url):
    make_article(agency=agency)
    few = queries_for(client, url)

    for _ in range(8):
        make_article(agency=agency)
    many = queries_for(client, url)

    assert many == few


def test_the_rule_in_search_form_lets_readers_see_the_same_stories(newsroom):
    other = Site.objects.get(hostname="other.test")

    for site in (None, other):
        usual = StoryPage.objects.for_readers(site)
        for_search = StoryPage.objects.for_readers(site, for_search=True)
        assert set(for_search.values_list("pk", flat=True)) == set(
            usual.values_list("pk", flat=True)
        )
