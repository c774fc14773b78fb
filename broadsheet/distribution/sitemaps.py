"""Sitemaps for search engines: an index, the articles month by month, the sections, the
blogs, the authors, and a Google News sitemap of the last two days' articles.

Built on Django's sitemaps framework (its `Sitemap` class, paginator and `sitemap` view).
Two things are done here instead of by the framework, and both for the same reason, the
paper's rule for addresses (news/paper.py): a link starts from the Wagtail Site's own
address (Settings › Sites), not from the Host header of whoever asked. So `get_urls` is
given the Site's scheme and host, and the index is built here rather than by Django's
`index` view, which writes the request's host into every `<loc>` and runs one query per
sitemap to find its lastmod (one per month of the archive).

Every read starts from `for_readers(site)` and fetches rows with `.values()`: a month
of a 100,000-story archive is one query for its count and one for its rows, with no
query per URL. A URL is the Site's address plus the page's `url_path` below the Site's
root page, which is how Wagtail itself routes a page on a single-language site.
"""

import calendar
from datetime import UTC, datetime, time, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views
from django.core.paginator import Paginator
from django.db.models import CharField, Count, Func, Max
from django.db.models.functions import Coalesce, Length, Substr
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, re_path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.http import http_date
from wagtail.models import Page, Site

from broadsheet.core.caching import share_for, shows
from broadsheet.distribution.crawlers import robots_txt
from broadsheet.news.cache_keys import SITEMAPS
from broadsheet.news.models import (
    ArticlePage,
    BlogIndexPage,
    BlogPostPage,
    SectionPage,
    StoryPage,
)
from broadsheet.news.paper import paper_name, root_url

# The sitemap protocol allows 50,000 URLs in one file; staying well under it keeps each
# file small and quick to build. A month bigger than this is split into ?p=2, ?p=3...
URLS_PER_SITEMAP = 10_000
# Google News reads only articles of the last two days, and at most 1,000 per sitemap.
NEWS_WINDOW = timedelta(days=2)
NEWS_LIMIT = 1000


def changed_at():
    """A story's real last-updated time: `last_updated_at` (minor updates leave it
    alone), or its first publication for a story that was never updated."""
    return Coalesce("last_updated_at", "first_published_at")


class PaperAddress:
    """The scheme, host and page paths of one Wagtail Site, worked out once per request."""

    def __init__(self, site: Site):
        self.site = site
        scheme, self.domain = urlsplit(root_url(site))[:2]
        self.protocol = scheme or "https"
        # Wagtail serves a page at its url_path below the site's root page, under
        # wherever wagtail_serve is mounted ("/" here).
        self.root_path = site.root_page.url_path
        self.serve_prefix = reverse("wagtail_serve", args=[""])

    def page_path(self, url_path: str) -> str:
        return self.serve_prefix + url_path[len(self.root_path) :]

    @cached_property
    def newest_by_parent(self) -> dict[str, datetime]:
        """newest_by_parent(site), read once for the sections' and the blogs' sitemaps."""
        return newest_by_parent(self.site)


class PaperSitemap(Sitemap):
    """A sitemap of one Wagtail Site's pages, read as `.values()` rows."""

    limit = URLS_PER_SITEMAP

    def __init__(self, address: PaperAddress):
        self.address = address
        self.site = address.site

    def get_urls(self, page=1, site=None, protocol=None):
        # The request's host and scheme, which Django passes in, are ignored on purpose:
        # see the module's docstring.
        return self._urls(page, self.address.protocol, self.address.domain)

    def location(self, item):
        return item["location"] if "location" in item else self.address.page_path(item["url_path"])

    def lastmod(self, item):
        # Whole seconds, as the Last-Modified header has them: fractions tell no crawler
        # anything.
        changed = item["changed"]
        return changed.replace(microsecond=0) if changed else None

    @cached_property
    def paginator(self):
        # Built once: the views ask for its count, then for a page of it.
        return Paginator(self.items(), self.limit)

    def items(self):
        # Read once: the index asks for the newest change and the number of pages.
        if not hasattr(self, "_read"):
            self._read = self.read()
        return self._read

    def read(self):
        raise NotImplementedError

    def get_latest_lastmod(self):
        return max((self.lastmod(item) for item in self.items()), default=None)


class MonthOf(Func):
    """The "YYYY-MM" of a moment in UTC, worked out by the database itself.

    Django's TruncMonth on SQLite calls a Python function for every row: grouping an
    archive of 100,000 stories by month took 0.9 s that way, and a few milliseconds as a
    string operation. A sitemap's months only split the archive into files, so they are
    UTC months, the same on both databases.
    """

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores a moment as ISO 8601 text in UTC: its first seven characters.
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 7)")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM')"
        )


