"""An editor's first story, in the Wagtail admin, in Chromium: one press of Publish."""

import re

import pytest
from playwright.sync_api import expect

from broadsheet.news import services
from broadsheet.news.models import ArticlePage

pytestmark = pytest.mark.browser


@pytest.fixture
def signed_in_editor(open_browser, news, reporter_author, django_user_model):
    """A tab in which the demo's 'editor' role has signed in through the login form."""
    groups = services.ensure_newsroom_roles()
    editor = django_user_model.objects.create_user(
        "editor", email="editor@example.org", password="desk-pw", is_staff=True
    )
    editor.groups.add(groups[services.EDITORS])
    page = open_browser()
    page.goto("/admin/login/")
    page.fill("#id_username", "editor")
    page.fill("#id_password", "desk-pw")
    page.click("button[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def typed_into_the_form(page, text):
    """Wait until the paragraph editor has copied what was typed into the form it submits:
    Draftail does so a quarter of a second after the last key, before a person's hand has
    reached the Publish button, but not before a test's."""
    expect(page.locator("[name='body-0-value']")).to_have_value(re.compile(re.escape(text)))


def test_an_editors_first_story_publishes_at_the_first_press(signed_in_editor, news):
    page = signed_in_editor
    headline = "Ferry fares to rise £2 in January"

    # 1. Pages › News › Add child page › Article.
    page.goto(f"/admin/pages/{news.pk}/")
    page.get_by_role("link", name="Add child page").first.click()
    page.get_by_role("link", name="Article", exact=True).click()
    # 2. The headline, typed: the slug on the Promote tab follows it.
    page.locator("#id_title").press_sequentially(headline)
    expect(page.locator("#id_slug")).to_have_value("ferry-fares-to-rise-2-in-january")
    # 3. The standfirst.
    page.fill("#id_standfirst", "The operator blames fuel; season tickets are spared.")
    # 4. The byline: an author from the chooser.
    page.get_by_role("button", name="Add Author").click()
    page.get_by_role("button", name="Choose author").click()
    page.get_by_role("dialog").get_by_role("link", name="Miriam Okafor").click()
    # 5. The body: one paragraph.
    body = page.locator("#panel-child-content-body-section")
    body.get_by_role("button", name="Insert a block").first.click()
    page.get_by_text("Paragraph", exact=True).click()
    body.locator("[contenteditable=true]").first.click()
    page.keyboard.type("Fares on the harbour ferry will rise by £2 from January.")
    typed_into_the_form(page, "rise by £2")
    # 6. Publish, once.
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()

    # "created and published", or "has been published" when Wagtail's autosave had already
    # saved the draft in the background: either way, published at the first press.
    expect(page.locator(".messages")).to_contain_text(
        re.compile(f"Page '{re.escape(headline)}' (created and published|has been published)")
    )
    story = ArticlePage.objects.get(title=headline)
    assert story.live
    assert story.url == "/news/ferry-fares-to-rise-2-in-january/"
    page.goto(story.url)
    expect(page.get_by_role("heading", level=1)).to_have_text(headline)
    expect(page.locator(".story__byline")).to_contain_text("By Miriam Okafor")


def test_publishing_without_a_byline_says_what_is_missing_where_the_editor_looks(
    signed_in_editor, news
):
    page = signed_in_editor
    page.goto(f"/admin/pages/add/news/articlepage/{news.pk}/")
    page.locator("#id_title").press_sequentially("Storm closes coast road")
    page.fill("#id_standfirst", "The road will reopen when the sea wall is checked.")
    body = page.locator("#panel-child-content-body-section")
    body.get_by_role("button", name="Insert a block").first.click()
    page.get_by_text("Paragraph", exact=True).click()
    body.locator("[contenteditable=true]").first.click()
    page.keyboard.type("Police closed the road at dawn.")
    typed_into_the_form(page, "at dawn")
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("button", name="Publish").click()

    expect(page.locator("#panel-child-content-byline-section")).to_contain_text(
        "A story needs a byline before it can be published"
    )
    assert not ArticlePage.objects.filter(live=True, title="Storm closes coast road").exists()
