"""Comment moderation in the Wagtail admin: the queue, its actions, the rules, a dashboard panel.

Every decision goes through `services.moderate`; this module only lists, filters and routes.
"""

import django_filters
from django import forms
from django.db.models import Q
from django.shortcuts import get_list_or_404
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.panels import FieldPanel
from wagtail.admin.ui.components import Component
from wagtail.admin.ui.tables import (
    Column,
    DateColumn,
    NumberColumn,
    StatusTagColumn,
    TitleColumn,
)
from wagtail.admin.views.generic.permissions import PermissionCheckedMixin
from wagtail.admin.widgets import ListingButton
from wagtail.permission_policies import ModelPermissionPolicy
from wagtail.permissions import policy_registry, register_permission_policy
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import IndexView, SnippetViewSet, SnippetViewSetGroup

from broadsheet.news.models import StoryPage

from . import services
from .models import BlockedAddress, BlockedTerm, Comment, CommentPolicy


class CommentPermissionPolicy(ModelPermissionPolicy):
    """Model permissions, except that nobody adds comments in the admin: readers write them."""

    def user_has_permission(self, user, action):
        return action != "add" and super().user_has_permission(user, action)


# Registered before the snippet below, which would otherwise fall back to the default policy.
register_permission_policy(Comment, CommentPermissionPolicy(Comment))


# The queue --------------------------------------------------------------------------


WAITING = "waiting"  # held, or published and reported: what a moderator should look at


def awaiting_a_moderator():
    return Q(status=Comment.Status.HELD) | Q(
        status=Comment.Status.PUBLISHED, reported_at__isnull=False
    )


class CommentFilterSet(WagtailFilterSet):
    """Filters of the queue; with no status chosen, what waits for a moderator is listed."""

    status = django_filters.ChoiceFilter(
        choices=[(WAITING, "Waiting: held or reported"), *Comment.Status.choices],
        empty_label="All",
        initial=WAITING,
        widget=forms.RadioSelect,
        method="filter_status",
    )
    story = django_filters.ModelChoiceFilter(
        queryset=lambda request: StoryPage.objects.filter(
            pk__in=Comment.objects.values("story_id")
        ).order_by("-first_published_at"),
    )
    created_at = django_filters.DateFromToRangeFilter(label="Sent", widget=DateRangePickerWidget)

    class Meta:
        model = Comment
        fields = ["status", "story", "created_at"]

    def __init__(self, data=None, *args, **kwargs):
        if data is not None and "status" not in data:
            data = data.copy()
            data["status"] = WAITING
        super().__init__(data, *args, **kwargs)

    def filter_status(self, queryset, name, value):
        if value == WAITING:
            return queryset.filter(awaiting_a_moderator())
        return queryset.filter(status=value)


SEARCH_FIELDS = ["name", "body"]


def listed_comments(request):
    """The comments the queue lists for this request's filters and search, or none if invalid.

    "Select all in listing" sends the listing's query string to a bulk action, which must act
    on what the moderator saw, not on every comment.
    """
    filters = CommentFilterSet(request.GET, Comment.objects.all(), request=request)
    if not filters.is_valid():
        return Comment.objects.none()
    comments = filters.qs
    if query := request.GET.get("q", "").strip():
        match = Q()
        for field in SEARCH_FIELDS:
            match |= Q(**{f"{field}__icontains": query})
        comments = comments.filter(match)
    return comments


class ExcerptColumn(TitleColumn):
    def __init__(self, name, **kwargs):
        super().__init__(name, **{**kwargs, "label": "Comment"})

    def get_value(self, instance):
        return Truncator(instance.body).chars(90)


class StoryColumn(TitleColumn):
    """The story's title, linking to the live story in a new tab."""

    def get_link_url(self, instance, parent_context):
        if instance.story.live:
            return instance.story.get_url(request=parent_context.get("request"))

    def get_link_attrs(self, instance, parent_context):
        return {"target": "_blank", "rel": "noreferrer"}


