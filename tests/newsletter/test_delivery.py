"""Sending the daily issue through a real SMTP server: once each, resumable, honest."""

import socket
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from broadsheet.news.paper import absolute_url
from broadsheet.newsletter import scheduling, sending
from broadsheet.newsletter.models import DailyIssue, Delivery, Subscriber


def subscribe(*emails, status=Subscriber.Status.CONFIRMED):
    return [Subscriber.objects.create(email=e, status=status) for e in emails]


@pytest.fixture
def todays_story(make_article):
    return make_article(title="Harbour wall to be rebuilt after storm")


@pytest.fixture
def issue(db):
    return scheduling.issue_for(timezone.localdate())


def received_by(sink):
    return Counter(address for m in sink.messages for address in m.rcpt_tos)


def test_issue_reaches_every_confirmed_subscriber_once(smtp_sink, todays_story, issue):
    readers = subscribe("ada@example.org", "ben@example.org", "cleo@example.org")
    subscribe("pending@example.org", status=Subscriber.Status.PENDING)
    subscribe("gone@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    subscribe("bounced@example.org", status=Subscriber.Status.SUPPRESSED)

    report = sending.send_issue(issue)

    assert received_by(smtp_sink) == Counter({r.email: 1 for r in readers})
    assert report.counts == Counter({Delivery.Status.SENT: 3})
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SENT
    assert issue.sent_story_ids == [todays_story.pk]

    again = sending.send_issue(issue)
    assert smtp_sink.count == 3
    assert again.counts == Counter({Delivery.Status.SENT: 3})


def test_each_message_has_both_parts_and_its_readers_unsubscribe_headers(
    smtp_sink, todays_story, issue
):
    (reader,) = subscribe("ada@example.org")
    sending.send_issue(issue)

    (received,) = smtp_sink.messages
    message = received.message
    assert message["To"] == "ada@example.org"
    # Stable for the reader and the issue, and no subscriber's number in sight.
    assert message["Message-ID"] == f"<issue-{issue.date:%Y%m%d}.{reader.token}@broadsheet.invalid>"
    assert message["From"] == "The Test Courier <newsroom@broadsheet.invalid>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip().strip("<>")
    assert url.startswith("http://") and "/newsletter/unsubscribe/" in url
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Harbour wall to be rebuilt after storm" in text
    assert "Harbour wall to be rebuilt after storm" in html
    story_url = absolute_url(todays_story.get_url())
    assert story_url.startswith("http://")
    assert story_url in html and story_url in text
    assert url in text and url in html  # the footer link is the reader's own
    assert "%%unsubscribe_url%%" not in received.raw.decode()


def test_one_click_unsubscribe_from_the_header_stops_the_next_issue(
    client, smtp_sink, todays_story, issue, make_article
):
    subscribe("ada@example.org", "ben@example.org")
    sending.send_issue(issue)
    ada_message = smtp_sink.messages_to("ada@example.org")[0].message
    url = ada_message["List-Unsubscribe"].strip().strip("<>")

    # What a mail client sends (RFC 8058): a POST with this one field, no cookies.
    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    assert Subscriber.objects.get(email="ada@example.org").status == "unsubscribed"
    tomorrow = scheduling.issue_for(issue.date + timedelta(days=1))
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        make_article(title="Ferry timetable changes")
        sending.send_issue(tomorrow)
    assert received_by(smtp_sink) == Counter({"ada@example.org": 1, "ben@example.org": 2})


def test_permanent_refusal_suppresses_the_address_with_the_servers_words(
    smtp_sink, todays_story, issue
):
    subscribe("ada@example.org", "nobody@example.org", "ben@example.org")
    smtp_sink.refuse["nobody@example.org"] = (550, "5.1.1 No such mailbox")

    report = sending.send_issue(issue)

    assert received_by(smtp_sink) == Counter({"ada@example.org": 1, "ben@example.org": 1})
    assert report.counts == Counter({Delivery.Status.SENT: 2, Delivery.Status.FAILED: 1})
    nobody = Subscriber.objects.get(email="nobody@example.org")
    assert nobody.status == Subscriber.Status.SUPPRESSED
    assert "550 5.1.1 No such mailbox" in nobody.suppressed_reason
    assert "550 5.1.1 No such mailbox" in nobody.history
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SENT  # nothing left to try


def test_temporary_refusal_waits_and_is_retried_once_due(smtp_sink, todays_story, issue):
    subscribe("ada@example.org", "busy@example.org")
    smtp_sink.temporary_failures["busy@example.org"] = 1

    first = sending.send_issue(issue)

    assert received_by(smtp_sink) == Counter({"ada@example.org": 1})
    assert first.counts[Delivery.Status.RETRY] == 1
    assert first.retry_at > timezone.now()
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SENDING
    assert sending.send_issue(issue).counts[Delivery.Status.RETRY] == 1  # not due yet
    with time_machine.travel(first.retry_at + timedelta(seconds=1)):
        second = sending.send_issue(issue)
    assert received_by(smtp_sink) == Counter({"ada@example.org": 1, "busy@example.org": 1})
    assert second.counts == Counter({Delivery.Status.SENT: 2})
    assert Subscriber.objects.get(email="busy@example.org").status == "confirmed"


def test_an_address_that_stays_busy_fails_after_the_last_retry_without_suppression(
    smtp_sink, todays_story, issue, settings
):
    settings.BROADSHEET_NEWSLETTER_RETRY_DELAYS = [60, 60]
    subscribe("busy@example.org")
    smtp_sink.refuse["busy@example.org"] = (452, "4.2.2 Mailbox full")

    report = sending.send_issue(issue)
    for _ in range(3):
        with time_machine.travel(report.retry_at + timedelta(seconds=1)):
            report = sending.send_issue(issue)
        if not report.retry_at:
            break

    row = Delivery.objects.get()
    assert (row.status, row.attempts) == (Delivery.Status.FAILED, 3)
    assert "452 4.2.2 Mailbox full" in row.error
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED
    assert smtp_sink.count == 0


def test_connection_dropped_before_the_message_ended_is_sent_again(smtp_sink, todays_story, issue):
    subscribe("ada@example.org", "ben@example.org", "cleo@example.org")
    smtp_sink.drop_at = ("rcpt", 2)

    report = sending.send_issue(issue)

    assert smtp_sink.dropped, "the server should have hung up once"
    assert received_by(smtp_sink) == Counter(
        {"ada@example.org": 1, "ben@example.org": 1, "cleo@example.org": 1}
    )
    assert report.counts == Counter({Delivery.Status.SENT: 3})


def test_connection_dropped_after_the_message_ended_is_never_sent_twice(
    smtp_sink, todays_story, issue
):
    subscribe("ada@example.org", "ben@example.org", "cleo@example.org")
    smtp_sink.drop_at = ("data_end", 2)

    report = sending.send_issue(issue)
    sending.send_issue(issue)

    # The second message reached the server's "." and the line went dead: it may or may
    # not have been delivered, so it is left alone and shown to staff as unconfirmed.
    assert report.counts == Counter({Delivery.Status.SENT: 2, Delivery.Status.UNCONFIRMED: 1})
    unconfirmed = Delivery.objects.get(status=Delivery.Status.UNCONFIRMED)
    assert "not sent again" in unconfirmed.error
    assert unconfirmed.subscriber.email not in received_by(smtp_sink)
    assert sum(received_by(smtp_sink).values()) == 2


def test_slow_server_gets_every_message(smtp_sink, todays_story, issue):
    subscribe("ada@example.org", "ben@example.org")
    smtp_sink.delay = 0.3

    report = sending.send_issue(issue)

    assert report.counts == Counter({Delivery.Status.SENT: 2})
    assert smtp_sink.count == 2


def test_server_that_stops_answering_after_the_message_ended_leaves_it_unconfirmed(
    smtp_sink, todays_story, issue, settings
):
    settings.EMAIL_TIMEOUT = 0.5
    subscribe("ada@example.org")
    smtp_sink.delay = 2

    report = sending.send_issue(issue)

    assert report.counts == Counter({Delivery.Status.UNCONFIRMED: 1})
    assert (
        "TimeoutError" in Delivery.objects.get().error
        or "timed out" in Delivery.objects.get().error
    )


def test_unreachable_server_stops_the_run_and_the_next_run_resumes(
    smtp_sink, todays_story, issue, settings
):
    subscribe("ada@example.org", "ben@example.org")
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]

    report = sending.send_issue(issue)

    assert "could not be reached" in report.stopped
    assert report.counts == Counter({Delivery.Status.PENDING: 2})
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SENDING
    assert "could not be reached" in issue.status_detail

    settings.EMAIL_PORT = smtp_sink.port  # the server is back
    resumed = sending.send_issue(issue)
    assert received_by(smtp_sink) == Counter({"ada@example.org": 1, "ben@example.org": 1})
    assert resumed.counts == Counter({Delivery.Status.SENT: 2})
    issue.refresh_from_db()
    assert (issue.status, issue.status_detail) == (DailyIssue.Status.SENT, "")


