"""Fixtures that build a small newsroom through the same services editors use."""

import io
import os
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.cache import caches
from django.core.files.images import ImageFile
from django.utils import timezone
from PIL import Image

from broadsheet.news import services
from broadsheet.news.models import (
    Agency,
    ArticlePage,
    Author,
    BlogIndexPage,
    BlogPostPage,
    Byline,
    Photo,
    SectionPage,
)


def clock_shift(value: str) -> timedelta:
    """'21d', '365d', '-3d', '12h': how far BROADSHEET_TEST_CLOCK_SHIFT moves the clock."""
    match = re.fullmatch(r"([+-]?\d+)([dh])", value.strip())
    if not match:
        raise pytest.UsageError(
            f"BROADSHEET_TEST_CLOCK_SHIFT={value!r}: write a number of days or hours, "
            "e.g. 21d, 365d or -12h"
        )
    amount, unit = int(match[1]), match[2]
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


@pytest.fixture(scope="session", autouse=True)
def shifted_clock():
    """Run the whole suite on another day: BROADSHEET_TEST_CLOCK_SHIFT=365d make test-sqlite.

    A test that mixes the real date with a date it sets itself passes today and fails on
    some other day; moving the clock finds such tests before the calendar does. Tests that
    travel in time themselves still do: time-machine nests.
    """
    shift = os.environ.get("BROADSHEET_TEST_CLOCK_SHIFT", "")
    if not shift:
        yield None
        return
    with time_machine.travel(timezone.now() + clock_shift(shift), tick=True) as traveller:
        yield traveller


# Half an hour before the daily email's 07:00 send: a story published "now" is in the 24
# hours the day's issue covers, whatever the real date and time of day of the run.
NEWSROOM_MORNING = datetime(2026, 11, 26, 6, 30, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def newsroom_morning():
    """The clock at NEWSROOM_MORNING, running on from there."""
    with time_machine.travel(NEWSROOM_MORNING, tick=True) as traveller:
        yield traveller


def paragraph(text):
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def crosshead(text):
    return {"type": "crosshead", "value": text}


@pytest.fixture
def home(db):
    return services.ensure_home_page(site_name="The Test Courier")


def add_section(parent, title, slug=None):
    section = SectionPage(title=title, slug=slug or title.lower().replace(" ", "-"))
    parent.add_child(instance=section)
    section.save_revision().publish()
    return section


@pytest.fixture
def news(home):
    return add_section(home, "News")


@pytest.fixture
def world(news):
    return add_section(news, "World")


@pytest.fixture
def photo(db):
    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (40, 90, 140)).save(buffer, format="JPEG")
    return Photo.objects.create(
        title="Harbour at dusk",
        description="Fishing boats moored in the harbour at dusk",
        credit="Courier photo",
        file=ImageFile(io.BytesIO(buffer.getvalue()), name="harbour.jpg"),
    )


@pytest.fixture
def reporter_author(db):
    return Author.objects.create(name="Miriam Okafor", slug="miriam-okafor", role="City reporter")


@pytest.fixture
def agency(db):
    return Agency.objects.create(name="Continental Press Agency", byline_name="CPA", slug="cpa")


@pytest.fixture
def make_article(news, photo, reporter_author):
    """Publish an article; keyword arguments override the defaults below."""
    counter = {"n": 0}

    def make(*, parent=None, authors=None, tags=("council",), published_at=None, **fields):
        counter["n"] += 1
        defaults = {
            "title": f"Council approves new library {counter['n']}",
            "slug": f"council-approves-new-library-{counter['n']}",
            "standfirst": "The branch will reopen next spring with longer hours.",
            "dateline": "Northgate",
            "lead_photo": photo,
            "lead_photo_caption": "The old library on Mill Lane",
            "body": [
                paragraph("The council voted on Tuesday to rebuild the library."),
                crosshead("'A place for everyone'"),
                paragraph("Work starts in March."),
            ],
        }
        story = ArticlePage(**{**defaults, **fields})
        story.bylines = [Byline(author=a) for a in (authors or [reporter_author])]
        story.tags.add(*tags)
        story = services.publish_story(parent=parent or news, story=story)
        if published_at:
            services.backdate_story(story=story, published_at=published_at)
        return story

    return make


