"""Pages readers share: kept whole (the embedded page cache, or Varnish through the same
headers), and purged by exactly the changes that alter what they show."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from wagtail.models import PageViewRestriction

from broadsheet.engagement import services as engagement
from broadsheet.news import services
from broadsheet.news.cache_keys import agency_key, author_key, listing_key, story_key, tag_key
from broadsheet.news.models import Author


@pytest.fixture(autouse=True)
def committed_at_once(monkeypatch):
    """Each test runs in one transaction that never commits: run what waits for the
    commit (purges, `story_changed`) straight away instead."""
    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )


@pytest.fixture
def page_cache(settings):
    settings.BROADSHEET_PAGE_CACHE = True


def directives(response) -> dict[str, str]:
    parts = [part.strip() for part in response.get("Cache-Control", "").split(",") if part]
    return dict(part.split("=", 1) if "=" in part else (part, "") for part in parts)


def served(client, url):
    """(response, queries): a page cache hit answers without one."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return response, len(queries)


def test_an_article_is_shared_with_the_keys_of_everything_it_shows(client, make_article):
    neighbour = make_article()
    story = make_article()

    response = client.get(story.url)

    assert directives(response) == {"public": "", "max-age": "0", "s-maxage": "300"}
    keys = set(response["xkey"].split())
    assert {story_key(story.pk), f"c{story.pk}", "nav", story_key(neighbour.pk)} <= keys
    assert author_key(story.bylines.first().author_id) in keys


@pytest.mark.parametrize(
    "url", ["/", "/news/", "/tags/council/", "/feeds/rss.xml", "/sitemap-news.xml"]
)
def test_listings_feeds_and_sitemaps_are_shared_too(client, make_article, url):
    make_article()

    response = client.get(url)

    assert response.status_code == 200
    assert "public" in directives(response) and "s-maxage" in directives(response)
    assert response["xkey"]


def test_what_is_one_readers_own_is_never_shared(client, make_article):
    story = make_article()

    state = client.get(f"/engagement/stories/{story.pk}/state/")
    form = client.get(f"/engagement/stories/{story.pk}/comments/new/")

    for response in (state, form):
        assert "public" not in directives(response)
        assert "xkey" not in response


def test_a_signed_in_editor_gets_a_fresh_page_not_a_shared_one(
    client, page_cache, make_article, admin_user
):
    story = make_article()
    client.get(story.url)  # a reader's visit keeps a copy
    client.force_login(admin_user)

    response, queries = served(client, story.url)

    assert "public" not in directives(response)
    assert queries > 0


def test_the_page_cache_answers_a_second_reader_without_the_database(
    client, page_cache, make_article
):
    story = make_article()
    first, first_queries = served(client, story.url)

    second, second_queries = served(client, story.url)

    assert first_queries > 0 and second_queries == 0
    assert second.content == first.content
    assert second["Content-Security-Policy"] == first["Content-Security-Policy"]


def test_a_readers_cookie_does_not_stop_the_shared_copy(client, page_cache, make_article):
    story = make_article()
    client.get(story.url)
    client.cookies["bs_reader"] = "a" * 32

    _, queries = served(client, story.url)

    assert queries == 0


def test_publishing_an_update_shows_on_the_article_and_every_listing_at_once(
    client, page_cache, make_article
):
    story = make_article(standfirst="Ten homes were evacuated.")
    for url in (story.url, "/", "/news/", "/tags/council/", "/feeds/rss.xml"):
        assert b"Ten homes" in client.get(url).content

    services.revise_story(story=story, standfirst="Forty homes were evacuated.")

    for url in (story.url, "/", "/news/", "/tags/council/", "/feeds/rss.xml"):
        content = client.get(url).content
        assert b"Forty homes" in content and b"Ten homes" not in content, url


def test_a_withdrawn_story_vanishes_from_its_page_and_from_other_stories(
    client, page_cache, make_article
):
    withdrawn = make_article(title="Councillor named in inquiry")
    other = make_article()
    assert b"Councillor named" in client.get(other.url).content  # as a related story
    url = withdrawn.url
    assert client.get(url).status_code == 200

    services.withdraw_story(story=withdrawn)

    assert client.get(url).status_code == 404
    assert b"Councillor named" not in client.get(other.url).content
    assert b"Councillor named" not in client.get("/").content