def test_a_server_refusing_everyone_stops_the_run_before_suppressing_the_list(
    smtp_sink, todays_story, issue, settings
):
    settings.BROADSHEET_NEWSLETTER_MAX_REFUSALS_IN_A_ROW = 3
    readers = subscribe(*(f"reader{n}@example.org" for n in range(6)))
    for reader in readers:
        smtp_sink.refuse[reader.email] = (554, "5.7.1 Relay access denied")

    report = sending.send_issue(issue)

    assert "refused 3 messages in a row" in report.stopped
    assert Subscriber.objects.filter(status=Subscriber.Status.SUPPRESSED).count() == 3
    assert report.counts[Delivery.Status.PENDING] == 3


def test_reader_who_leaves_mid_send_is_skipped(smtp_sink, todays_story, issue):
    _ada, ben = subscribe("ada@example.org", "ben@example.org")
    sending.start_issue(issue, now=timezone.now())
    ben.status = Subscriber.Status.UNSUBSCRIBED
    ben.save()

    report = sending.send_issue(issue)

    assert received_by(smtp_sink) == Counter({"ada@example.org": 1})
    assert report.counts == Counter({Delivery.Status.SENT: 1, Delivery.Status.SKIPPED: 1})


def test_empty_day_sends_nothing_and_says_why(smtp_sink, issue, make_article, days_ago):
    make_article(title="Old news", published_at=days_ago(3))
    subscribe("ada@example.org")

    report = sending.send_issue(issue)

    assert smtp_sink.count == 0
    issue.refresh_from_db()
    assert issue.status == DailyIssue.Status.SKIPPED
    assert "no stories or blog posts were published" in issue.status_detail
    assert "not sent" in str(report)
    assert not Delivery.objects.exists()


