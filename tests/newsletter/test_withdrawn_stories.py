"""A story taken down after its issue went out (a kill, a legal order) leaves the issue's
web copy; the email already delivered, and the record of it, stay as they were."""

import logging
import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from broadsheet.news import services as news_services
from broadsheet.newsletter import scheduling, sending
from broadsheet.newsletter.models import DailyIssue, IssuePick, Subscriber
from broadsheet.newsletter.rendering import WITHDRAWN
from broadsheet.newsletter.services import withdraw_story_from_issues
from tests.newsletter.test_rendering import Page

BASE = "http://courier.test"


@pytest.fixture(autouse=True)
def paper(settings):
    settings.WAGTAILADMIN_BASE_URL = BASE


@pytest.fixture
def stories(make_article):
    """Three of the morning's stories, in the order the issue ranks them."""
    now = timezone.now()
    return [
        make_article(
            title=title,
            slug=slug,
            standfirst=standfirst,
            published_at=now - timedelta(hours=hours),
        )
        for title, slug, standfirst, hours in [
            (
                "Harbour bridge to close for repairs",
                "harbour-bridge",
                "Drivers face a six-mile detour until March.",
                1,
            ),
            ("Council approves new library", "new-library", "The branch reopens in spring.", 2),
            ("Ferry fares rise in January", "ferry-fares", "The operator blames fuel.", 3),
        ]
    ]


@pytest.fixture
def issue(smtp_sink, stories):
    """Today's issue, sent through a real SMTP server to one reader."""
    Subscriber.objects.create(email="ada@example.org", status=Subscriber.Status.CONFIRMED)
    issue = scheduling.issue_for(timezone.localdate())
    sending.send_issue(issue)
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SENT
    assert issue.sent_story_ids == [story.pk for story in stories]
    return issue


def web_copy_of(client, issue):
    response = client.get(f"/newsletter/issues/{issue.date.isoformat()}/")
    assert response.status_code == 200
    return response.text


def take_down(story, django_capture_on_commit_callbacks):
    """Withdraw the story as the wire desk does, and let its transaction commit."""
    with django_capture_on_commit_callbacks(execute=True):
        news_services.withdraw_story(story=story)


def test_a_story_taken_down_leaves_the_web_copy_and_the_others_stay(
    client, smtp_sink, issue, stories, photo, django_capture_on_commit_callbacks
):
    lead, *others = stories
    sent_html = issue.sent_html
    assert lead.title in Page(web_copy_of(client, issue)).words

    take_down(lead, django_capture_on_commit_callbacks)

    html = web_copy_of(client, issue)
    page = Page(html)
    assert lead.title not in html  # not in the text, the photo's alt or the hidden preview
    assert lead.standfirst not in html
    assert lead.url not in html
    assert not page.images  # the lead's photo went with it
    assert page.words.count(WITHDRAWN) == 1
    for story in others:
        assert story.title in page.words
        assert f"{BASE}{story.url}" in page.links
    # The record of what readers received, and what they received, are as they were.
    issue.refresh_from_db()
    assert issue.sent_html == sent_html
    assert issue.withdrawn_story_ids == [lead.pk]
    (received,) = smtp_sink.messages
    assert lead.title in received.message.get_body(("html",)).get_content()


def test_a_story_taken_down_leaves_every_issue_that_carried_it(
    client, smtp_sink, issue, stories, django_capture_on_commit_callbacks
):
    lead = stories[0]
    # The next morning an editor picks it again; nothing else is new that day.
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        tomorrow = scheduling.issue_for(timezone.localdate())
        IssuePick.objects.create(issue=tomorrow, story=lead, sort_order=0)
        sending.send_issue(tomorrow)
    tomorrow.refresh_from_db()
    assert tomorrow.sent_story_ids == [lead.pk]

    take_down(lead, django_capture_on_commit_callbacks)

    for sent_issue in (issue, tomorrow):
        html = web_copy_of(client, sent_issue)
        assert lead.title not in html
        assert WITHDRAWN in Page(html).words


def test_a_story_published_again_stays_out_of_the_issues_it_left(
    client, issue, stories, django_capture_on_commit_callbacks
):
    lead = stories[0]
    take_down(lead, django_capture_on_commit_callbacks)

    with django_capture_on_commit_callbacks(execute=True):
        news_services.revise_story(story=lead, standfirst="Corrected.")

    lead.refresh_from_db()
    assert lead.live
    html = web_copy_of(client, issue)
    assert lead.title not in html and WITHDRAWN in Page(html).words


def test_republishing_another_story_changes_no_issue(
    client, issue, stories, django_capture_on_commit_callbacks
):
    before = web_copy_of(client, issue)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        news_services.revise_story(story=stories[1], standfirst="Now with opening hours.")

    assert callbacks  # story_changed was sent, as "published"
    issue.refresh_from_db()
    assert issue.withdrawn_story_ids == []
    assert web_copy_of(client, issue) == before


def test_taking_down_a_story_no_issue_carried_reads_the_issues_once_and_writes_nothing(
    client, issue, make_article, django_capture_on_commit_callbacks
):
    before = web_copy_of(client, issue)
    elsewhere = make_article(title="Never in a newsletter", slug="never")

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        news_services.withdraw_story(story=elsewhere)
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()

    on_issues = [q["sql"] for q in queries if DailyIssue._meta.db_table in q["sql"]]
    assert len(on_issues) == 1 and on_issues[0].startswith("SELECT")
    issue.refresh_from_db()
    assert issue.withdrawn_story_ids == []
    assert web_copy_of(client, issue) == before


def test_withdrawing_twice_records_the_story_once(issue, stories):
    lead = stories[0]

    assert withdraw_story_from_issues(story_id=lead.pk) == [issue]
    withdraw_story_from_issues(story_id=lead.pk)

    issue.refresh_from_db()
    assert issue.withdrawn_story_ids == [lead.pk]


def test_an_issue_sent_before_stories_were_marked_is_left_as_it_was_and_logged(
    client, issue, stories, caplog
):
    lead = stories[0]
    # What an issue sent before this change holds: the same email, no data-story marks.
    DailyIssue.objects.filter(pk=issue.pk).update(
        sent_html=re.sub(r' data-story="\d+"', "", issue.sent_html)
    )
    before = web_copy_of(client, issue)

    with caplog.at_level(logging.WARNING, logger="broadsheet.newsletter.services"):
        withdraw_story_from_issues(story_id=lead.pk)

    assert web_copy_of(client, issue) == before
    assert lead.title in Page(before).words
    assert f"the {issue.date} issue still shows it" in caplog.text
