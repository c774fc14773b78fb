from django.conf import settings
from wagtail.models import Site

from .models import SectionPage


def newsroom(request):
    """The paper's name and its top-level sections, for the masthead on every page."""
    site = Site.find_for_request(request) if request else None
    sections = []
    if site is not None:
        sections = SectionPage.objects.live().child_of(site.root_page).in_menu()
    return {
        "paper_name": settings.WAGTAIL_SITE_NAME,
        "nav_sections": sections,
        "site_root": site.root_page if site else None,
    }
