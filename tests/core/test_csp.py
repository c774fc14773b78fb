"""Which Content-Security-Policy each kind of page carries."""

from django.conf import settings


def directives(response) -> dict[str, set[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: set(values)
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_a_readers_page_allows_only_the_sites_own_code(client, story):
    policy = directives(client.get(story.url))

    assert policy["script-src"] == {"'self'"}
    assert policy["style-src"] == {"'self'"}
    assert policy["object-src"] == {"'none'"}
    assert policy["frame-ancestors"] == {"'self'"}


def test_the_admin_may_run_wagtails_inline_initialisers_but_reach_nowhere_else(
    client, django_user_model
):
    client.force_login(django_user_model.objects.create_superuser("chief", "c@example.org", "pw"))

    policy = directives(client.get("/admin/"))

    assert policy["script-src"] == {"'self'", "'unsafe-inline'"}
    assert policy["connect-src"] == {"'self'"}
    assert policy["img-src"] == {"'self'", "data:", "blob:"}


def test_an_upload_keeps_its_own_sandboxing_policy(client, db):
    target = settings.MEDIA_ROOT / "images" / "notes.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("<script>alert(1)</script>")

    assert client.get("/media/images/notes.html")["Content-Security-Policy"] == (
        "default-src 'none'; sandbox"
    )
