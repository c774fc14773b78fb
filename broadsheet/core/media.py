"""Run-time uploads served on one machine, so that no upload can act as a page of the site.

Whatever lies under MEDIA_ROOT came from outside: an editor's upload, an agency's file, a
rendition. Served from the site's own origin as `text/html` or `image/svg+xml`, a script in
it would run with the admin's cookies. So the raw media route:

- sends documents to Wagtail's document view, which checks collection privacy and answers
  with an attachment and `Content-Security-Policy: default-src 'none'`;
- serves a file inline only when its bytes are one of the raster image types browsers show
  (checked by Pillow from the file's header, whatever its name says), with that type;
- sends everything else as an attachment of `application/octet-stream`.

Every answer carries a sandboxing CSP and `nosniff`, so even a file opened directly is
inert. In production media come from another origin (docs/deployment.md); this view is
the one-machine default (`SERVE_MEDIA`).
"""

from django.http import Http404
from django.shortcuts import redirect
from django.utils._os import safe_join
from django.views.static import serve
from PIL import Image, UnidentifiedImageError
from wagtail.documents import get_document_model

# Pillow's format names for what an <img> shows and no browser runs.
INLINE_IMAGE_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "GIF": "image/gif",
    "WEBP": "image/webp",
    "AVIF": "image/avif",
}
SANDBOX = "default-src 'none'; sandbox"


def image_type(path: str) -> str | None:
    """The MIME type of a raster image the file's own header declares, else None."""
    try:
        with Image.open(path) as image:
            return INLINE_IMAGE_TYPES.get(image.format or "")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def serve_media(request, path: str, document_root: str):
    documents = get_document_model()
    folder = documents._meta.get_field("file").upload_to
    if path.startswith(f"{folder}/"):
        document = documents.objects.filter(file=path).first()
        if document is None:
            raise Http404("No such document.")
        return redirect(document.url)
    response = serve(request, path, document_root=document_root)
    if response.status_code == 200:
        kind = image_type(safe_join(document_root, path))
        if kind:
            response["Content-Type"] = kind
        else:
            response["Content-Type"] = "application/octet-stream"
            response["Content-Disposition"] = "attachment"
    response["Content-Security-Policy"] = SANDBOX
    response["X-Content-Type-Options"] = "nosniff"
    return response