class SpamColumn(Column):
    cell_template_name = "engagement/admin/spam_cell.html"


MODERATION_BUTTONS = [
    # action type, label, status it sets
    ("approve", "Approve", Comment.Status.PUBLISHED),
    ("reject", "Reject", Comment.Status.REJECTED),
    ("spam", "Mark as spam", Comment.Status.SPAM),
]


def moderation_url(action_type: str) -> str:
    return reverse("wagtail_bulk_action", args=("engagement", "comment", action_type))


class CommentIndexView(IndexView):
    def get_base_queryset(self):
        return super().get_base_queryset().select_related("story")

    def _get_title_column(self, field_name, column_class=ExcerptColumn, **kwargs):
        return super()._get_title_column(field_name, column_class, **kwargs)

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        if not self.user_has_permission("change"):
            return buttons
        # One click posts to the bulk action for this comment alone: the same code path as
        # the bulk buttons, without their confirmation page.
        reported = instance.status == Comment.Status.PUBLISHED and instance.reported_at
        return [
            ListingButton(
                "Keep published" if reported and status == Comment.Status.PUBLISHED else label,
                attrs={
                    "data-controller": "w-action",
                    "data-action": "w-action#post",
                    "data-w-action-url-value": f"{moderation_url(action)}?id={instance.pk}",
                    "aria-label": f"{label}: the comment by {instance.name}",
                },
                priority=priority,
            )
            for priority, (action, label, status) in enumerate(MODERATION_BUTTONS)
            if instance.status != status or reported
        ] + buttons


class CommentViewSet(SnippetViewSet):
    model = Comment
    index_view_class = CommentIndexView
    icon = "comment"
    menu_label = "Comments"
    filterset_class = CommentFilterSet
    search_fields = SEARCH_FIELDS
    # The ORM's icontains rather than the search index: moderators look for fragments of
    # names and phrases, and a comment is searchable the moment it arrives.
    search_backend_name = None
    ordering = "-created_at"
    list_per_page = 50
    copy_view_enabled = False
    inspect_view_enabled = True
    inspect_view_fields = [
        "story",
        "parent",
        "name",
        "email",
        "body",
        "status",
        "spam_score",
        "spam_reasons",
        "flag_count",
        "reported_at",
        "is_staff_reply",
        "created_at",
        "moderated_at",
        "moderated_by",
    ]
    # Moderators may tidy what a reader wrote (a phone number, say); the status is decided
    # only through the moderation actions.
    panels = [FieldPanel("name"), FieldPanel("body")]

    list_display = [
        "body",
        "name",
        StoryColumn("story", accessor="story.title", label="Story"),
        StatusTagColumn(
            "status",
            accessor=lambda comment: (
                "Published, reported"
                if comment.status == Comment.Status.PUBLISHED and comment.reported_at
                else comment.get_status_display()
            ),
            label="Status",
            sort_key="status",
            primary=lambda comment: (
                comment.status == Comment.Status.HELD or bool(comment.reported_at)
            ),
        ),
        SpamColumn("spam_score", label="Spam score", sort_key="spam_score"),
        NumberColumn("flag_count", label="Flags", sort_key="flag_count"),
        DateColumn("created_at", label="Sent", sort_key="created_at"),
    ]


class CommentPolicyViewSet(SnippetViewSet):
    model = CommentPolicy
    icon = "cogs"
    menu_label = "Section policies"
    list_display = ["section", "mode", "hold_at", "reject_at"]
    copy_view_enabled = False


class BlockedTermViewSet(SnippetViewSet):
    model = BlockedTerm
    icon = "warning"
    menu_label = "Blocked terms"
    list_display = ["term", "weight"]
    search_fields = ["term"]
    ordering = "term"
    inspect_view_enabled = True  # moderators may read the list without changing it


