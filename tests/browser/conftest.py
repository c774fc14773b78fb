"""Fixtures for reading the site in a real browser: headless Chromium driven by Playwright.

The browser is Debian's Chromium (Playwright cannot download its own here); set
CHROMIUM_PATH to use another binary. Without one, every browser test is skipped.
"""

import os
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.db import connections

from broadsheet.news import services
from broadsheet.news.models import HomePage

# Playwright's sync API keeps an asyncio event loop running in the main thread for the
# whole session, and Django refuses database access from a thread with a running loop.
# The fixtures and the live server's connection are plain synchronous code, so relax it.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 320, "height": 640}

NEWSROOM_TZ = ZoneInfo("Europe/London")
LEAD_PUBLISHED = datetime(2025, 3, 4, 9, 15, tzinfo=NEWSROOM_TZ)
LEAD_UPDATED = datetime(2025, 3, 4, 11, 40, tzinfo=NEWSROOM_TZ)


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the whole run; each test gets its own context (cookies, cache)."""
    if not (Path(CHROMIUM_PATH).is_file() and os.access(CHROMIUM_PATH, os.X_OK)):
        pytest.skip(f"No Chromium executable at {CHROMIUM_PATH}; install it or set CHROMIUM_PATH")
    sync_api = pytest.importorskip("playwright.sync_api")
    # Django keeps each thread's database connections in an asgiref Local, which hands out
    # a separate set once an event loop is running in the thread. Keep the main thread on
    # the connections it had (the ones the test database was created and serialized on).
    main_thread_connections = {alias: connections[alias] for alias in connections}
    with sync_api.sync_playwright() as playwright:
        for alias, connection in main_thread_connections.items():
            connections[alias] = connection
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="session", autouse=True)
def media_through_the_site():
    """Django's live server answers /media/ from disk itself, before the URLconf: turn that
    off, so the browser meets the site's own media view (broadsheet/core/media.py)."""
    from django.test.testcases import _MediaFilesHandler

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_MediaFilesHandler, "_should_handle", lambda self, path: False)
        yield


@pytest.fixture
def site_url(live_server, django_db_serialized_rollback):
    """The live server's address, over a database holding what migrations created."""
    return live_server.url


@pytest.fixture
def open_browser(browser, site_url):
    """Open a fresh browser tab on the live site: ``open_browser(viewport=PHONE)``."""
    contexts = []

    def open_(viewport=DESKTOP):
        context = browser.new_context(viewport=viewport, base_url=site_url)
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context.new_page()

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def page(open_browser):
    """A browser tab at desktop width (1280 x 900)."""
    return open_browser()


@pytest.fixture
def newsroom(home, news, make_article):
    """A front page as readers find it on a normal day.

    Eight stories: the editor's lead, six top stories, and one older story that falls
    through to the News section block. The lead has a fixed publication and update time
    so its byline can be checked to the minute.
    """
    news.show_in_menus = True  # as editors set it, so News is in the masthead's nav
    news.save_revision().publish()
    for n in range(7):
        make_article(
            title=f"Harbour works reach day {n + 1}",
            slug=f"harbour-works-day-{n + 1}",
            published_at=LEAD_PUBLISHED.replace(day=1 + n % 3, hour=8 + n),
        )
    lead = make_article(
        title="Council approves new library for Northgate",
        slug="council-approves-new-library",
    )
    services.backdate_story(story=lead, published_at=LEAD_PUBLISHED, updated_at=LEAD_UPDATED)

    front = HomePage.objects.get(pk=home.pk)
    front.lead_story = lead
    front.save_revision().publish()
    return SimpleNamespace(home=front, news=news, lead=lead)
