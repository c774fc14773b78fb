"""The paper's feeds, read back the way feed readers read them: RSS and Atom through
feedparser (which must find nothing wrong: `bozo == 0`), JSON Feed against the 1.1
specification's required fields."""

import calendar
import json
from datetime import date, datetime, timedelta

import feedparser
import pytest
from bs4 import BeautifulSoup
from django.core.files.images import ImageFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail.models import Site

from broadsheet.distribution.feeds import LEAD_PHOTO_RENDITION
from broadsheet.news import services
from broadsheet.news.models import ArticlePage, Photo
from tests.conftest import HIDDEN, NEWSROOM_MORNING, paragraph

FORMATS = ["rss.xml", "atom.xml", "feed.json"]
XML_FORMATS = ["rss.xml", "atom.xml"]
ROOT = "http://127.0.0.1:8000"

# Where each kind of feed lives, for the `listed` newsroom below.
FEEDS = {
    "front": "/feeds/",
    "section": "/feeds/sections/news/",
    "subsection": "/feeds/sections/news/world/",
    "tag": "/feeds/tags/harbour/",
    "author": "/feeds/authors/miriam-okafor/",
    "agency": "/feeds/agencies/cpa/",
    "blog": "/feeds/blogs/notebook/",
}


@pytest.fixture
def listed(newsroom_morning, world, agency, make_article, make_blog_post):
    """A wire story in News › World, a staff story in News, and a blog post."""
    wire = make_article(
        title="Ferry strike ends after talks",
        slug="ferry-strike",
        parent=world,
        agency=agency,
        tags=("harbour", "transport"),
        published_at=NEWSROOM_MORNING - timedelta(hours=3),
    )
    services.backdate_story(
        story=wire,
        published_at=NEWSROOM_MORNING - timedelta(hours=3),
        updated_at=NEWSROOM_MORNING - timedelta(hours=1),
    )
    staff = make_article(
        title="Library opens on Sundays",
        slug="library-sundays",
        published_at=NEWSROOM_MORNING - timedelta(hours=2),
    )
    post = make_blog_post(title="Dawn at the quay", slug="dawn")
    return {"wire": wire, "staff": staff, "post": post}