class ArticleMonthSitemap(PaperSitemap):
    """The articles first published in one month (UTC, see MonthOf), oldest first so
    that a page's URLs stay on that page."""

    def __init__(self, address, *, month: datetime, count=None, latest=None):
        """`month` is its first moment; OverflowError for a month past the calendar's end."""
        super().__init__(address)
        self.start = month
        days = calendar.monthrange(month.year, month.month)[1]
        self.end = datetime.combine(month.date() + timedelta(days=days), time.min, month.tzinfo)
        self._count, self._latest = count, latest

    @property
    def section(self):
        return f"articles-{self.start:%Y-%m}"

    def read(self):
        return (
            ArticlePage.objects.for_readers(self.site)
            .filter(first_published_at__gte=self.start, first_published_at__lt=self.end)
            .annotate(changed=changed_at())
            .order_by("first_published_at", "pk")
            .values("url_path", "changed")
        )

    @cached_property
    def paginator(self):
        paginator = Paginator(self.items(), self.limit)
        if self._count is not None:
            paginator.count = self._count  # known from the index's one query
        return paginator

    def get_latest_lastmod(self):
        if self._latest is None:
            return super().get_latest_lastmod()
        return self._latest.replace(microsecond=0)


def article_months(address: PaperAddress) -> list[ArticleMonthSitemap]:
    """One sitemap per month that has articles, newest first, each knowing its size and
    newest change from a single grouped query over the archive."""
    rows = (
        ArticlePage.objects.for_readers(address.site)
        .annotate(month=MonthOf("first_published_at"))
        .values("month")
        .annotate(count=Count("pk"), latest=Max(changed_at()))
        .order_by("-month")
    )
    return [
        ArticleMonthSitemap(
            address,
            month=datetime.strptime(row["month"], "%Y-%m").replace(tzinfo=UTC),
            count=row["count"],
            latest=row["latest"],
        )
        for row in rows
    ]


def month_sitemap(address: PaperAddress, year: int, month: int) -> ArticleMonthSitemap:
    """The sitemap of one month, or Http404 for a month that does not exist."""
    try:
        start = datetime(year, month, 1, tzinfo=UTC)
        return ArticleMonthSitemap(address, month=start)
    except (ValueError, OverflowError) as exc:
        raise Http404("There is no such month.") from exc


def newest_by_parent(site: Site) -> dict[str, datetime]:
    """{page path: newest change of the stories right under it}, in one grouped query."""
    rows = (
        StoryPage.objects.for_readers(site)
        .annotate(parent_path=Substr("path", 1, Length("path") - Page.steplen))
        .values("parent_path")
        .annotate(latest=Max(changed_at()))
        .order_by()
    )
    return {row["parent_path"]: row["latest"] for row in rows}


def newest_under(path: str, newest: dict[str, datetime]) -> datetime | None:
    """The newest change among stories anywhere below the page at `path`."""
    return max((at for parent, at in newest.items() if parent.startswith(path)), default=None)


class SectionsSitemap(PaperSitemap):
    """The front page and every section, each dated by the newest story it shows."""

    def read(self):
        newest = self.address.newest_by_parent
        pages = [{"url_path": self.site.root_page.url_path, "path": self.site.root_page.path}]
        pages += SectionPage.objects.for_readers(self.site).values("url_path", "path")
        for page in pages:
            page["changed"] = newest_under(page["path"], newest)
        # A section with no story yet has nothing for a crawler to come back for.
        return [page for page in pages if page["changed"] is not None]


class BlogsSitemap(PaperSitemap):
    """The blogs, each dated by its newest post, then every post."""

    def read(self):
        newest = self.address.newest_by_parent
        blogs = list(BlogIndexPage.objects.for_readers(self.site).values("url_path", "path"))
        for blog in blogs:
            blog["changed"] = newest.get(blog["path"])
        self.blogs = [blog for blog in blogs if blog["changed"] is not None]
        posts = (
            BlogPostPage.objects.for_readers(self.site)
            .annotate(changed=changed_at())
            .order_by("first_published_at", "pk")
            .values("url_path", "changed")
        )
        return ListThenQuery(self.blogs, posts)

    def get_latest_lastmod(self):
        # A blog is as new as its newest post, so the blogs are enough to ask.
        self.items()
        return max((self.lastmod(blog) for blog in self.blogs), default=None)


class ListThenQuery:
    """A few rows followed by a queryset, sliced and counted as one sequence, so the
    paginator fetches only the page it shows."""

    def __init__(self, first: list, then):
        self.first, self.then = first, then

    def count(self):
        return len(self.first) + self.then.count()

    def __len__(self):
        return self.count()

    def __iter__(self):
        yield from self.first
        yield from self.then

    def __getitem__(self, window: slice):
        start, stop = window.start or 0, window.stop
        head = self.first[start:stop]
        offset = len(self.first)
        rest = list(self.then[max(start - offset, 0) : stop - offset]) if stop > offset else []
        return head + rest


class AuthorsSitemap(PaperSitemap):
    """Authors with at least one story readers may see, dated by their newest."""

    def read(self):
        rows = (
            StoryPage.objects.for_readers(self.site)
            .filter(bylines__author__isnull=False)
            .values("bylines__author__slug")
            .annotate(changed=Max(changed_at()))
            .order_by("bylines__author__slug")
        )
        return [
            {
                "location": reverse("news:author", args=[row["bylines__author__slug"]]),
                "changed": row["changed"],
            }
            for row in rows
            if row["bylines__author__slug"]
        ]


