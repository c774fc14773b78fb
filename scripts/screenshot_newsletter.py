"""Render a realistic daily newsletter and screenshot it as readers' mail programs show it.

.venv/bin/python scripts/screenshot_newsletter.py [--out var/screenshots]

Uses a copy of the demo database (var/broadsheet.sqlite3) when there is one, so the demo
is never changed; otherwise seeds a throwaway one with `seed_demo`. Writes the HTML and
text parts beside the PNGs, screenshots the HTML at 320 and 700 pixels wide and with
images blocked (as many mail programs show mail from a new sender), and prints the size
of the HTML part and how long rendering takes.
"""

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
DEMO_DB = PROJECT / "var" / "broadsheet.sqlite3"
DEMO_MEDIA = PROJECT / "var" / "media"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
SHOTS = [
    # name, file, width, block images
    ("phone-320", "newsletter-issue.html", 320, False),
    ("wide-700", "newsletter-issue.html", 700, False),
    ("phone-320-images-off", "newsletter-issue.html", 320, True),
    ("wide-700-images-off", "newsletter-issue.html", 700, True),
    ("web-copy-700", "newsletter-web-copy.html", 700, False),
]
INTRODUCTION = (
    "Good morning. The council's winter plans dominate today: gritting routes are out, and "
    "the library rebuild has its money. Further afield, fishing talks stalled again.\n"
    "Have a good day, and wrap up warm."
)


def prepare_database(workdir: Path) -> bool:
    """Point Django at a private database and media folder; True if it needs seeding."""
    media = workdir / "media"
    media.mkdir()
    db = workdir / "newsletter.sqlite3"
    seeded = DEMO_DB.exists()
    if seeded:
        # The backup API copies a consistent snapshot, write-ahead log included.
        with sqlite3.connect(DEMO_DB) as source, sqlite3.connect(db) as target:
            source.backup(target)
        # Originals are read from the demo; renditions are written here, not into var/.
        (media / "original_images").symlink_to(DEMO_MEDIA / "original_images")
    os.environ["DATABASE_URL"] = f"sqlite:///{db}"
    os.environ["MEDIA_ROOT"] = str(media)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadsheet.settings.dev")
    return not seeded


def build_issue():
    """A draft issue for the morning after the newest story, filled to the usual count with
    editors' picks of recent stories when the day alone is thin (demo days are)."""
    from django.utils import timezone

    from broadsheet.news.models import ArticlePage, StoryPage
    from broadsheet.newsletter.composing import compose
    from broadsheet.newsletter.models import DailyIssue, IssuePick, NewsletterSettings, send_moment

    newest = StoryPage.objects.live().order_by("-first_published_at").first()
    if newest is None:
        sys.exit("No published stories to put in a newsletter.")
    day = timezone.localtime(newest.first_published_at).date() + timedelta(days=1)
    DailyIssue.objects.filter(date=day).delete()
    issue = DailyIssue.objects.create(date=day, introduction=INTRODUCTION)
    composition = compose(issue, now=send_moment(issue))
    missing = NewsletterSettings.load().top_story_count - len(composition.top_stories)
    if missing > 0:
        taken = set(composition.story_ids)
        extra = (
            ArticlePage.objects.live()
            .exclude(pk__in=taken)
            .order_by("-first_published_at")
            .values_list("pk", flat=True)[:missing]
        )
        for position, pk in enumerate(extra):
            IssuePick.objects.create(issue=issue, story_id=pk, sort_order=position)
    return issue


def screenshot(out: Path, media: Path) -> list[Path]:
    from django.conf import settings
    from playwright.sync_api import sync_playwright

    media_prefix = settings.WAGTAILADMIN_BASE_URL.rstrip("/") + settings.MEDIA_URL

    def serve_media(route):
        # The email's images point at the site; answer from the media folders, no server.
        name = route.request.url.removeprefix(media_prefix)
        for folder in (media, DEMO_MEDIA):
            if (folder / name).is_file():
                route.fulfill(path=str(folder / name))
                return
        route.abort()

    def block_images(route):
        if route.request.resource_type == "image":
            route.abort()
        else:
            route.continue_()

    paths = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, file, width, images_off in SHOTS:
            page = browser.new_page(viewport={"width": width, "height": 800})
            if images_off:
                page.route("**/*", block_images)
            else:
                page.route(media_prefix + "**", serve_media)
            page.goto((out / file).resolve().as_uri())
            path = out / f"newsletter-{name}.png"
            page.screenshot(path=str(path), full_page=True)
            paths.append(path)
            page.close()
        browser.close()
    return paths


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(PROJECT / "var" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="broadsheet-newsletter-") as tmp:
        workdir = Path(tmp)
        needs_seed = prepare_database(workdir)

        import django

        django.setup()
        from django.core.management import call_command

        if needs_seed:
            call_command("migrate", verbosity=0)
            call_command("seed_demo")
        else:
            call_command("migrate", verbosity=0)  # the copy may predate newer migrations

        from broadsheet.newsletter.composing import compose
        from broadsheet.newsletter.models import send_moment
        from broadsheet.newsletter.rendering import personalise, render_issue, web_copy

        issue = build_issue()
        composition = compose(issue, now=send_moment(issue))
        render_issue(composition)  # the first run loads and compiles the templates
        times = []
        for _ in range(20):
            started = time.perf_counter()
            rendered = render_issue(composition)
            times.append(time.perf_counter() - started)
        reader_link = f"{os.environ.get('BROADSHEET_BASE_URL', 'http://127.0.0.1:8000')}"
        reader_link += "/newsletter/unsubscribe/EXAMPLE-TOKEN/"
        html = personalise(rendered.html, unsubscribe_url=reader_link)
        text = personalise(rendered.text, unsubscribe_url=reader_link)
        html_path = out / "newsletter-issue.html"
        html_path.write_text(html, encoding="utf-8")
        (out / "newsletter-web-copy.html").write_text(web_copy(rendered.html), encoding="utf-8")
        (out / "newsletter-issue.txt").write_text(text, encoding="utf-8")

        paths = screenshot(out, workdir / "media")

    print(f"Issue of {issue.date:%A %-d %B %Y}: {rendered.subject}")
    print(f"{len(composition.top_stories)} top stories, {len(composition.blog_posts)} blog posts")
    print(f"HTML part: {len(rendered.html.encode())} bytes; text part: {len(text.encode())} bytes")
    print(
        f"render_issue: median {statistics.median(times) * 1000:.1f} ms, "
        f"max {max(times) * 1000:.1f} ms over {len(times)} runs"
    )
    for path in [html_path, out / "newsletter-issue.txt", out / "newsletter-web-copy.html", *paths]:
        print(path)


if __name__ == "__main__":
    main()
