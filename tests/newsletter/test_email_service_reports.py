"""Bounces and complaints that an email service reports later suppress the address.

The reports arrive through django-anymail's tracking webhooks; Postmark's stands in for
every service here (anymail turns each one's format into the same event).
"""

import base64
import json

import pytest

from broadsheet.newsletter.models import Subscriber

URL = "/anymail/postmark/tracking/"
SECRET = "courier:webhook-secret"  # broadsheet/settings/test.py


def post(client, payload, *, secret=SECRET):
    auth = base64.b64encode(secret.encode()).decode()
    return client.post(
        URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def bounce(email, kind="HardBounce"):
    return {
        "RecordType": "Bounce",
        "Type": kind,
        "Email": email,
        "Description": "The server was unable to deliver your message (unknown user).",
        "Details": "smtp;550 5.1.1 The email account does not exist.",
        "BouncedAt": "2026-11-26T07:02:00Z",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
    }


@pytest.fixture
def ada(db):
    return Subscriber.objects.create(email="ada@example.org", status=Subscriber.Status.CONFIRMED)


def test_a_hard_bounce_suppresses_the_address_with_the_reason(client, ada):
    response = post(client, bounce("Ada@Example.org"))

    assert response.status_code == 200
    ada.refresh_from_db()
    assert ada.status == Subscriber.Status.SUPPRESSED
    assert "Postmark reported it bounced" in ada.suppressed_reason
    assert "unknown user" in ada.suppressed_reason
    assert "Suppressed" in ada.history


def test_a_spam_complaint_suppresses_the_address(client, ada):
    post(client, {**bounce(ada.email, "SpamComplaint"), "RecordType": "SpamComplaint"})

    ada.refresh_from_db()
    assert ada.status == Subscriber.Status.SUPPRESSED
    assert "complained" in ada.suppressed_reason


def test_a_delivery_report_changes_nothing(client, ada):
    post(
        client,
        {"RecordType": "Delivery", "Recipient": ada.email, "DeliveredAt": "2026-11-26T07:02:00Z"},
    )

    ada.refresh_from_db()
    assert ada.status == Subscriber.Status.CONFIRMED


def test_a_report_without_the_secret_is_refused_and_changes_nothing(client, ada):
    response = post(client, bounce(ada.email), secret="courier:guess")
    unauthenticated = client.post(
        URL, json.dumps(bounce(ada.email)), content_type="application/json"
    )

    assert response.status_code in (400, 401, 403)
    assert unauthenticated.status_code in (400, 401, 403)
    ada.refresh_from_db()
    assert ada.status == Subscriber.Status.CONFIRMED


def test_a_report_about_a_stranger_or_garbage_is_harmless(client, ada):
    assert post(client, bounce("stranger@example.org")).status_code == 200
    garbage = client.post(
        URL,
        b"\x00not json",
        content_type="application/json",
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(SECRET.encode()).decode(),
    )

    assert garbage.status_code == 400
    assert not Subscriber.objects.filter(email="stranger@example.org").exists()
    ada.refresh_from_db()
    assert ada.status == Subscriber.Status.CONFIRMED
