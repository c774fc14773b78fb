from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from .models import Agency, Author


class AuthorViewSet(SnippetViewSet):
    model = Author
    icon = "user"
    menu_label = "Authors"
    list_display = ["name", "role"]
    search_fields = ["name"]
    add_to_admin_menu = True
    menu_order = 210


class AgencyViewSet(SnippetViewSet):
    model = Agency
    icon = "globe"
    menu_label = "Agencies"
    list_display = ["name", "byline_name"]
    add_to_admin_menu = True
    menu_order = 220


register_snippet(AuthorViewSet)
register_snippet(AgencyViewSet)