def test_an_address_that_would_inject_headers_fails_alone(smtp_sink, todays_story, issue):
    subscribe("ada@example.org")
    # Sign-up and import refuse such addresses; this one is forced into the table.
    Subscriber.objects.bulk_create(
        [Subscriber(email="eve@example.org\nBcc: all@example.org", status="confirmed")]
    )

    report = sending.send_issue(issue)

    assert received_by(smtp_sink) == Counter({"ada@example.org": 1})
    assert all("all@example.org" not in m.raw.decode() for m in smtp_sink.messages)
    assert report.counts == Counter({Delivery.Status.SENT: 1, Delivery.Status.FAILED: 1})


def test_command_sends_the_due_issue_with_a_summary(smtp_sink, todays_story, capsys):
    subscribe("ada@example.org", "ben@example.org")

    call_command("send_newsletter", "--now")

    out = capsys.readouterr().out
    assert "sent 2" in out
    assert smtp_sink.count == 2
    call_command("send_newsletter", "--now")
    assert "sent 2" in capsys.readouterr().out
    assert smtp_sink.count == 2


def test_command_refuses_a_bad_date(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="--date wants a date"):
        call_command("send_newsletter", "--date", "26/11/2026")


def parsed(message):
    import email
    import email.policy

    return email.message_from_bytes(
        message.message().as_bytes(linesep="\r\n"), policy=email.policy.default
    )


