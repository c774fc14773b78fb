"""The Content-Security-Policy of every page: strict for readers, loosened for the admin.

The site's own pages load only the site's own scripts, styles, fonts and images, so the
policy in settings names nothing but 'self'. The Wagtail admin cannot live with that:
Wagtail 8's form widgets (choosers, date pickers) print inline <script> initialisers and
its editor sets inline styles, so under /admin/ scripts and styles may also be inline.
Everything else stays closed there too: no script, style, image or connection reaches
another site, which is what keeps an injected script from sending anything away.
"""

from csp.middleware import CSPMiddleware

ADMIN_PREFIX = "/admin/"
ADMIN_ALSO_ALLOWS = {
    "script-src": ["'unsafe-inline'"],
    "style-src": ["'unsafe-inline'"],
    "img-src": ["blob:"],  # previews of images chosen for upload
}


class NewsroomCSPMiddleware(CSPMiddleware):
    def get_policy_parts(self, request, response, report_only=False):
        parts = super().get_policy_parts(request, response, report_only)
        if request.path_info.startswith(ADMIN_PREFIX):
            update = dict(parts.update or {})
            for directive, sources in ADMIN_ALSO_ALLOWS.items():
                update[directive] = [*update.get(directive, []), *sources]
            parts.update = update
        return parts
