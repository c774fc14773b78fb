"""The newsroom in the admin: authors and agencies, and what the worker will publish when."""

from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.auth import user_passes_test
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.components import Component
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies.pages import PagePermissionPolicy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from . import services
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
    search_fields = ["name", "byline_name"]
    add_to_admin_menu = True
    menu_order = 220


register_snippet(AuthorViewSet)
register_snippet(AgencyViewSet)


# What is scheduled ---------------------------------------------------------------------


def works_on_stories(user) -> bool:
    """Reporters and editors: anyone who may add, edit or publish pages."""
    return user.is_active and PagePermissionPolicy().user_has_any_permission(
        user, ["add", "change", "publish"]
    )


@method_decorator(user_passes_test(works_on_stories), name="dispatch")
class ScheduledStoriesView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "news/admin/scheduled_stories.html"
    page_title = "Scheduled stories"
    header_icon = "time"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        return super().get_context_data(changes=services.scheduled_changes(), **kwargs)


@hooks.register("register_admin_urls")
def scheduled_stories_urls():
    return [path("scheduled/", ScheduledStoriesView.as_view(), name="news_scheduled_stories")]


class ScheduledStoriesMenuItem(MenuItem):
    def is_shown(self, request):
        return works_on_stories(request.user)


@hooks.register("register_reports_menu_item")
def scheduled_stories_menu_item():
    return ScheduledStoriesMenuItem(
        "Scheduled stories", reverse("news_scheduled_stories"), icon_name="time", order=50
    )


class ComingUpPanel(Component):
    """The next scheduled changes on the dashboard, with the way to the whole list."""

    name = "scheduled_stories"
    template_name = "news/admin/coming_up_panel.html"
    order = 80  # first: a story about to go live matters before anything else here
    SHOWN = 5

    def get_context_data(self, parent_context):
        changes = services.scheduled_changes()
        return {
            "changes": changes[: self.SHOWN],
            "more": max(len(changes) - self.SHOWN, 0),
            "report_url": reverse("news_scheduled_stories"),
        }


@hooks.register("construct_homepage_panels")
def add_coming_up_panel(request, panels):
    if works_on_stories(request.user):
        panels.append(ComingUpPanel())
