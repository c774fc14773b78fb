"""The paper as its readers know it: its name, and the full address of anything on it.

Pages, emails and (later) feeds name the paper and link back to it the same way, so these
rules live here once.
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


def absolute_url(url: str) -> str:
    """`url` with the site's scheme and host in front (BROADSHEET_BASE_URL), as an email or
    a feed must link; a URL that already has them is left as it is."""
    if url.startswith(("http://", "https://")):
        return url
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + url
