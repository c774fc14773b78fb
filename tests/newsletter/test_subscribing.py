"""Double opt-in sign-up, confirmation and leaving, from the box on every page."""

import base64
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing
from django.utils import timezone

from broadsheet.newsletter import services
from broadsheet.newsletter.models import Subscriber

SIGNUP = "/newsletter/subscribe/"


def sign_up(client, email, **extra):
    return client.post(SIGNUP, {"email": email, **extra})


def link_in(message):
    return re.search(r"http://\S+/newsletter/confirm/\S+/", message.body).group(0)


def path_of(url):
    return "/" + url.split("/", 3)[3]


def test_signing_up_sends_one_confirmation_and_subscribes_nobody_yet(client, db):
    response = sign_up(client, "Ruth@Example.org ")

    assert response.status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ruth@example.org"]
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    html = mail.outbox[0].alternatives[0][0]
    assert link_in(mail.outbox[0]) in html


def test_the_answer_is_the_same_for_new_pending_and_subscribed_addresses(client, db):
    new = sign_up(client, "new@example.org").content
    pending = sign_up(client, "new@example.org").content
    Subscriber.objects.create(email="reader@example.org", status=Subscriber.Status.CONFIRMED)
    confirmed = sign_up(client, "reader@example.org").content

    assert new == pending == confirmed


def test_opening_the_link_only_shows_a_button_and_the_button_confirms(client, db):
    sign_up(client, "ruth@example.org")
    link = path_of(link_in(mail.outbox[0]))

    page = client.get(link)
    assert page.status_code == 200 and b"Yes, subscribe me" in page.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING  # a scanner's GET

    done = client.post(link)
    assert done.status_code == 200 and b"You are subscribed" in done.content
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED
    assert client.post(link).status_code == 200  # a second press changes nothing


def test_resending_is_rate_limited(client, db):
    sign_up(client, "ruth@example.org")
    sign_up(client, "ruth@example.org")
    assert len(mail.outbox) == 1

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        sign_up(client, "ruth@example.org")
    assert len(mail.outbox) == 2


def test_confirmation_links_expire(client, db):
    sign_up(client, "ruth@example.org")
    link = path_of(link_in(mail.outbox[0]))

    with time_machine.travel(timezone.now() + timedelta(days=8)):
        response = client.post(link)

    assert response.status_code == 400
    assert b"This link has expired." in response.content
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING


@pytest.mark.parametrize("token", ["forged", "MQ:1abc:xyz", "x" * 500])
def test_forged_links_are_refused_and_change_nothing(client, db, token):
    for url in (f"/newsletter/confirm/{token}/", f"/newsletter/unsubscribe/{token}/"):
        assert client.get(url).status_code == 400
        assert client.post(url).status_code == 400


def confirmed(email="reader@example.org"):
    return Subscriber.objects.create(email=email, status=Subscriber.Status.CONFIRMED)


def test_unsubscribe_link_shows_a_button_and_the_button_unsubscribes(client, db):
    subscriber = confirmed()
    url = f"/newsletter/unsubscribe/{services.unsubscribe_token(subscriber)}/"

    assert b"Unsubscribe" in client.get(url).content
    assert Subscriber.objects.get().status == Subscriber.Status.CONFIRMED

    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200  # repeated clicks are fine
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert list(subscriber.events.values_list("kind", "detail")) == [("unsubscribed", "link")]


def test_rfc_8058_one_click_post_unsubscribes_at_once(client, db):
    subscriber = confirmed()
    url = f"/newsletter/unsubscribe/{services.unsubscribe_token(subscriber)}/"

    response = client.post(url, {"List-Unsubscribe": "One-Click"})

    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.events.get().detail == "one-click"


def test_readers_can_come_back_after_leaving(client, db):
    subscriber = confirmed("ruth@example.org")
    services.unsubscribe(token=services.unsubscribe_token(subscriber))

    sign_up(client, "ruth@example.org")
    client.post(path_of(link_in(mail.outbox[0])))

    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.CONFIRMED


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Please enter your email address."),
        ("not-an-address", "That does not look like an email address."),
        ("ruth@example.org\r\nBcc: everyone@example.org", "That does not look like an email"),
        ("a" * 250 + "@example.org", "Ensure this value has at most 254 characters"),
    ],
)
def test_bad_addresses_get_a_clear_message_and_no_email(client, db, email, message):
    response = sign_up(client, email)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert mail.outbox == []
    assert not Subscriber.objects.exists()


def test_bots_filling_the_hidden_field_get_the_same_answer_and_no_email(client, db):
    response = sign_up(client, "bot@example.org", website="http://spam.example")

    assert response.status_code == 200
    assert mail.outbox == [] and not Subscriber.objects.exists()


def test_sign_ups_from_another_site_are_refused(client, db):
    response = client.post(SIGNUP, {"email": "ruth@example.org"}, HTTP_ORIGIN="https://x.example")

    assert response.status_code == 403
    assert mail.outbox == []


def test_a_flood_of_sign_ups_from_one_address_is_slowed(client, db, settings):
    settings.BROADSHEET_NEWSLETTER_SIGNUPS_PER_ADDRESS_PER_HOUR = 2
    statuses = [sign_up(client, f"r{n}@example.org").status_code for n in range(3)]

    assert statuses == [200, 200, 429]
    assert len(mail.outbox) == 2


def test_the_box_on_cached_pages_posts_without_a_token(client, make_article):
    story = make_article()
    html = client.get(story.url).content.decode()

    assert 'action="/newsletter/subscribe/"' in html
    assert "csrfmiddlewaretoken" not in html
    assert "disabled" not in html.split('data-slot="newsletter"')[1].split("</section>")[0]


def test_a_confirmation_link_no_longer_works_after_the_reader_unsubscribes(client, db):
    sign_up(client, "ruth@example.org")
    link = path_of(link_in(mail.outbox[0]))
    client.post(link)
    subscriber = Subscriber.objects.get()
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        services.unsubscribe(token=services.unsubscribe_token(subscriber))
        response = client.post(link)

    assert response.status_code == 400
    assert b"You unsubscribed after this link was sent" in response.content
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def payload_of(token: str) -> str:
    """What anyone holding a link can read in it: Django signs, it does not encrypt."""
    encoded = token.split(":")[0]
    return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()


def test_links_reveal_nothing_about_the_subscriber(client, db):
    sign_up(client, "ruth@example.org")
    ruth = Subscriber.objects.get()
    token = link_in(mail.outbox[0]).rstrip("/").rsplit("/", 1)[1]

    for readable in (payload_of(token), payload_of(services.unsubscribe_token(ruth))):
        assert str(ruth.pk) not in readable.replace(ruth.token, "")
        assert readable == f'"{ruth.token}"'
    other = Subscriber.objects.create(email="ben@example.org")
    assert len(ruth.token) >= 22 and ruth.token != other.token


def test_unsubscribe_links_sent_before_tokens_still_work(client, db):
    ruth = Subscriber.objects.create(email="ruth@example.org", status=Subscriber.Status.CONFIRMED)
    # An email sent before this change carries a link signed with the subscriber's number.
    old_link = signing.dumps(ruth.pk, salt=services.UNSUBSCRIBE_SALT)

    response = client.post(f"/newsletter/unsubscribe/{old_link}/")

    assert response.status_code == 200
    ruth.refresh_from_db()
    assert ruth.status == Subscriber.Status.UNSUBSCRIBED
