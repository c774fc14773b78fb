"""Editors and reporters at work in the Wagtail admin."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text, streamfield

from broadsheet.news import services
from broadsheet.news.models import ArticlePage


@pytest.fixture
def staff(django_user_model, db):
    groups = services.ensure_newsroom_roles()

    def make(username, role):
        user = django_user_model.objects.create_user(username, password="pw", is_staff=True)
        user.groups.add(groups[role])
        return user

    return make


def article_form(reporter_author, **overrides):
    data = {
        "title": "Harbour bridge to close for repairs",
        "slug": "harbour-bridge-to-close",
        "standfirst": "The bridge will shut for six weeks from March.",
        "dateline": "Northgate",
        "bylines": inline_formset([{"author": reporter_author.pk}]),
        "body": streamfield(
            [
                ("paragraph", rich_text("<p>Engineers found corrosion in the deck.</p>")),
                ("crosshead", "'No other choice'"),
            ]
        ),
        "corrections": streamfield([]),
        "tags": "bridges, transport",
        "comments_open": "on",
        "votes_open": "on",
        "comments": inline_formset([]),
    }
    data.update(overrides)
    return nested_form_data(data)


def test_editor_publishes_a_story_from_the_admin(client, news, staff, reporter_author):
    client.force_login(staff("ed", services.EDITORS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))

    response = client.post(url, {**article_form(reporter_author), "action-publish": "publish"})

    assert response.status_code == 302, response.content[:2000]
    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    assert story.live
    assert story.last_updated_at == story.first_published_at
    assert client.get(story.url).status_code == 200


def test_reporter_publish_attempt_leaves_a_draft(client, news, staff, reporter_author):
    client.force_login(staff("rep", services.REPORTERS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))

    client.post(url, {**article_form(reporter_author), "action-publish": "publish"})

    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    assert not story.live
    assert client.get("/news/harbour-bridge-to-close/").status_code == 404


def test_editor_marks_an_update_minor_in_the_admin(client, news, staff, reporter_author):
    client.force_login(staff("ed", services.EDITORS))
    add = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))
    client.post(add, {**article_form(reporter_author), "action-publish": "publish"})
    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    edit = reverse("wagtailadmin_pages:edit", args=(story.pk,))

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        client.post(
            edit,
            {
                **article_form(
                    reporter_author,
                    standfirst="The bridge will shut for six weeks.",
                    minor_update="on",
                ),
                "action-publish": "publish",
            },
        )
    after_minor = ArticlePage.objects.get(pk=story.pk)
    with time_machine.travel(timezone.now() + timedelta(hours=4)):
        client.post(
            edit,
            {
                **article_form(reporter_author, standfirst="The bridge will now shut in April."),
                "action-publish": "publish",
            },
        )
    after_substantive = ArticlePage.objects.get(pk=story.pk)

    assert after_minor.standfirst == "The bridge will shut for six weeks."
    assert after_minor.last_updated_at == story.last_updated_at
    assert after_substantive.last_updated_at > story.last_updated_at + timedelta(hours=3)


def test_editor_schedules_a_story_from_the_admin(client, news, staff, reporter_author):
    client.force_login(staff("ed", services.EDITORS))
    url = reverse("wagtailadmin_pages:add", args=("news", "articlepage", news.pk))
    go_live = timezone.localtime(timezone.now() + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")

    client.post(
        url, {**article_form(reporter_author, go_live_at=go_live), "action-publish": "publish"}
    )

    story = ArticlePage.objects.get(slug="harbour-bridge-to-close")
    assert not story.live
    assert story.go_live_at is not None


def test_newsroom_snippets_are_in_the_admin(client, staff):
    client.force_login(staff("ed", services.EDITORS))

    for model in ("author", "agency"):
        response = client.get(reverse(f"wagtailsnippets_news_{model}:list"))
        assert response.status_code == 200
