from django.conf import settings
from django.utils.functional import SimpleLazyObject
from wagtail.models import Site

from broadsheet.core.caching import may_remember, remembered, shows

from .cache_keys import NAV
from .models import SectionPage
from .paper import paper_name


def newsroom(request):
    """The paper's name and its top-level sections, for the masthead on every page.

    The sections are read when a template first shows them, and kept between requests
    until a purge of "nav" (a section published, moved or taken down)."""
    site = Site.find_for_request(request) if request else None

    def read_sections():
        shows(NAV)
        return list(SectionPage.objects.for_readers(site).child_of(site.root_page).in_menu())

    def sections():
        if site is None:
            return []
        if not may_remember(request):
            return read_sections()
        seconds = settings.BROADSHEET_SHARE_SECONDS["listing"]
        return remembered(f"nav:{request.get_host()}:{site.pk}", seconds, read_sections)

    return {
        "paper_name": paper_name(site) if site else paper_name(),
        "nav_sections": SimpleLazyObject(sections),
    }
