"""Corrections: rows of their own, edited with the story, listed across stories for readers,
and carried over from the StreamField they used to live in."""

import json
from datetime import date

import pytest
from bs4 import BeautifulSoup
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.models import Site
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from broadsheet.news import services
from broadsheet.news.models import ArticlePage, Correction, corrections_for_readers
from tests.conftest import HIDDEN

CORRECTIONS = "/corrections/"


def soup(response):
    assert response.status_code == 200
    return BeautifulSoup(response.content, "html.parser")


def listed(response):
    """(headline, its link, date, note) for each correction the page lists, in order."""
    return [
        (
            item.select_one(".card__headline a").get_text(),
            item.select_one(".card__headline a")["href"],
            item.find("time")["datetime"],
            item.select_one(".card__standfirst").get_text(),
        )
        for item in soup(response).select(".corrections-list > li")
    ]


# On the story ------------------------------------------------------------------------


def test_a_story_shows_its_corrections_in_the_order_they_were_made(client, make_article):
    story = make_article(
        corrections=[
            Correction(date=date(2026, 11, 2), note="Misspelled a name."),
            Correction(date=date(2026, 11, 3), note="Gave the wrong date for the vote."),
        ]
    )

    items = soup(client.get(story.url)).select(".story__corrections li")

    assert [(li.find("time")["datetime"], li.span.get_text()) for li in items] == [
        ("2026-11-02", "Misspelled a name."),
        ("2026-11-03", "Gave the wrong date for the vote."),
    ]


def test_the_corrections_of_a_story_link_to_all_corrections(client, make_article):
    story = make_article(corrections=[Correction(date=date(2026, 11, 2), note="A name.")])

    link = soup(client.get(story.url)).select_one(".story__corrections a")

    assert link["href"] == CORRECTIONS


def test_a_correction_is_added_in_the_story_form_and_waits_for_publication(
    client, news, reporter_author, django_user_model
):
    editor = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    editor.groups.add(services.ensure_newsroom_roles()[services.EDITORS])
    client.force_login(editor)
    story = services.publish_story(
        parent=news,
        story=ArticlePage(title="Harbour wall", slug="harbour-wall", standfirst="It holds."),
    )
    form = nested_form_data(
        {
            "title": story.title,
            "slug": story.slug,
            "standfirst": story.standfirst,
            "dateline": "",
            "bylines": inline_formset([{"author": reporter_author.pk}]),
            "body": streamfield([("paragraph", rich_text("<p>The wall held.</p>"))]),
            "corrections": inline_formset(
                [{"date": "2026-11-20", "note": "The wall is 200 years old, not 300."}]
            ),
            "tags": "",
            "comments_open": "on",
            "votes_open": "on",
            "comments": inline_formset([]),
        }
    )
    edit = reverse("wagtailadmin_pages:edit", args=[story.pk])

    response = client.post(edit, form)  # saved as a draft: readers see no correction yet
    assert response.status_code == 302, BeautifulSoup(response.content, "html.parser").select(
        ".error-message, .help-critical, [role=alert]"
    )
    assert not Correction.objects.filter(story=story).exists()
    story.refresh_from_db()
    assert story.get_latest_revision().content["corrections"][0]["note"].startswith("The wall")

    response = client.post(edit, {**form, "action-publish": "publish"})

    assert response.status_code == 302
    assert [(c.date, c.note) for c in Correction.objects.filter(story=story)] == [
        (date(2026, 11, 20), "The wall is 200 years old, not 300.")
    ]


def test_the_article_page_costs_the_same_queries_however_many_corrections(client, make_article):
    make_article()  # a story for both to list as related

    def cost(count):
        story = make_article(
            corrections=[Correction(date=date(2026, 11, 1), note=f"N{n}") for n in range(count)]
        )
        client.get(story.url)  # renditions are made on the first view
        with CaptureQueriesContext(connection) as queries:
            assert client.get(story.url).status_code == 200
        return len(queries)

    assert cost(1) == cost(8)


# The corrections page ----------------------------------------------------------------


