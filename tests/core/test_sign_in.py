"""Admin sign-in is throttled per account and per address, and a superuser can lift a lock."""

import pytest
from axes.models import AccessAttempt
from django.urls import reverse

from broadsheet.core import sign_in

LOGIN = "/admin/login/"


@pytest.fixture
def editor(django_user_model, db):
    return django_user_model.objects.create_user(
        "editor", password="right-horse-battery", is_staff=True
    )


@pytest.fixture
def superuser(django_user_model, db):
    return django_user_model.objects.create_superuser("chief", password="chief-pw")


def attempt(client, username, password, address="203.0.113.7"):
    # A client that keeps no cookies between tries, as a password-guessing script does.
    client.cookies.clear()
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_account_and_the_right_one_then_waits(client, editor, settings):
    answers = [attempt(client, "editor", f"guess-{n}").status_code for n in range(25)]

    limit = settings.AXES_FAILURE_LIMIT
    assert answers[: limit - 1] == [200] * (limit - 1)  # the form again, with its error
    assert set(answers[limit:]) == {429}
    locked = attempt(client, "editor", "right-horse-battery")
    assert locked.status_code == 429
    assert b"Sign-in paused" in locked.content
    assert b"Too many failed sign-ins" in locked.content
    assert b"15 minutes" in locked.content
    assert "_auth_user_id" not in client.session


def test_one_account_guessed_from_many_addresses_is_locked(client, editor, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "editor", "guess", address=f"198.51.100.{n + 1}")

    assert attempt(client, "editor", "right-horse-battery", "192.0.2.99").status_code == 429


def test_many_accounts_guessed_from_one_address_lock_the_address(
    client, editor, superuser, settings
):
    # Four guesses at each of many accounts: no account reaches its own limit.
    for n in range(settings.BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS):
        attempt(client, f"someone-{n // 4}", "guess")

    # Even a right password from that address waits; other addresses are unaffected.
    assert attempt(client, "chief", "chief-pw").status_code == 429
    assert attempt(client, "chief", "chief-pw", address="192.0.2.50").status_code == 302


def test_a_newsroom_behind_one_address_is_not_locked_out_by_a_few_slips(
    client, editor, superuser, settings
):
    # Colleagues mistype their passwords, all from the office's one address.
    for colleague in ("anna", "bilal", "chen", "dora"):
        for _ in range(2):
            attempt(client, colleague, "typo", address="198.51.100.20")

    assert attempt(client, "chief", "chief-pw", address="198.51.100.20").status_code == 302


def test_failures_are_counted_in_the_database_that_every_server_process_shares(client, editor):
    for _ in range(3):
        attempt(client, "editor", "guess")

    row = AccessAttempt.objects.get(username="editor")
    assert row.failures_since_start == 3
    assert row.ip_address == "203.0.113.7"


def test_a_superuser_sees_the_lock_and_lifts_it(client, editor, superuser, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "editor", "guess", address="198.51.100.1")
    assert [lock.value for lock in sign_in.current_locks()] == ["editor"]

    admin = client.__class__()
    admin.force_login(superuser)
    page = admin.get(reverse("broadsheet_sign_in_locks"))
    assert page.status_code == 200
    assert b"Account <strong>editor</strong>" in page.content
    lifted = admin.post(
        reverse("broadsheet_sign_in_locks"), {"kind": "account", "value": "editor"}, follow=True
    )
    assert b"Lifted the lock on the account editor." in lifted.content

    signed_in = attempt(client, "editor", "right-horse-battery", address="192.0.2.10")
    assert signed_in.status_code == 302
    assert signed_in["Location"] == reverse("wagtailadmin_home")


def test_only_superusers_reach_the_locks_page(client, editor):
    client.force_login(editor)

    response = client.get(reverse("broadsheet_sign_in_locks"))

    assert response.status_code in (302, 403)
    assert b"Lift the lock" not in response.content


@pytest.mark.parametrize(
    "form",
    [
        {"kind": "everything", "value": "editor"},
        {"kind": "account", "value": ""},
        {},
    ],
)
def test_a_bad_lift_request_says_so_and_lifts_nothing(client, editor, superuser, settings, form):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, "editor", "guess")
    client.force_login(superuser)

    response = client.post(reverse("broadsheet_sign_in_locks"), form, follow=True)

    assert b"Choose a lock to lift." in response.content
    assert [lock.value for lock in sign_in.current_locks()] == ["editor"]


def test_a_superuser_lifts_a_locked_address(client, superuser, settings):
    for n in range(settings.BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS):
        attempt(client, f"someone-{n // 4}", "guess", address="203.0.113.99")
    admin = client.__class__()
    admin.force_login(superuser)

    assert b"Address <strong>203.0.113.99</strong>" in admin.get("/admin/sign-in-locks/").content
    admin.post("/admin/sign-in-locks/", {"kind": "address", "value": "203.0.113.99"})

    assert sign_in.current_locks() == []
    assert attempt(client, "chief", "chief-pw", address="203.0.113.99").status_code == 302