def fetch(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, (url, response.status_code)
    return response


def parse(response):
    """feedparser's reading of an RSS or Atom response, which it must find faultless."""
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    return parsed


def assert_json_feed_1_1(document):
    """What https://www.jsonfeed.org/version/1.1/ requires of a feed and its items."""
    assert document["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(document["title"], str) and document["title"]
    assert isinstance(document["items"], list)
    for key in ("home_page_url", "feed_url"):
        assert document[key].startswith("http")
    for item in document["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        for author in item.get("authors", []):
            assert isinstance(author, dict) and author["name"]
        for attachment in item.get("attachments", []):
            assert attachment["url"] and attachment["mime_type"]
    for hub in document.get("hubs", []):
        assert hub["type"] and hub["url"]


def titles(response, filename):
    if filename == "feed.json":
        document = json.loads(response.content)
        assert_json_feed_1_1(document)
        return [item["title"] for item in document["items"]]
    return [entry.title for entry in parse(response).entries]


def timestamp(value: str) -> int:
    return int(datetime.fromisoformat(value).timestamp())


# Every feed, in every format --------------------------------------------------------


@pytest.mark.parametrize("filename", FORMATS)
@pytest.mark.parametrize("kind", FEEDS)
def test_every_feed_reads_without_errors(client, listed, kind, filename):
    response = fetch(client, FEEDS[kind] + filename)

    assert titles(response, filename)
    expected_type = {
        "rss.xml": "application/rss+xml",
        "atom.xml": "application/atom+xml",
        "feed.json": "application/feed+json",
    }[filename]
    assert response["Content-Type"].startswith(expected_type)


WIRE, STAFF, POST = "Ferry strike ends after talks", "Library opens on Sundays", "Dawn at the quay"


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("front", {WIRE, STAFF, POST}),
        ("section", {WIRE, STAFF}),  # and its subsections' stories
        ("subsection", {WIRE}),
        ("tag", {WIRE}),
        ("author", {WIRE, STAFF, POST}),
        ("agency", {WIRE}),
        ("blog", {POST}),
    ],
)
def test_each_feed_lists_its_own_stories(client, listed, kind, expected):
    assert set(titles(fetch(client, FEEDS[kind] + "rss.xml"), "rss.xml")) == expected


def test_a_feed_lists_the_newest_stories_first_up_to_the_feed_length(client, listed, settings):
    settings.BROADSHEET_FEED_LENGTH = 2

    shown = titles(fetch(client, "/feeds/atom.xml"), "atom.xml")

    # The blog post was published at the newsroom's morning, the others before it.
    assert shown == ["Dawn at the quay", "Library opens on Sundays"]


# What each item carries -------------------------------------------------------------


def test_an_item_carries_the_story_as_the_page_shows_it(client, listed, photo):
    wire = listed["wire"]
    rendition = photo.get_rendition(LEAD_PHOTO_RENDITION)
    link = f"{ROOT}/news/world/ferry-strike/"

    for filename in XML_FORMATS:
        parsed = parse(fetch(client, "/feeds/" + filename))
        entry = next(e for e in parsed.entries if e.title == "Ferry strike ends after talks")

        assert entry.link == link
        assert entry.id == f"urn:uuid:{wire.translation_key}"
        assert calendar.timegm(entry.published_parsed) == int(wire.first_published_at.timestamp())
        assert [a["name"] for a in entry.authors] == ["Miriam Okafor", "CPA"]
        assert {tag.term for tag in entry.tags} == {"harbour", "transport"}
        assert entry.summary == "The branch will reopen next spring with longer hours."
        assert "The council voted on Tuesday" in entry.content[0].value
        (enclosure,) = entry.enclosures
        assert enclosure.href == ROOT + rendition.url
        assert int(enclosure.length) == rendition.file.size
        assert enclosure.type == "image/jpeg"
        (media,) = entry.media_content
        assert (media["width"], media["height"]) == ("1200", "675")
        assert entry.media_credit == [{"content": "Courier photo"}]
    assert not parsed.entries[0].get("guidislink")

    atom = parse(fetch(client, "/feeds/atom.xml"))
    entry = next(e for e in atom.entries if e.title == "Ferry strike ends after talks")
    assert calendar.timegm(entry.updated_parsed) == int(wire.last_updated_at.timestamp())
    assert entry.updated_parsed != entry.published_parsed


def test_a_json_feed_item_carries_the_story(client, listed, photo):
    wire = listed["wire"]
    rendition = photo.get_rendition(LEAD_PHOTO_RENDITION)

    document = json.loads(fetch(client, "/feeds/feed.json").content)
    item = next(i for i in document["items"] if i["title"] == "Ferry strike ends after talks")

    assert item["id"] == f"urn:uuid:{wire.translation_key}"
    assert item["url"] == f"{ROOT}/news/world/ferry-strike/"
    assert timestamp(item["date_published"]) == int(wire.first_published_at.timestamp())
    assert timestamp(item["date_modified"]) == int(wire.last_updated_at.timestamp())
    assert item["authors"] == [{"name": "Miriam Okafor"}, {"name": "CPA"}]
    assert sorted(item["tags"]) == ["harbour", "transport"]
    assert item["summary"] == "The branch will reopen next spring with longer hours."
    assert "The council voted on Tuesday" in item["content_html"]
    assert item["image"] == ROOT + rendition.url
    assert item["attachments"] == [
        {
            "url": ROOT + rendition.url,
            "mime_type": "image/jpeg",
            "size_in_bytes": rendition.file.size,
            "title": "The old library on Mill Lane (Courier photo)",
        }
    ]


def test_a_story_keeps_its_guid_when_renamed_and_moved(client, listed, home):
    from tests.conftest import add_section

    wire = listed["wire"]
    guid = f"urn:uuid:{wire.translation_key}"

    services.revise_story(story=ArticlePage.objects.get(pk=wire.pk), title="Ferry strike over")
    sport = add_section(home, "Sport")
    ArticlePage.objects.get(pk=wire.pk).move(sport, pos="last-child")

    parsed = parse(fetch(client, "/feeds/rss.xml"))
    entry = next(e for e in parsed.entries if e.id == guid)
    assert entry.title == "Ferry strike over"
    assert entry.link == f"{ROOT}/sport/ferry-strike/"
    atom = parse(fetch(client, "/feeds/atom.xml"))
    assert guid in {e.id for e in atom.entries}
    document = json.loads(fetch(client, "/feeds/feed.json").content)
    assert guid in {i["id"] for i in document["items"]}


def test_full_text_has_real_links_and_pictures_from_the_sites_address(
    client, newsroom_morning, news, photo, make_article
):
    body = [
        paragraph(f'Read <a linktype="page" id="{news.pk}">our news</a> first.'),
        {"type": "photo", "value": {"photo": photo.pk, "caption": "The quay"}},
    ]
    make_article(title="Linked story", slug="linked", body=body)

    document = json.loads(fetch(client, "/feeds/feed.json").content)
    html = document["items"][0]["content_html"]
    rss = parse(fetch(client, "/feeds/rss.xml")).entries[0].content[0].value

    for text in (html, rss):
        soup = BeautifulSoup(text, "html.parser")
        assert soup.find("a", string="our news")["href"] == f"{ROOT}/news/"
        assert soup.find("img")["src"].startswith(f"{ROOT}/media/images/")
        assert "linktype" not in text
        assert "NORTHGATE" in soup.get_text()  # the dateline, as the page prints it


def test_summaries_only_when_full_text_is_off(client, listed, settings):
    settings.BROADSHEET_FEED_FULL_TEXT = False
    standfirst = "The branch will reopen next spring with longer hours."

    rss = fetch(client, "/feeds/rss.xml")
    atom = fetch(client, "/feeds/atom.xml")
    document = json.loads(fetch(client, "/feeds/feed.json").content)

    assert b"content:encoded" not in rss.content
    assert b"<content" not in atom.content
    for entry in parse(rss).entries + parse(atom).entries:
        # feedparser files the photo's caption (media:description) as content too.
        assert [c.type for c in entry.get("content", [])] in ([], ["text/plain"])
        assert entry.summary
    assert_json_feed_1_1(document)
    item = next(i for i in document["items"] if i["title"] == "Ferry strike ends after talks")
    assert "content_html" not in item
    assert item["content_text"] == standfirst


def test_script_in_a_story_is_shown_as_text_never_run(client, newsroom_morning, make_article):
    make_article(
        title="<script>alert('headline')</script> Storm due",
        slug="storm",
        standfirst="<script>alert('standfirst')</script> Winds of 90 mph.",
        body=[paragraph("Rain.<script>alert('body')</script> <img src=x onerror=alert(1)>")],
    )

    for filename in XML_FORMATS:
        response = fetch(client, "/feeds/" + filename)
        assert b"<script" not in response.content.lower()
        (entry,) = parse(response).entries
        assert entry.title == "<script>alert('headline')</script> Storm due"
        assert entry.title_detail.type == "text/plain"
        assert "<script" not in entry.summary
        assert "alert('body')" not in entry.content[0].value
        assert "onerror" not in entry.content[0].value

    (item,) = json.loads(fetch(client, "/feeds/feed.json").content)["items"]
    assert "<script" not in item["content_html"]
    assert "onerror" not in item["content_html"]
    assert item["title"] == "<script>alert('headline')</script> Storm due"  # plain text


# The feed as a whole ----------------------------------------------------------------


def test_the_feed_names_the_paper_its_page_its_address_and_language(client, listed, settings):
    settings.BROADSHEET_LANGUAGE = "en-gb"

    for filename in XML_FORMATS:
        feed = parse(fetch(client, "/feeds/sections/news/world/" + filename)).feed
        assert feed.title == "The Test Courier: World"
        assert feed.link == f"{ROOT}/news/world/"
        assert feed.language == "en-gb"
        links = {link.rel: link.href for link in feed.links}
        assert links["self"] == f"{ROOT}/feeds/sections/news/world/{filename}"
        assert "hub" not in links
        assert calendar.timegm(feed.updated_parsed) == int(
            listed["wire"].last_updated_at.timestamp()
        )

    document = json.loads(fetch(client, "/feeds/sections/news/world/feed.json").content)
    assert document["title"] == "The Test Courier: World"
    assert document["home_page_url"] == f"{ROOT}/news/world/"
    assert document["feed_url"] == f"{ROOT}/feeds/sections/news/world/feed.json"
    assert document["language"] == "en-gb"
    assert "hubs" not in document


def test_feeds_name_the_websub_hub_when_there_is_one(client, listed, settings):
    settings.BROADSHEET_WEBSUB_HUB = "https://hub.example/"

    for filename in XML_FORMATS:
        feed = parse(fetch(client, "/feeds/tags/harbour/" + filename)).feed
        links = {link.rel: link.href for link in feed.links}
        assert links["hub"] == "https://hub.example/"
        assert links["self"] == f"{ROOT}/feeds/tags/harbour/{filename}"
    document = json.loads(fetch(client, "/feeds/tags/harbour/feed.json").content)
    assert document["hubs"] == [{"type": "WebSub", "url": "https://hub.example/"}]


def test_links_leave_from_the_sites_own_address(client, listed):
    Site.objects.filter(is_default_site=True).update(hostname="courier.example", port=443)

    parsed = parse(fetch(client, "/feeds/rss.xml", HTTP_HOST="courier.example"))

    assert parsed.feed.link == "https://courier.example/"
    assert {e.link.split("/")[2] for e in parsed.entries} == {"courier.example"}
    assert parsed.entries[0].enclosures[0].href.startswith("https://courier.example/media/")


# What readers may not see -------------------------------------------------------------


@pytest.mark.parametrize("filename", FORMATS)
@pytest.mark.parametrize(
    "url",
    [
        "/feeds/",
        "/feeds/sections/news/",
        "/feeds/tags/harbour/",
        "/feeds/authors/miriam-okafor/",
        "/feeds/agencies/cpa/",
    ],
)
def test_feeds_list_only_what_readers_may_see(client, newsroom, url, filename):
    shown = titles(fetch(client, url + filename), filename)

    assert "Public story" in shown
    assert set(shown).isdisjoint(HIDDEN)


def test_the_other_site_feeds_only_its_own_stories(client, newsroom):
    for filename in FORMATS:
        response = fetch(client, "/feeds/" + filename, HTTP_HOST="other.test")
        assert titles(response, filename) == ["Other site story"]


@pytest.mark.parametrize(
    "url",
    ["/feeds/sections/members/rss.xml", "/feeds/sections/other-news/atom.xml"],
    ids=["behind-a-password", "on-another-site"],
)
def test_a_section_readers_cannot_reach_has_no_feed(client, newsroom, url):
    assert client.get(url).status_code == 404


# Hostile and mistaken addresses -------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/tags/no-such-tag/rss.xml",
        "/feeds/authors/nobody/atom.xml",
        "/feeds/agencies/no-agency/feed.json",
        "/feeds/blogs/no-blog/rss.xml",
        "/feeds/sections/no-section/rss.xml",
        "/feeds/sections/news/no-section/atom.xml",
        "/feeds/sections/news/ferry-strike/rss.xml",  # a story is not a section
        "/feeds/blogs/news/rss.xml",  # nor is a section a blog
        "/feeds/sections/../rss.xml",
        "/feeds/sections//rss.xml",
        "/feeds/tags/" + "x" * 5000 + "/rss.xml",
        "/feeds/tags/%00/rss.xml",
        "/feeds/tags/harbour/rss.json",
        "/feeds/index.php",
    ],
)
def test_unknown_feeds_are_not_found(client, listed, url):
    assert client.get(url).status_code == 404


