"""Editors make the day's issue in the admin: pick and order stories, preview, test, send."""

from datetime import UTC, datetime

import pytest
import time_machine
from bs4 import BeautifulSoup
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from broadsheet.newsletter import composing, scheduling, sending
from broadsheet.newsletter.models import DailyIssue, IssuePick, Subscriber
from tests.newsletter.test_admin import staff

EDIT = "wagtailsnippets_newsletter_dailyissue:edit"
PREVIEW = "wagtailsnippets_newsletter_dailyissue:preview_on_edit"


@pytest.fixture
def editor(client, django_user_model):
    user = staff(django_user_model, "Editors")
    user.email = "desk@courier.example"
    user.save()
    client.force_login(user)
    return user


@pytest.fixture
def stories(make_article):
    return [
        make_article(title="Harbour wall to be rebuilt"),
        make_article(title="Night ferry cancelled in gales"),
        make_article(title="Library opens on Sundays"),
    ]


@pytest.fixture
def issue(db):
    return scheduling.issue_for(timezone.localdate())


def form_data(issue, picks):
    data = {
        "date": issue.date.isoformat(),
        "subject": "",
        "introduction": "Good morning from the desk.",
        "picks-TOTAL_FORMS": str(len(picks)),
        "picks-INITIAL_FORMS": "0",
        "picks-MIN_NUM_FORMS": "0",
        "picks-MAX_NUM_FORMS": "1000",
    }
    for n, story in enumerate(picks):
        data |= {
            f"picks-{n}-story": str(story.pk),
            f"picks-{n}-ORDER": str(n + 1),
            f"picks-{n}-id": "",
        }
    return data


def test_editors_pick_and_order_the_top_stories(client, editor, stories, issue):
    library, ferry = stories[2], stories[1]

    response = client.post(reverse(EDIT, args=[issue.pk]), form_data(issue, [library, ferry]))

    assert response.status_code == 302, response.content[:2000]
    composition = composing.compose(issue)
    titles = [item.title for item in composition.top_stories]
    assert titles[:2] == ["Library opens on Sundays", "Night ferry cancelled in gales"]
    assert composition.top_stories[0].picked and not composition.top_stories[2].picked
    assert "Harbour wall to be rebuilt" in titles  # the ranking fills the rest


def test_preview_as_html_and_as_plain_text_shows_unsaved_picks(client, editor, stories, issue):
    url = reverse(PREVIEW, args=[issue.pk])
    data = form_data(issue, [stories[2]])

    assert client.post(url, data).json()["is_valid"] is True
    html = client.get(url)
    text = client.get(url, {"mode": "text"})

    assert html.status_code == text.status_code == 200
    assert b"Library opens on Sundays" in html.content
    assert b"Good morning from the desk." in html.content
    assert text["Content-Type"].startswith("text/plain")
    body = text.content.decode()
    assert body.index("Library opens on Sundays") < body.index("Harbour wall to be rebuilt")
    assert "<" not in body.replace("<http", "")
    assert not IssuePick.objects.exists()  # a preview saves nothing


def test_an_editor_sends_a_test_to_themselves(client, editor, stories, issue):
    Subscriber.objects.create(email="reader@example.org", status="confirmed")

    response = client.post(reverse("newsletter_issue_admin:send_test", args=[issue.pk]))

    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["desk@courier.example"]
    assert message.subject.startswith("[Test] ")
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.DRAFT  # a test changes nothing
    assert not issue.deliveries.exists()


def test_send_me_a_test_is_where_the_editor_edits_the_issue(client, editor, stories, issue):
    edit_url = reverse(EDIT, args=[issue.pk])
    soup = BeautifulSoup(client.get(edit_url).content, "html.parser")
    button = soup.find(lambda tag: tag.get_text(strip=True) == "Send me a test")
    assert button["data-action"] == "w-action#post"
    send_url = button["data-w-action-url-value"]

    # What the button's POST does (the page's script adds "next", the form's address).
    response = client.post(send_url, {"next": f"http://testserver{edit_url}"})

    assert response.status_code == 302
    assert response["Location"] == f"http://testserver{edit_url}"
    assert mail.outbox[0].to == ["desk@courier.example"]
    followed = client.get(edit_url)
    assert "as last saved, went to desk@courier.example" in followed.content.decode()


def test_a_test_send_never_redirects_off_the_site(client, editor, stories, issue):
    response = client.post(
        reverse("newsletter_issue_admin:send_test", args=[issue.pk]),
        {"next": "https://evil.example/phish"},
    )

    assert response["Location"] == reverse("newsletter_issue_admin:send_log", args=[issue.pk])


def test_the_subject_help_names_this_issues_own_default(client, editor, db):
    later = DailyIssue.objects.create(date="2026-12-02")
    earlier = DailyIssue.objects.create(date="2026-11-26")

    for issue, expected in [
        (later, "Leave blank for “Top stories for Wednesday 2 December”."),
        (earlier, "Leave blank for “Top stories for Thursday 26 November”."),
    ]:
        page = client.get(reverse(EDIT, args=[issue.pk])).content.decode()
        assert expected in page


