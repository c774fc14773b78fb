"""Subscribers in the admin: who is subscribed, their history, a CSV export and import."""

from django.urls import path
from wagtail.admin.panels import FieldPanel
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from .admin_views import ImportSubscribersView, SubscriberIndexView
from .issue_admin import DailyIssueViewSet
from .models import Subscriber


class SubscriberPermissionPolicy(ModelPermissionPolicy):
    """Nobody adds or edits subscribers by hand: an address joins only by confirming."""

    def user_has_permission(self, user, action):
        return action not in {"add", "change"} and super().user_has_permission(user, action)


register_permission_policy(Subscriber, SubscriberPermissionPolicy(Subscriber))


class SubscriberViewSet(SnippetViewSet):
    model = Subscriber
    index_view_class = SubscriberIndexView  # adds the "Import CSV" button
    icon = "user"
    menu_label = "Subscribers"
    list_display = ["email", "status", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status"]
    search_fields = ["email"]
    list_export = [
        "email",
        "status",
        "created_at",
        "confirmed_at",
        "unsubscribed_at",
        "suppressed_reason",
    ]
    export_filename = "subscribers"
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [*list_export, "history"]
    panels = [FieldPanel("email", read_only=True)]

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("import/", ImportSubscribersView.as_view(), name="import"),
        ]


class NewsletterGroup(SnippetViewSetGroup):
    """One Newsletter menu: the day's issues first, then who receives them."""

    menu_label = "Newsletter"
    menu_icon = "mail"
    menu_order = 225
    items = (DailyIssueViewSet, SubscriberViewSet)


register_snippet(NewsletterGroup)
