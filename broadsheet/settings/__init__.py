"""Broadsheet's settings: base (read from the environment), dev, production and test.

Nothing chooses among them by default: a server or a command started without
DJANGO_SETTINGS_MODULE would otherwise run with debug pages on and a key everyone knows.
"""

import os

CHOICES = (
    "DJANGO_SETTINGS_MODULE is not set. Choose the settings to run with:\n"
    "  export DJANGO_SETTINGS_MODULE=broadsheet.settings.production   # serving readers "
    "(needs SECRET_KEY and ALLOWED_HOSTS)\n"
    "  export DJANGO_SETTINGS_MODULE=broadsheet.settings.dev          # working on Broadsheet"
)


def require_a_choice() -> None:
    """Stop unless DJANGO_SETTINGS_MODULE names the settings; say how to choose."""
    if not os.environ.get("DJANGO_SETTINGS_MODULE"):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(CHOICES)
