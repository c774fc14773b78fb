"""Staff see subscribers, their status and history, and export them as CSV."""

import csv
import io

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from broadsheet.news import services as news_services
from broadsheet.newsletter import services
from broadsheet.newsletter.models import Subscriber

INDEX = "wagtailsnippets_newsletter_subscriber:list"


@pytest.fixture
def subscribers(db):
    ruth = services.request_subscription(email="ruth@example.org")
    services.confirm(token=services.confirm_token(ruth))
    services.request_subscription(email="pending@example.org")
    return Subscriber.objects.all()


def staff(django_user_model, role):
    news_services.ensure_newsroom_roles()
    user = django_user_model.objects.create_user(role.lower(), password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def test_editors_see_subscribers_and_filter_by_status(client, django_user_model, subscribers):
    client.force_login(staff(django_user_model, "Editors"))

    everyone = client.get(reverse(INDEX))
    confirmed = client.get(reverse(INDEX), {"status": "confirmed"})

    assert everyone.status_code == 200
    assert b"ruth@example.org" in everyone.content and b"pending@example.org" in everyone.content
    assert b"pending@example.org" not in confirmed.content


def test_subscribers_export_as_csv(client, django_user_model, subscribers):
    client.force_login(staff(django_user_model, "Editors"))

    response = client.get(reverse(INDEX), {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    assert response.status_code == 200
    assert rows[0][:2] == ["Email", "Status"]
    assert sorted(row[0] for row in rows[1:]) == ["pending@example.org", "ruth@example.org"]


def test_nobody_adds_subscribers_by_hand(admin_client, subscribers):
    response = admin_client.get(reverse("wagtailsnippets_newsletter_subscriber:add"))

    assert response.status_code in (302, 403)
    assert Subscriber.objects.count() == 2


def test_staff_read_a_subscribers_history(admin_client, subscribers):
    ruth = Subscriber.objects.get(email="ruth@example.org")
    url = reverse("wagtailsnippets_newsletter_subscriber:inspect", args=[ruth.pk])

    content = admin_client.get(url).content.decode()

    assert "Asked to subscribe" in content and "Confirmed" in content


def test_reporters_cannot_see_subscribers(client, django_user_model, subscribers):
    client.force_login(staff(django_user_model, "Reporters"))

    response = client.get(reverse(INDEX))

    assert response.status_code in (302, 403)
