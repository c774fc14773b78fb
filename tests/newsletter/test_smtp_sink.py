"""The SMTP sink that newsletter tests send through does what it says, over real SMTP."""

import smtplib
import socket
import threading
import time

import pytest
from django.core.mail import EmailMessage, get_connection

from tests.newsletter.smtp_sink import SMTPSink


def raw_message(to: str, subject: str = "Hello") -> bytes:
    return (
        f"From: newsroom@broadsheet.invalid\r\nTo: {to}\r\nSubject: {subject}\r\n\r\nBody\r\n"
    ).encode()


def send_raw(sink: SMTPSink, to: str, *, timeout: float = 5, subject: str = "Hello") -> None:
    """One message over a fresh connection, with smtplib's own errors left to the test."""
    with smtplib.SMTP(sink.host, sink.port, timeout=timeout) as client:
        client.sendmail("newsroom@broadsheet.invalid", [to], raw_message(to, subject))


def test_django_mail_arrives_with_envelope_headers_and_body(smtp_sink):
    EmailMessage(
        subject="Top stories for Thursday",
        body="Harbour bridge to close",
        from_email="newsroom@broadsheet.invalid",
        to=["Ruth@Example.org", "sam@example.org"],
    ).send()

    [received] = smtp_sink.wait_for(1)
    assert received.mail_from == "newsroom@broadsheet.invalid"
    assert received.rcpt_tos == ("ruth@example.org", "sam@example.org")
    assert received.message["Subject"] == "Top stories for Thursday"
    assert received.message.get_content().strip() == "Harbour bridge to close"
    assert smtp_sink.count == 1
    assert smtp_sink.messages_to("SAM@example.org") == [received]
    assert smtp_sink.messages_to("nobody@example.org") == []


def test_one_connection_can_carry_many_messages(smtp_sink):
    messages = [
        EmailMessage(subject=f"Issue {n}", body="x", to=[f"reader{n}@example.org"])
        for n in range(5)
    ]
    with get_connection() as connection:
        assert connection.send_messages(messages) == 5

    assert [m.message["Subject"] for m in smtp_sink.wait_for(5)] == [f"Issue {n}" for n in range(5)]
    assert [m.number for m in smtp_sink.messages] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("code", [550, 450])
def test_a_refused_address_gets_the_configured_reply_every_time(smtp_sink, code):
    smtp_sink.refuse["gone@example.org"] = (code, "No such mailbox")

    for _ in range(2):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send_raw(smtp_sink, "gone@example.org")
        assert refused.value.recipients == {"gone@example.org": (code, b"No such mailbox")}
    send_raw(smtp_sink, "here@example.org")

    assert [m.rcpt_tos for m in smtp_sink.messages] == [("here@example.org",)]


def test_a_temporary_failure_clears_after_the_given_number_of_attempts(smtp_sink):
    smtp_sink.temporary_failures = {"busy@example.org": 2}

    for _ in range(2):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            send_raw(smtp_sink, "busy@example.org")
        assert refused.value.recipients["busy@example.org"][0] == 451
    send_raw(smtp_sink, "busy@example.org")

    assert len(smtp_sink.messages_to("busy@example.org")) == 1


@pytest.mark.parametrize("stage", ["mail", "rcpt", "data_end"])
def test_dropping_at_a_stage_hangs_up_unanswered_and_records_nothing(smtp_sink, stage):
    smtp_sink.drop_at = (stage, 2)
    send_raw(smtp_sink, "first@example.org")

    with pytest.raises(smtplib.SMTPServerDisconnected):
        send_raw(smtp_sink, "second@example.org")
    send_raw(smtp_sink, "third@example.org")  # the next transaction is number 3

    assert [m.rcpt_tos for m in smtp_sink.messages] == [
        ("first@example.org",),
        ("third@example.org",),
    ]
    assert [(a.number, a.stage) for a in smtp_sink.dropped] == [(2, stage)]


def test_dropping_at_data_end_cuts_a_shared_connection_mid_batch(smtp_sink):
    smtp_sink.drop_at = ("data_end", 3)
    messages = [EmailMessage(subject="x", body="x", to=[f"r{n}@example.org"]) for n in range(5)]

    with pytest.raises(smtplib.SMTPServerDisconnected):
        get_connection().send_messages(messages)

    assert [m.rcpt_tos for m in smtp_sink.messages] == [("r0@example.org",), ("r1@example.org",)]


def test_a_drop_predicate_picks_the_transaction_by_what_it_carries(smtp_sink):
    smtp_sink.drop_at = ("rcpt", lambda attempt: attempt.rcpt_tos[-1] == "cut@example.org")

    send_raw(smtp_sink, "kept@example.org")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send_raw(smtp_sink, "cut@example.org")

    assert smtp_sink.count == 1
    assert smtp_sink.dropped[0].rcpt_tos == ("cut@example.org",)


def test_a_delay_holds_the_reply_to_data_but_the_message_is_already_recorded():
    with SMTPSink(delay=0.6) as sink:
        started = time.monotonic()
        send_raw(sink, "patient@example.org")
        assert time.monotonic() - started >= 0.6

        sink.delay = 1.5
        with pytest.raises((socket.timeout, smtplib.SMTPServerDisconnected)):
            send_raw(sink, "impatient@example.org", timeout=0.5)

        assert sink.count == 2  # the sender gave up on a message the server had taken


def test_on_message_sees_each_message_after_it_is_recorded(smtp_sink):
    seen = []
    smtp_sink.on_message = lambda received: seen.append((received, smtp_sink.count))

    send_raw(smtp_sink, "one@example.org", subject="First")

    [(received, count_then)] = seen
    assert received.message["Subject"] == "First"
    assert count_then == 1


def test_a_failing_on_message_callback_becomes_an_error_reply(smtp_sink):
    def explode(received):
        raise RuntimeError("the test's callback failed")

    smtp_sink.on_message = explode

    with pytest.raises(smtplib.SMTPDataError) as error:
        send_raw(smtp_sink, "one@example.org")
    assert error.value.smtp_code == 500


def test_wait_for_wakes_when_messages_arrive_from_another_thread(smtp_sink):
    sender = threading.Thread(
        target=lambda: [send_raw(smtp_sink, f"r{n}@example.org") for n in range(3)]
    )
    sender.start()
    try:
        assert len(smtp_sink.wait_for(3, timeout=5)) == 3
    finally:
        sender.join()
    with pytest.raises(TimeoutError):
        smtp_sink.wait_for(4, timeout=0.2)


def test_two_sinks_run_side_by_side_on_their_own_ports():
    with SMTPSink() as one, SMTPSink() as two:
        assert one.port != two.port
        send_raw(two, "two@example.org")
        assert (one.count, two.count) == (0, 1)
