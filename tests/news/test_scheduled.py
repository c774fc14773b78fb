"""Editors see what is scheduled: go-lives and expiries, soonest first, from the dashboard."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.urls import reverse

from broadsheet.news import services
from broadsheet.news.models import ArticlePage
from tests.conftest import paragraph

MORNING = datetime(2026, 11, 26, 9, 0, tzinfo=ZoneInfo("Europe/London"))
REPORT = "news_scheduled_stories"


@pytest.fixture
def at_nine():
    with time_machine.travel(MORNING, tick=False):
        yield


@pytest.fixture
def editor(client, django_user_model, db):
    groups = services.ensure_newsroom_roles()
    user = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    user.groups.add(groups[services.EDITORS])
    client.force_login(user)
    return user


def scheduled(news, title, at, user=None):
    story = ArticlePage(
        title=title,
        slug=title.lower().replace(" ", "-"),
        standfirst="x",
        body=[paragraph("x")],
        live=False,
    )
    news.add_child(instance=story)
    story.save_revision(user=user, approved_go_live_at=at)
    return story


def test_the_report_lists_go_lives_updates_and_expiries_soonest_first(
    at_nine, client, editor, news, make_article
):
    later = scheduled(news, "Budget reaction", MORNING + timedelta(hours=5), editor)
    sooner = scheduled(news, "Road reopens", MORNING + timedelta(hours=1), editor)
    expiring = make_article(title="Flood warning")
    ArticlePage.objects.filter(pk=expiring.pk).update(expire_at=MORNING + timedelta(hours=3))
    updated = make_article(title="Council vote")
    updated.save_revision(user=editor, approved_go_live_at=MORNING + timedelta(hours=2))

    rows = BeautifulSoup(client.get(reverse(REPORT)).content, "html.parser").select("tbody tr")
    table = [[cell.get_text(" ", strip=True) for cell in row.select("td")] for row in rows]

    assert [row[:3] for row in table] == [
        ["26 Nov 2026, 10:00", "Goes live", "Road reopens"],
        ["26 Nov 2026, 11:00", "Update goes live", "Council vote"],
        ["26 Nov 2026, 12:00", "Expires", "Flood warning"],
        ["26 Nov 2026, 14:00", "Goes live", "Budget reaction"],
    ]
    assert table[0][3:] == ["News", "ed"]
    assert {later.pk, sooner.pk} <= {c.story.pk for c in services.scheduled_changes()}


def test_a_go_live_the_worker_missed_is_shown_as_overdue(at_nine, client, editor, news):
    scheduled(news, "Road reopens", MORNING - timedelta(minutes=10))

    page = client.get(reverse(REPORT)).content.decode()

    assert "Overdue: is the worker running?" in page


def test_the_dashboard_shows_the_next_ones_and_leads_to_the_report(at_nine, client, editor, news):
    for hour in range(1, 8):
        scheduled(news, f"Story {hour}", MORNING + timedelta(hours=hour))

    soup = BeautifulSoup(client.get(reverse("wagtailadmin_home")).content, "html.parser")
    panel = soup.select_one("#scheduled-stories-section")

    assert [row.a.get_text() for row in panel.select("tbody tr")] == [
        f"Story {h}" for h in range(1, 6)
    ]
    link = panel.find("a", href=reverse(REPORT))
    assert link.get_text(strip=True) == "2 more: see every scheduled story"


def test_an_empty_schedule_says_how_to_schedule(at_nine, client, editor):
    page = client.get(reverse(REPORT)).content.decode()

    assert "Nothing is scheduled" in page and "Set schedule" in page


def test_the_report_is_for_the_newsroom_only(client, django_user_model, db):
    outsider = django_user_model.objects.create_user("guest", password="pw", is_staff=True)
    client.force_login(outsider)

    assert client.get(reverse(REPORT)).status_code in (302, 403)
