"""What the paper tells crawlers: robots.txt, and for each page its canonical address and
whether it may be indexed (the `crawler_meta` tag in templatetags/crawler_tags.py).

The rules for pages, in the order they win:

- A Wagtail preview is a draft seen by an editor: `noindex`, and no canonical (the draft
  is not yet at any address, and must never be named as one).
- A password or sign-in form stands in for the page it guards: `noindex`, no canonical.
- A view that knows better says so in its context: `robots` ("noindex, follow" on search
  results) and `canonical_url`.
- Anything else is canonical at its own address: a Wagtail page's full URL, otherwise the
  request's path without its query string (tracking or sorting parameters make no new
  page). A paginated listing's page N > 1 keeps `?page=N`: each page of a series is its
  own page, as Google advises, not a copy of the first.
- Page N > 1 of a listing is `noindex, follow`: it holds no story of its own, only links
  to stories whose own pages are indexed, and what it holds shifts with every story
  published, so an index entry for it goes stale at once. `follow`, because its links
  are how a crawler walks back through the archive (the sitemaps list every story too,
  so nothing depends on crawlers honouring the follow forever).
- Search results are `noindex, follow` (they are endless and made of other pages), even
  if the search view forgot to say so.
"""

import posixpath

from django.contrib.auth.forms import AuthenticationForm
from django.core.paginator import Page as ListingPage
from django.shortcuts import render
from django.urls import reverse
from wagtail.forms import PasswordViewRestrictionForm
from wagtail.models import Page, Site

from broadsheet.news.paper import absolute_url, root_url

NOINDEX = "noindex"
NOINDEX_FOLLOW = "noindex, follow"
# Context names under which listings hand their current page of stories to templates.
LISTING_NAMES = ("stories", "page_obj")


def listing_page(context) -> ListingPage | None:
    for name in LISTING_NAMES:
        value = context.get(name)
        if isinstance(value, ListingPage):
            return value
    return None


def is_form_for_entry(context) -> bool:
    """True on Wagtail's password form and on the sign-in page a login restriction sends
    readers to: they stand in for a page readers may not see yet."""
    return isinstance(context.get("form"), PasswordViewRestrictionForm | AuthenticationForm)


def crawler_directives(context) -> tuple[str, str]:
    """(canonical URL or "", robots directive or "") for the page `context` renders."""
    request = context.get("request")
    if request is None:
        return "", ""
    if getattr(request, "is_preview", False):
        return "", NOINDEX
    if is_form_for_entry(context):
        return "", NOINDEX

    site = Site.find_for_request(request)
    listing = listing_page(context)
    paginated = listing is not None and listing.number > 1

    robots = context.get("robots") or ""
    if not robots and paginated:
        robots = NOINDEX_FOLLOW
    if not robots and getattr(request.resolver_match, "namespace", "") == "search":
        robots = NOINDEX_FOLLOW

    canonical = context.get("canonical_url") or ""
    if canonical:
        canonical = absolute_url(canonical, site)
    else:
        page = context.get("page")
        if isinstance(page, Page):
            canonical = page.get_full_url(request) or ""
        if not canonical:
            canonical = absolute_url(request.path, site)
        if paginated:
            canonical += f"?page={listing.number}"
    return canonical, robots


def reader_actions_prefix() -> str:
    """The path all of engagement's POST endpoints (votes, comments, flags) start with."""
    paths = [
        reverse("engagement:vote", args=[0]),
        reverse("engagement:comment", args=[0]),
        reverse("engagement:flag", args=[0]),
    ]
    return posixpath.commonpath(paths).rstrip("/") + "/"


def robots_txt(request):
    """/robots.txt: where the sitemaps are, and what crawlers have no business reading."""
    site = Site.find_for_request(request)
    base = root_url(site)
    return render(
        request,
        "distribution/robots.txt",
        {
            "sitemap_index": base + reverse("distribution:sitemap_index"),
            "news_sitemap": base + reverse("distribution:sitemap_news"),
            "admin": reverse("wagtailadmin_home"),
            "engagement": reader_actions_prefix(),
        },
        content_type="text/plain; charset=utf-8",
    )
