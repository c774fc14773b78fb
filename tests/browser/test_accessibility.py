"""An automated accessibility audit (axe-core) of the pages readers use most.

axe cannot judge everything (reading order, meaningful alt text), but it finds missing
labels, landmarks, contrast failures and broken ARIA reliably, so every page here must
come back with no serious or critical violation.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from broadsheet.engagement.models import Comment
from tests.browser.conftest import PHONE

pytestmark = pytest.mark.browser

SEVERE = {"serious", "critical"}


def severe_violations(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(node["target"][0] for node in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in SEVERE
    ]


@pytest.fixture
def conversation(newsroom):
    story = newsroom.lead
    first = Comment.objects.create(
        story=story, name="Ruth", body="Glad to see this at last.", status="published"
    )
    Comment.objects.create(
        story=story,
        name="The Courier",
        body="Thanks, Ruth.",
        status="published",
        parent=first,
        is_staff_reply=True,
    )
    return story


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_front_section_and_article_pages_pass_the_audit(open_browser, conversation, viewport):
    page = open_browser(viewport=viewport) if viewport else open_browser()
    problems = {}
    for url in [
        "/",
        "/news/",
        conversation.url,
        "/authors/miriam-okafor/",
        "/archive/",
        "/no-such-page/",
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        problems[url] = severe_violations(page)

    assert problems == {url: [] for url in problems}


def test_the_comment_form_page_passes_the_audit_with_errors_showing(page, make_article):
    story = make_article()  # new, so comments are open
    page.goto(f"/engagement/stories/{story.pk}/comments/new/")
    page.get_by_role("button", name="Post comment").click()  # everything empty: errors

    assert page.locator(".field__error").count() >= 1
    assert severe_violations(page) == []


@pytest.mark.parametrize("viewport", [None, PHONE], ids=["desktop", "phone"])
def test_the_newsletter_pages_pass_the_audit(
    open_browser, newsroom_morning, make_article, viewport
):
    from django.utils import timezone

    from broadsheet.newsletter import scheduling, sending, services
    from broadsheet.newsletter.models import Subscriber

    make_article(title="Night ferry cancelled in gales")
    reader = Subscriber.objects.create(email="ada@example.org", status="confirmed")
    issue = scheduling.issue_for(timezone.localdate())
    sending.send_issue(issue)
    page = open_browser(viewport=viewport) if viewport else open_browser()
    problems = {}
    for url in [
        f"/newsletter/issues/{issue.date.isoformat()}/",  # the web copy of the email
        f"/newsletter/unsubscribe/{services.unsubscribe_token(reader)}/",
        f"/newsletter/confirm/{services.confirm_token(reader)}/",
        "/newsletter/confirm/forged-token/",
    ]:
        page.goto(url)
        problems[url] = severe_violations(page)

    assert issue.deliveries.count() == 1
    assert problems == {url: [] for url in problems}