def test_a_prebuilt_copy_reads_exactly_like_one_built_in_full(todays_story, issue):
    ada, jose = subscribe("ada@example.org", "josé@exämple.org")
    sending.start_issue(issue, now=timezone.now())
    sender = "The Test Courier <newsroom@broadsheet.invalid>"
    template = sending.MessageTemplate.build(issue, from_email=sender)
    assert template is not None, "the issue's markers should survive encoding"

    fast = sending.message_for(issue, ada, from_email=sender, template=template)
    full = sending.message_for(issue, ada, from_email=sender)

    assert fast.prebuilt is not None and full.prebuilt is None
    fast_mime, full_mime = parsed(fast), parsed(full)
    for header in (
        "From",
        "To",
        "Subject",
        "List-Unsubscribe",
        "List-Unsubscribe-Post",
        "Message-ID",
    ):
        assert str(fast_mime[header]).strip() == str(full_mime[header]).strip(), header
    for kind in ("plain", "html"):
        assert (
            fast_mime.get_body((kind,)).get_content() == full_mime.get_body((kind,)).get_content()
        )
    # An address the template cannot carry safely is built in full.
    assert sending.message_for(issue, jose, from_email=sender, template=template).prebuilt is None


def test_old_delivery_rows_are_pruned_but_the_counts_stay(todays_story, issue):
    subscribe("ada@example.org", "ben@example.org")
    sending.send_issue(issue)

    assert sending.prune_deliveries() == 0  # too recent
    in_forty_days = timezone.now() + timedelta(days=40)
    assert sending.prune_deliveries(now=in_forty_days) == 2

    issue.refresh_from_db()
    assert not issue.deliveries.exists()
    assert sending.report_for(issue).counts == Counter({Delivery.Status.SENT: 2})
    assert issue.deliveries_summary == "2 sent"


def test_a_line_break_in_the_papers_name_cannot_break_the_from_header(
    smtp_sink, todays_story, issue, home
):
    subscribe("ada@example.org")
    site = home.get_site()
    site.site_name = "The Test\r\nBcc: all@example.org Courier"
    site.save()

    report = sending.send_issue(issue)

    assert report.counts == Counter({Delivery.Status.SENT: 1})
    (received,) = smtp_sink.messages
    assert received.rcpt_tos == ("ada@example.org",)
    assert "Bcc" not in received.message


def test_a_database_error_at_the_handover_abandons_that_message_cleanly(
    smtp_sink, todays_story, issue, monkeypatch
):
    from django.db import OperationalError

    subscribe("ada@example.org", "ben@example.org", "cleo@example.org")
    real_claim, calls = sending.Sender.claim, []

    def claim_failing_once(sender, row):
        calls.append(row.pk)
        if len(calls) == 2:
            raise OperationalError("database is locked")
        return real_claim(sender, row)

    monkeypatch.setattr(sending.Sender, "claim", claim_failing_once)
    report = sending.send_issue(issue)

    # Ben's message was cut off before its "." and the line dropped: the server kept
    # nothing of it, and Cleo's message did not run into it.
    assert received_by(smtp_sink) == Counter({"ada@example.org": 1, "cleo@example.org": 1})
    assert all(m.message.get_body(("plain",)) for m in smtp_sink.messages)
    assert all(len(m.rcpt_tos) == 1 for m in smtp_sink.messages)
    assert report.counts == Counter({Delivery.Status.SENT: 2, Delivery.Status.RETRY: 1})
    with time_machine.travel(report.retry_at + timedelta(seconds=1)):
        sending.send_issue(issue)
    assert received_by(smtp_sink)["ben@example.org"] == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_several_connections_share_the_list_and_still_send_once_each(
    smtp_sink, make_article, settings
):
    settings.BROADSHEET_NEWSLETTER_CONNECTIONS = 3
    make_article(title="Harbour wall to be rebuilt after storm")
    readers = subscribe(*(f"reader{n:02}@example.org" for n in range(12)))
    smtp_sink.refuse["reader05@example.org"] = (550, "5.1.1 No such mailbox")
    smtp_sink.temporary_failures["reader07@example.org"] = 1
    issue = scheduling.issue_for(timezone.localdate())

    first = sending.send_issue(issue)
    with time_machine.travel(first.retry_at + timedelta(seconds=1)):
        second = sending.send_issue(issue)

    expected = {r.email: 1 for r in readers if r.email != "reader05@example.org"}
    assert received_by(smtp_sink) == Counter(expected)
    assert len({m.peer for m in smtp_sink.messages}) >= 3  # three connections at work
    assert first.counts == Counter(
        {Delivery.Status.SENT: 10, Delivery.Status.FAILED: 1, Delivery.Status.RETRY: 1}
    )
    assert second.counts == Counter({Delivery.Status.SENT: 11, Delivery.Status.FAILED: 1})


