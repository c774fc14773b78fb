"""Inside Django, for bench/discovery.py: grow the demo newsroom into a large archive, then
time search, feeds and sitemaps on it.

    python bench/discovery_archive.py grow --articles 100000
    python bench/discovery_archive.py measure --rounds 3      (prints JSON on stdout)

The archive is written with the demo seeder's own machinery (its sections, desks, topics,
places, agencies, photos and `story_body`), but as rows in bulk: publishing 100,000 stories
one by one through Wagtail takes hours, and what is measured here is reading them. The rows
are what publishing leaves behind (tree paths, url paths, bylines, tags, the search index),
so every reader-facing query sees a normal archive.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "broadsheet.settings.dev")

import django

django.setup()

from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from taggit.models import Tag  # noqa: E402
from wagtail.models import Locale, Page  # noqa: E402
from wagtail.search.backends import get_search_backend  # noqa: E402

from bench.common import Progress, say  # noqa: E402
from broadsheet.news import demo  # noqa: E402
from broadsheet.news.models import (  # noqa: E402
    Agency,
    ArticlePage,
    Author,
    Byline,
    Photo,
    SectionPage,
    StoryPage,
    StoryTag,
)

BATCH = 2000
# Three years of news; the last two days hold about as many stories as a busy daily's
# (the Google News sitemap lists those).
DAYS_SPANNED = 3 * 365


def tree_step(number: int) -> str:
    """Treebeard's path step for the `number`th child (1-based): four base-36 digits."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    digits = ""
    for _ in range(Page.steplen):
        number, rest = divmod(number, 36)
        digits = alphabet[rest] + digits
    return digits


