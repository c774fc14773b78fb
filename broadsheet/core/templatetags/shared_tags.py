"""`{% remember %}`: a part of a page kept rendered until a purge names a key it shows."""

from django import template
from django.conf import settings
from django.utils.safestring import mark_safe

from ..caching import may_remember, remembered, shows

register = template.Library()


class RememberNode(template.Node):
    def __init__(self, nodelist, kind, parts):
        self.nodelist = nodelist
        self.kind = kind
        self.parts = parts

    def render(self, context):
        request = context.get("request")
        if not may_remember(request):
            return self.nodelist.render(context)
        parts = [str(part.resolve(context)) for part in self.parts]
        name = ":".join([request.get_host(), *parts])
        seconds = settings.BROADSHEET_SHARE_SECONDS[self.kind]
        return mark_safe(remembered(name, seconds, lambda: self.nodelist.render(context)))


@register.tag
def remember(parser, token):
    """{% remember "story" "copy" page.pk page.live_revision_id %} ... {% endremember %}

    Renders the inside once and keeps it (for the BROADSHEET_SHARE_SECONDS of its kind at
    most) until a purge names one of the keys it showed. Use it for parts of a page that
    are the same for every reader and are purged by key; never for per-reader content.
    The name's parts (after the kind) must tell apart everything the inside depends on.
    """
    bits = token.split_contents()
    if len(bits) < 3:
        raise template.TemplateSyntaxError("{% remember kind name-part ... %} needs a name.")
    nodelist = parser.parse(("endremember",))
    parser.delete_first_token()
    kind = bits[1].strip("\"'")
    return RememberNode(nodelist, kind, [parser.compile_filter(bit) for bit in bits[2:]])


@register.simple_tag(name="shows")
def shows_tag(*keys):
    """{% shows "nav" %}: the page (or the kept part) shows what `keys` name; prints nothing."""
    shows(*keys)
    return ""
