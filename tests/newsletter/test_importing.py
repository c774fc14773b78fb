"""Staff import subscribers from CSV: nobody is emailed, and nobody who left comes back."""

import csv
import io
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from broadsheet.news import services as news_services
from broadsheet.newsletter import importing, services
from broadsheet.newsletter.importing import ImportRefused, import_subscribers
from broadsheet.newsletter.models import Subscriber, SubscriberEvent

INDEX = "wagtailsnippets_newsletter_subscriber:list"
IMPORT = "wagtailsnippets_newsletter_subscriber:import"
Status = Subscriber.Status


def run(text: str | bytes, source: str = "list.csv", **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return import_subscribers(csv_file=io.BytesIO(data), source=source, **kwargs)


def status_of(email):
    return Subscriber.objects.get(email=email).status


def confirmed(email):
    subscriber = services.request_subscription(email=email)
    return services.confirm(token=services.confirm_token(subscriber))


def left(email, status, reason=""):
    return Subscriber.objects.create(email=email, status=status, suppressed_reason=reason)


# What the file says -----------------------------------------------------------------


def test_subscribed_rows_are_confirmed_and_every_other_row_waits(db):
    report = run(
        "Email,Status,confirmed_at\n"
        "ruth@example.org,confirmed,2024-03-01 08:30:00+00:00\n"
        "sam@example.org,Subscribed,\n"
        "ana@example.org,active,not a date\n"
        "lee@example.org,,\n"
        "kim@example.org,maybe,2024-03-01\n"
    )

    assert (report.created_confirmed, report.created_pending) == (3, 2)
    assert [status_of(f"{n}@example.org") for n in ("ruth", "sam", "ana", "lee", "kim")] == [
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.CONFIRMED,
        Status.PENDING,
        Status.PENDING,
    ]
    ruth = Subscriber.objects.get(email="ruth@example.org")
    assert ruth.confirmed_at == datetime(2024, 3, 1, 8, 30, tzinfo=UTC)
    sam = Subscriber.objects.get(email="sam@example.org")
    assert sam.confirmed_at is not None and sam.confirmed_at.year > 2024  # "now"
    assert Subscriber.objects.get(email="kim@example.org").confirmed_at is None


def test_imported_subscribers_get_links_of_their_own(db):
    run("email,status\nruth@example.org,confirmed\nsam@example.org,confirmed\n")

    ruth, sam = (Subscriber.objects.get(email=f"{n}@example.org") for n in ("ruth", "sam"))
    assert ruth.token and sam.token and ruth.token != sam.token
    assert services.unsubscribe(token=services.unsubscribe_token(sam), how="link") == sam


def test_each_imported_subscriber_has_the_file_in_their_history(db):
    run("email,status\nruth@example.org,confirmed\nlee@example.org,\n", source="old-list.csv")

    ruth, lee = (
        Subscriber.objects.get(email=e).events.get()
        for e in ("ruth@example.org", "lee@example.org")
    )
    assert ruth.kind == lee.kind == SubscriberEvent.Kind.IMPORTED
    assert ruth.detail == "from old-list.csv, as subscribed"
    assert lee.detail == "from old-list.csv, as waiting for confirmation"


def test_an_import_emails_nobody_and_people_left_waiting_get_mail_only_by_signing_up(db):
    run("email,status\nruth@example.org,confirmed\nlee@example.org,pending\n")

    assert mail.outbox == []
    lee = Subscriber.objects.get(email="lee@example.org")
    assert lee.confirmation_sent_at is None

    services.request_subscription(email="lee@example.org")  # lee signs up on the site

    assert [message.to for message in mail.outbox] == [["lee@example.org"]]


def test_people_who_left_or_were_suppressed_are_never_resubscribed(db):
    left("gone@example.org", Status.UNSUBSCRIBED)
    left("bounced@example.org", Status.SUPPRESSED, reason="bounced")

    report = run("email,status\ngone@example.org,confirmed\nBounced@example.org,subscribed\n")

    assert report.kept_left == 2 and report.created_confirmed == 0
    assert status_of("gone@example.org") == Status.UNSUBSCRIBED
    assert status_of("bounced@example.org") == Status.SUPPRESSED
    assert not SubscriberEvent.objects.exists()
    assert "were not re-subscribed" in report.summary


def test_opt_outs_in_the_file_are_kept_for_new_addresses(db):
    report = run(
        "email,status,unsubscribed_at,suppressed_reason\n"
        "gone@example.org,unsubscribed,2023-05-02T10:00:00Z,\n"
        "bounced@example.org,cleaned,,\n"
        "spam@example.org,complained,,marked as spam\n"
    )

    assert report.created_left == 3
    gone = Subscriber.objects.get(email="gone@example.org")
    assert gone.status == Status.UNSUBSCRIBED
    assert gone.unsubscribed_at == datetime(2023, 5, 2, 10, tzinfo=UTC)
    assert Subscriber.objects.get(email="bounced@example.org").suppressed_reason == (
        "Suppressed in list.csv"
    )
    assert Subscriber.objects.get(email="spam@example.org").suppressed_reason == "marked as spam"


def test_a_confirmed_subscriber_is_left_alone(db):
    ruth = confirmed("ruth@example.org")
    events = ruth.events.count()

    report = run("email,status,confirmed_at\nruth@example.org,unsubscribed,2020-01-01\n")

    ruth.refresh_from_db()
    assert report.already_subscribed == 1
    assert ruth.status == Status.CONFIRMED and ruth.confirmed_at.year > 2020
    assert ruth.events.count() == events


def test_a_waiting_subscriber_the_file_confirms_becomes_subscribed(db):
    services.request_subscription(email="lee@example.org")
    services.request_subscription(email="kim@example.org")
    mail.outbox.clear()

    report = run("email,status\nlee@example.org,confirmed\nkim@example.org,unsubscribed\n")

    assert (report.confirmed_waiting, report.already_waiting) == (1, 1)
    assert status_of("lee@example.org") == Status.CONFIRMED
    assert status_of("kim@example.org") == Status.PENDING  # their own sign-up here stands
    assert mail.outbox == []


def test_an_address_listed_twice_is_counted_once(db):
    report = run(
        "email,status\nruth@example.org,confirmed\n RUTH@example.org ,unsubscribed\n"
        "ruth@Example.ORG,\n"
    )

    assert (report.created_confirmed, report.duplicates) == (1, 2)
    assert status_of("ruth@example.org") == Status.CONFIRMED


def test_a_bom_semicolons_and_crlf_line_ends_are_read(db):
    report = run(b"\xef\xbb\xbfE-mail;STATUS\r\n\r\nruth@example.org;confirmed\r\nnope;\r\n")

    assert report.created_confirmed == 1
    assert status_of("ruth@example.org") == Status.CONFIRMED
    assert report.invalid == [(4, "nope", "not a valid email address")]  # blank line counted


def test_importing_the_same_file_twice_changes_nothing_the_second_time(db):
    text = (
        "email,status\nruth@example.org,confirmed\nlee@example.org,\ngone@example.org,opted out\n"
    )
    run(text)

    again = run(text)

    assert (again.already_subscribed, again.already_waiting, again.kept_left) == (1, 1, 1)
    assert SubscriberEvent.objects.count() == 3


# The admin's own export --------------------------------------------------------------


def test_the_admins_csv_export_imports_back_as_it_was(admin_client):
    ruth = confirmed("ruth@example.org")
    services.request_subscription(email="lee@example.org")
    left("gone@example.org", Status.UNSUBSCRIBED)
    left("bounced@example.org", Status.SUPPRESSED, reason="Postmark reported it bounced")
    mail.outbox.clear()
    response = admin_client.get(reverse(INDEX), {"export": "csv"})
    exported = b"".join(response.streaming_content)
    rows = list(csv.DictReader(io.StringIO(exported.decode())))
    # Wagtail's CSV export writes the stored value, not the label ("Subscribed").
    assert {row["Email"]: row["Status"] for row in rows}["ruth@example.org"] == "confirmed"
    Subscriber.objects.all().delete()

    report = run(exported, source="subscribers.csv")

    assert (report.created_confirmed, report.created_pending, report.created_left) == (1, 1, 2)
    assert {s.email: s.status for s in Subscriber.objects.all()} == {
        "ruth@example.org": Status.CONFIRMED,
        "lee@example.org": Status.PENDING,
        "gone@example.org": Status.UNSUBSCRIBED,
        "bounced@example.org": Status.SUPPRESSED,
    }
    assert Subscriber.objects.get(email="ruth@example.org").confirmed_at == ruth.confirmed_at
    assert Subscriber.objects.get(email="bounced@example.org").suppressed_reason == (
        "Postmark reported it bounced"
    )
    assert mail.outbox == []


def test_the_status_labels_the_listing_shows_are_read_too(db):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(
        [("email", "status"), *((f"{value}@example.org", label) for value, label in Status.choices)]
    )

    run(buffer.getvalue())

    assert {s.email: s.status for s in Subscriber.objects.all()} == {
        "pending@example.org": Status.PENDING,
        "confirmed@example.org": Status.CONFIRMED,  # the label is "Subscribed"
        "unsubscribed@example.org": Status.UNSUBSCRIBED,
        "suppressed@example.org": Status.SUPPRESSED,
    }


# Hostile and broken input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ('"a@b.com\nBcc: x@y.z"', "contains a line break"),
        ('"a@b.com\r\n"', "contains a line break"),
        ('"a@b.com\x0bbcc"', "contains a control or invisible character"),
        ('"=HYPERLINK(""http://evil.example/"",""click"")"', "formula"),
        ("=1+2@example.org", "formula"),
        ("@example.org", "formula"),
        ('"""a b""@example.org"', "not a plain email address"),
        ('"a@example.org, b@example.org"', "not a plain email address"),
        ("a" * 250 + "@example.org", "longer than 254 characters"),
        ("not-an-address", "not a valid email address"),
        ("a@localhost", "not a valid email address"),
        ("jörg@example.de", "not a valid email address"),  # Django's validator: ASCII only
        ('""', "no address"),
    ],
)
def test_hostile_and_invalid_addresses_are_skipped_with_their_line(db, cell, reason):
    report = run(f"email,status\nfine@example.org,confirmed\n{cell},confirmed\n")

    assert report.invalid_count == 1
    assert report.invalid[0].line == 3 and reason in report.invalid[0].reason
    assert list(Subscriber.objects.values_list("email", flat=True)) == ["fine@example.org"]


