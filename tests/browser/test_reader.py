"""What a reader sees and does in a real browser: the front page, an article, a lost link."""

import re
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LEAD_PUBLISHED, LEAD_UPDATED, PHONE

# The default site's name, set by the `home` fixture; the masthead prints it.
PAPER_NAME = "The Test Courier"


def byline_time(moment):
    """A time as the story byline prints it: '4 Mar 2025, 09:15'."""
    return f"{moment.day} {moment:%b %Y, %H:%M}"


def top_of(locator):
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not rendered"
    return box["y"]


# The front page -------------------------------------------------------------------------


@pytest.mark.browser
def test_front_page_shows_masthead_lead_story_section_and_newsletter(page, newsroom):
    page.goto("/")

    expect(page.get_by_role("banner").get_by_role("link", name=PAPER_NAME)).to_be_visible()
    expect(page).to_have_title(re.compile(re.escape(PAPER_NAME)))
    top_stories = page.get_by_role("region", name="Top stories")
    lead_link = top_stories.get_by_role("heading", level=2).get_by_role("link")
    expect(lead_link).to_have_text(newsroom.lead.title)
    news_block = page.get_by_role("region", name=re.compile(r"^News\b"))
    expect(news_block.get_by_role("heading", level=2)).to_have_text("News")
    expect(news_block.get_by_role("listitem")).to_have_count(1)
    expect(news_block.get_by_role("article")).to_contain_text("Harbour works reach day 1")
    newsletter = page.get_by_role("region", name="Newsletter")
    email = newsletter.get_by_label("Email address")
    expect(email).to_be_visible()
    expect(email).to_have_attribute("type", "email")


