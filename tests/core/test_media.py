"""Uploads are served from /media/ without ever running as a page of the site."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from wagtail.documents import get_document_model

from broadsheet.news import services

SCRIPT_PAGE = b"<html><body><script>fetch('/admin/').then(r => r.text())</script></body></html>"
SCRIPT_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
)


def jpeg_bytes():
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def place_in_media(relative_path: str, content: bytes) -> str:
    target = settings.MEDIA_ROOT / relative_path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return f"/media/{relative_path}"


@pytest.fixture
def editor(django_user_model, db):
    groups = services.ensure_newsroom_roles()
    user = django_user_model.objects.create_user("ed", password="pw", is_staff=True)
    user.groups.add(groups[services.EDITORS])
    return user


@pytest.mark.parametrize(
    ("name", "content"), [("notes.html", SCRIPT_PAGE), ("diagram.svg", SCRIPT_SVG)]
)
def test_a_document_with_script_is_only_ever_served_as_an_inert_attachment(
    client, editor, name, content
):
    client.force_login(editor)
    upload = client.post(
        reverse("wagtaildocs:add"),
        {"title": name, "file": SimpleUploadedFile(name, content), "collection": 1},
    )
    assert upload.status_code == 302, upload.content[:1000]
    document = get_document_model().objects.get(title=name)

    raw = client.get(f"/media/{document.file.name}")

    # The raw file path hands over to Wagtail's document view, which checks privacy...
    assert raw.status_code == 302
    assert raw["Location"] == document.url
    served = client.get(raw["Location"])
    # ...and answers with a download that cannot run anything if opened.
    assert served.status_code == 200
    assert served["Content-Disposition"].startswith("attachment")
    assert served["Content-Security-Policy"] == "default-src 'none'"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert b"".join(served.streaming_content) == content


def test_a_missing_document_path_is_not_found(client, db):
    place_in_media("documents/orphan.html", SCRIPT_PAGE)

    assert client.get("/media/documents/orphan.html").status_code == 404


def test_a_real_photo_is_served_inline_with_its_image_type(client, db):
    url = place_in_media("images/harbour.width-400.jpg", jpeg_bytes())

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("images/evil.html", SCRIPT_PAGE),
        ("original_images/evil.svg", SCRIPT_SVG),
        # A name that claims a photo does not make the bytes one.
        ("images/disguised.jpg", SCRIPT_PAGE),
        (
            "wire/incoming/story.xml",
            b"<?xml version='1.0'?><x:script xmlns:x='http://www.w3.org/1999/xhtml'>alert(1)</x:script>",
        ),
    ],
)
def test_anything_else_under_media_is_an_inert_download(client, db, path, content):
    url = place_in_media(path, content)

    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"] == "attachment"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["images/", "", "images/nothing-here.jpg"])
def test_folders_and_missing_files_are_not_found(client, db, path):
    assert client.get(f"/media/{path}").status_code == 404


@pytest.mark.parametrize("path", ["../settings.py", "images/../../etc/passwd"])
def test_a_path_out_of_media_is_refused(client, db, path):
    client.raise_request_exception = False

    assert client.get(f"/media/{path}").status_code == 400