def test_skipped_cells_are_shown_with_line_breaks_visible_and_cut_short(db):
    report = run('email\n"a@b.com\nBcc: x@y.z"\n' + "x" * 500 + "\n")

    assert report.invalid[0].value == "a@b.com\\nBcc: x@y.z"
    assert len(report.invalid[1].value) == 80 and report.invalid[1].line == 4


def test_only_the_first_hundred_invalid_rows_are_listed_but_all_are_counted(db):
    report = run("email\n" + "nope\n" * 150)

    assert report.invalid_count == 150 and len(report.invalid) == 100
    assert "150 skipped as not valid" in report.summary


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\n\n", "The file is empty."),
        (b"email,status\n", "no subscribers under it"),
        (b"name,address\nRuth,ruth@example.org\n", "no “email” column"),
        (b"ruth@example.org\nsam@example.org\n", "it holds an address"),
        (b"email\nren\xe9@example.org\n", "Line 2 is not UTF-8"),
        (b"email\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "it holds binary data"),
        (b"\xff\xd8\xff\xe0\x10JFIF\xfe\x9a", "Line 1 is not UTF-8"),
        (b"PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook (.xlsx)"),
        ("email\n".encode("utf-16"), "UTF-16"),
        (b"email\n" + b"a" * 100_000 + b"\n", "Line 2 is 100,001 characters long"),
        (b'email\n"ruth@example.org\n' + (b"x" * 50_000 + b"\n") * 3, "field limit"),
    ],
)
def test_files_that_are_not_subscriber_lists_are_refused_and_nothing_changes(db, data, message):
    with pytest.raises(ImportRefused) as refusal:
        run(data)

    assert message in refusal.value.message
    assert not Subscriber.objects.exists()