@pytest.mark.browser
def test_clicking_the_lead_headline_opens_the_article(page, newsroom):
    page.goto("/")

    page.get_by_role("region", name="Top stories").get_by_role(
        "link", name=newsroom.lead.title
    ).click()

    expect(page).to_have_url(re.compile(re.escape(newsroom.lead.url) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(newsroom.lead.title)


# The article ----------------------------------------------------------------------------


@pytest.mark.browser
def test_article_breadcrumb_reads_you_are_here_home_then_news(page, newsroom):
    page.goto(newsroom.lead.url)

    breadcrumb = page.get_by_role("navigation", name="Breadcrumb")
    expect(breadcrumb).to_have_text(re.compile(r"^\s*You are here"))
    crumbs = breadcrumb.get_by_role("listitem")
    expect(crumbs).to_have_text(["Home", "News"])
    expect(crumbs.get_by_role("link", name="Home")).to_have_attribute("href", "/")
    # The separator, a right-pointing angle quote, is drawn by CSS before each later crumb
    # (possibly followed by "/ ''", alternative text that keeps screen readers quiet).
    separator = crumbs.nth(1).evaluate("li => getComputedStyle(li, '::before').content")
    assert separator.startswith('"\u203a"'), separator


@pytest.mark.browser
def test_article_shows_headline_standfirst_and_dated_byline(page, newsroom):
    page.goto(newsroom.lead.url)

    headings = page.locator("h1")
    expect(headings).to_have_count(1)
    expect(headings).to_be_visible()
    expect(headings).to_have_text(newsroom.lead.title)
    expect(page.locator(".story__standfirst")).to_have_text(
        "The branch will reopen next spring with longer hours."
    )
    byline = " ".join(page.locator(".story__byline").inner_text().split())
    assert byline == (
        f"By Miriam Okafor - {byline_time(LEAD_PUBLISHED)}"
        f" - Last updated at {byline_time(LEAD_UPDATED)}"
    )
    expect(page.locator(".story__byline").get_by_role("link", name="Miriam Okafor")).to_be_visible()


@pytest.mark.browser
def test_article_lead_photo_loads_with_a_credited_caption(page, newsroom):
    page.goto(newsroom.lead.url)

    figure = page.locator("figure.story__lead-photo")
    photo = figure.get_by_role("img", name="Fishing boats moored in the harbour at dusk")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.complete && img.naturalWidth") > 0
    expect(figure.locator("figcaption")).to_have_text(
        re.compile(r"^The old library on Mill Lane.*\(Courier photo\)$")
    )


@pytest.mark.browser
def test_article_body_opens_with_the_dateline_and_uses_h2_crossheads(page, newsroom):
    page.goto(newsroom.lead.url)

    body = page.locator(".story__body")
    expect(body.locator("p").first).to_have_text(
        re.compile(r"^NORTHGATE — The council voted on Tuesday")
    )
    expect(body.get_by_role("heading", level=2)).to_have_text("'A place for everyone'")
    expect(body.locator("h3, h4, h5, h6")).to_have_count(0)


@pytest.mark.browser
def test_article_parts_appear_in_reading_order(page, newsroom):
    page.goto(newsroom.lead.url)

    parts = [
        page.get_by_role("navigation", name="Breadcrumb"),
        page.get_by_role("heading", level=1),
        page.locator(".story__standfirst"),
        page.locator(".story__byline"),
        page.locator("figure.story__lead-photo"),
        page.locator(".story__body"),
    ]
    tops = [top_of(part) for part in parts]
    assert tops == sorted(tops) and len(set(tops)) == len(tops), tops


# Small screens and keyboards ------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.parametrize("which", ["front page", "article"])
def test_narrow_phone_never_scrolls_sideways(open_browser, newsroom, which):
    page = open_browser(viewport=PHONE)
    page.goto("/" if which == "front page" else newsroom.lead.url)

    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= PHONE["width"]


@pytest.mark.browser
def test_first_tab_reveals_skip_link_and_enter_jumps_to_main_content(page, newsroom):
    page.goto(newsroom.lead.url)
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).not_to_be_in_viewport()

    page.keyboard.press("Tab")

    expect(skip_link).to_be_focused()
    box = skip_link.bounding_box()
    viewport = page.viewport_size
    assert box["x"] >= 0 and box["y"] >= 0
    assert box["x"] + box["width"] <= viewport["width"]
    assert box["y"] + box["height"] <= viewport["height"]

    page.keyboard.press("Enter")

    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()
    # The next Tab lands inside the content, past the masthead and section links.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


# Privacy and robustness -----------------------------------------------------------------


@pytest.mark.browser
def test_pages_load_everything_from_our_own_server_without_errors(page, site_url, newsroom):
    requested, errors, failed = [], [], []

    def on_console(message):
        if message.type == "error":
            errors.append(message.text)

    def on_response(response):
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("request", lambda request: requested.append(request.url))
    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("requestfailed", lambda request: failed.append(f"{request.failure} {request.url}"))
    page.on("response", on_response)

    for path in ["/", newsroom.lead.url]:
        page.goto(path)
        # Scroll to the end so lazily loaded photos are fetched, and wait until they are.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        # (Polled from here: wait_for_function evaluates a string in the page, which the
        # site's Content-Security-Policy rightly refuses.)
        page.wait_for_load_state("networkidle")
        assert page.evaluate(
            "[...document.images].filter(img => img.getClientRects().length)"
            ".every(img => img.complete)"
        ), path

    own_host = urlsplit(site_url).netloc
    assert any("/media/images/" in url for url in requested), requested
    assert any(url.endswith(".css") for url in requested), requested
    assert [url for url in requested if urlsplit(url).netloc != own_host] == []
    assert errors == []
    assert failed == []


@pytest.mark.browser
def test_missing_page_is_a_styled_404_under_the_masthead(page, newsroom):
    response = page.goto("/news/no-such-story/")

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("We can’t find that page")
    masthead = page.get_by_role("banner")
    expect(masthead.get_by_role("link", name=PAPER_NAME)).to_be_visible()
    expect(masthead.get_by_role("navigation", name="Sections")).to_contain_text("News")
    # The stylesheet applied: the masthead's double rule comes from broadsheet.css.
    rule = masthead.evaluate("el => getComputedStyle(el).borderBottomStyle")
    assert rule == "double"
    expect(page.get_by_role("link", name="Go to the front page")).to_have_attribute("href", "/")
