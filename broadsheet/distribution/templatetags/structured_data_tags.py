"""The page's JSON-LD, decided by distribution.structured_data."""

from django import template
from django.utils.safestring import mark_safe

from broadsheet.distribution.structured_data import structured_data, to_json_ld

register = template.Library()


@register.simple_tag(takes_context=True)
def structured_data_script(context):
    """One <script type="application/ld+json">, or nothing for a page with no data."""
    data = structured_data(context)
    if data is None:
        return ""
    # to_json_ld escapes <, > and &, so nothing in the data can close the element.
    return mark_safe(f'<script type="application/ld+json">{to_json_ld(data)}</script>')
