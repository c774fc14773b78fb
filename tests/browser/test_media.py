"""An uploaded file with script in it, opened in a real browser, runs nothing."""

import pytest
from django.conf import settings

pytestmark = pytest.mark.browser

PAYLOAD = b"<html><body><script>document.title = 'ran'; window.ran = true</script></body></html>"


@pytest.mark.parametrize("name", ["images/story.html", "original_images/chart.svg"])
def test_a_file_with_script_under_media_downloads_instead_of_running(page, name):
    target = settings.MEDIA_ROOT / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(PAYLOAD)
    page.goto("/")  # the site's origin, where the admin's cookies live

    with page.expect_download() as download:
        page.evaluate("url => { window.location.href = url }", f"/media/{name}")

    assert download.value.url.endswith(f"/media/{name}")
    assert page.evaluate("window.ran === undefined")
