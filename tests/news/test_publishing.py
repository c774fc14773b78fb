"""How publishing moves the dates a reader sees, and who may publish."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone
from django_tasks import default_task_backend

from broadsheet.news import services
from broadsheet.news.forms import StoryPageForm
from broadsheet.news.models import ArticlePage, StoryPage
from tests.conftest import paragraph


def republish(story, *, minor, **changes):
    story = ArticlePage.objects.get(pk=story.pk)
    for name, value in changes.items():
        setattr(story, name, value)
    story.minor_update = minor
    story.save_revision().publish()
    return ArticlePage.objects.get(pk=story.pk)


def test_first_publication_sets_last_updated_to_the_publication_time(make_article):
    story = make_article()

    assert story.last_updated_at is not None
    assert story.last_updated_at == story.first_published_at


def test_substantive_update_moves_last_updated(make_article):
    story = make_article()
    first_updated = story.last_updated_at

    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        story = republish(story, minor=False, standfirst="Now with the council's response.")

    assert story.last_updated_at > first_updated + timedelta(hours=2)
    assert story.first_published_at < story.last_updated_at


def test_minor_update_keeps_last_updated(make_article):
    story = make_article()
    first_updated = story.last_updated_at

    with time_machine.travel(timezone.now() + timedelta(hours=3)):
        story = republish(story, minor=True, lead_photo_caption="The old library, Mill Lane")

    assert story.lead_photo_caption == "The old library, Mill Lane"
    assert story.last_published_at > first_updated
    assert story.last_updated_at == first_updated


def test_minor_update_after_a_substantive_one_keeps_the_substantive_time(make_article):
    story = make_article()
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        story = republish(story, minor=False, standfirst="Updated.")
    substantive_time = story.last_updated_at

    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        story = republish(story, minor=True, standfirst="Updated, typo fixed.")

    assert story.last_updated_at == substantive_time


def test_minor_flag_is_cleared_after_publishing(make_article):
    story = republish(make_article(), minor=True, standfirst="Typo fixed.")

    assert story.minor_update is False


def test_edit_form_starts_with_minor_update_unticked(make_article):
    story = make_article()
    StoryPage.objects.filter(pk=story.pk).update(minor_update=True)
    story = ArticlePage.objects.get(pk=story.pk)
    form_class = ArticlePage.get_edit_handler().get_form_class()

    form = form_class(instance=story, for_user=None)

    assert issubclass(form_class, StoryPageForm)
    assert form.initial["minor_update"] is False


def test_scheduling_queues_the_publication_task_for_the_go_live_time(news, make_article):
    go_live = timezone.now() + timedelta(hours=2)
    dummy = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

    with override_settings(TASKS=dummy):
        default_task_backend.clear()
        story = make_article(go_live_at=go_live)
        queued = [
            r for r in default_task_backend.results if r.task.name == "publish_scheduled_task"
        ]

    assert not ArticlePage.objects.get(pk=story.pk).live
    assert [r.task.run_after for r in queued] == [go_live]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_worker_publishes_a_scheduled_story_at_its_time(news, make_article):
    database_queue = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    go_live = timezone.now() + timedelta(hours=2)

    with override_settings(TASKS=database_queue):
        story = make_article(go_live_at=go_live)
        call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)
        published_early = ArticlePage.objects.get(pk=story.pk).live

        with time_machine.travel(go_live + timedelta(seconds=5)):
            call_command("db_worker", batch=True, no_startup_delay=True, verbosity=0)

    story = ArticlePage.objects.get(pk=story.pk)
    assert published_early is False
    assert story.live is True
    assert story.first_published_at >= go_live
    assert story.last_updated_at == story.first_published_at


def test_reporters_draft_but_only_editors_publish(make_article, django_user_model):
    groups = services.ensure_newsroom_roles()
    reporter = django_user_model.objects.create_user("reporter", password="x")
    reporter.groups.add(groups[services.REPORTERS])
    editor = django_user_model.objects.create_user("editor", password="x")
    editor.groups.add(groups[services.EDITORS])
    story = make_article()

    reporter_can = story.permissions_for_user(reporter)
    editor_can = story.permissions_for_user(editor)

    assert reporter_can.can_edit() and not reporter_can.can_publish()
    assert not reporter_can.can_unpublish()
    assert editor_can.can_edit() and editor_can.can_publish() and editor_can.can_unpublish()


def test_ensuring_roles_twice_changes_nothing(db):
    first = services.ensure_newsroom_roles()
    counts = {name: group.page_permissions.count() for name, group in first.items()}

    second = services.ensure_newsroom_roles()

    assert {name: g.page_permissions.count() for name, g in second.items()} == counts


def test_unpublished_story_is_gone_for_readers(client, make_article):
    story = make_article()
    assert client.get(story.url).status_code == 200

    story.unpublish()

    assert client.get(story.url).status_code == 404


def test_scheduled_story_is_not_readable_before_its_time(client, make_article):
    story = make_article(go_live_at=timezone.now() + timedelta(days=1), body=[paragraph("Soon.")])

    assert client.get(f"/news/{story.slug}/").status_code == 404