def test_a_new_issues_subject_help_names_today(client, editor, db):
    # Days after the server started: the help follows the clock, not the start-up.
    with time_machine.travel(datetime(2026, 11, 30, 9, tzinfo=UTC)):
        page = client.get(reverse("wagtailsnippets_newsletter_dailyissue:add")).content.decode()

    assert "Leave blank for “Top stories for Monday 30 November”." in page


def test_send_now_and_the_send_log(client, editor, stories, issue):
    Subscriber.objects.create(email="reader@example.org", status="confirmed")
    Subscriber.objects.create(email="gone@example.org", status="unsubscribed")

    client.post(reverse("newsletter_issue_admin:send_now", args=[issue.pk]))
    log = client.get(reverse("newsletter_issue_admin:send_log", args=[issue.pk]))

    assert [m.to for m in mail.outbox] == [["reader@example.org"]]
    page = log.content.decode()
    assert "1 of 1 done" in page
    assert "Send to all subscribers now" not in page  # sent: the button is gone
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SENT


def test_a_sent_issue_cannot_be_edited(client, editor, stories, issue):
    sending.send_issue(issue)

    response = client.get(reverse(EDIT, args=[issue.pk]))
    attempt = client.post(reverse(EDIT, args=[issue.pk]), form_data(issue, stories[:1]))

    assert response.status_code == attempt.status_code == 302
    assert response["Location"] == reverse("newsletter_issue_admin:send_log", args=[issue.pk])
    assert not IssuePick.objects.exists()


def test_a_subject_with_a_line_break_is_refused(client, editor, stories, issue):
    data = form_data(issue, []) | {"subject": "Morning\r\nBcc: everyone@example.org"}

    response = client.post(reverse(EDIT, args=[issue.pk]), data)

    assert response.status_code == 200  # the form again, with the error
    assert b"line break" in response.content
    issue.refresh_from_db()
    assert issue.subject == ""


def test_the_send_log_lists_failures_with_the_servers_words(client, editor, issue, stories):
    reader = Subscriber.objects.create(email="nobody@example.org", status="confirmed")
    sending.start_issue(issue, now=timezone.now())
    issue.deliveries.update(status="failed", error="550 5.1.1 No such mailbox", attempts=1)

    page = client.get(reverse("newsletter_issue_admin:send_log", args=[issue.pk])).content.decode()

    assert reader.email in page and "550 5.1.1 No such mailbox" in page


def test_readers_and_reporters_cannot_send(client, django_user_model, issue, stories):
    client.force_login(staff(django_user_model, "Reporters"))

    response = client.post(reverse("newsletter_issue_admin:send_now", args=[issue.pk]))

    # Wagtail turns the refusal into a redirect to the dashboard with a message.
    assert (response.status_code, response["Location"]) == (302, "/admin/")
    assert mail.outbox == []
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.DRAFT


def test_an_editor_changes_the_send_time(client, editor):
    from broadsheet.newsletter.models import NewsletterSettings

    url = reverse("wagtailsettings:edit", args=["newsletter", "newslettersettings"])
    form = client.get(url, follow=True)
    url = form.redirect_chain[-1][0] if form.redirect_chain else url
    saved = client.post(
        url, {"send_time": "06:15", "top_story_count": "8", "sending_enabled": "on"}
    )

    assert form.status_code == 200
    assert saved.status_code == 302
    settings = NewsletterSettings.load()
    assert (settings.send_time.isoformat(), settings.top_story_count) == ("06:15:00", 8)


def test_the_dashboard_says_when_todays_issue_goes_out_then_how_it_went(client, editor, stories):
    Subscriber.objects.create(email="reader@example.org", status="confirmed")

    before = client.get(reverse("wagtailadmin_home")).content.decode()
    sending.send_issue(scheduling.issue_for(timezone.localdate()))
    after = client.get(reverse("wagtailadmin_home")).content.decode()

    assert "Today's newsletter" in before and "Goes out at 07:00 to 1 subscriber." in before
    assert "1 sent" in after and "Goes out at" not in after


def test_the_dashboard_charts_who_joined_and_who_left_in_the_last_30_days(client, editor):
    from broadsheet.newsletter import services

    for n in range(3):
        reader = services.request_subscription(email=f"reader{n}@example.org")
        services.confirm(token=services.confirm_token(reader))
    services.unsubscribe_subscriber(reader, how="link")

    changes = services.daily_changes(days=30)
    page = client.get(reverse("wagtailadmin_home")).content.decode()

    assert changes[-1] == (timezone.localdate(), 3, 1)
    assert sum(joined for _, joined, _ in changes[:-1]) == 0
    assert "Last 30 days: 3 joined (green, above the line), 1 left or bounced" in page
    assert page.count("joined, 0 left</title>") == 29  # one bar group per day
