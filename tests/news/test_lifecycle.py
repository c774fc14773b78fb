"""One publishing lifecycle: every way a story goes up or down sends `story_changed` once."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.urls import reverse

from broadsheet.news import services
from broadsheet.news.models import ArticlePage, StoryPage
from broadsheet.news.signals import story_changed
from tests.conftest import paragraph

NINE = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def heard(monkeypatch):
    """What `story_changed` said, as (story title, change).

    A test runs inside one transaction that never commits, so "after the commit" is taken
    as "at once" here; test_nothing_is_announced_for_a_change_rolled_back shows the rest.
    """
    said = []

    def listen(sender, story, change, **kwargs):
        said.append((story.title, change))

    monkeypatch.setattr(
        "django.db.transaction.on_commit", lambda func, using=None, robust=False: func()
    )
    story_changed.connect(listen)
    yield said
    story_changed.disconnect(listen)


def new_story(title="Ferry fares rise", **fields):
    return ArticlePage(
        title=title,
        slug=title.lower().replace(" ", "-"),
        standfirst="The operator blames fuel.",
        body=[paragraph("Fares rise in January.")],
        **fields,
    )


def test_publishing_through_the_service_is_announced_once(news, heard):
    services.publish_story(parent=news, story=new_story())

    assert heard == [("Ferry fares rise", "published")]


def test_a_draft_is_not_announced_until_it_is_published(news, heard):
    story = services.draft_story(parent=news, story=new_story())
    assert heard == []
    assert not ArticlePage.objects.get(pk=story.pk).live

    services.revise_story(story=story, standfirst="Fares rise by £2.")

    assert heard == [("Ferry fares rise", "published")]


def test_a_revision_kept_as_a_draft_changes_nothing_readers_see(make_article, heard):
    story = make_article(title="Council vote tonight")
    heard.clear()

    services.revise_story(story=story, publish=False, standfirst="A new standfirst.")

    assert heard == []
    assert ArticlePage.objects.get(pk=story.pk).standfirst != "A new standfirst."


def test_withdrawing_takes_the_story_down_and_cancels_its_schedule(make_article, heard, client):
    story = make_article(title="Harbour strike called")
    services.revise_story(story=story, standfirst="later", publish=False)
    later = story.get_latest_revision()
    later.approved_go_live_at = story.first_published_at + timedelta(days=1)
    later.save()
    heard.clear()

    services.withdraw_story(story=story)

    assert heard == [("Harbour strike called", "unpublished")]
    assert client.get(story.url).status_code == 404
    assert not story.revisions.filter(approved_go_live_at__isnull=False).exists()


def test_an_embargoed_story_goes_live_at_its_time_and_not_before(news, heard, client):
    with time_machine.travel(NINE, tick=False):
        story = services.draft_story(parent=news, story=new_story("Budget leak"))
        services.schedule_story(story=story, at=NINE + timedelta(hours=2))
        assert not StoryPage.objects.get(pk=story.pk).live
        assert heard == []
    with time_machine.travel(NINE + timedelta(hours=2, minutes=1), tick=False):
        call_command("publish_scheduled", verbosity=0)

    assert StoryPage.objects.get(pk=story.pk).live
    assert heard == [("Budget leak", "published")]


def test_an_editors_publish_and_unpublish_in_the_admin_are_announced(
    client, news, reporter_author, django_user_model, heard
):
    from tests.news.test_admin import article_form

    groups = services.ensure_newsroom_roles()
    editor = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    editor.groups.add(groups[services.EDITORS])
    client.force_login(editor)
    add = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))
    client.post(add, {**article_form(reporter_author), "action-publish": "1"})
    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")

    client.post(reverse("wagtailadmin_pages:unpublish", args=(story.pk,)))

    assert heard == [
        ("Harbour bridge to close for repairs", "published"),
        ("Harbour bridge to close for repairs", "unpublished"),
    ]


def test_an_expiry_is_announced_when_the_scheduler_takes_the_story_down(make_article, heard):
    with time_machine.travel(NINE, tick=False):
        story = make_article(title="Road closed for the fair")
        ArticlePage.objects.filter(pk=story.pk).update(expire_at=NINE + timedelta(hours=1))
        heard.clear()
    with time_machine.travel(NINE + timedelta(hours=1, minutes=1), tick=False):
        call_command("publish_scheduled", verbosity=0)

    assert heard == [("Road closed for the fair", "unpublished")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_nothing_is_announced_for_a_change_rolled_back(news):
    said = []

    def listen(sender, story, change, **kwargs):
        said.append(change)

    story_changed.connect(listen)
    try:
        with pytest.raises(RuntimeError), transaction.atomic():
            services.publish_story(parent=news, story=new_story("Never happened"))
            raise RuntimeError("the editor's request failed after the publish")
        services.publish_story(parent=news, story=new_story("Happened"))
    finally:
        story_changed.disconnect(listen)

    assert said == ["published"]