def test_the_corrections_page_lists_corrections_from_every_story_newest_first(client, make_article):
    first = make_article(
        title="Library vote",
        corrections=[
            Correction(date=date(2026, 10, 2), note="Misspelled the councillor's name."),
            Correction(date=date(2026, 11, 9), note="The vote was 7-2, not 7-3."),
        ],
    )
    second = make_article(
        title="Bridge repairs",
        corrections=[Correction(date=date(2026, 10, 20), note="Repairs take six weeks.")],
    )

    assert listed(client.get(CORRECTIONS)) == [
        ("Library vote", first.url, "2026-11-09", "The vote was 7-2, not 7-3."),
        ("Bridge repairs", second.url, "2026-10-20", "Repairs take six weeks."),
        ("Library vote", first.url, "2026-10-02", "Misspelled the councillor's name."),
    ]


def test_the_corrections_page_leaves_out_stories_readers_may_not_see(client, newsroom):
    for title, story in newsroom.items():
        Correction.objects.create(story=story, date=date(2026, 11, 1), note=f"On {title}.")

    headlines = [headline for headline, *_ in listed(client.get(CORRECTIONS))]

    assert headlines == ["Public story"]
    assert not set(HIDDEN) & set(headlines)
    other = Site.objects.get(hostname="other.test")
    assert [c.story.title for c in corrections_for_readers(other)] == ["Other site story"]


def test_a_withdrawn_story_takes_its_corrections_off_the_page(client, make_article):
    story = make_article(corrections=[Correction(date=date(2026, 11, 1), note="A name.")])
    services.withdraw_story(story=story)

    assert listed(client.get(CORRECTIONS)) == []
    assert "No corrections have been needed yet." in client.get(CORRECTIONS).content.decode()


def test_the_corrections_page_is_paginated(client, make_article, settings):
    settings.BROADSHEET_LISTING_PAGE_SIZE = 2
    make_article(
        corrections=[Correction(date=date(2026, 11, day), note=f"Day {day}.") for day in (1, 2)]
    )
    make_article(corrections=[Correction(date=date(2026, 11, 3), note="Day 3.")])

    first = listed(client.get(CORRECTIONS))
    second = listed(client.get(CORRECTIONS + "?page=2"))

    assert [note for *_, note in first] == ["Day 3.", "Day 2."]
    assert [note for *_, note in second] == ["Day 1."]
    assert soup(client.get(CORRECTIONS)).select_one(".pagination a[rel=next]")["href"] == "?page=2"


@pytest.mark.parametrize(
    ("query", "status"),
    [("?page=99", 404), ("?page=abc", 200), ("?page=" + "9" * 400, 404), ("?page=-1", 404)],
)
def test_a_bad_page_number_is_a_404_or_the_first_page(client, make_article, query, status):
    make_article(corrections=[Correction(date=date(2026, 11, 1), note="A name.")])

    assert client.get(CORRECTIONS + query).status_code == status


def test_a_note_with_script_is_shown_as_text(client, make_article):
    make_article(corrections=[Correction(date=date(2026, 11, 1), note="<script>alert(1)</script>")])

    html = client.get(CORRECTIONS).content.decode()

    assert "<script>alert(1)" not in html
    assert listed(client.get(CORRECTIONS))[0][3] == "<script>alert(1)</script>"


def test_every_page_links_to_the_corrections_page_from_its_footer(client, home):
    footer = soup(client.get("/")).select_one(".site-footer nav")

    assert CORRECTIONS in [a["href"] for a in footer.find_all("a")]


def test_the_corrections_page_costs_the_same_queries_however_many_corrections(client, make_article):
    def cost():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CORRECTIONS).status_code == 200
        return len(queries)

    make_article(corrections=[Correction(date=date(2026, 11, 1), note="One.")])
    cost()  # the site's root paths are cached on the first request
    few = cost()
    for n in range(6):
        make_article(corrections=[Correction(date=date(2026, 11, 2), note=f"{n}.")] * 1)
    assert cost() == few


# The wire desk -----------------------------------------------------------------------
# The agency's "This story was corrected by CPA." is tested with the wire desk's ingest
# (tests/wire/test_services.py::test_a_correction_adds_a_dated_note_for_readers).


