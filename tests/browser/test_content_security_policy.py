"""Every page keeps its Content-Security-Policy, and nothing it loads leaves the machine.

Read in Chromium, which reports each breach of the policy as a `securitypolicyviolation`
event: the reader's pages under the strict policy, the admin (as an editor at work) under
its own (broadsheet/core/csp.py).
"""

from urllib.parse import urlsplit

import pytest

from broadsheet.news import services

pytestmark = pytest.mark.browser

WATCH = """
window.__breaches = [];
document.addEventListener('securitypolicyviolation', event => window.__breaches.push(
    `${event.violatedDirective} ${event.blockedURI || 'inline'}`
    + ` at ${event.sourceFile}:${event.lineNumber}`
));
"""


@pytest.fixture
def watched(open_browser, site_url):
    """A tab that keeps the policy breaches and the requests of every page it opens."""
    page = open_browser()
    page.context.add_init_script(WATCH)
    page.requested = []
    page.on("request", lambda request: page.requested.append(request.url))

    def read(path):
        response = page.goto(path)
        page.wait_for_load_state("networkidle")
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        return page.evaluate("window.__breaches")

    page.read = read
    page.own_host = urlsplit(site_url).netloc
    return page


def outside_requests(page):
    return [url for url in page.requested if urlsplit(url).netloc not in ("", page.own_host)]


def test_readers_pages_keep_the_strict_policy(watched, newsroom):
    story = newsroom.lead
    for path in [
        "/",
        newsroom.news.url,
        story.url,
        f"/engagement/stories/{story.pk}/comments/new/",
        "/newsletter/confirm/not-a-real-token/",
        "/no-such-page/",
    ]:
        assert watched.read(path) == [], path
    assert outside_requests(watched) == []


def test_the_admin_keeps_its_policy_while_an_editor_works(
    watched, newsroom, photo, django_user_model
):
    groups = services.ensure_newsroom_roles()
    editor = django_user_model.objects.create_user(
        "editor", email="editor@example.org", password="desk-pw", is_staff=True
    )
    editor.groups.add(groups[services.EDITORS])
    watched.read("/admin/login/")
    watched.fill("#id_username", "editor")
    watched.fill("#id_password", "desk-pw")
    watched.click("button[type=submit]")
    watched.wait_for_url("**/admin/")

    story = newsroom.lead
    for path in [
        "/admin/",
        f"/admin/pages/{newsroom.news.pk}/",
        f"/admin/pages/{story.pk}/edit/",
        f"/admin/pages/add/news/articlepage/{newsroom.news.pk}/",
        "/admin/images/",
        f"/admin/images/{photo.pk}/",
        "/admin/snippets/engagement/comment/",
        "/admin/snippets/newsletter/dailyissue/",
        "/admin/scheduled/",
        "/admin/reports/workflow/",
    ]:
        assert watched.read(path) == [], path

    # Open the image chooser, as an editor choosing a new story's lead photo does.
    watched.read(f"/admin/pages/add/news/articlepage/{newsroom.news.pk}/")
    watched.get_by_role("button", name="Choose an image").click()
    watched.get_by_role("dialog").get_by_text(photo.title).wait_for()

    assert watched.evaluate("window.__breaches") == []
    assert outside_requests(watched) == []
