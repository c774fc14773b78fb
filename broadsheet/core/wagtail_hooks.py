"""The admin's sign-in locks page: superusers see locked accounts and addresses, and lift them."""

from axes.helpers import get_cool_off
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.decorators import method_decorator
from django.views.generic import TemplateView
from wagtail import hooks
from wagtail.admin.auth import require_admin_access, user_passes_test
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from . import sign_in


def is_superuser(user) -> bool:
    return user.is_active and user.is_superuser


@method_decorator([require_admin_access, user_passes_test(is_superuser)], name="dispatch")
class SignInLocksView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "core/admin/sign_in_locks.html"
    page_title = "Sign-in locks"
    header_icon = "lock"

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            locks=sign_in.current_locks(),
            account_limit=settings.AXES_FAILURE_LIMIT,
            address_limit=settings.BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS,
            cool_off=int(get_cool_off().total_seconds() // 60),
            **kwargs,
        )

    def post(self, request):
        kind, value = request.POST.get("kind", ""), request.POST.get("value", "")
        if kind not in {"account", "address"} or not value:
            messages.error(request, "Choose a lock to lift.")
            return redirect("broadsheet_sign_in_locks")
        sign_in.lift_lock(kind=kind, value=value)
        messages.success(request, f"Lifted the lock on the {kind} {value}.")
        return redirect("broadsheet_sign_in_locks")


@hooks.register("register_admin_urls")
def sign_in_locks_urls():
    return [path("sign-in-locks/", SignInLocksView.as_view(), name="broadsheet_sign_in_locks")]


class SuperuserMenuItem(MenuItem):
    def is_shown(self, request):
        return request.user.is_superuser


@hooks.register("register_settings_menu_item")
def sign_in_locks_menu_item():
    return SuperuserMenuItem(
        "Sign-in locks", reverse("broadsheet_sign_in_locks"), icon_name="lock", order=900
    )
