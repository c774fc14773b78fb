"""Searching the archive in a real browser: from the masthead, on a phone, without JavaScript."""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import PHONE


@pytest.fixture
def phone_without_javascript(browser, site_url):
    context = browser.new_context(viewport=PHONE, base_url=site_url, java_script_enabled=False)
    context.set_default_timeout(5_000)
    yield context.new_page()
    context.close()


@pytest.mark.browser
def test_a_reader_searches_from_the_masthead_on_a_phone_without_javascript(
    phone_without_javascript, newsroom
):
    page = phone_without_javascript
    page.goto("/")

    page.get_by_role("searchbox", name="Search The Test Courier").fill("library")
    page.keyboard.press("Enter")

    page.wait_for_url("**/search/?q=library")
    first = page.locator("main mark").first
    expect(first).to_have_text("library", ignore_case=True)
    expect(
        page.get_by_role("link", name="Council approves new library for Northgate")
    ).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
def test_a_search_that_finds_nothing_says_so_and_offers_the_latest(page, newsroom):
    page.goto("/search/?q=zeppelin")

    expect(page.get_by_role("heading", level=1)).to_have_text("No results for “zeppelin”")
    expect(
        page.get_by_role("link", name="Council approves new library for Northgate")
    ).to_be_visible()
