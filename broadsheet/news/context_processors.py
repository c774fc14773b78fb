from wagtail.models import Site

from broadsheet.core.caching import shows

from .cache_keys import NAV
from .models import SectionPage
from .paper import paper_name


def newsroom(request):
    """The paper's name and its top-level sections, for the masthead on every page."""
    site = Site.find_for_request(request) if request else None
    sections = []
    if site is not None:
        sections = SectionPage.objects.for_readers(site).child_of(site.root_page).in_menu()
        shows(NAV)
    return {
        "paper_name": paper_name(site) if site else paper_name(),
        "nav_sections": sections,
        "site_root": site.root_page if site else None,
    }
