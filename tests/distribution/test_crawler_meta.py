"""What each page tells crawlers in its <head>: its canonical address, and whether it may
be indexed (broadsheet/distribution/crawlers.py has the rules and their reasons)."""

import pytest
from bs4 import BeautifulSoup
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone
from wagtail.models import PageViewRestriction, Site

from broadsheet.news.paper import root_url
from tests.conftest import add_section


def paper(path: str) -> str:
    return root_url(Site.objects.get(is_default_site=True)) + path


def head_of(response):
    assert response.status_code == 200
    head = BeautifulSoup(response.content, "html.parser").head
    canonicals = head.select('link[rel="canonical"]')
    robots = head.select('meta[name="robots"]')
    assert len(canonicals) <= 1 and len(robots) <= 1
    return (
        canonicals[0]["href"] if canonicals else None,
        robots[0]["content"] if robots else None,
    )


@pytest.fixture
def pages(newsroom_morning, home, news, world, story, make_blog_post, agency, make_article):
    """{kind of page: its path}, for one of each kind readers reach."""
    post = make_blog_post(slug="quay")
    make_article(slug="wire", agency=agency, parent=world)
    day = timezone.localdate()
    return {
        "front page": "/",
        "section": "/news/",
        "subsection": "/news/world/",
        "article": story.url,
        "blog": "/notebook/",
        "blog post": post.url,
        "tag": "/tags/council/",
        "author": "/authors/miriam-okafor/",
        "agency": "/agencies/cpa/",
        "archive": "/archive/",
        "archive month": f"/archive/{day.year}/{day.month}/",
        "archive day": f"/archive/{day.year}/{day.month}/{day.day}/",
    }


KINDS = [
    "front page",
    "section",
    "subsection",
    "article",
    "blog",
    "blog post",
    "tag",
    "author",
    "agency",
    "archive",
    "archive month",
    "archive day",
]


@pytest.mark.parametrize("kind", KINDS)
def test_every_page_names_its_absolute_address_as_canonical(client, pages, kind):
    canonical, robots = head_of(client.get(pages[kind]))

    assert canonical == paper(pages[kind])
    assert robots is None


def test_the_canonical_address_leaves_out_the_query_string(client, pages):
    canonical, _ = head_of(client.get("/news/?utm_source=newsletter&page=1"))

    assert canonical == paper("/news/")


def test_the_canonical_address_is_the_sites_not_the_requests_host(client, pages):
    Site.objects.filter(is_default_site=True).update(hostname="courier.example", port=443)

    canonical, _ = head_of(client.get("/authors/miriam-okafor/", HTTP_HOST="courier.example"))

    assert canonical == "https://courier.example/authors/miriam-okafor/"


@pytest.mark.parametrize("path", ["/news/", "/tags/council/", "/authors/miriam-okafor/"])
def test_page_two_of_a_listing_is_its_own_canonical_and_not_indexed(
    client, pages, settings, make_article, path
):
    settings.BROADSHEET_LISTING_PAGE_SIZE = 1
    make_article()

    canonical, robots = head_of(client.get(path + "?page=2&utm_source=x"))

    assert canonical == paper(path + "?page=2")
    assert robots == "noindex, follow"


def test_a_page_number_that_is_not_a_number_is_the_first_page(client, pages):
    canonical, robots = head_of(client.get("/news/?page=abc"))

    assert canonical == paper("/news/")
    assert robots is None


@pytest.mark.parametrize("page", ["-1", "0", "99999999999999999999", "1e9999"])
def test_hostile_page_numbers_never_fail(client, pages, page):
    response = client.get(f"/news/?page={page}")

    assert response.status_code in (200, 404)


def test_a_preview_is_not_indexed_and_names_no_canonical(pages, story):
    response = story.make_preview_request()
    response.render()

    canonical, robots = head_of(response)

    assert robots == "noindex"
    assert canonical is None


def test_a_password_form_is_not_indexed(client, home, make_article):
    members = add_section(home, "Members")
    PageViewRestriction.objects.create(
        page=members, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    guarded = make_article(title="Members' story", slug="members-only", parent=members)

    response = client.get(guarded.url)

    canonical, robots = head_of(response)
    assert robots == "noindex"
    assert canonical is None
    assert b"Members&#x27; story" not in response.content
    assert b"Members' story" not in response.content


def test_the_sign_in_page_for_login_restrictions_is_not_indexed(client, home):
    canonical, robots = head_of(client.get("/_util/login/"))

    assert robots == "noindex"
    assert canonical is None


# The contract with views: `robots` and `canonical_url` in the context win.


def render_meta(context):
    request = RequestFactory().get("/search/?q=harbour")
    request.resolver_match = None
    html = Template('{% include "distribution/crawler_meta.html" %}').render(
        Context({"request": request, **context})
    )
    return head_of_fragment(html)


def head_of_fragment(html):
    soup = BeautifulSoup(html, "html.parser")
    canonical = soup.select_one('link[rel="canonical"]')
    robots = soup.select_one('meta[name="robots"]')
    return (canonical["href"] if canonical else None, robots["content"] if robots else None)


def test_a_views_robots_and_canonical_url_win(home):
    canonical, robots = render_meta({"robots": "noindex, follow", "canonical_url": "/search/"})

    assert canonical == paper("/search/")
    assert robots == "noindex, follow"


def test_a_canonical_url_is_escaped(home):
    canonical, _ = render_meta({"canonical_url": '/x/"><script>alert(1)</script>'})

    assert canonical == paper('/x/"><script>alert(1)</script>')


def test_search_results_are_not_indexed_even_if_the_view_forgets(client, home):
    response = client.get("/search/?q=harbour")

    _, robots = head_of(response)
    assert robots.startswith("noindex")