def news_language(language: str) -> str:
    """The language as Google News writes it: an ISO 639 code of 2 or 3 letters, with
    zh-cn or zh-tw for Chinese (its schema allows nothing else)."""
    tag = (language or settings.BROADSHEET_LANGUAGE).strip().lower().replace("_", "-")
    primary, *subtags = tag.split("-")
    if primary == "zh":
        return "zh-tw" if {"hant", "tw", "hk", "mo"} & set(subtags) else "zh-cn"
    return primary


class NewsSitemap(PaperSitemap):
    """Articles (not blog posts) first published in the last two days, newest first."""

    limit = NEWS_LIMIT

    def read(self):
        since = timezone.now() - NEWS_WINDOW
        rows = (
            ArticlePage.objects.for_readers(self.site)
            .filter(first_published_at__gte=since)
            .annotate(changed=changed_at())
            .order_by("-first_published_at", "-pk")
            .values("url_path", "changed", "first_published_at", "title", "language")[:NEWS_LIMIT]
        )
        name = paper_name(self.site)
        return [
            {
                **row,
                "published": row["first_published_at"].replace(microsecond=0),
                "publication": name,
                "news_language": news_language(row["language"]),
            }
            for row in rows
        ]


def paper_sitemaps(address: PaperAddress) -> dict[str, PaperSitemap]:
    """Every sitemap the index lists, by the section name in its URL."""
    sitemaps = {month.section: month for month in article_months(address)}
    sitemaps["sections"] = SectionsSitemap(address)
    sitemaps["blogs"] = BlogsSitemap(address)
    sitemaps["authors"] = AuthorsSitemap(address)
    sitemaps["news"] = NewsSitemap(address)
    return sitemaps


def sitemap_url(section: str) -> str:
    if section == "news":
        return reverse("distribution:sitemap_news")
    return reverse("distribution:sitemap", kwargs={"section": section})


def address_for(request) -> PaperAddress:
    """The paper whose sitemap the request asks for; sitemaps are shared until a story
    changes (news/cache_keys.py purges them all)."""
    site = Site.find_for_request(request)
    if site is None:
        raise Http404("This address is not one of the paper's sites.")
    share_for(settings.BROADSHEET_SHARE_SECONDS["feed"])
    shows(SITEMAPS)
    return PaperAddress(site)


# Views ------------------------------------------------------------------------------


@sitemap_views.x_robots_tag
def sitemap_index(request):
    """/sitemap.xml: every sitemap (each page of one that is split), with its lastmod."""
    address = address_for(request)
    base = f"{address.protocol}://{address.domain}"
    entries, changes = [], []
    for section, sitemap in paper_sitemaps(address).items():
        location = base + sitemap_url(section)
        lastmod = sitemap.get_latest_lastmod()
        if lastmod is None and section != "news":
            continue  # no URLs in it: an empty urlset is not a valid sitemap
        changes += [lastmod] if lastmod else []
        for number in range(1, sitemap.paginator.num_pages + 1):
            entries.append(
                sitemap_views.SitemapIndexItem(
                    location if number == 1 else f"{location}?p={number}", lastmod
                )
            )
    headers = {"Last-Modified": http_date(max(changes).timestamp())} if changes else None
    return TemplateResponse(
        request,
        "sitemap_index.xml",
        {"sitemaps": entries},
        content_type="application/xml",
        headers=headers,
    )


def sitemap_section(request, section):
    """/sitemap-<section>.xml: one of the sitemaps the index lists (?p=N for a page)."""
    address = address_for(request)
    if section.startswith("articles-"):
        year, month = section.removeprefix("articles-").split("-")
        sitemap = month_sitemap(address, int(year), int(month))
    else:
        sitemap = {
            "sections": SectionsSitemap,
            "blogs": BlogsSitemap,
            "authors": AuthorsSitemap,
        }[section](address)
    if not sitemap.paginator.count:
        raise Http404("This sitemap has no pages.")
    return sitemap_views.sitemap(
        request, {section: sitemap}, section=section, template_name="distribution/sitemap.xml"
    )


def news_sitemap(request):
    """/sitemap-news.xml: the Google News sitemap. After two quiet days it is empty, and
    still served: a 404 would show in the publisher's Search Console as a broken
    sitemap, where an empty one only says there is nothing new."""
    address = address_for(request)
    return sitemap_views.sitemap(
        request,
        {"news": NewsSitemap(address)},
        section="news",
        template_name="distribution/news_sitemap.xml",
    )


urlpatterns = [
    path("robots.txt", robots_txt, name="robots_txt"),
    path("sitemap.xml", sitemap_index, name="sitemap_index"),
    path("sitemap-news.xml", news_sitemap, name="sitemap_news"),
    # Only names that can exist get this far: any other is a 404 without a query.
    re_path(
        r"^sitemap-(?P<section>articles-\d{4}-\d{2}|sections|blogs|authors)\.xml$",
        sitemap_section,
        name="sitemap",
    ),
]
