"""The readers' search page: reads the request, asks the search, renders the answer."""

from urllib.parse import urlencode

from django.shortcuts import render
from django.utils.cache import patch_cache_control
from wagtail.models import Site

from broadsheet.news.cache_keys import shared_as

from . import services
from .forms import SearchForm

# Results are the same for every reader, so shared caches may keep them, for a minute:
# a burst of readers searching for the name in a breaking story is answered once, and a
# story published since shows up within the minute.
SEARCH_CACHE_SECONDS = 60


def search(request):
    """/search/?q=…: stories, authors and tags matching the words, with filters."""
    site = Site.find_for_request(request)
    sections = services.top_sections(site)
    asked = SearchForm(request.GET, sections=sections).read()
    found = services.search(
        site=site, text=asked.text, filters=asked.filters, page_number=asked.page_number
    )
    parameters = asked.parameters(found.terms.typed)
    context = {
        "found": found,
        "form": SearchForm(initial=parameters, sections=sections),
        "sections": sections,
        "notes": asked.notes + found.notes,
        "query_string": urlencode(parameters),
        "unfiltered_query_string": urlencode({"q": found.terms.typed}),
        # Results pages are not for search engines' indexes, but the stories they link are.
        "robots": "noindex, follow",
    }
    shared_as("search")  # the cards mark the stories they show
    response = render(request, "search/search.html", context)
    patch_cache_control(response, public=True, max_age=SEARCH_CACHE_SECONDS)
    return response
