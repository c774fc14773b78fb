"""schema.org JSON-LD, read back with extruct and checked against what the page shows."""

from datetime import date, datetime
from urllib.parse import urljoin
from zoneinfo import ZoneInfo

import extruct
import pytest
from bs4 import BeautifulSoup
from django.contrib.staticfiles import finders
from PIL import Image

from broadsheet.distribution.structured_data import to_json_ld
from broadsheet.news import services
from broadsheet.news.models import Author, Byline, Correction
from broadsheet.news.paper import root_url

HOSTILE = "</script><script>alert(1)</script>"


def read(client, url):
    """(JSON-LD items, the page's soup): what a crawler reads, and what a reader sees."""
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    data = extruct.extract(html, base_url=root_url() + "/", syntaxes=["json-ld"])["json-ld"]
    return data, BeautifulSoup(html, "html.parser")


@pytest.fixture
def base(home):
    """The address the site's links resolve against (its Site's, not the test client's)."""
    return root_url() + "/"


def node(data, kind):
    """The one node of type `kind` in the page's JSON-LD graph."""
    (item,) = data  # one <script type="application/ld+json"> per page
    found = [n for n in item["@graph"] if n["@type"] == kind]
    assert len(found) == 1, [n["@type"] for n in item["@graph"]]
    return found[0]


def moment(text):
    return datetime.fromisoformat(text)


@pytest.fixture
def corrected_story(newsroom_morning, world, make_article, agency, photo):
    """A story in a nested section, by two staff and an agency, tagged and corrected."""
    story = make_article(
        parent=world,
        agency=agency,
        tags=("harbour", "council"),
        dateline="Beirut",
        corrections=[
            Correction(date=date(2026, 11, 20), note="Misspelled the minister's name."),
            Correction(date=date(2026, 11, 24), note="The vote was 7-2, not 7-3."),
        ],
    )
    second = Author.objects.create(name="Tomasz Wilk", slug="tomasz-wilk", role="")
    Byline.objects.create(story=story, author=second, sort_order=1)
    services.backdate_story(
        story=story,
        published_at=datetime(2026, 11, 19, 22, 30, tzinfo=ZoneInfo("UTC")),
        updated_at=datetime(2026, 11, 24, 9, 15, tzinfo=ZoneInfo("UTC")),
    )
    return story


def test_the_article_is_a_news_article_that_says_what_the_page_shows(client, corrected_story):
    data, page = read(client, corrected_story.url)
    article = node(data, "NewsArticle")

    assert article["headline"] == page.select_one("h1.story__headline").get_text()
    assert article["description"] == page.select_one(".story__standfirst").get_text()
    published = page.select_one(".story__published")["datetime"]
    updated = page.select_one(".story__updated")["datetime"]
    assert moment(article["datePublished"]) == moment(published)
    assert moment(article["dateModified"]) == moment(updated)
    assert moment(article["dateModified"]) > moment(article["datePublished"])
    assert article["dateline"].upper() == page.select_one(".dateline bdi").get_text()
    crumbs = page.select(".breadcrumb li a")
    assert article["articleSection"] == crumbs[-1].get_text()
    assert sorted(article["keywords"]) == sorted(
        a.get_text() for a in page.select(".story__tags a")
    )
    assert article["url"] == article["mainEntityOfPage"]["@id"]
    assert article["url"] == page.select_one("link[rel=canonical]")["href"]
    assert article["inLanguage"] == page.html["lang"].lower()


def test_the_byline_is_people_then_the_agency_as_on_the_page(client, corrected_story, base):
    data, page = read(client, corrected_story.url)
    authors = node(data, "NewsArticle")["author"]
    links = page.select(".story__byline a")

    assert [a["@type"] for a in authors] == ["Person", "Person", "Organization"]
    shown = [a.get("alternateName", a["name"]) for a in authors]
    assert shown == [link.get_text() for link in links]
    assert [a["url"] for a in authors] == [urljoin(base, link["href"]) for link in links]
    assert authors[0]["jobTitle"] == "City reporter"
    assert authors[2]["name"] == "Continental Press Agency"


def test_an_agency_story_is_by_an_organization(client, make_article, agency):
    story = make_article(agency=agency)
    Byline.objects.filter(story=story).delete()

    data, page = read(client, story.url)

    (author,) = node(data, "NewsArticle")["author"]
    assert author["@type"] == "Organization"
    assert author["alternateName"] == page.select_one(".story__byline a").get_text() == "CPA"


def test_the_breadcrumb_list_matches_the_visible_breadcrumb(client, corrected_story, base):
    data, page = read(client, corrected_story.url)
    items = node(data, "BreadcrumbList")["itemListElement"]
    visible = page.select(".breadcrumb li a")

    assert (
        [i["name"] for i in items] == [a.get_text() for a in visible] == ["Home", "News", "World"]
    )
    assert [i["item"] for i in items] == [urljoin(base, a["href"]) for a in visible]
    assert [i["position"] for i in items] == [1, 2, 3]