def insert(model, objects) -> None:
    """Rows of one table of a multi-table model (bulk_create refuses those): each local
    field's value prepared by Django, written with executemany."""
    fields = list(model._meta.local_concrete_fields)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    table = connection.ops.quote_name(model._meta.db_table)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
    rows = [
        [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields] for obj in objects
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def grow(articles: int) -> None:
    """Add `articles` articles to the demo newsroom, spread over its news sections."""
    rng = random.Random(2026)
    now = timezone.now()
    sections = [
        section for section in SectionPage.objects.order_by("path") if section.slug in demo.TOPICS
    ]
    authors = list(Author.objects.all())
    agencies = list(Agency.objects.all())
    photos = list(Photo.objects.all())
    article_type = ContentType.objects.get_for_model(ArticlePage)
    locale = Locale.get_default()
    tags = {
        name: Tag.objects.get_or_create(name=name, slug=slugify(name))[0]
        for name in {topic[3] for topics in demo.TOPICS.values() for topic in topics}
    }
    children = {section.pk: section.numchild for section in sections}
    backend = get_search_backend()
    bar = Progress("Growing the archive", articles, unit="stories")
    made = 0
    while made < articles:
        size = min(BATCH, articles - made)
        with transaction.atomic():
            pages, extras = [], []
            for n in range(made, made + size):
                section = sections[n % len(sections)]
                key = section.slug
                template, standfirst, subject, tag = rng.choice(demo.TOPICS[key])
                places = {"world": demo.WORLD_PLACES, "middle-east": demo.MIDEAST_PLACES}
                place = rng.choice(places.get(key, demo.PLACES))
                title = template.format(place=place, n=rng.randint(2, 9))
                slug = f"{slugify(title)}-a{n + 1}"
                published = now - timedelta(days=DAYS_SPANNED * (n + 1) / articles)
                children[section.pk] += 1
                is_wire = key in ("world", "middle-east") or n % 9 == 0
                page = ArticlePage(
                    path=section.path + tree_step(children[section.pk]),
                    depth=section.depth + 1,
                    numchild=0,
                    title=title,
                    draft_title=title,
                    slug=slug,
                    url_path=f"{section.url_path}{slug}/",
                    content_type=article_type,
                    locale=locale,
                    translation_key=uuid.uuid4(),
                    live=True,
                    first_published_at=published,
                    last_published_at=published,
                    latest_revision_created_at=published,
                    last_updated_at=published,
                    standfirst=standfirst,
                    dateline=place if is_wire or n % 2 else "",
                    agency=agencies[n % len(agencies)] if is_wire and agencies else None,
                    lead_photo=photos[n % len(photos)] if photos else None,
                    lead_photo_caption=f"{place}, where the {subject} has become a talking point.",
                    body=demo.story_body(rng, subject=subject, place=place, paragraphs=8),
                )
                pages.append(page)
                extras.append((tag, authors[n % len(authors)]))
            # The Page rows through bulk_create (one table, ids returned), then the rows
            # of the story and article tables for the same ids.
            base_rows = Page.objects.bulk_create(
                [
                    Page(
                        **{
                            f.attname: getattr(page, f.attname)
                            for f in Page._meta.concrete_fields
                            if f.attname != "id"
                        }
                    )
                    for page in pages
                ]
            )
            for page, row in zip(pages, base_rows, strict=True):
                page.pk = page.id = page.page_ptr_id = page.storypage_ptr_id = row.pk
            insert(StoryPage, pages)
            insert(ArticlePage, pages)
            Byline.objects.bulk_create(
                [
                    Byline(story_id=p.pk, author=a, sort_order=0)
                    for p, (_, a) in zip(pages, extras, strict=True)
                ]
            )
            StoryTag.objects.bulk_create(
                [
                    StoryTag(content_object_id=p.pk, tag=tags[t])
                    for p, (t, _) in zip(pages, extras, strict=True)
                ]
            )
            backend.add_bulk(
                ArticlePage, list(ArticlePage.objects.filter(pk__in=[p.pk for p in pages]))
            )
        made += size
        bar.update(made, f"{made:,}")
    for section in sections:
        Page.objects.filter(pk=section.pk).update(numchild=children[section.pk])
    bar.finish(f"{StoryPage.objects.count():,} stories in all")


def timed(client: Client, url: str, **headers) -> tuple[float, int, int]:
    """Seconds to answer `url` uncached (the cache is emptied first), status, bytes."""
    cache.clear()
    started = time.perf_counter()
    response = client.get(url, **headers)
    seconds = time.perf_counter() - started
    return seconds, response.status_code, len(response.content)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def search_queries() -> list[str]:
    """What readers type: one word, two words, a place, a phrase, a word nobody wrote,
    with and without the filters the page offers."""
    section = SectionPage.objects.filter(depth=3).order_by("path").first()
    words = [
        "council",
        "harbour",
        "library",
        "ferry",
        "school",
        "wind farm",
        "budget",
        "Northgate",
        "Lisbon",
        "allotment",
        "water bill",
        "pension",
        '"new cafes"',
        "flood defences",
        "zebra crossing",
        "xylophone",
        "museum",
        "hospital",
        "rail",
        "bridge repairs",
    ]
    queries = [f"/search/?q={word}" for word in words]
    queries += [f"/search/?q={word}&sort=newest" for word in words[:6]]
    if section:
        queries += [f"/search/?q={word}&section={section.slug}" for word in words[:6]]
    queries += [f"/search/?q={word}&type=article&page=2" for word in words[:4]]
    return queries


def discovery_urls() -> dict[str, str]:
    """One of each feed and sitemap, the biggest of its kind where it matters."""
    section = SectionPage.objects.filter(depth=3).order_by("path").first()
    tag = StoryTag.objects.values_list("tag__slug", flat=True).first()
    author = Author.objects.order_by("pk").values_list("slug", flat=True).first()
    newest = StoryPage.objects.for_readers().order_by("-first_published_at").first()
    month = newest.first_published_at - timedelta(days=40) if newest else timezone.now()
    section_path = section.url_path.strip("/").split("/", 1)[1] if section else "news"
    return {
        "feed: front page RSS": "/feeds/rss.xml",
        "feed: front page Atom": "/feeds/atom.xml",
        "feed: front page JSON": "/feeds/feed.json",
        "feed: section RSS": f"/feeds/sections/{section_path}/rss.xml",
        "feed: tag RSS": f"/feeds/tags/{tag}/rss.xml",
        "feed: author RSS": f"/feeds/authors/{author}/rss.xml",
        "sitemap: index": "/sitemap.xml",
        "sitemap: one month": f"/sitemap-articles-{month:%Y-%m}.xml",
        "sitemap: Google News": "/sitemap-news.xml",
        "sitemap: sections": "/sitemap-sections.xml",
        "sitemap: authors": "/sitemap-authors.xml",
    }


def measure(rounds: int) -> dict:
    client = Client(HTTP_HOST=os.environ.get("BENCH_HOST", "localhost"))
    results = {"database": connection.vendor, "stories": StoryPage.objects.count()}
    queries = search_queries()
    for url in queries[:3]:
        client.get(url)  # warm: connections, templates, the first compiled queries
    searches, failures = [], []
    bar = Progress("Timing search", rounds * len(queries), unit="queries")
    for number in range(rounds):
        for index, url in enumerate(queries):
            seconds, status, _ = timed(client, url)
            if status != 200:
                failures.append(f"{url}: {status}")
            searches.append(seconds)
            bar.update(number * len(queries) + index + 1)
    bar.finish()
    results["search"] = {
        "queries": len(searches),
        "p50_ms": 1000 * statistics.median(searches),
        "p95_ms": 1000 * percentile(searches, 0.95),
        "max_ms": 1000 * max(searches),
    }
    outputs = {}
    urls = discovery_urls()
    bar = Progress("Timing feeds and sitemaps", len(urls) * rounds, unit="pages")
    for index, (name, url) in enumerate(urls.items()):
        timed(client, url)  # the first answer makes the photo's renditions
        times, size, status = [], 0, 0
        for _ in range(rounds):
            seconds, status, size = timed(client, url)
            times.append(seconds)
        if status != 200:
            failures.append(f"{url}: {status}")
        outputs[name] = {
            "url": url,
            "status": status,
            "bytes": size,
            "median_ms": 1000 * statistics.median(times),
            "max_ms": 1000 * max(times),
        }
        bar.update((index + 1) * rounds)
    bar.finish()
    results["outputs"] = outputs
    results["failures"] = failures
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("grow").add_argument("--articles", type=int, default=100_000)
    commands.add_parser("measure").add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.command == "grow":
        started = time.monotonic()
        grow(args.articles)
        say(f"  grown in {time.monotonic() - started:.0f}s")
    else:
        print(json.dumps(measure(args.rounds)))


if __name__ == "__main__":
    main()
