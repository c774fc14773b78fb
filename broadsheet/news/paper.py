"""The paper as its readers know it: its name, and the full address of anything on it.

Pages, emails, feeds, sitemaps and structured data name the paper and link back to it the
same way, so these rules live here once. Both come from the Wagtail Site readers reach
(Settings › Sites), so a second site, or a paper that moves to a new address, is named
and linked right everywhere without touching settings.
"""

from django.conf import settings
from wagtail.models import Site


def paper_name(site: Site | None = None) -> str:
    """The name editors give the site (Settings › Sites), else BROADSHEET_SITE_NAME.

    `site` is the request's site on a page; without one, the default site's.
    """
    if site is None:
        site = Site.objects.filter(is_default_site=True).only("site_name").first()
    return (site.site_name if site else "") or settings.WAGTAIL_SITE_NAME


def root_url(site: Site | None = None) -> str:
    """The address of the site's front page, without a trailing slash: the Site's
    hostname and port (the default site's when `site` is None), or BROADSHEET_BASE_URL
    before any site exists."""
    if site is None:
        site = Site.objects.filter(is_default_site=True).only("hostname", "port").first()
    return site.root_url if site else settings.WAGTAILADMIN_BASE_URL.rstrip("/")


def absolute_url(url: str, site: Site | None = None) -> str:
    """`url` with the site's scheme and host in front, as an email or a feed must link;
    a URL that already has them is left as it is."""
    if url.startswith(("http://", "https://")):
        return url
    return root_url(site) + url
