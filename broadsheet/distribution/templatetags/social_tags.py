"""The page's Open Graph and Twitter card meta, decided by distribution.social."""

from django import template
from django.utils.html import format_html_join

from broadsheet.distribution.social import social_card

register = template.Library()


@register.simple_tag(takes_context=True)
def social_meta(context):
    """One escaped <meta> per card property (see social.py for what each page shows)."""
    return format_html_join(
        "\n",
        '<meta {}="{}" content="{}">',
        social_card(context).meta(),
    )