def test_a_garbage_query_string_still_gets_the_feed(client, listed):
    response = client.get("/feeds/rss.xml?" + "page=%27%22<script>&" * 500)

    assert response.status_code == 200
    assert parse(response).entries


def test_a_feed_cannot_be_posted_to(client, listed):
    assert client.post("/feeds/rss.xml").status_code == 405


# Conditional GET ----------------------------------------------------------------------

CONDITIONAL = ["/feeds/rss.xml", "/feeds/sections/news/atom.xml", "/feeds/tags/harbour/feed.json"]


@pytest.mark.parametrize("url", CONDITIONAL)
def test_a_reader_with_the_current_copy_is_told_not_modified(client, listed, url):
    first = fetch(client, url)

    by_etag = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    by_date = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])

    # Feed readers may keep it five minutes; shared caches too, until a story changes.
    directives = {part.strip() for part in first["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=300", "s-maxage=300"}
    for response in (by_etag, by_date):
        assert response.status_code == 304
        assert response.content == b""
        assert response["ETag"] == first["ETag"]


@pytest.mark.parametrize("url", CONDITIONAL)
def test_a_new_story_makes_the_feed_new_again(client, listed, newsroom_morning, make_article, url):
    first = fetch(client, url)

    newsroom_morning.shift(timedelta(minutes=5))
    make_article(title="Breaking: bridge reopens", slug="bridge", tags=("harbour",))
    again = client.get(
        url, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )

    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "Breaking: bridge reopens" in again.content.decode()


def test_a_withdrawn_story_makes_the_feed_new_again(client, listed):
    first = fetch(client, "/feeds/rss.xml")

    services.withdraw_story(story=ArticlePage.objects.get(pk=listed["staff"].pk))
    again = client.get("/feeds/rss.xml", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200
    assert "Library opens on Sundays" not in again.content.decode()


def test_changing_a_feed_setting_makes_the_feed_new_again(client, listed, settings):
    first = fetch(client, "/feeds/rss.xml")

    settings.BROADSHEET_FEED_FULL_TEXT = False
    again = client.get("/feeds/rss.xml", HTTP_IF_NONE_MATCH=first["ETag"])

    assert again.status_code == 200


# Autodiscovery ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "own"),
    [
        ("/", None),
        ("/news/", "/feeds/sections/news/"),
        ("/news/world/", "/feeds/sections/news/world/"),
        ("/notebook/", "/feeds/blogs/notebook/"),
        ("/tags/harbour/", "/feeds/tags/harbour/"),
        ("/authors/miriam-okafor/", "/feeds/authors/miriam-okafor/"),
        ("/agencies/cpa/", "/feeds/agencies/cpa/"),
        ("/news/world/ferry-strike/", None),
    ],
)
def test_each_page_points_feed_readers_at_its_own_feeds(client, listed, page, own):
    soup = BeautifulSoup(fetch(client, page).content, "html.parser")
    links = soup.select('head link[rel="alternate"]')

    expected = [(own + f) if own else None for f in FORMATS] + [f"/feeds/{f}" for f in FORMATS]
    assert [link["href"] for link in links] == [ROOT + url for url in expected if url]
    assert [link["type"] for link in links][-3:] == [
        "application/rss+xml",
        "application/atom+xml",
        "application/feed+json",
    ]
    for link in links:  # each one leads to a feed of that name
        response = fetch(client, link["href"].removeprefix(ROOT))
        name = link["title"].rsplit(" (", 1)[0]
        if link["type"] == "application/feed+json":
            assert json.loads(response.content)["title"] == name
        else:
            assert parse(response).feed.title == name


# Query budget -------------------------------------------------------------------------

# An uncached feed costs this many queries, however many stories it lists; a reader who
# already has the current copy (304) costs CONDITIONAL_QUERY_BUDGET. Raise them only with
# a reason.
FEED_QUERY_BUDGET = 7
CONDITIONAL_QUERY_BUDGET = 3


def queries_for(client, url, **headers):
    client.get(url)  # renditions are made on the first view
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code in (200, 304)
    return len(queries)


def new_photo(n):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (n * 20 % 255, 90, 140)).save(buffer, format="JPEG")
    return Photo.objects.create(
        title=f"Photo {n}",
        credit="Courier photo",
        file=ImageFile(io.BytesIO(buffer.getvalue()), name=f"photo-{n}.jpg"),
    )