def test_a_broken_line_near_the_end_refuses_the_whole_file(db):
    with pytest.raises(ImportRefused, match="Line 4 is not UTF-8"):
        run(b"email\nruth@example.org\nsam@example.org\nren\xe9@example.org\n")

    assert not Subscriber.objects.exists()


def test_files_over_the_size_or_row_limit_are_refused(db, monkeypatch):
    monkeypatch.setattr(importing.reading, "MAX_ROWS", 3)
    with pytest.raises(ImportRefused, match="more than 3 rows"):
        run("email\n" + "".join(f"r{n}@example.org\n" for n in range(4)))

    monkeypatch.setattr(importing.reading, "MAX_BYTES", 1024 * 1024)
    with pytest.raises(ImportRefused, match=r"The file is 1\.1 MB; an import takes at most 1 MB"):
        run("email\n" + "r@example.org\n" * 80_000)
    assert not Subscriber.objects.exists()


# Batches ----------------------------------------------------------------------------


def test_rows_are_written_in_batches_not_one_by_one(db, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(importing, "BATCH_SIZE", 100)
    text = "email,status\n" + "".join(f"r{n}@example.org,confirmed\n" for n in range(250))
    seen = []

    with django_assert_max_num_queries(20):
        report = run(text, progress=lambda done, total: seen.append((done, total)))

    assert report.created_confirmed == 250 == Subscriber.objects.count()
    assert SubscriberEvent.objects.count() == 250
    assert seen == [(100, 250), (200, 250), (250, 250)]


# The admin page ---------------------------------------------------------------------


def editor(django_user_model):
    news_services.ensure_newsroom_roles()
    user = django_user_model.objects.create_user("editor", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def upload(client, text, name="members.csv"):
    data = text.encode() if isinstance(text, str) else text
    return client.post(reverse(IMPORT), {"csv_file": SimpleUploadedFile(name, data)})


def test_a_superuser_imports_from_the_subscribers_listing(admin_client):
    listing = admin_client.get(reverse(INDEX)).content.decode()
    assert "Import CSV" in listing and reverse(IMPORT) in listing
    form = admin_client.get(reverse(IMPORT))
    assert form.status_code == 200 and "Nobody is emailed by an import" in form.content.decode()

    response = upload(
        admin_client, "email,status\nruth@example.org,confirmed\nlee@example.org,\nbad\n"
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "Imported members.csv" in page
    assert "<td>bad</td>" not in page and "<code>bad</code>" in page  # the skipped line
    assert status_of("ruth@example.org") == Status.CONFIRMED
    assert status_of("lee@example.org") == Status.PENDING
    assert mail.outbox == []


def test_a_refused_file_is_explained_on_the_form(admin_client):
    response = upload(admin_client, b"email\nren\xe9@example.org\n")

    assert response.status_code == 400
    assert "Line 2 is not UTF-8" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_an_upload_without_a_file_asks_for_one(admin_client):
    response = admin_client.post(reverse(IMPORT), {})

    assert response.status_code == 400
    assert "Choose a CSV file to import." in response.content.decode()


def test_an_oversized_upload_is_refused_before_it_is_read(admin_client, monkeypatch):
    monkeypatch.setattr("broadsheet.newsletter.wagtail_hooks.MAX_BYTES", 1000)

    response = upload(admin_client, "email\n" + "r@example.org\n" * 10_000)

    assert response.status_code == 413
    assert not Subscriber.objects.exists()


def test_editors_may_not_import(client, django_user_model):
    client.force_login(editor(django_user_model))

    listing = client.get(reverse(INDEX))
    response = upload(client, "email,status\nruth@example.org,confirmed\n")

    assert listing.status_code == 200 and "Import CSV" not in listing.content.decode()
    assert response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    assert not Subscriber.objects.exists()


# The command ------------------------------------------------------------------------


def test_the_command_imports_a_file_and_prints_the_summary(db, tmp_path):
    path = tmp_path / "members.csv"
    path.write_text("email,status\nruth@example.org,confirmed\nlee@example.org,\nnope\n")
    out, err = io.StringIO(), io.StringIO()

    call_command("import_subscribers", str(path), stdout=out, stderr=err)

    assert out.getvalue().startswith("members.csv: 3 rows. 1 added as subscribed; 1 added as")
    assert "  line 4 skipped, not a valid email address: nope\n" in out.getvalue()
    assert err.getvalue() == "Importing subscribers: 3/3\n"
    assert status_of("ruth@example.org") == Status.CONFIRMED


def test_the_command_explains_a_bad_file_or_a_wrong_path(db, tmp_path):
    path = tmp_path / "members.csv"
    path.write_bytes(b"name\nRuth\n")

    with pytest.raises(CommandError, match="was not imported: The file has no “email” column"):
        call_command("import_subscribers", str(path))
    with pytest.raises(CommandError, match=r"Cannot read .*missing\.csv: No such file"):
        call_command("import_subscribers", str(tmp_path / "missing.csv"))


def test_a_reader_who_signs_up_during_an_import_is_not_overwritten(db, monkeypatch):
    left("ruth@example.org", Status.UNSUBSCRIBED)
    lookup = importing.existing_subscribers
    calls = []

    def stale_then_fresh(emails):
        # The first lookup misses ruth, as if she signed up between it and the insert.
        calls.append(emails)
        return {} if len(calls) == 1 else lookup(emails)

    monkeypatch.setattr(importing, "existing_subscribers", stale_then_fresh)

    report = run("email,status\nsam@example.org,confirmed\nruth@example.org,confirmed\n")

    assert len(calls) == 2  # the batch was retried
    assert (report.created_confirmed, report.kept_left) == (1, 1)
    assert status_of("ruth@example.org") == Status.UNSUBSCRIBED
    assert Subscriber.objects.get(email="sam@example.org").events.count() == 1


def test_a_group_given_the_import_permission_may_import(client, django_user_model):
    from django.contrib.auth.models import Group, Permission

    audience = Group.objects.create(name="Audience desk")
    audience.permissions.add(
        Permission.objects.get(codename="access_admin"),
        Permission.objects.get(codename="view_subscriber"),
        Permission.objects.get(codename="import_subscriber"),
    )
    user = django_user_model.objects.create_user("aud", password="pw", is_staff=True)
    user.groups.add(audience)
    client.force_login(user)

    response = upload(client, "email,status\nruth@example.org,confirmed\n")

    assert response.status_code == 200
    assert status_of("ruth@example.org") == Status.CONFIRMED
