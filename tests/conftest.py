"""Fixtures that build a small newsroom through the same services editors use."""

import io
from datetime import timedelta

import pytest
from django.core.cache import cache
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
    """Rate limits and cached tallies live in the cache, which outlives each test."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def story(make_article):
    """A story published today, so comments and votes are open."""
    return make_article(title="Harbour bridge to close for repairs", slug="harbour-bridge")
