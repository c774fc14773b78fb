"""Listings that are not pages in the tree: authors, agencies, tags, the date archive."""

import calendar
from datetime import date, datetime, time, timedelta

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from taggit.models import Tag
from wagtail.models import Site
from wagtail.url_routing import RouteResult
from wagtail.views import serve as wagtail_serve

from broadsheet.core.caching import remembered, shows

from .cache_keys import ARCHIVE, CORRECTIONS, NAV, agency_key, author_key, shared_as, tag_key
from .models import (
    Agency,
    ArticlePage,
    Author,
    StoryPage,
    corrections_for_readers,
    paginate,
    story_at,
)


def listing_of(owner, *, template: str, name: str, stories, key):
    """The view of one author's, agency's or tag's stories: newest first, paginated.

    `owner` is where the slug is looked up (a model or queryset); `stories(found, site)` is
    what it lists, of what the readers of the request's site may see.
    """

    def view(request, slug):
        found = get_object_or_404(owner, slug=slug)
        listed = stories(found, Site.find_for_request(request)).latest_first().for_listing()
        shared_as("listing", key(found.pk))
        return render(request, template, {name: found, "stories": paginate(request, listed)})

    return view


author_detail = listing_of(
    Author.objects.select_related("photo"),
    template="news/author.html",
    name="author",
    key=author_key,
    stories=lambda author, site: StoryPage.objects.for_readers(site).by_author(author),
)
agency_detail = listing_of(
    Agency,
    template="news/agency.html",
    name="agency",
    key=agency_key,
    stories=lambda agency, site: ArticlePage.objects.for_readers(site).filter(agency=agency),
)
tag_detail = listing_of(
    Tag,
    template="news/tag.html",
    name="tag",
    key=tag_key,
    stories=lambda tag, site: StoryPage.objects.for_readers(site).tagged(tag),
)


def archive_index(request):
    """Months that have stories, newest first, with how many each has."""
    readable = StoryPage.objects.for_readers(Site.find_for_request(request))
    months = readable.dates("first_published_at", "month", order="DESC")
    shared_as("listing", ARCHIVE)
    return render(request, "news/archive_index.html", {"months": months})


def archive(request, year, month=None, day=None):
    """Stories first published in a year, a month or on a day, in the newsroom's time zone.

    The URL only lets digits through; a date that does not exist (2026/02/30) is a 404.
    """
    try:
        if day is not None:
            start = date(year, month, day)
            end = start + timedelta(days=1)
            period = "day"
        elif month is not None:
            start = date(year, month, 1)
            end = date(year, month, calendar.monthrange(year, month)[1]) + timedelta(days=1)
            period = "month"
        else:
            start, end, period = date(year, 1, 1), date(year + 1, 1, 1), "year"
    except (ValueError, OverflowError) as exc:
        raise Http404("There is no such date.") from exc

    zone = timezone.get_current_timezone()
    stories = (
        StoryPage.objects.for_readers(Site.find_for_request(request))
        .filter(
            first_published_at__gte=datetime.combine(start, time.min, tzinfo=zone),
            first_published_at__lt=datetime.combine(end, time.min, tzinfo=zone),
        )
        .latest_first()
        .for_listing()
    )
    shared_as("listing", ARCHIVE)
    return render(
        request,
        "news/archive.html",
        {
            "period": period,
            "start": start,
            "stories": paginate(request, stories),
        },
    )


def corrections(request):
    """Every correction the paper has made, on stories readers may see, newest first.

    A paper that owns its mistakes in one place is easier to trust; the list is
    `corrections_for_readers`, which the corrections feed reads too.
    """
    site = Site.find_for_request(request)
    corrections = paginate(request, corrections_for_readers(site))
    shared_as("listing", CORRECTIONS)
    return render(
        request,
        "news/corrections.html",
        {
            "corrections": corrections,
            "page_obj": corrections,  # the name crawlers' and cards' tags read listings by
            "breadcrumbs": [site.root_page] if site else [],
            "social_title": "Corrections",
            "social_description": "Every correction made to a story, newest first.",
        },
    )


SITE_SECONDS = 300


def readers_site(request) -> Site | None:
    """The request's Site with its root page, kept between requests (until a purge of
    "nav": a site or a top-level page changed) and given to Wagtail for the request, which
    would otherwise read both each time."""
    if not hasattr(request, "_wagtail_site"):

        def find():
            shows(NAV)
            site = Site.find_for_request(request)
            if site is not None:
                site.root_page  # noqa: B018 - loaded now, kept with the site
            return site

        host = request.get_host()
        request._wagtail_site = remembered(f"site:{host}", SITE_SECONDS, find)
    return request._wagtail_site


def serve(request, path):
    """Wagtail's page view, with a story's address found in one query (`story_at`):
    the route is handed to Wagtail, which serves the page as always (hooks, view
    restrictions, its serve())."""
    if request.method in ("GET", "HEAD") and not hasattr(request, "_wagtail_route_for_request"):
        site = readers_site(request)
        story = story_at(site, path) if site is not None else None
        if story is not None:
            request._wagtail_route_for_request = RouteResult(story)
    return wagtail_serve(request, path)