@pytest.fixture
def blog(home, reporter_author):
    from broadsheet.news.models import BlogContributor

    blog = BlogIndexPage(title="Northgate Notebook", slug="notebook", intro="Small stories.")
    blog.contributors = [BlogContributor(author=reporter_author)]
    home.add_child(instance=blog)
    blog.save_revision().publish()
    return blog


@pytest.fixture
def make_blog_post(blog, reporter_author, photo):
    counter = {"n": 0}

    def make(**fields):
        counter["n"] += 1
        defaults = {
            "title": f"A morning at the fish market {counter['n']}",
            "slug": f"fish-market-{counter['n']}",
            "standfirst": "Notes from the quay before dawn.",
            "lead_photo": photo,
            "body": [paragraph("The first boats come in at four.")],
        }
        post = BlogPostPage(**{**defaults, **fields})
        post.bylines = [Byline(author=reporter_author)]
        return services.publish_story(parent=blog, story=post)

    return make


@pytest.fixture
def days_ago():
    now = timezone.now()
    return lambda days: now - timedelta(days=days)


@pytest.fixture(autouse=True)
def fresh_cache():
    """Rate limits, cached tallies and purge tokens live in caches that outlive each test."""
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


# One story of each kind readers must never be shown, by title (see `hidden_stories`).
HIDDEN = ["Draft story", "Embargoed story", "Expired story", "Members' story", "Other site story"]


@pytest.fixture
def hidden_stories(newsroom_morning, home, news, make_article, reporter_author):
    """Build one story of each kind readers must never see: `hidden_stories(**fields)`
    gives {title: story}, each story with `fields` (tags, agency, body, ...).

    A draft; an embargoed story (published, withdrawn, scheduled six hours ahead); one
    expired an hour ago whose unpublishing has not run yet; one in a section behind a
    password; and one on another site of the same install (other.test).
    """
    from wagtail.models import Page, PageViewRestriction, Site

    def make(**fields):
        now = timezone.now()
        tags = fields.pop("tags", ())
        draft = ArticlePage(title="Draft story", slug="draft", standfirst="Draft.", **fields)
        draft.bylines = [Byline(author=reporter_author)]
        draft.tags.add(*tags)
        stories = {"Draft story": services.draft_story(parent=news, story=draft)}

        fields["tags"] = tags
        embargoed = make_article(title="Embargoed story", slug="embargoed", **fields)
        services.withdraw_story(story=embargoed)
        services.schedule_story(story=embargoed, at=now + timedelta(hours=6))
        stories["Embargoed story"] = embargoed

        stories["Expired story"] = make_article(
            title="Expired story", slug="expired", expire_at=now - timedelta(hours=1), **fields
        )

        members = add_section(home, "Members")
        PageViewRestriction.objects.create(
            page=members, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
        )
        stories["Members' story"] = make_article(
            title="Members' story", slug="members", parent=members, **fields
        )

        other_root = Page.get_first_root_node().add_child(
            instance=Page(title="Other paper", slug="other-paper")
        )
        Site.objects.create(hostname="other.test", port=80, root_page=other_root, site_name="Other")
        other_news = add_section(other_root, "Other news", slug="other-news")
        stories["Other site story"] = make_article(
            title="Other site story", slug="other", parent=other_news, **fields
        )
        return stories

    return make


@pytest.fixture
def newsroom(hidden_stories, make_article, agency):
    """{title: story}: "Public story", which readers may read, and the `hidden_stories`,
    all tagged "harbour", from the agency, by the reporter."""
    common = {"tags": ("harbour",), "agency": agency}
    return {
        "Public story": make_article(title="Public story", slug="public", **common),
        **hidden_stories(**common),
    }


@pytest.fixture
def story(make_article):
    """A story published today, so comments and votes are open."""
    return make_article(title="Harbour bridge to close for repairs", slug="harbour-bridge")
