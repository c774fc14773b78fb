"""The daily email as a reader sees it on a phone: in a browser, with images and without."""

import pytest
from django.utils import timezone

from broadsheet.newsletter import scheduling, sending
from broadsheet.newsletter.models import Subscriber
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser


@pytest.fixture
def sent_issue(newsroom_morning, make_article):
    make_article(title="Night ferry cancelled in gales")
    Subscriber.objects.create(email="ada@example.org", status="confirmed")
    issue = scheduling.issue_for(timezone.localdate())
    sending.send_issue(issue)
    return issue


def test_the_email_fits_a_320px_phone_and_reads_with_images_off(open_browser, sent_issue):
    page = open_browser(viewport=PHONE)
    page.route("**/media/**", lambda route: route.abort())  # images off
    page.goto(f"/newsletter/issues/{sent_issue.date.isoformat()}/")

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    headline = page.get_by_role("link", name="Night ferry cancelled in gales")
    assert headline.is_visible()
    photo = page.locator("img").first
    assert photo.get_attribute("alt")  # what a reader with images off reads instead
    assert page.get_by_role("link", name="Unsubscribe").is_visible()
