"""The repository's VCL (deploy/varnish/broadsheet.vcl) in a real varnishd.

Varnish runs in front of a small loopback HTTP server standing in for the app, which
answers with whatever headers a test gives a path and counts what reaches it, so each test
can tell a cache hit from a trip to the app.
"""

import http.client
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

VCL = Path(__file__).resolve().parents[2] / "deploy" / "varnish" / "broadsheet.vcl"
VARNISHD = shutil.which("varnishd") or (
    "/usr/sbin/varnishd" if os.access("/usr/sbin/varnishd", os.X_OK) else None
)

pytestmark = pytest.mark.skipif(
    VARNISHD is None,
    reason="varnishd is not installed (Debian: apt-get install varnish varnish-modules)",
)

# As root Varnish drops to its own users, who may not reach a checkout or a test's tmp_path.
JAIL = ["-j", "none"] if os.geteuid() == 0 else []
PUBLIC = "public, max-age=0, s-maxage=60"
DEADLINE = 15  # seconds any one wait may take before the test gives up


def render_vcl(text: str, *, port: int, probe_interval: str, healthy_grace: str) -> str:
    """The VCL with the values scripts/prod.sh fills in (the lines marked "rendered")."""
    values = {
        "app host": '"127.0.0.1"',
        "app port": f'"{port}"',
        "probe interval": probe_interval,
        "healthy grace": healthy_grace,
    }
    for marker, value in values.items():
        text, count = re.subn(
            rf"^([^=\n]+= )[^;]+;(\s*# rendered: {marker})$",
            rf"\g<1>{value};\g<2>",
            text,
            flags=re.MULTILINE,
        )
        assert count == 1, f"the VCL has no single line marked 'rendered: {marker}'"
    return text


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class App:
    """The stand-in for the app: pages[path] are the headers it answers with."""

    def __init__(self):
        self.pages: dict[str, dict[str, str]] = {}
        self.failing: set[str] = set()  # paths answered with 503, as when the database is away
        self.hits: Counter[str] = Counter()
        self.cookies: dict[str, str | None] = {}
        app = self

        class Handler(BaseHTTPRequestHandler):
            # HTTP/1.0: one request per connection, so a stopped server refuses at once
            # instead of answering on a connection Varnish kept open.
            def answer(self, status: int, body: bytes):
                path = self.path.split("?")[0]
                app.cookies[path] = self.headers.get("Cookie")
                self.send_response(status)
                for name, value in app.pages.get(path, {"Cache-Control": PUBLIC}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_GET(self):
                if self.path == "/healthz":
                    self.answer(200, b"ok")
                    return
                app.hits[self.path] += 1
                if self.path in app.failing:
                    # What the app answers while its database is away.
                    app.pages[self.path] = {"Cache-Control": "no-store", "Retry-After": "30"}
                    self.answer(503, b"The database is away")
                    return
                self.answer(200, f"{self.path} #{app.hits[self.path]}".encode())

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                app.hits["POST " + self.path] += 1
                self.answer(200, b"saved")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Varnish:
    """varnishd -F with the repository's VCL in front of `app`, in its own work folder."""

    def __init__(self, app: App, workdir: Path, *, healthy_grace: str = "10s"):
        self.port = free_port()
        vcl = workdir / "broadsheet.vcl"
        # Probes every 100 ms, so that "the app went away" is noticed in well under a second.
        vcl.write_text(
            render_vcl(
                VCL.read_text(),
                port=app.port,
                probe_interval="100ms",
                healthy_grace=healthy_grace,
            )
        )
        command = [
            VARNISHD,
            *JAIL,
            "-F",
            "-a",
            f"127.0.0.1:{self.port}",
            "-T",
            "none",
            "-f",
            str(vcl),
            "-n",
            str(workdir / "varnish"),
            "-s",
            "malloc,32m",
        ]
        self.log = (workdir / "varnishd.log").open("w")
        self.process = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        deadline = time.monotonic() + DEADLINE
        while True:
            try:
                if self.request("GET", "/healthz").status == 200:
                    return
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise AssertionError(
                    "varnishd did not start:\n" + (workdir / "varnishd.log").read_text()
                )
            time.sleep(0.05)

    def request(self, method: str, path: str, *, headers=None, body=None, source="127.0.0.1"):
        connection = http.client.HTTPConnection(
            "127.0.0.1", self.port, timeout=10, source_address=(source, 0)
        )
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            response.text = response.read().decode()
            return response
        finally:
            connection.close()

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def app():
    app = App()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def varnish(app, tmp_path_factory):
    varnish = Varnish(app, tmp_path_factory.mktemp("varnish"))
    yield varnish
    varnish.stop()


def test_committed_vcl_compiles():
    result = subprocess.run(
        [VARNISHD, *JAIL, "-C", "-f", str(VCL)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_public_page_is_cached(app, varnish):
    first = varnish.get("/news/cached/")
    second = varnish.get("/news/cached/")

    assert (first.status, first.getheader("X-Cache")) == (200, "MISS")
    assert (second.status, second.getheader("X-Cache")) == (200, "HIT")
    assert second.text == "/news/cached/ #1"
    assert second.getheader("Age") is not None
    assert app.hits["/news/cached/"] == 1


def test_readers_cookies_do_not_stop_a_hit_and_are_not_sent_to_the_app(app, varnish):
    varnish.get("/news/for-readers/", headers={"Cookie": "bs_reader=abc123"})
    again = varnish.get("/news/for-readers/", headers={"Cookie": "bs_reader=def456; csrftoken=x"})

    assert again.getheader("X-Cache") == "HIT"
    assert app.hits["/news/for-readers/"] == 1
    assert app.cookies["/news/for-readers/"] is None


def test_staff_session_bypasses_the_cache(app, varnish):
    varnish.get("/news/for-staff/")
    staff = {"Cookie": "bs_reader=abc; sessionid=s3cret"}

    first = varnish.get("/news/for-staff/", headers=staff)
    second = varnish.get("/news/for-staff/", headers=staff)

    assert (first.getheader("X-Cache"), second.getheader("X-Cache")) == ("MISS", "MISS")
    assert app.hits["/news/for-staff/"] == 3
    assert app.cookies["/news/for-staff/"] == "bs_reader=abc; sessionid=s3cret"
    assert varnish.get("/news/for-staff/").getheader("X-Cache") == "HIT"


@pytest.mark.parametrize(
    "headers",
    [
        {"Cache-Control": "private, no-store"},
        {"Cache-Control": "no-store"},
        {"Cache-Control": "public, max-age=300"},  # no lifetime for shared caches
        {"Cache-Control": "public, max-age=0, s-maxage=0"},
        {},
        {"Cache-Control": PUBLIC, "Set-Cookie": "csrftoken=abc; Path=/"},
    ],
    ids=[
        "private",
        "no-store",
        "public-without-s-maxage",
        "s-maxage-0",
        "no-cache-control",
        "set-cookie",
    ],
)
def test_pages_not_marked_shareable_are_not_cached(app, varnish, headers):
    path = f"/news/not-shared-{len(app.pages)}/"
    app.pages[path] = headers

    responses = [varnish.get(path) for _ in range(3)]

    assert [r.getheader("X-Cache") for r in responses] == ["MISS"] * 3
    assert app.hits[path] == 3
    if "Set-Cookie" in headers:
        assert all(r.getheader("Set-Cookie") for r in responses)


def test_static_files_are_cached_by_their_max_age(app, varnish):
    # What whitenoise sends for a file whose name carries its content's hash.
    path = "/static/css/site.0123abcd.css"
    app.pages[path] = {"Cache-Control": "max-age=315360000, public, immutable"}

    varnish.get(path, headers={"Cookie": "bs_reader=abc"})

    assert varnish.get(path).getheader("X-Cache") == "HIT"
    assert app.hits[path] == 1


@pytest.mark.parametrize("path", ["/admin/pages/", "/engagement/vote/1/", "/newsletter/"])
def test_admin_engagement_and_newsletter_pass_with_their_cookies(app, varnish, path):
    responses = [varnish.get(path, headers={"Cookie": "bs_reader=abc"}) for _ in range(2)]

    assert [r.getheader("X-Cache") for r in responses] == ["MISS", "MISS"]
    assert app.hits[path] == 2
    assert app.cookies[path] == "bs_reader=abc"


def test_health_check_always_reaches_the_app(app, varnish):
    assert [varnish.get("/healthz").getheader("X-Cache") for _ in range(2)] == ["MISS"] * 2
    # Only the health check itself: a page whose name starts the same is cached.
    varnish.get("/healthz-and-safety/")
    assert varnish.get("/healthz-and-safety/").getheader("X-Cache") == "HIT"


def test_surrogate_keys_are_stripped_unless_asked_for_from_loopback(app, varnish):
    app.pages["/news/keyed/"] = {"Cache-Control": PUBLIC, "xkey": "nav s106 c106"}

    plain = varnish.get("/news/keyed/")
    debug = varnish.get("/news/keyed/", headers={"X-Debug-Keys": "1"})

    assert plain.getheader("xkey") is None
    assert debug.getheader("xkey") == "nav s106 c106"


def test_purge_by_key_removes_exactly_the_pages_carrying_it(app, varnish):
    app.pages["/news/a/"] = {"Cache-Control": PUBLIC, "xkey": "s1 home"}
    app.pages["/news/b/"] = {"Cache-Control": PUBLIC, "xkey": "s2 home"}
    app.pages["/news/c/"] = {"Cache-Control": PUBLIC, "xkey": "s3"}
    for path in ("/news/a/", "/news/b/", "/news/c/"):
        varnish.get(path)

    purge = varnish.request("PURGE", "/", headers={"xkey-purge": "s1"})

    assert purge.status == 200
    assert purge.getheader("X-Purged") == "1"
    assert purge.text.strip() == "1"
    assert varnish.get("/news/a/").getheader("X-Cache") == "MISS"
    assert varnish.get("/news/b/").getheader("X-Cache") == "HIT"
    assert varnish.get("/news/c/").getheader("X-Cache") == "HIT"

    purge = varnish.request("PURGE", "/", headers={"xkey-purge": "home s404"})

    assert purge.getheader("X-Purged") == "2"
    assert varnish.get("/news/a/").getheader("X-Cache") == "MISS"
    assert varnish.get("/news/b/").getheader("X-Cache") == "MISS"
    assert varnish.get("/news/c/").getheader("X-Cache") == "HIT"
    assert (app.hits["/news/a/"], app.hits["/news/b/"], app.hits["/news/c/"]) == (3, 2, 1)


def test_a_soft_purge_serves_the_old_copy_once_while_the_new_one_is_fetched(app, varnish):
    app.pages["/news/soft-a/"] = {"Cache-Control": PUBLIC, "xkey": "soft1"}
    app.pages["/news/soft-b/"] = {"Cache-Control": PUBLIC, "xkey": "soft2"}
    varnish.get("/news/soft-a/")
    varnish.get("/news/soft-b/")

    purge = varnish.request("PURGE", "/", headers={"xkey-softpurge": "soft1"})

    assert purge.status == 200 and purge.getheader("X-Purged") == "1"
    stale = varnish.get("/news/soft-a/")  # answered at once from the stale copy
    assert stale.status == 200 and stale.getheader("X-Cache") == "HIT"
    deadline = time.monotonic() + 5
    while app.hits["/news/soft-a/"] < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert app.hits["/news/soft-a/"] == 2  # one background fetch
    assert app.hits["/news/soft-b/"] == 1


def test_purge_from_another_address_is_refused(app, varnish):
    app.pages["/news/kept/"] = {"Cache-Control": PUBLIC, "xkey": "kept"}
    varnish.get("/news/kept/")

    # Another loopback address stands in for a reader's: it is not in the purgers ACL.
    try:
        socket.create_connection(
            ("127.0.0.1", varnish.port), source_address=("127.0.0.2", 0)
        ).close()
    except OSError:
        pytest.skip("this machine's loopback has no 127.0.0.2 to purge from")
    refused = varnish.request("PURGE", "/", headers={"xkey-purge": "kept"}, source="127.0.0.2")

    assert refused.status == 405
    assert varnish.get("/news/kept/").getheader("X-Cache") == "HIT"
    assert varnish.request("PURGE", "/").status == 400  # no keys named


def test_writes_reach_the_app_with_their_cookies(app, varnish):
    response = varnish.request(
        "POST", "/engagement/vote/9/", body=b"choice=up", headers={"Cookie": "bs_reader=abc"}
    )

    assert (response.status, response.text) == (200, "saved")
    assert app.hits["POST /engagement/vote/9/"] == 1
    assert app.cookies["/engagement/vote/9/"] == "bs_reader=abc"


def test_app_down_pages_come_from_grace_and_writes_get_503(tmp_path):
    app = App()
    app.pages["/news/breaking/"] = {"Cache-Control": "public, max-age=0, s-maxage=1"}
    varnish = Varnish(app, tmp_path)
    try:
        assert varnish.get("/news/breaking/").status == 200
        cached_at = time.monotonic()
        app.stop()

        # Before the probe notices, a write fails at the fetch; after, Varnish refuses it
        # without trying the app ("Service Unavailable" rather than "Backend fetch
        # failed"). Either way the reader is told 503 and when to retry.
        deadline = time.monotonic() + DEADLINE
        while True:
            write = varnish.request("POST", "/engagement/comment/1/", body=b"body=hello")
            assert (write.status, write.getheader("Retry-After")) == (503, "5")
            if write.reason == "Service Unavailable":
                break
            assert time.monotonic() < deadline, "the probe never marked the app sick"
            time.sleep(0.05)
        # Past the page's lifetime, so that only grace can answer.
        time.sleep(max(0, cached_at + 1.1 - time.monotonic()))

        page = varnish.get("/news/breaking/")
        write = varnish.request("POST", "/engagement/comment/1/", body=b"body=hello")
        never_cached = varnish.get("/news/never-seen/")

        assert (page.status, page.getheader("X-Cache")) == (200, "HIT")
        assert page.text == "/news/breaking/ #1"
        assert int(page.getheader("Age")) >= 1
        assert (write.status, write.getheader("Retry-After")) == (503, "5")
        assert "nothing was saved" in write.text
        assert never_cached.status == 503
        assert never_cached.getheader("Retry-After") == "5"
    finally:
        varnish.stop()


def test_app_failing_with_503_keeps_the_last_good_page(app, varnish):
    app.pages["/news/db-away/"] = {"Cache-Control": "public, max-age=0, s-maxage=1"}
    varnish.get("/news/db-away/")
    app.failing.add("/news/db-away/")
    time.sleep(1.1)

    # Within the healthy grace: the stale copy at once, refreshed in the background; the
    # failed refresh leaves the copy in place.
    pages = [varnish.get("/news/db-away/") for _ in range(2)]
    deadline = time.monotonic() + DEADLINE
    while app.hits["/news/db-away/"] < 2:
        assert time.monotonic() < deadline, "Varnish never tried to refresh the page"
        time.sleep(0.05)
    pages.append(varnish.get("/news/db-away/"))

    assert [(p.status, p.text) for p in pages] == [(200, "/news/db-away/ #1")] * 3
    assert all(p.getheader("X-Cache") == "HIT" for p in pages)


def test_app_failing_past_the_healthy_grace_still_serves_the_stale_copy(tmp_path):
    app = App()
    app.pages["/news/db-away/"] = {"Cache-Control": "public, max-age=0, s-maxage=1"}
    # No healthy grace, so that the reader's own fetch meets the failure (in production:
    # a page more than 10 s past its lifetime, before the probe marks the app sick).
    varnish = Varnish(app, tmp_path, healthy_grace="0s")
    try:
        varnish.get("/news/db-away/")
        app.failing.add("/news/db-away/")
        time.sleep(1.1)

        page = varnish.get("/news/db-away/")
        app.failing.add("/news/never-seen/")
        never_seen = varnish.get("/news/never-seen/")

        assert (page.status, page.text, page.getheader("X-Cache")) == (
            200,
            "/news/db-away/ #1",
            "HIT",
        )
        assert app.hits["/news/db-away/"] >= 2  # it did ask the app first
        # With no copy to fall back on, the reader gets the app's own answer.
        assert (never_seen.status, never_seen.getheader("Retry-After")) == (503, "30")
        assert never_seen.text == "The database is away"
    finally:
        varnish.stop()
        app.stop()