def test_a_new_story_appears_on_its_section_and_tag_pages(client, page_cache, make_article):
    make_article()
    client.get("/news/")
    client.get("/tags/council/")

    make_article(title="Bridge closes for repairs")

    assert b"Bridge closes" in client.get("/news/").content
    assert b"Bridge closes" in client.get("/tags/council/").content


def test_a_published_comment_refreshes_its_story_page_and_nothing_else(
    client, page_cache, make_article
):
    story = make_article()
    client.get(story.url)
    client.get("/")

    engagement.post_comment(
        story=story,
        name="Ada",
        email="ada@example.com",
        body="The new opening hours are welcome.",
        reader="r" * 32,
        address="203.0.113.9",
    )

    assert b"The new opening hours are welcome." in client.get(story.url).content
    _, home_queries = served(client, "/")
    assert home_queries == 0  # the front page was not purged


def test_a_vote_purges_nothing(client, page_cache, make_article):
    story = make_article()
    client.get(story.url)

    engagement.cast_vote(story=story, reader="v" * 32, stars=5, address="203.0.113.9")

    _, queries = served(client, story.url)
    assert queries == 0  # the page script fetches the fresh tally


def test_renaming_an_author_refreshes_every_byline(client, page_cache, make_article):
    story = make_article()
    client.get(story.url)
    author = Author.objects.get(pk=story.bylines.first().author_id)

    author.name = "Ruth Adeyemi-Clarke"
    author.save()

    assert b"Ruth Adeyemi-Clarke" in client.get(story.url).content


def test_a_story_change_names_every_listing_it_belongs_to(make_article, world, agency):
    story = make_article(parent=world, tags=("floods", "council"), agency=agency)

    keys = services.keys_for_story(story)

    ancestors = story.get_ancestors().filter(depth__gt=1)
    assert {listing_key(page.pk) for page in ancestors} <= keys  # home, News, World
    assert {tag_key(tag.pk) for tag in story.tags.all()} <= keys
    assert {story_key(story.pk), agency_key(agency.pk), "sitemaps", "archive"} <= keys
    assert author_key(story.bylines.first().author_id) in keys


def test_no_shared_copy_outlives_the_date_in_the_masthead(client, make_article):
    london = ZoneInfo("Europe/London")
    today = timezone.now().astimezone(london).date()
    # Half a minute before the newsroom's midnight, the story published then and there.
    just_before_midnight = datetime.combine(today, time(23, 59, 30), tzinfo=london)

    with time_machine.travel(just_before_midnight, tick=False):
        story = make_article()
        response = client.get(story.url)

    assert int(directives(response)["s-maxage"]) <= 31


@override_settings(BROADSHEET_SHARE_SECONDS={"story": 0, "listing": 0, "feed": 0, "search": 0})
def test_a_newsroom_can_turn_sharing_down_to_nothing(client, page_cache, make_article):
    story = make_article()
    client.get(story.url)

    response, queries = served(client, story.url)

    assert directives(response)["s-maxage"] == "0"
    assert queries > 0


def headline(html) -> str:
    return BeautifulSoup(html, "html.parser").select_one("h1.story__headline").get_text()


def test_an_editors_preview_neither_uses_nor_leaves_a_readers_copy(client, make_article):
    story = make_article(title="Harbour wall repaired")
    draft = story.get_latest_revision_as_object()
    draft.title = "Harbour wall repaired after storm"

    before = draft.make_preview_request().rendered_content
    reader = client.get(story.url).content
    after = draft.make_preview_request().rendered_content

    assert headline(before) == headline(after) == "Harbour wall repaired after storm"
    assert headline(reader) == "Harbour wall repaired"


def test_putting_a_section_behind_a_password_takes_its_shared_pages_down(
    client, page_cache, make_article, news
):
    story = make_article()
    assert client.get(story.url).status_code == 200

    PageViewRestriction.objects.create(
        page=news, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )

    response = client.get(story.url)
    assert b"story__headline" not in response.content  # the password form instead