@pytest.mark.parametrize(
    "url",
    [
        *[f"/feeds/{f}" for f in FORMATS],
        "/feeds/sections/news/world/rss.xml",
        "/feeds/tags/harbour/atom.xml",
        "/feeds/authors/miriam-okafor/feed.json",
        "/feeds/agencies/cpa/rss.xml",
        "/feeds/blogs/notebook/atom.xml",
    ],
)
def test_a_feed_costs_the_same_queries_however_many_stories(
    client, listed, world, agency, make_article, make_blog_post, url
):
    few = queries_for(client, url)

    for n in range(6):
        make_article(
            parent=world,
            agency=agency,
            tags=("harbour", f"extra-{n}"),
            lead_photo=new_photo(n),
        )
        make_blog_post(lead_photo=new_photo(n + 10))
    many = queries_for(client, url)
    not_modified = queries_for(client, url, HTTP_IF_NONE_MATCH=client.get(url)["ETag"])

    assert many == few
    assert many <= FEED_QUERY_BUDGET
    assert not_modified <= CONDITIONAL_QUERY_BUDGET


# The corrections feed ------------------------------------------------------------------


@pytest.fixture
def corrected(newsroom_morning, make_article):
    """Two stories corrected on two days, and one corrected story readers may not see."""
    from broadsheet.news.models import Correction

    first = make_article(
        title="Bridge vote",
        corrections=[Correction(date=date(2026, 11, 20), note="The vote was 7-2, not 8-1.")],
    )
    second = make_article(
        title="Harbour fees",
        corrections=[Correction(date=date(2026, 11, 24), note="Fees rise in May, not March.")],
    )
    hidden = make_article(
        title="Withdrawn story",
        corrections=[Correction(date=date(2026, 11, 25), note="A note nobody may read.")],
    )
    services.withdraw_story(story=hidden)
    return first, second


@pytest.mark.parametrize("filename", FORMATS)
def test_the_corrections_feed_lists_every_correction_newest_first(client, corrected, filename):
    response = fetch(client, f"/feeds/corrections/{filename}")

    assert titles(response, filename) == ["Correction: Harbour fees", "Correction: Bridge vote"]


def test_a_correction_item_links_to_the_corrections_on_its_story(client, corrected):
    _, second = corrected

    entries = parse(fetch(client, "/feeds/corrections/atom.xml")).entries

    assert entries[0].link == second.get_full_url() + "#corrections-title"
    assert entries[0].summary == "Fees rise in May, not March."
    correction = second.corrections.get()
    assert entries[0].id == f"urn:uuid:{second.translation_key}#correction-{correction.pk}"
    assert entries[1].published.startswith("2026-11-20T00:00:00")


def test_the_corrections_page_points_at_the_corrections_feed(client, corrected):
    soup = BeautifulSoup(fetch(client, "/corrections/").content, "html.parser")

    hrefs = [link["href"] for link in soup.select('head link[rel="alternate"]')]

    assert hrefs[:3] == [ROOT + f"/feeds/corrections/{f}" for f in FORMATS]
