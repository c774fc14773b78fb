"""The page's canonical link and robots meta, decided by distribution.crawlers."""

from django import template
from django.utils.html import format_html, format_html_join

from broadsheet.distribution.crawlers import crawler_directives

register = template.Library()


@register.simple_tag(takes_context=True)
def crawler_meta(context):
    """`<link rel="canonical">` and `<meta name="robots">`, each only when there is one
    to give (see crawlers.py for the rules)."""
    canonical, robots = crawler_directives(context)
    tags = []
    if canonical:
        tags.append(('<link rel="canonical" href="{}">', canonical))
    if robots:
        tags.append(('<meta name="robots" content="{}">', robots))
    return format_html_join("\n", "{}", ((format_html(html, value),) for html, value in tags))
