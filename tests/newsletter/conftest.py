import pytest

from tests.newsletter.smtp_sink import SMTPSink


@pytest.fixture(autouse=True)
def on_a_newsroom_morning(newsroom_morning):
    """Every newsletter test happens on the morning it sets, unless it travels elsewhere."""


@pytest.fixture
def smtp_sink(settings):
    """A running SMTPSink with Django's mail pointed at it over real SMTP.

    Change its behaviours (refuse, temporary_failures, drop_at, delay, on_message) in
    the test, before or while sending. EMAIL_TIMEOUT is short so that a test of a
    server that stalls fails in seconds rather than hanging.
    """
    with SMTPSink() as sink:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = sink.host
        settings.EMAIL_PORT = sink.port
        settings.EMAIL_TIMEOUT = 5
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        yield sink