# Upgrading: corrections move out of the StreamField ----------------------------------

BEFORE = [("news", "0002_story_language")]


@pytest.fixture
def migrate_to():
    """Moves the test database to a migration; puts it back at the latest afterwards,
    whatever the test found, so the tests after it see today's schema."""

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.migrate(targets or executor.loader.graph.leaf_nodes())
        return executor.loader.project_state(targets).apps if targets else None

    yield migrate
    migrate(None)


def old_story(apps, *, slug: str, corrections: list[tuple[str, str]]):
    """An article as stored before corrections had rows: its StreamField holds them,
    and so does its one revision's content (as a JSON string, as Wagtail wrote it)."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    Locale = apps.get_model("wagtailcore", "Locale")
    Page = apps.get_model("wagtailcore", "Page")
    ArticlePage = apps.get_model("news", "ArticlePage")
    Revision = apps.get_model("wagtailcore", "Revision")
    article_type, _ = ContentType.objects.get_or_create(app_label="news", model="articlepage")
    page_type = ContentType.objects.get(app_label="wagtailcore", model="page")
    root = Page.objects.get(depth=1)
    stream = [
        {"type": "correction", "value": {"date": when, "note": note}, "id": f"b{n}"}
        for n, (when, note) in enumerate(corrections)
    ]
    story = ArticlePage.objects.create(
        title=slug,
        draft_title=slug,
        slug=slug,
        path=root.path + f"{Page.objects.filter(depth=2).count() + 1:04d}",
        depth=2,
        url_path=f"/{slug}/",
        content_type=article_type,
        locale=Locale.objects.first(),
        live=True,
        standfirst="Standfirst.",
        body=[],
        corrections=stream,
    )
    content = {"pk": story.pk, "title": slug, "slug": slug, "corrections": json.dumps(stream)}
    Revision.objects.create(
        content_type=article_type,
        base_content_type=page_type,
        object_id=str(story.pk),
        object_str=slug,
        content=content,
        created_at=timezone.now(),
    )
    return story.pk


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upgrading_keeps_every_correction_on_stories_and_in_their_revisions(migrate_to):
    apps = migrate_to(BEFORE)
    two = old_story(
        apps,
        slug="two-corrections",
        corrections=[("2026-10-02", "Misspelled a name."), ("2026-11-09", "The vote was 7-2.")],
    )
    none = old_story(apps, slug="no-corrections", corrections=[])

    migrate_to(None)

    from wagtail.models import Revision

    rows = Correction.objects.filter(story_id=two).order_by("sort_order")
    assert [(c.date, c.note) for c in rows] == [
        (date(2026, 10, 2), "Misspelled a name."),
        (date(2026, 11, 9), "The vote was 7-2."),
    ]
    assert not Correction.objects.filter(story_id=none).exists()
    # The revision now holds the rows, under the ids the live rows have: publishing it
    # again (or reverting to it) keeps them as they are.
    revision = Revision.objects.get(object_id=str(two))
    assert [(r["pk"], r["date"], r["note"]) for r in revision.content["corrections"]] == [
        (c.pk, c.date.isoformat(), c.note) for c in rows
    ]
    assert Revision.objects.get(object_id=str(none)).content["corrections"] == []


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_downgrading_puts_corrections_back_in_the_streamfield(migrate_to):
    apps = migrate_to(BEFORE)
    story = old_story(apps, slug="corrected", corrections=[("2026-10-02", "Misspelled a name.")])
    migrate_to(None)

    apps = migrate_to(BEFORE)
    old = apps.get_model("news", "StoryPage").objects.get(pk=story)
    revision = apps.get_model("wagtailcore", "Revision").objects.get(object_id=str(story))

    assert [(b.value["date"], b.value["note"]) for b in old.corrections] == [
        (date(2026, 10, 2), "Misspelled a name.")
    ]
    assert [b["value"] for b in json.loads(revision.content["corrections"])] == [
        {"date": "2026-10-02", "note": "Misspelled a name."}
    ]
