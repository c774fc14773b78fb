"""The article page, served every way Broadsheet serves it and the way its peers do, measured
in one run on this machine with one wrk command.

    .venv/bin/python bench/serving.py                  # everything, 20 s runs (make bench-serving)
    .venv/bin/python bench/serving.py --quick          # 5 s runs, while developing
    .venv/bin/python bench/serving.py --skip-peers     # only Broadsheet's configurations
    .venv/bin/python bench/serving.py --with-ghost     # Ghost too (slow to install the first time)

Ours, from a throwaway newsroom (fresh folder, migrate, collectstatic, seed_demo), the article
the front page leads with:

  varnish      through Varnish: scripts/prod.sh's production topology when the script is
               there (Varnish 127.0.0.1:6181), otherwise varnishd of this run's own with
               deploy/varnish/broadsheet.vcl (or a minimal VCL) in front of a gunicorn of its own
  ours-cached  gunicorn, production settings, SQLite, BROADSHEET_PAGE_CACHE=on (the embedded
               default: whole pages in Django's cache, shared by the worker processes)
  ours-sqlite  the same with BROADSHEET_PAGE_CACHE=off: every request builds the page
  ours-pg      uncached, PostgreSQL 15 (scripts/postgres.sh, a cluster of this run's own),
               persistent connections (CONN_MAX_AGE=600)
  ours-static  the page's HTML as a static file from nginx (the physical limit)

Peers, set up by /work/shared/peers/<peer>/setup.sh and stopped by its stop.sh: stock Wagtail
(SQLite uncached, SQLite with Django's per-site cache, PostgreSQL CONN_MAX_AGE=600), WordPress
(php-fpm uncached, nginx fastcgi_cache) and, with --with-ghost, Ghost.

Every configuration gets the same `wrk -t2 -c50 -d20s --latency --timeout 30s`, after a short
warm-up, in passes that alternate between configurations (the upper median of the passes is
reported), then a one-connection run (`wrk -t1 -c1`). In process, with Django's test client,
what one uncached article request costs: CPU ms, SQL queries and where the time goes.

Prints a table and the issue's ratios on stdout (progress on stderr); writes
bench/results/serving-<timestamp>.json and .png (req/s on a log scale).
"""

import argparse
import contextlib
import datetime as dt
import json
import math
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psutil
from common import (
    PROJECT_DIR,
    RESULTS_DIR,
    Progress,
    chart_font,
    interrupted,
    machine_busy_seconds,
    run_python,
    save_results,
    say,
    wait_for_quiet,
)

PEERS_DIR = Path(os.environ.get("BSP_PEERS_DIR", "/work/shared/peers"))
PEER_RESULTS = RESULTS_DIR / "peers"

# This run's own ports (loopback only). Others' are left alone: 6181, 8100, 54339 and 63790
# are a developer's `make prod-up` (this run starts scripts/prod.sh on its own ports), 8000
# the demo's, 54329 the developers' PostgreSQL.
PORTS = {
    "ours-cached": 8201,
    "ours-sqlite": 8202,
    "ours-pg": 8203,
    "varnish-app": 8204,
    "varnish": 8205,
    "varnish-admin": 8206,
    "prod-redis": 8207,
    "prod-postgres": 8208,
    "ours-static": 8210,
}
PG_PORT = 54349

# The aims, as ratios of requests/s measured in the same run:
# (what, numerator, denominator, at least, at most)
AIMS = [
    ("Varnish / nginx static file of our HTML", "varnish", "ours-static", 0.8, None),
    ("embedded cached / stock Wagtail per-site cache", "ours-cached", "wt-cache", 1.5, None),
    ("uncached SQLite / stock Wagtail uncached", "ours-sqlite", "wt-sqlite", 3.0, None),
    ("uncached SQLite / Ghost", "ours-sqlite", "ghost", 4.0, None),
    ("uncached SQLite / WordPress uncached", "ours-sqlite", "wp-fpm", 20.0, None),
    ("uncached PostgreSQL / uncached SQLite", "ours-pg", "ours-sqlite", 0.9, 1.1),
]

# Alternation order: configurations compared with each other run next to each other.
ORDER = [
    "varnish",
    "ours-static",
    "ours-cached",
    "wt-cache",
    "wp-fcache",
    "ours-sqlite",
    "wt-sqlite",
    "ours-pg",
    "wt-pg",
    "ghost",
    "wp-fpm",
]

# A one-connection p50 near this, on a page served from a cache, is the stall Debian's
# nginx defaults caused (sendfile on + tcp_nopush on): see /work/shared/peers/README.md.
NAGLE_FLOOR_MS = (35.0, 50.0)


@dataclass
class Target:
    """One configuration to measure: a URL and the processes that serve it."""

    key: str
    label: str
    group: str  # "ours", "peer" or "limit"
    url: str
    pids: list[int] = field(default_factory=list)  # for CPU per request; may be empty
    note: str = ""


# Small helpers --------------------------------------------------------------------------


def loopback_only(url: str) -> str:
    if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing a non-loopback URL: {url}")
    return url


def port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def require_free(port: int, what: str) -> None:
    if not port_free(port):
        raise RuntimeError(f"port {port} (for {what}) is taken; stop whatever listens there")


def fetch(url: str, *, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one GET, redirects not followed, no compression asked."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(loopback_only(url), timeout=timeout) as answer:
            return answer.status, dict(answer.headers.items()), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers.items()), error.read()