def test_command_says_why_it_stopped_when_the_server_is_away(todays_story, settings):
    from django.core.management import CommandError

    subscribe("ada@example.org")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        settings.EMAIL_PORT = probe.getsockname()[1]

    with pytest.raises(CommandError, match="could not be reached"):
        call_command("send_newsletter", "--now")

    assert Delivery.objects.get().status == Delivery.Status.PENDING  # kept for the next run


def test_command_refuses_to_send_an_issue_another_process_is_sending(todays_story, issue):
    import threading

    from django.core.management import CommandError
    from django.db import connection

    subscribe("ada@example.org")
    holding, done = threading.Event(), threading.Event()

    def other_process():  # a thread has its own database connection, as a process would
        try:
            with sending.issue_lock(issue):
                holding.set()
                done.wait(10)
        finally:
            connection.close()

    other = threading.Thread(target=other_process)
    other.start()
    holding.wait(10)
    try:
        with pytest.raises(CommandError, match="already being sent"):
            call_command("send_newsletter", "--now")
    finally:
        done.set()
        other.join()

    assert mail.outbox == []


def test_an_email_service_through_django_anymail_by_settings_alone(
    todays_story, issue, settings, monkeypatch
):
    from anymail.exceptions import AnymailAPIError
    from anymail.message import AnymailRecipientStatus

    settings.BROADSHEET_NEWSLETTER_EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    subscribe("ada@example.org", "gone@example.org", "busy@example.org")
    answers = {  # what the service says about two of them
        "gone@example.org": {
            "recipient_status": {
                "gone@example.org": AnymailRecipientStatus(message_id=None, status="rejected")
            }
        },
        "busy@example.org": AnymailAPIError("503 Service Unavailable", status_code=503),
    }
    real_message_for = sending.message_for

    def message_for(issue, subscriber, **kwargs):
        message = real_message_for(issue, subscriber, **kwargs)
        if subscriber.email in answers:
            message.anymail_test_response = answers[subscriber.email]
        return message

    monkeypatch.setattr(sending.sender, "message_for", message_for)

    report = sending.send_issue(issue)

    sent = {m.to[0]: m for m in mail.outbox}
    assert set(sent) == {"ada@example.org", "gone@example.org", "busy@example.org"}  # tried
    params = sent["ada@example.org"].anymail_test_params  # what the service would receive
    headers = params["extra_headers"]
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/newsletter/unsubscribe/" in params["html_body"]
    assert report.counts == Counter(
        {Delivery.Status.SENT: 1, Delivery.Status.FAILED: 1, Delivery.Status.RETRY: 1}
    )
    gone = Subscriber.objects.get(email="gone@example.org")
    assert gone.status == Subscriber.Status.SUPPRESSED
    assert "refused this address" in gone.suppressed_reason
    busy = Delivery.objects.get(subscriber__email="busy@example.org")
    assert "503" in busy.error