def test_corrections_are_correction_comments_with_their_dates(client, corrected_story):
    data, page = read(client, corrected_story.url)
    corrections = node(data, "NewsArticle")["correction"]
    shown = page.select(".story__corrections li")

    assert [c["@type"] for c in corrections] == ["CorrectionComment"] * 2
    assert [(c["text"], c["datePublished"]) for c in corrections] == [
        (li.span.get_text(), li.time["datetime"]) for li in shown
    ]


def test_an_editors_preview_carries_the_drafts_new_correction(make_article):
    story = make_article(corrections=[Correction(date=date(2026, 11, 1), note="Old one.")])
    draft = story.get_latest_revision_as_object()
    draft.corrections = [*draft.corrections.all(), Correction(date=date(2026, 11, 5), note="New.")]

    response = draft.make_preview_request()

    assert response.status_code == 200
    html = response.content.decode()
    data = extruct.extract(html, base_url=root_url() + "/", syntaxes=["json-ld"])["json-ld"]
    corrections = node(data, "NewsArticle")["correction"]
    assert [c["text"] for c in corrections] == ["Old one.", "New."]
    shown = BeautifulSoup(html, "html.parser").select(".story__corrections li span")
    assert [span.get_text() for span in shown] == ["Old one.", "New."]


def test_a_story_without_corrections_has_no_correction(client, make_article):
    data, _page = read(client, make_article().url)

    assert "correction" not in node(data, "NewsArticle")


def test_the_publisher_is_the_paper_with_its_logo(client, corrected_story, base):
    data, page = read(client, corrected_story.url)
    publisher = node(data, "NewsArticle")["publisher"]

    assert publisher["@type"] == "NewsMediaOrganization"
    assert publisher["name"] == page.select_one(".masthead__title").get_text() == "The Test Courier"
    assert publisher["url"] == base
    logo = publisher["logo"]
    assert logo["url"].startswith(base) and logo["url"].endswith(".png")
    with Image.open(finders.find("broadsheet/logo.png")) as png:
        assert (logo["width"], logo["height"]) == png.size
    assert min(png.size) >= 112  # Google's least size for a logo


def test_the_lead_photo_comes_in_three_shapes_with_caption_and_credit(
    client, corrected_story, photo, base
):
    data, page = read(client, corrected_story.url)
    images = node(data, "NewsArticle")["image"]

    # The test photo is 1600x900: 16x9 and 4x3 at 1200 wide, the square as large as it
    # allows (fill never enlarges).
    assert [(i["width"], i["height"]) for i in images] == [(1200, 675), (1200, 900), (900, 900)]
    for image in images:
        assert image["url"].startswith(base + "media/")
        assert image["caption"] == "The old library on Mill Lane"
        assert image["creditText"] == photo.credit
    assert f"({photo.credit})" in page.select_one(".story__lead-photo figcaption").get_text()


def test_a_story_without_a_photo_has_no_image(client, make_article):
    data, _page = read(client, make_article(lead_photo=None).url)

    assert "image" not in node(data, "NewsArticle")


def test_a_blog_post_is_a_blog_posting(client, make_blog_post):
    post = make_blog_post()
    data, page = read(client, post.url)

    posting = node(data, "BlogPosting")
    assert posting["headline"] == page.select_one("h1").get_text()
    assert posting["articleSection"] == "Northgate Notebook"
    assert [i["name"] for i in node(data, "BreadcrumbList")["itemListElement"]] == [
        a.get_text() for a in page.select(".breadcrumb li a")
    ]


def test_a_headline_with_script_stays_inside_the_json(client, make_article):
    story = make_article(title=HOSTILE, standfirst="A & B <b>bold</b>")
    html = client.get(story.url).content.decode()
    data, page = read(client, story.url)

    article = node(data, "NewsArticle")
    assert article["headline"] == HOSTILE
    assert article["description"] == "A & B <b>bold</b>"
    assert "<script>alert(1)" not in html
    scripts = page.find_all("script")
    assert [s for s in scripts if "alert" in s.get_text()] == [
        page.find("script", type="application/ld+json")
    ]


def test_to_json_ld_escapes_what_could_end_a_script_element():
    written = to_json_ld({"headline": "</script><!-- & -->"})

    assert "<" not in written and ">" not in written and "&" not in written
    assert written == '{"headline": "\\u003C/script\\u003E\\u003C!-- \\u0026 --\\u003E"}'


def test_the_front_page_says_what_the_site_is(client, home, base):
    data, _page = read(client, "/")

    site = node(data, "WebSite")
    assert (site["name"], site["url"]) == ("The Test Courier", base)
    assert node(data, "NewsMediaOrganization")["logo"]["url"].endswith(".png")


@pytest.mark.parametrize("path", ["/news/", "/corrections/", "/tags/council/"])
def test_listings_are_collection_pages(client, make_article, path):
    make_article(corrections=[Correction(date=date(2026, 11, 1), note="A name.")])
    data, page = read(client, path)

    collection = node(data, "CollectionPage")
    assert collection["url"] == page.select_one("link[rel=canonical]")["href"]
    assert collection["name"] in page.title.get_text()


# Query budget: the JSON-LD is rendered inside the article page's fixed budget, pinned by
# tests/news/test_article_page.py (ARTICLE_QUERY_BUDGET, small and large stories) and
# tests/news/test_corrections.py (however many corrections).
