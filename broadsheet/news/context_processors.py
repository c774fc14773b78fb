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
        # The site record's name (editable in the admin) wins over the setting.
        "paper_name": (site.site_name if site else "") or settings.WAGTAIL_SITE_NAME,
        "nav_sections": sections,
        "site_root": site.root_page if site else None,
    }
