"""Locked admin sign-ins: what a failure counts against, which locks stand, lifting one.

django-axes counts the failures and refuses the sign-ins (settings: AXES_*). It has one
limit, but an account and an address need two: a newsroom signs in from behind one
address, and five typing slips across the office must not lock every editor out, while
one address trying many accounts must still be stopped. `lockout_parameters` gives axes
the address as a lockout parameter only once that address has failed
BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS times, so an account locks after AXES_FAILURE_LIMIT
failures from anywhere and an address after the larger limit. The rest of this module
reads axes' records the same way, so that a superuser can see and lift a lock.
"""

from dataclasses import dataclass
from datetime import datetime

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from axes.utils import reset
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone


@dataclass(frozen=True)
class SignInLock:
    kind: str  # "account" or "address"
    value: str
    failures: int
    until: datetime


def address_failures(address: str | None) -> int:
    """Failed sign-ins from `address` within the cool-off, whatever the accounts."""
    if not address:
        return 0
    since = timezone.now() - get_cool_off()
    total = AccessAttempt.objects.filter(ip_address=address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


def lockout_parameters(request_or_attempt, credentials=None) -> list[str]:
    """AXES_LOCKOUT_PARAMETERS: the account always; the address once it passed its limit."""
    address = getattr(request_or_attempt, "axes_ip_address", None) or getattr(
        request_or_attempt, "ip_address", None
    )
    if address_failures(address) >= settings.BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS:
        return ["username", "ip_address"]
    return ["username"]


def current_locks() -> list[SignInLock]:
    """Accounts and addresses locked now, the longest-locked first."""
    cool_off = get_cool_off()
    since = timezone.now() - cool_off
    locks = []
    limits = {
        "account": ("username", settings.AXES_FAILURE_LIMIT),
        "address": ("ip_address", settings.BROADSHEET_SIGN_IN_FAILURES_PER_ADDRESS),
    }
    for kind, (field, limit) in limits.items():
        rows = (
            AccessAttempt.objects.filter(attempt_time__gte=since)
            .exclude(**{f"{field}__isnull": True})
            .values(field)
            .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
            .filter(failures__gte=limit)
        )
        locks += [
            SignInLock(kind, row[field], row["failures"], row["last"] + cool_off) for row in rows
        ]
    return sorted(locks, key=lambda lock: lock.until)


def lift_lock(*, kind: str, value: str) -> int:
    """Forget the failures behind a lock; returns how many records were removed."""
    if kind == "account":
        return reset(username=value)
    if kind == "address":
        return reset(ip=value)
    raise ValueError(f"Unknown kind of sign-in lock: {kind!r}")