class BlockedAddressViewSet(SnippetViewSet):
    model = BlockedAddress
    icon = "lock"
    menu_label = "Blocked addresses"
    list_display = ["pattern", "note"]
    search_fields = ["pattern", "note"]
    ordering = "pattern"
    inspect_view_enabled = True


class CommentsGroup(SnippetViewSetGroup):
    items = (CommentViewSet, BlockedTermViewSet, BlockedAddressViewSet, CommentPolicyViewSet)
    menu_label = "Comments"
    menu_icon = "comment"
    menu_order = 230


register_snippet(CommentsGroup)


# Bulk actions -----------------------------------------------------------------------


class ModerateBulkAction(PermissionCheckedMixin, SnippetBulkAction):
    """Set the status of the chosen comments through `services.moderate`."""

    models = [Comment]
    permission_required = "change"
    template_name = "engagement/admin/confirm_bulk_moderate.html"
    status: str
    done: str  # past tense, for the message

    @classmethod
    def get_queryset(cls, model, object_ids):
        return get_list_or_404(model.objects.select_related("story"), pk__in=object_ids)

    def check_perm(self, comment):
        return self.permission_policy.user_has_permission_for_instance(
            self.request.user, "change", comment
        )

    def get_all_objects_in_listing_query(self, parent_id):
        return listed_comments(self.request).values_list("pk", flat=True)

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "action": self}

    def get_execution_context(self):
        return {"moderator": self.request.user, "status": self.status}

    @classmethod
    def execute_action(cls, objects, *, moderator, status, **kwargs):
        return services.moderate(comments=objects, status=status, moderator=moderator), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)d comment %(done)s.", "%(count)d comments %(done)s.", num_parent_objects
        ) % {"count": num_parent_objects, "done": self.done}


@hooks.register("register_bulk_action")
class ApproveBulkAction(ModerateBulkAction):
    display_name = "Approve"
    action_type = "approve"
    aria_label = "Approve and publish the selected comments"
    action_priority = 10
    status = Comment.Status.PUBLISHED
    done = "approved and published"


@hooks.register("register_bulk_action")
class RejectBulkAction(ModerateBulkAction):
    display_name = "Reject"
    action_type = "reject"
    aria_label = "Reject the selected comments"
    action_priority = 20
    status = Comment.Status.REJECTED
    done = "rejected"


@hooks.register("register_bulk_action")
class SpamBulkAction(ModerateBulkAction):
    display_name = "Mark as spam"
    action_type = "spam"
    aria_label = "Mark the selected comments as spam"
    action_priority = 25
    status = Comment.Status.SPAM
    done = "marked as spam"


# The dashboard ----------------------------------------------------------------------


class CommentsAwaitingPanel(Component):
    """The number of held comments, linking to the queue, for those who can moderate."""

    name = "comments_awaiting_moderation"
    template_name = "engagement/admin/awaiting_panel.html"
    order = 90  # above Wagtail's own panels: comments wait on readers, not on colleagues

    def get_context_data(self, parent_context):
        return {
            "held": Comment.objects.filter(awaiting_a_moderator()).count(),
            "queue_url": reverse(Comment.snippet_viewset.get_url_name("list"))
            + f"?status={WAITING}",
        }


@hooks.register("construct_homepage_panels")
def add_comments_awaiting_panel(request, panels):
    if policy_registry.get_by_type(Comment).user_has_permission(request.user, "change"):
        panels.append(CommentsAwaitingPanel())


@hooks.register("after_edit_snippet")
@hooks.register("after_delete_snippet")
def refresh_pages_of_changed_comments(request, instance=None, instances=None):
    """A moderator edited or deleted comments in the admin (not through `moderate`): the
    pages showing them are refreshed too."""
    changed = [instance] if instance is not None else list(instances or [])
    comments = [item for item in changed if isinstance(item, Comment)]
    if comments:
        services.comments_changed(comment.story_id for comment in comments)
