"""Each reader's copy of an issue: built once for the issue, filled in for each reader."""

import re
from email.utils import formataddr, formatdate

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.urls import reverse

from broadsheet.news.paper import absolute_url, paper_name

from .. import services
from ..composing import compose
from ..models import DailyIssue, Subscriber
from ..rendering import UNSUBSCRIBE_PLACEHOLDER, personalise, render_issue

DJANGO_SMTP = "django.core.mail.backends.smtp.EmailBackend"


def sender_domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip("> ") or "localhost"


def unsubscribe_url(subscriber: Subscriber, *, prefix: str = "") -> str:
    """The reader's own unsubscribe link. `prefix` (from `unsubscribe_prefix`) saves
    resolving the URL again for each of 100,000 readers."""
    token = services.unsubscribe_token(subscriber)
    if prefix:
        return f"{prefix}{token}/"
    return absolute_url(reverse("newsletter:unsubscribe", args=[token]))


def unsubscribe_prefix() -> str:
    url = absolute_url(reverse("newsletter:unsubscribe", args=["TOKEN"]))
    return url.removesuffix("TOKEN/")


def sender_address() -> str:
    """DEFAULT_FROM_EMAIL with the paper's name shown, unless it already names someone."""
    address = settings.DEFAULT_FROM_EMAIL
    if "<" in address:
        return address
    # The name is typed by editors: a line break in it would break every message's header.
    return formataddr((" ".join(paper_name().split()), address))


def message_for(
    issue: DailyIssue,
    subscriber: Subscriber,
    *,
    connection=None,
    from_email=None,
    template: "MessageTemplate | None" = None,
    unsubscribe_prefix: str = "",
):
    """The issue as one subscriber receives it: their own unsubscribe link in the footer
    and in the RFC 8058 headers, whose POST unsubscribes at once without a login."""
    url = unsubscribe_url(subscriber, prefix=unsubscribe_prefix)
    reader_message_id = message_id(issue, subscriber.token)
    message = IssueMessage(
        subject=issue.sent_subject,
        body=personalise(issue.sent_text, unsubscribe_url=url),
        from_email=from_email or sender_address(),
        to=[subscriber.email],
        connection=connection,
        headers={
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"Daily newsletter <daily.{sender_domain()}>",
            # The same id if a message is ever sent again, so receivers can spot a copy.
            "Message-ID": reader_message_id,
        },
    )
    message.attach_alternative(personalise(issue.sent_html, unsubscribe_url=url), "text/html")
    if template is not None:
        message.prebuilt = template.fill(
            email=subscriber.email, unsubscribe_url=url, message_id=reader_message_id
        )
    return message


def message_id(issue: DailyIssue, subscriber_token: str) -> str:
    return f"<issue-{issue.date:%Y%m%d}.{subscriber_token}@{sender_domain()}>"


class IssueMessage(EmailMultiAlternatives):
    """A subscriber's copy whose MIME bytes may come ready-made from a MessageTemplate.

    Every attribute (body, alternatives, headers) is the subscriber's own, so backends
    that read them (django-anymail's) work as usual; backends that ask for the MIME
    message (SMTP, files) get the prebuilt bytes instead of Python's email package
    building the same message again, which took two thirds of the send time.
    """

    prebuilt: bytes | None = None

    def message(self):
        if self.prebuilt is None:
            return super().message()
        return PrebuiltMIME(self.prebuilt)


class PrebuiltMIME:
    """What Django's backends use of a MIME message: its bytes (and its charset)."""

    def __init__(self, data: bytes):
        self.data = data

    def as_bytes(self, unixfrom=False, linesep="\n"):
        return self.data if linesep == "\r\n" else self.data.replace(b"\r\n", linesep.encode())

    def get_charset(self):
        return None


class MessageTemplate:
    """The issue's MIME message built once, with markers where each reader's address,
    unsubscribe link and message id go; `fill` swaps them in.

    Only used when the markers survive encoding intact (8-bit bodies, unfolded headers);
    otherwise `build` returns None and each message is built in full.
    """

    EMAIL = "reader@address.marker.invalid"
    DATE = "Mon, 01 Jan 2001 00:00:00 -0000"
    ID = "<marker-message-id@marker.invalid>"
    SAFE_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~@-]+")

    def __init__(self, data: bytes):
        self.parts = data

    @classmethod
    def build(cls, issue: DailyIssue, *, from_email: str) -> "MessageTemplate | None":
        message = IssueMessage(
            subject=issue.sent_subject,
            body=issue.sent_text,
            from_email=from_email,
            to=[cls.EMAIL],
            headers={
                "List-Unsubscribe": f"<{UNSUBSCRIBE_PLACEHOLDER}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
                "List-Id": f"Daily newsletter <daily.{sender_domain()}>",
                "Message-ID": cls.ID,
                "Date": cls.DATE,
            },
        )
        message.attach_alternative(issue.sent_html, "text/html")
        data = message.message().as_bytes(linesep="\r\n")
        expected = issue.sent_text.count(UNSUBSCRIBE_PLACEHOLDER) + issue.sent_html.count(
            UNSUBSCRIBE_PLACEHOLDER
        )
        if (
            data.count(UNSUBSCRIBE_PLACEHOLDER.encode()) != expected + 1
            or data.count(cls.EMAIL.encode()) != 1
            or data.count(cls.ID.encode()) != 1
            or data.count(cls.DATE.encode()) != 1
        ):
            return None
        return cls(data)

    def fill(self, *, email: str, unsubscribe_url: str, message_id: str) -> bytes | None:
        """This reader's bytes, or None for an address that needs the full treatment
        (non-ASCII, or anything that could break out of its header)."""
        if not self.SAFE_ADDRESS.fullmatch(email) or not unsubscribe_url.isascii():
            return None
        return (
            self.parts.replace(UNSUBSCRIBE_PLACEHOLDER.encode(), unsubscribe_url.encode())
            .replace(self.EMAIL.encode(), email.encode())
            .replace(self.ID.encode(), message_id.encode())
            # The time of sending, as a fully built message has (a run may resume later).
            .replace(
                self.DATE.encode(), formatdate(localtime=settings.EMAIL_USE_LOCALTIME).encode()
            )
        )


def newsletter_connection():
    """The backend the newsletter sends through: BROADSHEET_NEWSLETTER_EMAIL_BACKEND, or the
    site's EMAIL_BACKEND; Django's SMTP backend is swapped for the one that reports the
    handover moment (same settings, same behaviour otherwise)."""
    backend = settings.BROADSHEET_NEWSLETTER_EMAIL_BACKEND or settings.EMAIL_BACKEND
    if backend == DJANGO_SMTP:
        backend = "broadsheet.newsletter.sending.smtp.SMTPBackend"
    return get_connection(backend, fail_silently=False)


def send_test(issue: DailyIssue, *, to: str) -> None:
    """Send the issue as it stands now to one address (an editor's), marked as a test.

    Nothing is recorded: no delivery row, and the unsubscribe link points to the page
    that explains unsubscribing, so a test can never unsubscribe the editor.
    """
    composition = compose(issue)
    rendered = render_issue(composition)
    url = absolute_url("/")  # the issue's own page exists only once it is sent
    message = EmailMultiAlternatives(
        subject=f"[Test] {rendered.subject}",
        body=personalise(rendered.text, unsubscribe_url=url),
        from_email=sender_address(),
        to=[to],
        connection=newsletter_connection(),
    )
    message.attach_alternative(personalise(rendered.html, unsubscribe_url=url), "text/html")
    message.send()