def wait_http(url: str, *, seconds: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited ({process.returncode})")
        try:
            fetch(url, timeout=5)
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def stop_process(process: subprocess.Popen | None, *, sig: int = signal.SIGTERM) -> None:
    """Stop a process this script started in a session of its own, then its group."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # the group this script created
        process.wait(timeout=5)


def tree_cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes and their descendants, so far."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            for each in [process, *process.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    times = each.cpu_times()
                    total += times.user + times.system
    return total


def clean_env() -> dict:
    """This environment without anything that would point the app elsewhere."""
    drop = {
        "DATABASE_URL",
        "REDIS_URL",
        "TASK_BACKEND",
        "DEBUG",
        "STATIC_ROOT",
        "MEDIA_ROOT",
        "CONN_MAX_AGE",
        "BROADSHEET_TRUSTED_PROXIES",
        "BROADSHEET_VARNISH_URLS",
        "BROADSHEET_PAGE_CACHE",
        "DJANGO_SETTINGS_MODULE",
        "PYTHONPATH",
    }
    return {key: value for key, value in os.environ.items() if key not in drop}


# Our servers ----------------------------------------------------------------------------


class Newsroom:
    """A throwaway demo newsroom in `var_dir`, on SQLite or on the database `database_url`."""

    def __init__(self, var_dir: Path, *, secret_key: str, database_url: str = ""):
        self.var_dir = var_dir
        self.var_dir.mkdir(parents=True, exist_ok=True)
        self.env = clean_env()
        self.env.update(
            DJANGO_SETTINGS_MODULE="broadsheet.settings.production",
            SECRET_KEY=secret_key,
            HTTPS="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BROADSHEET_BASE_URL=f"http://127.0.0.1:{PORTS['ours-sqlite']}",
            BROADSHEET_VAR_DIR=str(var_dir),
            PYTHONUNBUFFERED="1",
        )
        if database_url:
            self.env.update(DATABASE_URL=database_url, CONN_MAX_AGE="600")

    def build(self, label: str) -> None:
        bar = Progress(f"Building {label}", 3, "steps")
        bar.update(0, "migrate")
        run_python("manage.py", "migrate", "--no-input", "-v0", env=self.env)
        bar.update(1, "collectstatic")
        run_python("manage.py", "collectstatic", "--no-input", "-v0", env=self.env)
        bar.update(2, "seed_demo")
        run_python("manage.py", "seed_demo", env=self.env)
        bar.finish(str(self.var_dir))


class Gunicorn:
    """Broadsheet under gunicorn as production runs it on one machine: 2 sync workers."""

    def __init__(self, name: str, port: int, env: dict, log_dir: Path, *, workers: int):
        self.name, self.port, self.env, self.workers = name, port, env, workers
        self.log = log_dir / f"gunicorn-{name}.log"
        self.process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        start = [str(gunicorn)] if gunicorn.exists() else [sys.executable, "-m", "gunicorn"]
        return [
            *start,
            "broadsheet.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--worker-class",
            "sync",
            "--graceful-timeout",
            "5",
            "--error-logfile",
            str(self.log),
        ]

    def start(self) -> None:
        require_free(self.port, f"gunicorn {self.name}")
        self.process = subprocess.Popen(
            self.command(),
            cwd=PROJECT_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_http(self.base_url + "/", seconds=60, process=self.process)
        except RuntimeError as error:
            raise RuntimeError(f"gunicorn {self.name}: {error}\n{self.log_tail()}") from None

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        return ""

    def stop(self) -> None:
        stop_process(self.process)


class Postgres:
    """A PostgreSQL 15 cluster of this run's own, through scripts/postgres.sh."""

    def __init__(self, folder: Path):
        self.env = clean_env()
        self.env.update(BROADSHEET_PG_PORT=str(PG_PORT), PGDATA_DIR=str(folder / "postgres"))
        self.started = False

    def script(self, command: str) -> str:
        done = subprocess.run(
            ["scripts/postgres.sh", command],
            cwd=PROJECT_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=180,
        )
        if done.returncode:
            raise RuntimeError(f"scripts/postgres.sh {command} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def start(self) -> str:
        require_free(PG_PORT, "PostgreSQL")
        self.started = True
        self.script("start")
        return self.script("url").strip()

    def stop(self) -> None:
        if self.started:
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.script("stop")


class StaticNginx:
    """nginx serving one HTML file at `path`, as the limit a cache can approach."""

    def __init__(self, folder: Path, *, port: int):
        self.folder, self.port = folder, port
        self.process: subprocess.Popen | None = None

    def start(self, *, path: str, html: bytes) -> None:
        require_free(self.port, "nginx")
        root = self.folder / "docroot"
        page = root / unquote(path).lstrip("/")  # nginx looks the decoded path up
        page = page / "index.html" if path.endswith("/") else page
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_bytes(html)
        temp = self.folder / "temp"
        temp.mkdir(exist_ok=True)
        # As root the workers must be allowed to read the (0700) temporary folder; as anyone
        # else they run as that user anyway and nginx would only warn about `user`.
        user = "user root;\n" if os.geteuid() == 0 else ""
        config = self.folder / "nginx.conf"
        config.write_text(
            f"""# Written by bench/serving.py for one run.
{user}worker_processes auto;
daemon off;
pid {self.folder}/nginx.pid;
error_log {self.folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    # tcp_nopush off: with Debian's "on", answers on reused connections stalled ~40 ms
    # (the lesson in /work/shared/peers/README.md).
    sendfile on;
    tcp_nopush off;
    keepalive_timeout 65;
    keepalive_requests 100000;
    server_tokens off;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
        index index.html;
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""
        )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.process = subprocess.Popen(
            [nginx, "-c", str(config), "-p", str(self.folder)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.folder / "stderr.log").open("w"),
            start_new_session=True,
        )
        wait_http(f"http://127.0.0.1:{self.port}{path}", seconds=15, process=self.process)

    def stop(self) -> None:
        stop_process(self.process, sig=signal.SIGQUIT)


MINIMAL_VCL = """vcl 4.1;
# bench/serving.py's stand-in until deploy/varnish/broadsheet.vcl exists: readers' cookies
# do not split the cache, and only what the app marks public with an s-maxage is stored.
backend app { .host = "127.0.0.1"; .port = "%(port)d"; }
sub vcl_recv {
    if (req.url !~ "^/(admin|engagement|newsletter|search)/") { unset req.http.Cookie; }
}
sub vcl_backend_response {
    if (beresp.http.Cache-Control !~ "public" || beresp.http.Cache-Control !~ "s-maxage") {
        set beresp.uncacheable = true;
        set beresp.ttl = 60s;
    }
}
sub vcl_deliver {
    unset resp.http.xkey;
    if (obj.hits > 0) { set resp.http.X-Cache = "HIT"; } else { set resp.http.X-Cache = "MISS"; }
}
"""


class OwnVarnish:
    """varnishd of this run's own in front of a gunicorn of its own (SQLite, uncached app)."""

    def __init__(self, folder: Path, newsroom: Newsroom, *, workers: int):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        env = dict(newsroom.env)
        env.update(
            BROADSHEET_PAGE_CACHE="off",
            BROADSHEET_TRUSTED_PROXIES="1",
            BROADSHEET_VARNISH_URLS=f"http://127.0.0.1:{PORTS['varnish']}",
        )
        self.app = Gunicorn("varnish-app", PORTS["varnish-app"], env, folder, workers=workers)
        self.process: subprocess.Popen | None = None
        self.vcl_source = ""

    def vcl(self) -> str:
        committed = PROJECT_DIR / "deploy" / "varnish" / "broadsheet.vcl"
        if not committed.exists():
            self.vcl_source = "a minimal VCL of bench/serving.py's own"
            return MINIMAL_VCL % {"port": self.app.port}
        self.vcl_source = "deploy/varnish/broadsheet.vcl, backend rendered to this run's gunicorn"
        text = committed.read_text()
        # The lines scripts/prod.sh renders, marked "# rendered: app host" / "app port".
        text, hosts = re.subn(
            r'\.host = "[^"]*"; # rendered: app host', '.host = "127.0.0.1";', text
        )
        text, ports = re.subn(
            r'\.port = "[^"]*"; # rendered: app port', f'.port = "{self.app.port}";', text
        )
        if not (hosts and ports):  # the markers changed: change the first backend's port
            text = re.sub(r'\.port = "\d+";', f'.port = "{self.app.port}";', text, count=1)
        return text

    def start(self) -> str:
        self.app.start()
        require_free(PORTS["varnish"], "varnishd")
        require_free(PORTS["varnish-admin"], "varnishd's admin port")
        vcl = self.folder / "broadsheet.vcl"
        vcl.write_text(self.vcl())
        vcl.chmod(0o644)
        varnishd = shutil.which("varnishd") or "/usr/sbin/varnishd"
        self.process = subprocess.Popen(
            [
                varnishd,
                "-F",
                "-a",
                f"127.0.0.1:{PORTS['varnish']}",
                "-T",
                f"127.0.0.1:{PORTS['varnish-admin']}",
                "-n",
                str(self.folder / "instance"),
                "-f",
                str(vcl),
                "-s",
                "malloc,256m",
            ],
            stdin=subprocess.DEVNULL,
            stdout=(self.folder / "varnishd.log").open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{PORTS['varnish']}"
        try:
            wait_http(base + "/", seconds=30, process=self.process)
        except RuntimeError as error:
            log = (self.folder / "varnishd.log").read_text()[-2000:]
            raise RuntimeError(f"varnishd: {error}\n{log}") from None
        return base

    @property
    def note(self) -> str:
        return (
            f"varnishd of this run's own ({self.vcl_source}) in front of gunicorn "
            f"({self.app.workers} sync workers, SQLite, BROADSHEET_PAGE_CACHE=off)"
        )

    def pids(self) -> list[int]:
        return [p.pid for p in (self.process, self.app.process) if p is not None]

    def stop(self) -> None:
        stop_process(self.process)
        self.app.stop()


class ProdTopology:
    """scripts/prod.sh's production topology: Varnish, gunicorn (gthread), PostgreSQL 15,
    Redis, the RQ worker. Run with a state folder of this run's own (a fresh database that
    prod.sh seeds with the demo) and on this run's ports, so a developer's `make prod-up`
    (var/prod, Varnish on 6181) is neither reused nor stopped."""

    script = PROJECT_DIR / "scripts" / "prod.sh"
    PORTS = {
        "BROADSHEET_PROD_APP_PORT": PORTS["varnish-app"],
        "BROADSHEET_PROD_VARNISH_PORT": PORTS["varnish"],
        "BROADSHEET_PROD_VARNISH_ADMIN_PORT": PORTS["varnish-admin"],
        "BROADSHEET_PROD_REDIS_PORT": PORTS["prod-redis"],
        "BROADSHEET_PROD_PG_PORT": PORTS["prod-postgres"],
    }

    def __init__(self, folder: Path, *, timeout: float):
        self.folder = folder / "prod"
        self.log = folder / "prod.log"
        self.timeout = timeout
        self.started = False
        self.env = clean_env()
        self.env.update(
            {name: str(port) for name, port in self.PORTS.items()},
            BROADSHEET_PROD_DIR=str(self.folder),
            BIN=str(Path(sys.executable).parent),
        )

    @classmethod
    def available(cls) -> bool:
        return cls.script.exists()

    def run(self, command: str) -> None:
        with self.log.open("a") as log:
            done = subprocess.run(
                ["bash", str(self.script), command],
                cwd=PROJECT_DIR,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=self.timeout,
            )
        if done.returncode:
            tail = "\n".join(self.log.read_text().splitlines()[-15:])
            raise RuntimeError(f"scripts/prod.sh {command} exited {done.returncode}:\n{tail}")

    def start(self) -> str:
        for name, port in self.PORTS.items():
            require_free(port, name)
        self.started = True
        self.run("up")
        base = f"http://127.0.0.1:{PORTS['varnish']}"
        wait_http(base + "/", seconds=60)
        return base

    note = (
        "scripts/prod.sh's production topology (Varnish, gunicorn, PostgreSQL 15, Redis, the "
        "RQ worker), on this run's ports 8204-8208 with a fresh state folder"
    )

    def pids(self) -> list[int]:
        """Varnish, gunicorn, Redis and PostgreSQL, from the PID files prod.sh keeps."""
        files = [self.folder / "run" / f"{name}.pid" for name in ("varnishd", "gunicorn", "redis")]
        files.append(self.folder / "postgres" / "postmaster.pid")
        found = []
        for file in files:
            with contextlib.suppress(OSError, ValueError, IndexError):
                found.append(int(file.read_text().split()[0]))
        return found

    def stop(self) -> None:
        if self.started:
            self.started = False
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self.run("down")


def lead_story_path(base_url: str) -> tuple[str, str]:
    """The story the front page leads with, if it has a photo; else the first story on the
    front page, in reading order, that has one (wire copy, photo-less, may lead): its path,
    and which it was."""
    status, _, body = fetch(base_url + "/")
    if status != 200:
        raise RuntimeError(f"{base_url}/ answered {status}")
    html = body.decode("utf-8", "replace")
    start = html.find('class="front__lead"')
    cards = html[max(start, 0) :].split('<article class="card')[1:]
    for index, card in enumerate(cards):
        if "card__photo" not in card:
            continue
        link = re.search(r'class="card__headline"><a href="([^"#]+)"', card)
        if link:
            which = (
                "the front page's lead"
                if index == 0 and start >= 0
                else (
                    f"story {index + 1} on the front page, the first with a photo "
                    "(the lead has none)"
                )
            )
            return urlsplit(link.group(1)).path, which
    raise RuntimeError(f"no story with a photo on {base_url}/")


# Peers ----------------------------------------------------------------------------------


@dataclass
class Peer:
    name: str
    pid_names: list[str]  # the daemons its setup.sh records in $BSP_STATE/pids
    timeout: float
    already_running: bool = False
    set_up: bool = False
    seconds: float = 0.0
    note: str = ""


def peer_env(state: Path) -> dict:
    env = clean_env()
    env.update(BSP_STATE=str(state), BSP_RESULTS=str(PEER_RESULTS))
    return env


def pid_of(state: Path, name: str) -> int | None:
    with contextlib.suppress(OSError, ValueError):
        pid = int((state / "pids" / f"{name}.pid").read_text().strip())
        if psutil.pid_exists(pid):
            return pid
    return None


def setup_peer(peer: Peer, state: Path, log_dir: Path) -> None:
    """Run the peer's own setup.sh (time-boxed); afterwards peer.set_up says if it worked."""
    peer.already_running = all(pid_of(state, n) for n in peer.pid_names)
    script = PEERS_DIR / peer.name / "setup.sh"
    log = log_dir / f"peer-{peer.name}-setup.log"
    say(f"Setting up the {peer.name} peer ({script}; log {log})...")
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            ["bash", str(script)],
            cwd=PEERS_DIR / peer.name,
            env=peer_env(state),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        bar = Progress(f"  {peer.name} setup", peer.timeout)
        try:
            while process.poll() is None and time.monotonic() - started < peer.timeout:
                bar.update(time.monotonic() - started)
                time.sleep(0.5)
        except BaseException:
            stop_process(process)
            raise
        if process.poll() is None:
            stop_process(process)  # its session: npm, pip, node-gyp it was running
            peer.note = f"setup did not finish within {peer.timeout:.0f} s: skipped"
        elif process.returncode:
            tail = " | ".join(log.read_text().splitlines()[-3:])
            peer.note = f"setup failed ({process.returncode}): skipped; {tail[-300:]}"
        else:
            peer.set_up = True
    peer.seconds = round(time.monotonic() - started, 1)
    bar.finish(f"{peer.seconds:.0f} s" + (f" -- {peer.note}" if peer.note else ""))


def stop_peer(peer: Peer, state: Path, log_dir: Path, *, keep: bool) -> None:
    if keep or peer.already_running:
        return  # left as found: someone else's, or asked to keep
    log = log_dir / f"peer-{peer.name}-stop.log"
    with log.open("w") as out, contextlib.suppress(subprocess.TimeoutExpired):
        subprocess.run(
            ["bash", str(PEERS_DIR / peer.name / "stop.sh")],
            cwd=PEERS_DIR / peer.name,
            env=peer_env(state),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=120,
        )


def peer_targets(peer: Peer, state: Path) -> list[Target]:
    """The URLs each peer's setup.sh documents (and writes down under $BSP_STATE)."""

    def pids(*names: str) -> list[int]:
        return [pid for pid in (pid_of(state, n) for n in names) if pid]

    if peer.name == "wagtail":
        path = (state / "wagtail" / "url_path").read_text().strip()
        return [
            Target(
                "wt-sqlite",
                "stock Wagtail, SQLite, uncached",
                "peer",
                f"http://127.0.0.1:8082{path}",
                pids("gunicorn-sqlite"),
            ),
            Target(
                "wt-cache",
                "stock Wagtail, SQLite, per-site cache",
                "peer",
                f"http://127.0.0.1:8086{path}",
                pids("gunicorn-sqlite-cache"),
            ),
            Target(
                "wt-pg",
                "stock Wagtail, PostgreSQL, uncached",
                "peer",
                f"http://127.0.0.1:8089{path}",
                pids("gunicorn-pg-persist", "postgres"),
                "CONN_MAX_AGE=600",
            ),
        ]
    if peer.name == "wordpress":
        post = (state / "wordpress" / "post_url").read_text().strip()
        path = urlsplit(post).path
        return [
            Target(
                "wp-fpm",
                "WordPress, php-fpm, uncached",
                "peer",
                f"http://127.0.0.1:8081{path}",
                pids("nginx", "php-fpm", "mariadb"),
            ),
            Target(
                "wp-fcache",
                "WordPress, nginx fastcgi_cache",
                "peer",
                f"http://127.0.0.1:8085{path}",
                pids("nginx", "php-fpm", "mariadb"),
                "tcp_nopush off",
            ),
        ]
    if peer.name == "ghost":
        path = (state / "ghost" / "url_path").read_text().strip()
        return [
            Target(
                "ghost",
                "Ghost, SQLite, one Node process",
                "peer",
                f"http://127.0.0.1:8091{path}",
                pids("ghost"),
            )
        ]
    raise ValueError(peer.name)


# wrk ------------------------------------------------------------------------------------

TIME_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_wrk(text: str) -> dict:
    """Requests/s, latency percentiles (ms), errors and bytes from wrk --latency output."""

    def ms(value: str, unit: str) -> float:
        return float(value) * TIME_UNITS[unit]

    percentiles = {
        f"p{p}_ms": ms(v, u)
        for p, v, u in re.findall(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.M)
    }
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m|h), ([\d.]+)(B|KB|MB|GB|TB) read", text)
    if not done:
        raise ValueError(f"not wrk output:\n{text}")
    requests = int(done.group(1))
    seconds = ms(done.group(2), done.group(3)) / 1000
    thread = re.search(
        r"Latency\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)\s+([\d.]+)(us|ms|s|m|h)", text
    )
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text
    )
    socket_errors = dict(
        zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True)
        if sockets
        else {}
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    result = {
        "rps": float(rps.group(1)) if rps else requests / seconds,
        "requests": requests,
        "duration_s": round(seconds, 3),
        "bytes_read": int(float(done.group(4)) * SIZE_UNITS[done.group(5)]),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors,
        **{key: percentiles.get(key, math.nan) for key in ("p50_ms", "p75_ms", "p90_ms", "p99_ms")},
    }
    if thread:
        result["mean_ms"] = ms(thread.group(1), thread.group(2))
        result["max_ms"] = ms(thread.group(5), thread.group(6))
    result["errors"] = result["non_2xx"] + sum(socket_errors.values())
    return result


def run_wrk(
    target: Target,
    *,
    threads: int,
    connections: int,
    seconds: int,
    timeout: str,
    label: str,
) -> dict:
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        timeout,
        "--latency",
        loopback_only(target.url),
    ]
    bar = Progress(label, seconds)
    cpu_before = tree_cpu_seconds(target.pids)
    machine_before, wrk_before = machine_busy_seconds(), waited_children_cpu()
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        while process.poll() is None:
            bar.update(time.monotonic() - started)
            time.sleep(0.25)
    except BaseException:
        stop_process(process)
        raise
    stdout, stderr = process.communicate()
    if process.returncode:
        raise RuntimeError(f"wrk failed ({process.returncode}): {stdout.decode()}{stderr.decode()}")
    elapsed = time.monotonic() - started
    machine = machine_busy_seconds() - machine_before
    wrk_cpu = waited_children_cpu() - wrk_before
    result = parse_wrk(stdout.decode())
    # Cores kept busy meanwhile: by wrk, by the server's processes, and by anything else on
    # the machine (other work sharing the two cores depresses every figure).
    result["wrk_cores"] = round(wrk_cpu / elapsed, 2)
    if target.pids:
        server_cpu = tree_cpu_seconds(target.pids) - cpu_before
        result["server_cores"] = round(server_cpu / elapsed, 2)
        result["other_cores"] = round(max(0.0, machine - wrk_cpu - server_cpu) / elapsed, 2)
        if result["requests"]:
            result["server_cpu_ms_per_request"] = round(1000 * server_cpu / result["requests"], 3)
    result["command"] = " ".join(command)
    result["raw"] = stdout.decode()
    note = f"{result['rps']:,.0f} req/s, p50 {result['p50_ms']:.1f} ms"
    if result["errors"]:
        note += f", {result['errors']} errors"
    bar.finish(note)
    return result


def waited_children_cpu() -> float:
    """User + system CPU of this script's finished children (wrk, once waited for)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def upper_median(runs: list[dict]) -> dict:
    """The run with the median requests/s; of two, the better one."""
    ordered = sorted(runs, key=lambda run: run["rps"])
    return ordered[len(ordered) // 2]


# In process: what one uncached request costs --------------------------------------------


def measure_cost(path: str, *, requests: int, profiled: int) -> dict:
    """Run inside the newsroom's environment (BROADSHEET_PAGE_CACHE=off): Django's test
    client, DEBUG off, after a warm-up; CPU per request, SQL queries, and a profile."""
    import cProfile
    import pstats

    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")

    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} answered {response.status_code}")

    for _ in range(20):
        get()
    with CaptureQueriesContext(connection) as captured:
        get()
    # Read now: the next request's request_started signal empties the connection's log.
    queries = [query["sql"] for query in captured.captured_queries]
    started_cpu, started_wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        get()
    cpu_ms = 1000 * (time.process_time() - started_cpu) / requests
    wall_ms = 1000 * (time.perf_counter() - started_wall) / requests

    profile = cProfile.Profile()
    profile.enable()
    for _ in range(profiled):
        get()
    profile.disable()
    stats = pstats.Stats(profile)
    project = str(PROJECT_DIR) + os.sep
    rows = []
    for (filename, line, function), (_, calls, _, cumulative, _) in stats.stats.items():
        if filename.startswith(project) and "/broadsheet/" in filename:
            where = filename[len(project) :]
        elif f"{os.sep}wagtail{os.sep}" in filename:
            where = "wagtail/" + filename.split(f"{os.sep}wagtail{os.sep}", 1)[1]
        else:
            continue
        rows.append(
            {
                "function": f"{where}:{line}({function})",
                "cumulative_ms": round(1000 * cumulative / profiled, 2),
                "calls": round(calls / profiled, 1),
            }
        )
    profiled_total = sum(stats.stats[key][2] for key in stats.stats)  # own time, all functions
    per_request_ms = 1000 * profiled_total / profiled
    # Middleware that wraps the whole request (the page cache, the health check) says nothing
    # about where the time goes: left out.
    rows = [row for row in rows if row["cumulative_ms"] < 0.95 * per_request_ms]
    rows.sort(key=lambda row: row["cumulative_ms"], reverse=True)
    # Wagtail's serve() returns a TemplateResponse that Django renders after the view: the
    # template's share is outside the rows above.
    rendering = [
        cumulative
        for (filename, _, function), (_, _, _, cumulative, _) in stats.stats.items()
        if filename.endswith(os.path.join("django", "template", "response.py"))
        and function == "render"
    ]
    return {
        "path": path,
        "database": connection.vendor,
        "debug": settings.DEBUG,
        "requests": requests,
        "cpu_ms": round(cpu_ms, 2),
        "wall_ms": round(wall_ms, 2),
        "queries": len(queries),
        "sql": [sql[:300] for sql in queries],
        "profiled_requests": profiled,
        "profiled_ms_per_request": round(per_request_ms, 2),
        "template_render_ms": round(1000 * max(rendering) / profiled, 2) if rendering else None,
        "top_cumulative": rows[:10],
    }


def cost_of(newsroom: Newsroom, path: str, *, requests: int) -> dict:
    env = dict(newsroom.env, BROADSHEET_PAGE_CACHE="off")
    output = run_python(
        str(Path(__file__).resolve()),
        "--cost-of",
        path,
        "--cost-requests",
        str(requests),
        env=env,
    )
    return json.loads(output.strip().splitlines()[-1])


# The run --------------------------------------------------------------------------------


class Run:
    """Everything this run starts, the configurations it measures and what it finds."""

    def __init__(self, args: argparse.Namespace, stack: contextlib.ExitStack):
        self.args, self.stack = args, stack
        self.folder = Path(tempfile.mkdtemp(prefix="broadsheet-serving-"))
        # PostgreSQL and Varnish run as their own users: they must be able to reach in.
        self.folder.chmod(0o755)
        if not args.keep:
            stack.callback(shutil.rmtree, self.folder, ignore_errors=True)
        self.secret_key = secrets.token_urlsafe(50)
        self.targets: dict[str, Target] = {}
        self.notes: list[str] = []
        self.peers: list[Peer] = []
        self.newsroom: Newsroom | None = None
        self.pg_newsroom: Newsroom | None = None
        self.lead_path = ""
        self.html = b""

    def wanted(self, key: str) -> bool:
        return not self.args.only or key in self.args.only

    def gunicorn(self, name: str, newsroom: Newsroom, **env: str) -> Gunicorn:
        server = Gunicorn(
            name, PORTS[name], dict(newsroom.env, **env), self.folder, workers=self.args.workers
        )
        self.stack.callback(server.stop)
        server.start()
        return server

    # Ours

    def start_ours(self) -> None:
        self.newsroom = Newsroom(self.folder / "sqlite", secret_key=self.secret_key)
        self.newsroom.build("the newsroom (SQLite)")
        uncached = self.gunicorn("ours-sqlite", self.newsroom, BROADSHEET_PAGE_CACHE="off")
        if self.args.article:
            self.lead_path, which = self.args.article, "chosen with --article"
        else:
            self.lead_path, which = lead_story_path(uncached.base_url)
        status, _, self.html = fetch(uncached.base_url + self.lead_path)
        if status != 200 or b"lead-photo" not in self.html:
            raise RuntimeError(f"the story {self.lead_path} answered {status} or has no photo")
        self.notes.append(f"The article: {self.lead_path}, {which}")
        say(f"The article: {self.lead_path}, {which} ({len(self.html):,} bytes)")
        # Always started (it gives the article and its HTML); measured when wanted.
        if self.wanted("ours-sqlite"):
            self.add(
                "ours-sqlite",
                "Broadsheet, SQLite, uncached",
                "ours",
                uncached.base_url,
                [uncached.process.pid],
                "BROADSHEET_PAGE_CACHE=off",
            )
        if self.wanted("ours-cached"):
            cached = self.gunicorn("ours-cached", self.newsroom, BROADSHEET_PAGE_CACHE="on")
            self.add(
                "ours-cached",
                "Broadsheet, embedded default, cached",
                "ours",
                cached.base_url,
                [cached.process.pid],
                "SQLite, BROADSHEET_PAGE_CACHE=on",
            )
        if self.wanted("ours-static"):
            nginx = StaticNginx(self.folder / "nginx", port=PORTS["ours-static"])
            nginx.folder.mkdir()
            self.stack.callback(nginx.stop)
            nginx.start(path=self.lead_path, html=self.html)
            self.add(
                "ours-static",
                "our HTML, nginx static file",
                "limit",
                f"http://127.0.0.1:{nginx.port}",
                [nginx.process.pid],
                "sendfile on, tcp_nopush off",
            )
        if self.wanted("ours-pg"):
            self.start_postgres()
        if self.wanted("varnish"):
            self.start_varnish()

    def add(self, key, label, group, base, pids, note="") -> None:
        target = Target(key, label, group, base + self.lead_path, pids, note)
        self.targets[key] = target

    def start_postgres(self) -> None:
        postgres = Postgres(self.folder)
        self.stack.callback(postgres.stop)
        say(f"Starting PostgreSQL 15 on 127.0.0.1:{PG_PORT} (scripts/postgres.sh)...")
        url = postgres.start()
        self.pg_newsroom = Newsroom(
            self.folder / "postgres-var", secret_key=self.secret_key, database_url=url
        )
        self.pg_newsroom.build("the newsroom (PostgreSQL)")
        server = self.gunicorn("ours-pg", self.pg_newsroom, BROADSHEET_PAGE_CACHE="off")
        status, _, _ = fetch(server.base_url + self.lead_path)
        if status != 200:
            raise RuntimeError(f"the lead story on PostgreSQL answered {status}")
        pg_pid = None
        with contextlib.suppress(OSError, ValueError):
            pg_pid = int((self.folder / "postgres" / "postmaster.pid").read_text().split()[0])
        self.add(
            "ours-pg",
            "Broadsheet, PostgreSQL, uncached",
            "ours",
            server.base_url,
            [server.process.pid] + ([pg_pid] if pg_pid else []),
            "CONN_MAX_AGE=600, BROADSHEET_PAGE_CACHE=off",
        )

    def start_varnish(self) -> None:
        front, base = self.varnish_front()
        path = self.lead_path
        if fetch(base + path)[0] != 200:  # prod.sh seeds a newsroom of its own
            path, which = lead_story_path(base)
            self.notes.append(f"Through Varnish the article is {path}, {which}")
        self.targets["varnish"] = Target(
            "varnish", "Broadsheet through Varnish", "ours", base + path, front.pids(), front.note
        )
        self.notes.append(f"Varnish: {front.note}")

    def varnish_front(self) -> tuple["ProdTopology | OwnVarnish", str]:
        """Varnish in front of the app, and its address. The one place that chooses how:
        scripts/prod.sh's topology when the script is there (unless --varnish own), else a
        varnishd of this run's own."""
        choice = self.args.varnish
        if choice != "own" and ProdTopology.available():
            prod = ProdTopology(self.folder, timeout=self.args.prod_timeout)
            self.stack.callback(prod.stop)
            say("Starting the production topology: scripts/prod.sh up (its own folder, ports)...")
            try:
                return prod, prod.start()
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as error:
                prod.stop()
                if choice == "prod":
                    raise
                self.notes.append(f"scripts/prod.sh up failed, own varnishd used instead: {error}")
                say(f"  scripts/prod.sh up failed; using a varnishd of this run's own ({error})")
        elif choice == "prod":
            raise SystemExit("--varnish prod: scripts/prod.sh is not there")
        own = OwnVarnish(self.folder / "varnish", self.newsroom, workers=self.args.workers)
        self.stack.callback(own.stop)
        return own, own.start()

    # Peers

    def start_peers(self) -> None:
        state = Path(self.args.peer_state)
        PEER_RESULTS.mkdir(parents=True, exist_ok=True)
        names = ["wordpress", "wagtail"] + (["ghost"] if self.args.with_ghost else [])
        pid_names = {
            "wordpress": ["nginx", "php-fpm", "mariadb"],
            "wagtail": ["gunicorn-sqlite", "gunicorn-sqlite-cache", "gunicorn-pg-persist"],
            "ghost": ["ghost"],
        }
        for name in names:
            timeout = self.args.ghost_timeout if name == "ghost" else self.args.setup_timeout
            peer = Peer(name, pid_names[name], timeout)
            self.peers.append(peer)
            self.stack.callback(stop_peer, peer, state, self.folder, keep=self.args.keep_peers)
            setup_peer(peer, state, self.folder)
            if not peer.set_up:
                self.notes.append(f"{name}: {peer.note}")
                continue
            for target in peer_targets(peer, state):
                if not self.wanted(target.key):
                    continue
                status, _, _ = fetch(target.url)
                if status != 200:
                    self.notes.append(f"{target.key}: {target.url} answered {status}, skipped")
                    continue
                self.targets[target.key] = target
        if not self.args.with_ghost:
            self.notes.append("Ghost not measured (--with-ghost measures it)")

    # Measuring

    def describe(self, target: Target) -> dict:
        status, _, body = fetch(target.url)
        again = fetch(target.url)[1]
        wanted = ("Cache-Control", "X-Cache", "Age", "Server", "Content-Type", "Vary")
        lower = {k.lower(): v for k, v in again.items()}
        return {
            "key": target.key,
            "label": target.label,
            "group": target.group,
            "url": target.url,
            "note": target.note,
            "status": status,
            "page_bytes": len(body),
            "headers": {name: lower[name.lower()] for name in wanted if name.lower() in lower},
        }

    def measure(self) -> dict:
        keys = [key for key in ORDER if key in self.targets]
        args = self.args
        described = {key: self.describe(self.targets[key]) for key in keys}
        say(f"\nWarming up {len(keys)} configurations ({args.warmup} s each)...")
        for key in keys:
            run_wrk(
                self.targets[key],
                threads=args.threads,
                connections=args.connections,
                seconds=args.warmup,
                timeout=args.timeout,
                label=f"warm-up {key}",
            )
        runs: dict[str, list[dict]] = {key: [] for key in keys}
        for number in range(1, args.passes + 1):
            say(
                f"\nPass {number} of {args.passes}: wrk -t{args.threads} -c{args.connections} "
                f"-d{args.duration}s --latency --timeout {args.timeout}"
            )
            for key in keys:
                wait_for_quiet(limit=0.3, patience=args.quiet_wait)
                runs[key].append(
                    run_wrk(
                        self.targets[key],
                        threads=args.threads,
                        connections=args.connections,
                        seconds=args.duration,
                        timeout=args.timeout,
                        label=f"{key} ({number}/{args.passes})",
                    )
                )
                time.sleep(args.pause)
        say(f"\nOne connection: wrk -t1 -c1 -d{args.c1_duration}s --latency")
        single = {}
        for key in keys:
            single[key] = run_wrk(
                self.targets[key],
                threads=1,
                connections=1,
                seconds=args.c1_duration,
                timeout=args.timeout,
                label=f"{key} (1 connection)",
            )
            time.sleep(args.pause)
        configurations = {}
        for key in keys:
            chosen = upper_median(runs[key])
            row = {
                **described[key],
                "rps": round(chosen["rps"], 1),
                "p50_ms": chosen["p50_ms"],
                "p99_ms": chosen["p99_ms"],
                "errors": chosen["errors"],
                "non_2xx": chosen["non_2xx"],
                "socket_errors": chosen["socket_errors"],
                "server_cpu_ms_per_request": chosen.get("server_cpu_ms_per_request"),
                "server_cores": chosen.get("server_cores"),
                "wrk_cores": chosen.get("wrk_cores"),
                "other_cores": chosen.get("other_cores"),
                "rps_all_passes": [round(run["rps"], 1) for run in runs[key]],
                "c1": {
                    name: single[key].get(name) for name in ("rps", "p50_ms", "p99_ms", "errors")
                },
                "runs": runs[key],
                "c1_run": single[key],
            }
            low, high = NAGLE_FLOOR_MS
            row["c1"]["floor_40ms_suspected"] = bool(
                low <= single[key]["p50_ms"] <= high and row["rps"] > 1000
            )
            configurations[key] = row
        return configurations


def ratios(configurations: dict) -> list[dict]:
    found = []
    for what, top, bottom, least, most in AIMS:
        entry = {"what": what, "numerator": top, "denominator": bottom, "aim_min": least}
        if most is not None:
            entry["aim_max"] = most
        entry["aim"] = f"{least:g}-{most:g}" if most is not None else f">= {least:g}"
        if top in configurations and bottom in configurations:
            value = configurations[top]["rps"] / max(configurations[bottom]["rps"], 1e-9)
            entry["ratio"] = round(value, 3)
            entry["met"] = value >= least and (most is None or value <= most)
        else:
            entry["ratio"] = None
            entry["met"] = None
        found.append(entry)
    return found


# Output ---------------------------------------------------------------------------------


def ratio_text(value: float) -> str:
    return f"{value:.2f}x" if value >= 0.1 else f"{value:.2g}x"


def print_report(results: dict) -> None:
    rows = results["configurations"]
    print()
    print(
        f"The article page, {results['machine']['cpus']} CPUs, one run "
        f"({results['started'][:16].replace('T', ' ')} UTC): {results['wrk']}, "
        f"upper median of {results['options']['passes']} alternating passes"
    )
    header = (
        f"{'configuration':40} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'bytes':>8} "
        f"{'errors':>6} {'CPU ms/req':>10} {'other':>5} {'1-conn p50':>10} {'1-conn req/s':>12}"
    )
    print(header)
    print("-" * len(header))
    for row in rows.values():
        cpu, other = row["server_cpu_ms_per_request"], row["other_cores"]
        cpu = "-" if cpu is None else f"{cpu:.2f}"
        other = "-" if other is None else f"{other:.2f}"
        single = row["c1"]
        flag = " !" if single["floor_40ms_suspected"] else ""
        print(
            f"{row['label']:40} {row['rps']:>9,.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{row['page_bytes']:>8,} {row['errors']:>6} {cpu:>10} {other:>5} "
            f"{single['p50_ms']:>8.2f}{flag:2} {single['rps']:>12,.1f}"
        )
    print(
        "(CPU ms/req: the server's processes' CPU per request under load, wrk excluded; other: "
        "cores other work on the machine took meanwhile; ! = one-connection p50 near the "
        "40 ms nginx floor)"
    )
    busy = [row["other_cores"] for row in rows.values() if row["other_cores"] is not None]
    if busy and statistics.median(busy) > 0.3:
        print(
            f"WARNING: other work kept {statistics.median(busy):.2f} cores busy during the "
            "median run: every figure is depressed, the ratios less so (same run, alternating)."
        )
    print("\nAims (requests/s ratios, same run):")
    for entry in results["ratios"]:
        if entry["ratio"] is None:
            verdict, value = "not measured", "-"
        else:
            verdict, value = ("met" if entry["met"] else "NOT met"), ratio_text(entry["ratio"])
        print(f"  {entry['what']:48} {value:>9}  aim {entry['aim']:<9} {verdict}")
    for label, cost in results.get("cost", {}).items():
        print(
            f"\nOne uncached article request in process ({label}, Django test client, DEBUG "
            f"off, {cost['requests']} requests): {cost['cpu_ms']:.1f} ms CPU, "
            f"{cost['queries']} SQL queries"
        )
        print(
            f"  top cumulative, Broadsheet and Wagtail code (cProfile over "
            f"{cost['profiled_requests']} requests, ms per request; profiled, a request took "
            f"{cost['profiled_ms_per_request']:.1f} ms):"
        )
        for row in cost["top_cumulative"]:
            print(f"    {row['cumulative_ms']:8.2f}  {row['calls']:>6} calls  {row['function']}")
        if cost.get("template_render_ms") is not None:
            print(
                f"    {cost['template_render_ms']:8.2f}  rendering the TemplateResponse "
                "(django/template/response.py, after the view)"
            )
    for note in results["notes"]:
        print(f"Note: {note}")


def short_ms(value: float) -> str:
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def draw_chart(results: dict, path: Path) -> None:
    from PIL import Image, ImageDraw

    rows = list(results["configurations"].values())
    if not rows:
        return
    width, left, right, top, row_h = 1200, 360, 70, 110, 44
    height = top + row_h * len(rows) + 60
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    colours = {"ours": (37, 99, 235), "peer": (140, 140, 140), "limit": (22, 163, 74)}
    draw.text((20, 16), "The article page: requests/s", font=chart_font(24, True), fill="black")
    draw.text(
        (20, 52),
        f"{results['wrk']} on loopback · {results['machine']['cpus']} CPUs · upper median of "
        f"{results['options']['passes']} alternating passes · "
        f"{results['started'][:16].replace('T', ' ')} UTC",
        font=chart_font(15),
        fill=(70, 70, 70),
    )
    draw.text(
        (20, 74),
        "log scale · blue: Broadsheet · grey: peers · green: nginx static file · "
        "text: req/s, p50 / p99",
        font=chart_font(15),
        fill=(70, 70, 70),
    )
    values = [max(row["rps"], 1.0) for row in rows]
    low = 10 ** math.floor(math.log10(min(values)))
    high = 10 ** math.ceil(math.log10(max(values) * 1.5))
    plot_w = width - left - right

    def x_of(value: float) -> int:
        share = (math.log10(max(value, low)) - math.log10(low)) / (
            math.log10(high) - math.log10(low)
        )
        return left + int(plot_w * share)

    tick = low
    while tick <= high:
        x = x_of(tick)
        draw.line([(x, top - 8), (x, top + row_h * len(rows))], fill=(225, 225, 225))
        draw.text(
            (x - 14, top + row_h * len(rows) + 6), f"{tick:,.0f}", font=chart_font(13), fill="gray"
        )
        tick *= 10
    for index, row in enumerate(rows):
        y = top + index * row_h
        draw.text((20, y + 12), row["label"], font=chart_font(15), fill="black")
        end = max(left + 2, x_of(row["rps"]))
        draw.rectangle([left, y + 6, end, y + row_h - 10], fill=colours[row["group"]])
        note = f"{row['rps']:,.0f}/s   {short_ms(row['p50_ms'])} / {short_ms(row['p99_ms'])} ms"
        if row["errors"]:
            note += f" · {row['errors']} errors"
        text_w = draw.textlength(note, font=chart_font(14))
        if end + 8 + text_w > width - 4:
            inside_w = draw.textlength(note, font=chart_font(14, True))
            draw.text((end - 10 - inside_w, y + 12), note, font=chart_font(14, True), fill="white")
        else:
            draw.text((end + 8, y + 12), note, font=chart_font(14), fill="black")
    image.save(path)


def versions() -> dict:
    def first_line(*command: str) -> str:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (done.stdout + done.stderr).strip().splitlines()[0]
        return ""

    return {
        "wrk": first_line("wrk", "-v"),
        "nginx": first_line("nginx", "-v"),
        "varnishd": first_line("varnishd", "-V"),
        "postgres": first_line("/usr/lib/postgresql/15/bin/postgres", "--version"),
    }


# Main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    parser.add_argument("--quick", action="store_true", help="5 s runs, shorter warm-ups")
    parser.add_argument("--warmup", type=int, default=5, help="seconds of warm-up per config")
    parser.add_argument("--passes", type=int, default=2, help="alternating passes (median)")
    parser.add_argument("--c1-duration", type=int, default=5, help="one-connection run, s")
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=50, help="wrk -c")
    parser.add_argument(
        "--timeout",
        default="30s",
        help="wrk --timeout, the same for all (wrk's 2 s default would drop the slow peers' "
        "answers and flatter the ratios)",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (sync)")
    parser.add_argument("--pause", type=float, default=1.0, help="seconds between runs")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=15,
        help="before each run, wait up to this long for other work to drop under 0.3 cores",
    )
    parser.add_argument("--skip-peers", action="store_true", help="measure only ours")
    parser.add_argument("--with-ghost", action="store_true", help="set up and measure Ghost")
    parser.add_argument("--ghost-timeout", type=float, default=1800, help="Ghost setup, s")
    parser.add_argument("--setup-timeout", type=float, default=1800, help="other peers, s")
    parser.add_argument("--peer-state", default="/tmp/bsp", help="the peers' BSP_STATE")
    parser.add_argument(
        "--keep-peers", action="store_true", help="leave the peers running afterwards"
    )
    parser.add_argument(
        "--varnish",
        choices=("auto", "prod", "own"),
        default="auto",
        help="auto: scripts/prod.sh when it exists, else a varnishd of this run's own",
    )
    parser.add_argument("--prod-timeout", type=float, default=900, help="prod.sh up/down, s")
    parser.add_argument("--cost-requests", type=int, default=200, help="in-process requests")
    parser.add_argument(
        "--only", default="", help=f"comma-separated subset of {','.join(ORDER)} (experiments)"
    )
    parser.add_argument(
        "--article",
        metavar="PATH",
        help="the article's path (default: the front page's lead, or its first story with a "
        "photo when the lead has none)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--cost-of", metavar="PATH", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.warmup, args.c1_duration = 5, 2, 3
        args.quiet_wait = min(args.quiet_wait, 5)
    args.only = {key.strip() for key in args.only.split(",") if key.strip()}
    unknown = args.only - set(ORDER)
    if unknown:
        parser.error(f"unknown configurations: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.cost_of:
        print(json.dumps(measure_cost(args.cost_of, requests=args.cost_requests, profiled=50)))
        return 0
    for tool in ("wrk", "nginx", "varnishd"):
        if shutil.which(tool) is None and not Path("/usr/sbin", tool).exists():
            raise SystemExit(f"{tool} is not installed: apt-get install -y wrk nginx-light varnish")
    signal.signal(signal.SIGTERM, interrupted)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "wrk": f"wrk -t{args.threads} -c{args.connections} -d{args.duration}s --latency "
        f"--timeout {args.timeout}",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
            **versions(),
        },
        "options": {k: (sorted(v) if isinstance(v, set) else v) for k, v in vars(args).items()},
    }
    with contextlib.ExitStack() as stack:
        run = Run(args, stack)
        try:
            run.start_ours()
            if not args.skip_peers:
                run.start_peers()
            else:
                run.notes.append("peers not measured (--skip-peers)")
            results["lead_story"] = run.lead_path
            say("\nIn process: what one uncached article request costs...")
            results["cost"] = {
                "SQLite": cost_of(run.newsroom, run.lead_path, requests=args.cost_requests)
            }
            if run.pg_newsroom is not None:
                results["cost"]["PostgreSQL"] = cost_of(
                    run.pg_newsroom, run.lead_path, requests=args.cost_requests
                )
            results["configurations"] = run.measure()
        except KeyboardInterrupt:
            say("\nInterrupted: everything started is being stopped, nothing written.")
            return 130
        finally:
            say("Stopping what this run started...")
        results["peers"] = [
            {
                "name": peer.name,
                "set_up": peer.set_up,
                "setup_seconds": peer.seconds,
                "already_running": peer.already_running,
                "note": peer.note,
            }
            for peer in run.peers
        ]
        results["notes"] = run.notes
    results["ratios"] = ratios(results["configurations"])
    results["summary"] = {
        key: {name: row[name] for name in ("rps", "p50_ms", "p99_ms", "page_bytes", "errors")}
        for key, row in results["configurations"].items()
    }
    save_results("serving", stamp, results, draw=draw_chart, report=print_report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
