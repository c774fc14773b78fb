"""The breaking-news drill: a flood of readers, voters, commenters and an editor, in three
phases, against the production topology on loopback. A load test that stops by itself.

Traffic, all at once, for --duration seconds per phase:

  readers     two wrk processes through Varnish: one story page (80% of the connections)
              and the home page (20%), each with its own latency report
  voters      asyncio clients, each a reader with its own cookie jar: GET .../state/, then
              POST .../vote/ again and again; one more voter drops its cookies every time
  commenters  asyncio clients: GET .../state/, answer the math challenge, POST a comment
              carrying a unique marker, once the challenge is old enough
  editor      a Django process with the app's settings publishes a new revision of the
              story (a marker in its standfirst) through broadsheet.news.services every
              few seconds; pollers GET the story and the home page through Varnish every
              50 ms and time how long each version takes to reach readers

Phases: `calm` (nothing breaks: no errors allowed), `app-restarts` (gunicorn workers are
killed with SIGKILL, then gunicorn is stopped and started again), `db-restart` (PostgreSQL is
stopped and started again). Writers honour 503 + Retry-After and retry, as the page's script
would. After each phase the database is read back: every vote and comment the server
acknowledged must be there.

The topology is scripts/prod.sh's, in one function (`prod_topology()`): started for the drill
and stopped afterwards unless it already runs. Prints progress on stderr and a table on
stdout; writes bench/results/drill-<timestamp>.json and .png. Needs wrk.

    .venv/bin/python bench/drill.py --quick
"""

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import (
    PROJECT_DIR,
    Progress,
    chart_font,
    interrupted,
    machine_busy_seconds,
    save_results,
    say,
    wait_for_quiet,
)
from engagement_load import (
    CHALLENGE_MARGIN,
    CHALLENGE_MIN_SECONDS,
    LIFTED_LIMIT,
    HttpConnection,
    percentile,
    reader_cookie,
    refusal,
    solve_challenge,
)

PHASES = ("calm", "app-restarts", "db-restart")
LIFTED_LIMITS = {
    "BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE": str(LIFTED_LIMIT),
    "BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR": str(LIFTED_LIMIT),
    "BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR": str(LIFTED_LIMIT),
}
REQUEST_TIMEOUT = 10.0  # a writer's request that takes longer is a timeout (then retried)
RETRY_AFTER_CAP = 10.0  # longer Retry-After values are shortened to this
PUBLISH_AIM_S = 2.0
KIND_LABELS = {
    "story": "readers: story page (wrk)",
    "home": "readers: home page (wrk)",
    "state": "state GET (voters, commenters)",
    "vote": "vote POST",
    "comment": "comment POST",
    "poll": "publish pollers (GET, 50 ms)",
}

# wrk's readers: a pause between a connection's requests (a reader reading), and a JSON
# summary at the end. No response() callback: handing every 25 KB page to Lua would cost
# wrk a good part of a core.
READERS_LUA = r"""
local pause = tonumber(os.getenv("DRILL_PAUSE_MS") or "0")
local out_path = os.getenv("DRILL_OUT")
if pause > 0 then
  function delay()
    return math.random(math.floor(pause / 2), math.floor(pause * 3 / 2))
  end
end
function done(summary, latency, requests)
  local e = summary.errors
  local f = assert(io.open(out_path, "w"))
  f:write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
    '"latency_us": {"p50": %d, "p90": %d, "p99": %d, "p999": %d, "max": %d, "mean": %.1f}}\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean))
  f:close()
end
"""


# Small helpers --------------------------------------------------------------------------


def require_loopback(url: str) -> None:
    if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing a non-loopback URL: {url}")


def http_status(url: str, timeout: float = 3.0) -> int:
    """The status a GET of `url` answers, or 0 when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Seconds until `check()` held; an error if it does not within `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"{what} not within {timeout:.0f} s")


def children_of(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


# The topology ---------------------------------------------------------------------------


@dataclasses.dataclass
class Topology:
    """Where the drill sends traffic, and the few hooks its faults need."""

    name: str
    public_url: str  # Varnish, where readers and writers go
    app_url: str  # gunicorn, behind it
    env: dict  # the app's environment: the editor's Django process runs with it
    parts: dict  # what listens where, for the report
    restart_app: Callable[[], dict]  # stop gunicorn and start it again
    stop_database: Callable[[], None]
    start_database: Callable[[], None]
    close: Callable[[], None]  # put things back as they were found
    processes: dict[str, Callable[[], int | None]]  # part -> its root process now
    notes: list[str] = dataclasses.field(default_factory=list)

    def app_master(self) -> int | None:
        return self.processes["gunicorn"]()

    def app_healthy(self) -> bool:
        return http_status(self.app_url + "/healthz") == 200

    def components(self) -> dict[str, int | None]:
        """The root process of each part, for the CPU split (None: not running now)."""
        return {name: find() for name, find in self.processes.items()}


PROD_SCRIPT = PROJECT_DIR / "scripts" / "prod.sh"


def process_environment(pid: int) -> dict:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def prod_topology(args: argparse.Namespace, work_dir: Path) -> Topology:
    """scripts/prod.sh's topology: Varnish (6181) in front of gunicorn (8100), PostgreSQL 15
    (54339), Redis (63790) and the RQ worker. The same environment variables as prod.sh's
    (BROADSHEET_PROD_DIR, BROADSHEET_PROD_*_PORT) choose another instance.

    If it is not running, `prod.sh up` starts it and `prod.sh down` stops it afterwards.
    gunicorn must run with the deliberate rate limits lifted (every client here shares one
    address): if it runs without, it is restarted with them, and restarted as it was at
    the end. The editor's Django process gets gunicorn's own environment."""
    prod_dir = Path(os.environ.get("BROADSHEET_PROD_DIR", PROJECT_DIR / "var" / "prod"))
    port = {
        name: int(os.environ.get(f"BROADSHEET_PROD_{name.upper()}_PORT", default))
        for name, default in (("pg", 54339), ("redis", 63790), ("app", 8100), ("varnish", 6181))
    }
    public_url = f"http://127.0.0.1:{port['varnish']}"
    app_url = f"http://127.0.0.1:{port['app']}"
    log = work_dir / "prod.sh.log"
    lifted = {**os.environ, **LIFTED_LIMITS}
    pg_env = {
        **os.environ,
        "PGDATA_DIR": str(prod_dir / "postgres"),
        "BROADSHEET_PG_PORT": str(port["pg"]),
    }

    def prod(*command: str, env: dict) -> None:
        with log.open("ab") as out:
            done = subprocess.run(
                [str(PROD_SCRIPT), *command],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if done.returncode and command != ("status",):
            tail = "\n".join(log.read_text().splitlines()[-15:])
            raise RuntimeError(f"scripts/prod.sh {' '.join(command)} failed:\n{tail}")

    def running() -> bool:
        with log.open("ab") as out:
            return (
                subprocess.run(
                    [str(PROD_SCRIPT), "status"],
                    env=os.environ,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                ).returncode
                == 0
            )

    def pidfile(path: Path) -> Callable[[], int | None]:
        def find() -> int | None:
            with contextlib.suppress(OSError, ValueError, IndexError):
                return int(path.read_text().split()[0])
            return None

        return find

    def app_pid() -> int:
        pid = pidfile(prod_dir / "run" / "gunicorn.pid")()
        if pid is None:
            raise RuntimeError(f"gunicorn is not running ({prod_dir}/run/gunicorn.pid)")
        return pid

    def restart_app(env: dict | None = None) -> dict:
        """Stop gunicorn (SIGTERM to its master: its workers finish what they are answering,
        for up to its graceful timeout) and start it again with the same command line, in
        the same folder, with the same environment (or `env`): a restart of the app alone,
        as an operator or a supervisor does it. gunicorn rewrites its own pidfile, so
        prod.sh still finds and stops it."""
        master = app_pid()
        command = Path(f"/proc/{master}/cmdline").read_bytes().split(b"\0")[:-1]
        cwd = os.readlink(f"/proc/{master}/cwd")
        env = env if env is not None else process_environment(master)
        started = time.monotonic()
        os.kill(master, signal.SIGTERM)
        wait_until(
            lambda: not Path(f"/proc/{master}").exists() or zombie(master),
            timeout=60,
            what="gunicorn stopping",
        )
        stopped = time.monotonic()
        with (prod_dir / "log" / "gunicorn.log").open("ab") as out:
            subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_until(
            lambda: (
                pidfile(prod_dir / "run" / "gunicorn.pid")() not in (None, master)
                and http_status(app_url + "/healthz") == 200
            ),
            timeout=60,
            what="gunicorn answering again",
        )
        return {
            "stop_s": round(stopped - started, 2),
            "down_s": round(time.monotonic() - stopped, 2),
            "master_before": master,
            "master_after": app_pid(),
        }

    notes = []
    started_here = False
    if not running():
        say("Starting scripts/prod.sh up (the first time: migrate and seed, a few minutes)...")
        try:
            prod("up", env=lifted)
        except BaseException:
            with contextlib.suppress(Exception):
                prod("down", env=os.environ)  # whatever part of it did start
            raise
        started_here = True
        notes.append("prod.sh up was run by the drill, and prod.sh down afterwards")
    found_env = process_environment(app_pid())
    relaunched = False
    if any(found_env.get(k) != v for k, v in LIFTED_LIMITS.items()):
        say("gunicorn runs with the rate limits in force: restarting it with them lifted...")
        restart_app({**found_env, **LIFTED_LIMITS})
        relaunched = True
        notes.append("gunicorn was restarted with the rate limits lifted, and back afterwards")
    env = process_environment(app_pid())
    env["PYTHONUNBUFFERED"] = "1"

    def close() -> None:
        if started_here:
            prod("down", env=os.environ)
        elif relaunched:
            restart_app(found_env)

    return Topology(
        name="prod.sh",
        public_url=public_url,
        app_url=app_url,
        env=env,
        parts={
            "varnish": public_url,
            "gunicorn": app_url,
            "postgresql": f"127.0.0.1:{port['pg']}",
            "redis": f"127.0.0.1:{port['redis']}",
            "state": str(prod_dir),
        },
        restart_app=restart_app,
        stop_database=lambda: postgres_script("stop", pg_env),
        start_database=lambda: postgres_script("start", pg_env),
        close=close,
        processes={
            "gunicorn": pidfile(prod_dir / "run" / "gunicorn.pid"),
            "varnish": pidfile(prod_dir / "run" / "varnishd.pid"),
            "postgresql": pidfile(prod_dir / "postgres" / "postmaster.pid"),
            "redis": pidfile(prod_dir / "run" / "redis.pid"),
            "worker": pidfile(prod_dir / "run" / "worker.pid"),
        },
        notes=notes,
    )


def tree_cpu(pid: int | None) -> float:
    """CPU seconds of a process, of the children it has reaped (a gunicorn master's killed
    workers, PostgreSQL's finished backends) and of its live descendants."""
    import psutil

    if pid is None:
        return 0.0
    total = 0.0
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        for each in (root, *root.children(recursive=True)):
            with contextlib.suppress(psutil.Error):
                times = each.cpu_times()
                total += times.user + times.system + times.children_user + times.children_system
    return total


class CpuMeter:
    """Cores each part of the topology kept busy, the drill's own load generators (wrk,
    the asyncio clients, the editor's process) and everything else on the machine. A part
    restarted meanwhile (a new gunicorn master, a new postmaster) counts from its start."""

    def __init__(self, topology: Topology, desk: "Desk"):
        self.topology, self.desk = topology, desk
        self.start = self.snapshot()

    def snapshot(self) -> dict:
        import resource

        roots = self.topology.components()
        own = 0.0
        for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):  # wrk, once reaped
            usage = resource.getrusage(who)
            own += usage.ru_utime + usage.ru_stime
        desk = self.desk.process.pid if self.desk.process else None
        return {
            "clock": time.monotonic(),
            "machine": machine_busy_seconds(),
            "roots": roots,
            "parts": {name: tree_cpu(pid) for name, pid in roots.items()},
            "load": own + tree_cpu(desk),
        }

    def cores(self) -> dict:
        end = self.snapshot()
        seconds = max(1e-6, end["clock"] - self.start["clock"])
        out = {}
        for name, value in end["parts"].items():
            same = end["roots"][name] == self.start["roots"].get(name)
            out[name] = (value - self.start["parts"][name]) if same else value
        out["load generators"] = end["load"] - self.start["load"]
        out = {name: max(0.0, value) for name, value in out.items()}
        out["other"] = max(0.0, end["machine"] - self.start["machine"] - sum(out.values()))
        result = {name: round(value / seconds, 2) for name, value in out.items()}
        result["machine"] = round((end["machine"] - self.start["machine"]) / seconds, 2)
        return result


def zombie(pid: int) -> bool:
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    return True


def postgres_script(action: str, env: dict) -> None:
    subprocess.run(
        [str(PROJECT_DIR / "scripts" / "postgres.sh"), action],
        env=env,
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


# The editor's desk: a Django process with the app's settings --------------------------


def desk_main() -> int:
    """Child process (bench/drill.py --desk): one JSON command per line on stdin, one JSON
    answer per line on the original stdout (Django's own output goes to stderr)."""
    sys.path.insert(0, str(PROJECT_DIR))
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    import django

    django.setup()
    from django.db import close_old_connections, connection

    ops = {"pick": desk_pick, "publish": desk_publish, "check": desk_check}
    for line in sys.stdin:
        command = json.loads(line)
        try:
            close_old_connections()  # after a database restart, a fresh connection
            answer = {"ok": True, **ops[command.pop("op")](**command)}
        except Exception as exc:  # reported to the drill, which retries or counts it
            with contextlib.suppress(Exception):
                connection.close()
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
        answers.write(json.dumps(answer) + "\n")
    return 0


def desk_pick(*, url: str | None) -> dict:
    """The story of the drill: the newest English article open to votes and comments (the
    home page's lead), or the one at `url`."""
    from broadsheet.engagement import services
    from broadsheet.news.models import ArticlePage

    stories = ArticlePage.objects.for_readers().latest_first()
    if url:
        stories = stories.filter(url_path__endswith=urlsplit(url).path.lstrip("/"))
    for story in stories[:50]:
        wanted = url or (story.language in ("", "en") and services.votes_open(story))
        if wanted and services.comments_open(story):
            return {
                "id": story.pk,
                "url": story.get_url(),
                "title": story.title,
                "standfirst": story.standfirst,
            }
    raise RuntimeError("no live article open to votes and comments")


def desk_publish(*, story_id: int, standfirst: str) -> dict:
    """A new revision of the story with this standfirst, published as an editor's is."""
    from wagtail.models import Page

    from broadsheet.news import services

    started = time.monotonic()
    story = Page.objects.get(pk=story_id).specific
    services.revise_story(story=story, standfirst=standfirst)
    returned = time.monotonic()
    return {"returned_at": returned, "seconds": returned - started}


def desk_check(*, story_id: int, readers: list[str], prefix: str) -> dict:
    """The stars each reader's vote holds now, and how many times each comment marker
    starting with `prefix` is stored."""
    from broadsheet.engagement.models import Comment, Vote

    votes = dict(
        Vote.objects.filter(story_id=story_id, reader__in=readers).values_list("reader", "stars")
    )
    markers: Counter = Counter()
    for body in Comment.objects.filter(story_id=story_id, body__contains=prefix).values_list(
        "body", flat=True
    ):
        markers.update(re.findall(re.escape(prefix) + r"\w+", body))
    return {"votes": votes, "markers": dict(markers)}


class Desk:
    """The parent's end of the desk process."""

    def __init__(self, env: dict, log: Path):
        self.env, self.log = env, log
        self.process: asyncio.subprocess.Process | None = None
        self.lock = asyncio.Lock()

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(Path(__file__).resolve()),
            "--desk",
            cwd=PROJECT_DIR,
            env=self.env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=self.log.open("ab"),
            limit=64 * 1024 * 1024,
        )

    async def call(self, op: str, *, timeout: float = 60, **arguments) -> dict:
        async with self.lock:
            if self.process is None or self.process.returncode is not None:
                await self.start()
            self.process.stdin.write((json.dumps({"op": op, **arguments}) + "\n").encode())
            try:
                await self.process.stdin.drain()
                line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
            except (TimeoutError, OSError) as exc:
                await self.stop()  # a fresh desk for the next call
                return {"ok": False, "error": f"desk: {type(exc).__name__}"}
            if not line:
                await self.stop()
                return {"ok": False, "error": f"desk exited; see {self.log}"}
            return json.loads(line)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


# Readers: wrk ---------------------------------------------------------------------------


async def run_readers(
    *, label: str, url: str, connections: int, threads: int, duration: float, args, work_dir
) -> dict:
    require_loopback(url)
    script = work_dir / "readers.lua"
    if not script.exists():
        script.write_text(READERS_LUA)
    out = work_dir / f"wrk-{label}-{time.monotonic_ns()}.json"
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        f"{args.reader_timeout:g}s",
        "--latency",
        "-H",
        "Accept-Encoding: gzip",
        "-s",
        str(script),
        url,
    ]
    env = {**os.environ, "DRILL_OUT": str(out), "DRILL_PAUSE_MS": str(args.reader_pause_ms)}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        stdout, stderr = await process.communicate()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        raise
    if process.returncode or not out.exists():
        raise RuntimeError(f"wrk failed ({process.returncode}): {stdout.decode()}{stderr.decode()}")
    raw = json.loads(out.read_text())
    seconds = raw["duration_us"] / 1e6
    socket_errors = sum(raw["errors"][k] for k in ("connect", "read", "write", "timeout"))
    return {
        "url": url,
        "connections": connections,
        "requests": raw["requests"],
        "duration_s": round(seconds, 2),
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": raw["latency_us"]["p50"] / 1000,
        "p99_ms": raw["latency_us"]["p99"] / 1000,
        "max_ms": raw["latency_us"]["max"] / 1000,
        "non_2xx_3xx": raw["errors"]["status"],
        "timeouts": raw["errors"]["timeout"],
        "socket_errors": raw["errors"],
        "errors": raw["errors"]["status"] + socket_errors,
        "bytes_per_response": round(raw["bytes"] / max(1, raw["requests"])),
        "command": " ".join(command),
        "raw": stdout.decode(),
    }


# Writers, the editor and the pollers: asyncio -----------------------------------------


class Phase:
    """One phase's clients and what they saw."""

    def __init__(self, *, name: str, number: int, run_id: str, drill: "Drill"):
        self.name, self.number, self.drill = name, number, drill
        self.args, self.story = drill.args, drill.story
        self.prefix = f"drill{run_id}p{number}"
        url = urlsplit(drill.topology.public_url)
        self.host, self.port = url.hostname, url.port
        self.origin = drill.topology.public_url
        self.records: list[tuple[str, float, float, int]] = []  # kind, at, seconds, status
        self.retries: Counter = Counter()
        self.unavailable: Counter = Counter()  # "vote from varnish" -> 503s
        self.acked_votes: dict[str, int] = {}  # reader -> the last stars acknowledged
        self.unsettled_votes: dict[str, int] = {}  # reader -> stars sent, outcome unknown
        self.acked_comments: list[str] = []
        self.problems: Counter = Counter()
        self.publishes: list[dict] = []
        self.pending: dict[str, dict] = {}  # marker -> publication not yet seen everywhere
        self.events: list[dict] = []
        self.outages: list[dict] = []  # when the app's /healthz did not answer 200
        self.editor_done = False
        self.start = 0.0
        self.end = 0.0  # when writers stop starting new writes
        self.deadline = 0.0  # when writers give up retrying

    def running(self) -> bool:
        return time.monotonic() < self.end

    # One request, timed and recorded --------------------------------------------------

    async def send(
        self,
        connection: HttpConnection,
        kind: str,
        method: str,
        path: str,
        *,
        cookie: str | None = None,
        form: dict | None = None,
    ) -> tuple[int, dict, bytes]:
        """(status, headers, body); status 0 for a connection error, -1 for a timeout."""
        headers = {"Accept": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        body = b""
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = self.origin
            body = urlencode(form).encode()
        started = time.monotonic()
        try:
            status, answer, content, _ = await asyncio.wait_for(
                connection.request(method, path, headers, body), REQUEST_TIMEOUT
            )
        except TimeoutError:
            status, answer, content = -1, {}, b""
        except (OSError, asyncio.IncompleteReadError, ValueError):
            status, answer, content = 0, {}, b""
        now = time.monotonic()
        self.records.append((kind, now, now - started, status))
        if status == 503:
            # Varnish's own answer (the app known to be down) or the app's (its database).
            source = "app" if "gunicorn" in " ".join(answer.get("server", [])) else "varnish"
            self.unavailable[f"{kind} from {source}"] += 1
        return status, answer, content

    async def write(
        self, connection: HttpConnection, kind: str, path: str, *, cookie, form
    ) -> tuple[int, dict, bytes]:
        """A write sent until its outcome is known, as the page's script does: after a 5xx
        or no answer at all it waits (Retry-After, else a second) and sends it again.
        Returns the first definite answer, or (-1, ...) if the phase's deadline passed."""
        while True:
            status, answer, content = await self.send(
                connection, kind, "POST", path, cookie=cookie, form=form
            )
            if 200 <= status < 500 and status != 429:
                return status, answer, content
            wait = 1.0
            with contextlib.suppress(KeyError, IndexError, ValueError):
                wait = min(RETRY_AFTER_CAP, float(answer["retry-after"][0]))
            if time.monotonic() + wait > self.deadline:
                return -1, {}, b""
            self.retries[kind] += 1
            await asyncio.sleep(wait)

    async def state(self, connection: HttpConnection, cookie: str | None) -> tuple[str, dict]:
        """GET .../state/ until it answers 200: (the reader's cookie, the JSON)."""
        path = f"/engagement/stories/{self.story['id']}/state/"
        while True:
            status, answer, content = await self.send(
                connection, "state", "GET", path, cookie=cookie
            )
            if status == 200:
                return reader_cookie(answer) or cookie, json.loads(content)
            if status > 0 and status not in (429, 502, 503, 504):
                self.problems[f"state {status}: {refusal(content)}"] += 1
            if time.monotonic() > self.deadline:
                raise TimeoutError("state")
            self.retries["state"] += 1
            await asyncio.sleep(1.0)

    # The clients ----------------------------------------------------------------------

    async def voter(self, number: int) -> None:
        rng = random.Random(f"{self.prefix}-{number}")
        connection = HttpConnection(self.host, self.port)
        path = f"/engagement/stories/{self.story['id']}/vote/"
        try:
            cookie, _ = await self.state(connection, None)
            reader = reader_id(cookie)
            votes = 0
            while self.running():
                stars = rng.randint(1, 5)
                self.unsettled_votes[reader] = stars
                status, _, content = await self.write(
                    connection, "vote", path, cookie=cookie, form={"stars": stars}
                )
                if status == 200:
                    del self.unsettled_votes[reader]
                    self.acked_votes[reader] = stars
                    if json.loads(content).get("your_vote") != stars:
                        self.problems["a vote's answer named other stars"] += 1
                elif status > 0:
                    del self.unsettled_votes[reader]  # refused: nothing was written
                    self.problems[f"vote {status}: {refusal(content)}"] += 1
                else:
                    return  # the deadline passed, outcome unknown
                votes += 1
                if votes % 5 == 0:  # the reader reloads the page now and then
                    cookie, _ = await self.state(connection, cookie)
                await asyncio.sleep(rng.uniform(0.5, 1.5))
        except TimeoutError:
            pass
        finally:
            connection.close()

    async def cookieless_voter(self) -> None:
        """A reader whose browser keeps no cookies: every vote is a new reader's."""
        rng = random.Random(f"{self.prefix}-nocookie")
        connection = HttpConnection(self.host, self.port)
        path = f"/engagement/stories/{self.story['id']}/vote/"
        try:
            while self.running():
                stars = rng.randint(1, 5)
                status, answer, content = await self.write(
                    connection, "vote", path, cookie=None, form={"stars": stars}
                )
                if status == 200:
                    cookie = reader_cookie(answer)
                    if cookie:
                        self.acked_votes[reader_id(cookie)] = stars
                    else:
                        self.problems["a cookieless vote came back without a reader"] += 1
                elif status > 0:
                    self.problems[f"vote {status}: {refusal(content)}"] += 1
                else:
                    return
                await asyncio.sleep(rng.uniform(0.5, 1.5))
        finally:
            connection.close()

    async def commenter(self, number: int) -> None:
        """Each comment is a new reader's (the per-reader limit, 3 a minute, is kept)."""
        rng = random.Random(f"{self.prefix}-c{number}")
        connection = HttpConnection(self.host, self.port)
        path = f"/engagement/stories/{self.story['id']}/comments/"
        serial = 0
        try:
            while self.running():
                serial += 1
                marker = f"{self.prefix}c{number}n{serial:03d}"
                cookie, state = await self.state(connection, None)
                for _attempt in range(3):
                    challenge = state.get("challenge")
                    if not challenge:
                        self.problems["comments closed"] += 1
                        return
                    await asyncio.sleep(CHALLENGE_MIN_SECONDS + CHALLENGE_MARGIN)
                    form = {
                        "name": f"Drill reader {number}",
                        "email": "",
                        "body": f"Following this closely ({marker}): the ferry matters to "
                        f"{serial % 9 + 2} of us on our street.",
                        "challenge_token": challenge["token"],
                        "challenge_answer": solve_challenge(challenge["question"]),
                    }
                    status, _, content = await self.write(
                        connection, "comment", path, cookie=cookie, form=form
                    )
                    if status == 201:
                        self.acked_comments.append(marker)
                        break
                    if status == 400:
                        # The challenge was used by an attempt that failed later (a 503
                        # after the token was spent): a new one, and the same comment.
                        self.problems[f"comment 400, resent: {refusal(content)}"] += 1
                        self.retries["comment"] += 1
                        cookie, state = await self.state(connection, cookie)
                        continue
                    if status > 0:
                        self.problems[f"comment {status}: {refusal(content)}"] += 1
                    break
                await asyncio.sleep(rng.uniform(1.0, 3.0))
        except TimeoutError:
            pass
        finally:
            connection.close()

    async def editor(self) -> None:
        """Publish a new version every --publish-every seconds; each waits until the
        pollers have seen it (or --publish-timeout passed) before the next."""
        serial = 0
        original = self.story["standfirst"][:300].rstrip()
        try:
            while self.running():
                serial += 1
                marker = f"{self.prefix}u{serial:03d}"
                asked = time.monotonic()
                answer = await self.drill.desk.call(
                    "publish",
                    story_id=self.story["id"],
                    standfirst=f"{original} (Update {marker})",
                    timeout=60,
                )
                record = {
                    "marker": marker,
                    "at_s": round(asked - self.start, 2),
                    "app_down": self.app_down(),
                    "ok": answer["ok"],
                    "publish_s": round(answer.get("seconds", time.monotonic() - asked), 3),
                    "seen_s": {},
                }
                self.publishes.append(record)
                if not answer["ok"]:
                    record["error"] = answer["error"]
                    await asyncio.sleep(1.0)
                    continue
                record["returned_at"] = answer["returned_at"]
                record["seen"] = asyncio.Event()
                self.pending[marker] = record
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(record["seen"].wait(), self.args.publish_timeout)
                self.pending.pop(marker, None)
                del record["seen"], record["returned_at"]
                await asyncio.sleep(max(0.0, asked + self.args.publish_every - time.monotonic()))
        finally:
            self.editor_done = True

    async def poller(self, name: str, path: str) -> None:
        """A reader reloading `path` every 50 ms: when it first shows each published marker."""
        connection = HttpConnection(self.host, self.port)
        try:
            # On past the phase's end while a publish made before it waits to be seen.
            while self.running() or self.pending or not self.editor_done:
                started = time.monotonic()
                status, _, content = await self.send(connection, "poll", "GET", path)
                if status == 200 and self.pending:
                    now = time.monotonic()
                    text = content.decode("utf-8", "replace")
                    for marker, record in list(self.pending.items()):
                        if name not in record["seen_s"] and marker in text:
                            record["seen_s"][name] = round(now - record["returned_at"], 3)
                            if set(record["seen_s"]) >= set(self.drill.poll_paths):
                                record["seen"].set()
                await asyncio.sleep(max(0.0, started + 0.05 - time.monotonic()))
        finally:
            connection.close()

    # Faults ---------------------------------------------------------------------------

    def schedule(self) -> list[tuple[float, str, Callable[[], dict | None]]]:
        """(fraction of the phase, what, action) for this phase's faults."""
        topology = self.drill.topology

        def kill_workers(count: int | None) -> Callable[[], dict]:
            def kill() -> dict:
                master = topology.app_master()
                if master is None:
                    raise RuntimeError("no gunicorn master found")
                workers = children_of(master)
                chosen = workers if count is None else workers[:count]
                for pid in chosen:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                back = wait_until(
                    lambda: len(set(children_of(master)) - set(chosen)) >= len(workers),
                    timeout=60,
                    what="gunicorn's master restarting its workers",
                )
                return {"master": master, "killed": chosen, "replaced_in_s": round(back, 2)}

            return kill

        def restart_database() -> dict:
            started = time.monotonic()
            topology.stop_database()
            stopped = time.monotonic()
            time.sleep(self.args.db_down)
            topology.start_database()
            return {
                "stop_s": round(stopped - started, 2),
                "down_s": round(time.monotonic() - stopped, 2),
            }

        if self.name == "app-restarts":
            return [
                (0.15, "kill -9 one gunicorn worker", kill_workers(1)),
                (0.30, "kill -9 one gunicorn worker", kill_workers(1)),
                (0.45, "kill -9 every gunicorn worker", kill_workers(None)),
                (0.65, "stop gunicorn and start it again", topology.restart_app),
            ]
        if self.name == "db-restart":
            return [(0.35, "stop PostgreSQL and start it again", restart_database)]
        return []

    async def health(self) -> None:
        """The app's own /healthz (gunicorn, not through Varnish) every half second: when it
        was down, beside what readers and writers saw meanwhile."""
        url = self.drill.topology.app_url + "/healthz"
        while self.running():
            status = await asyncio.to_thread(http_status, url, 2.0)  # the probe's timeout
            now = round(time.monotonic() - self.start, 2)
            if status != 200 and (not self.outages or "until_s" in self.outages[-1]):
                self.outages.append({"from_s": now, "status": status})
            elif status == 200 and self.outages and "until_s" not in self.outages[-1]:
                self.outages[-1]["until_s"] = now
            await asyncio.sleep(0.5)

    def app_down(self) -> bool:
        return bool(self.outages) and "until_s" not in self.outages[-1]

    async def faults(self) -> None:
        loop = asyncio.get_running_loop()
        for fraction, what, action in self.schedule():
            await asyncio.sleep(max(0.0, self.start + fraction * self.args.duration - loop.time()))
            event = {"at_s": round(time.monotonic() - self.start, 2), "what": what}
            try:
                event.update(await loop.run_in_executor(None, action) or {})
            except Exception as exc:
                event["error"] = f"{type(exc).__name__}: {exc}"
            event["done_at_s"] = round(time.monotonic() - self.start, 2)
            self.events.append(event)


def reader_id(cookie: str) -> str:
    """The reader id in a `bs_reader=<id>:<signature>` cookie."""
    return cookie.split("=", 1)[1].strip('"').split(":", 1)[0]


class Drill:
    def __init__(self, args: argparse.Namespace, topology: Topology, work_dir: Path):
        self.args, self.topology, self.work_dir = args, topology, work_dir
        self.run_id = secrets.token_hex(3)
        self.desk = Desk(topology.env, work_dir / "desk.log")
        self.story: dict = {}
        self.poll_paths: dict[str, str] = {}

    async def prepare(self) -> dict:
        answer = await self.desk.call("pick", url=self.args.story_url)
        if not answer["ok"]:
            raise RuntimeError(f"could not pick a story: {answer['error']}")
        self.story = {k: answer[k] for k in ("id", "url", "title", "standfirst")}
        self.story["url"] = urlsplit(self.story["url"]).path
        self.poll_paths = {"story": self.story["url"]}
        # The home page is polled too when it shows the story's standfirst (its lead).
        home = await asyncio.to_thread(fetch_text, self.topology.public_url + "/")
        if self.story["url"] in home and escape_html(self.story["standfirst"]) in home:
            self.poll_paths["home"] = "/"
        return self.story

    async def restore(self) -> dict:
        return await self.desk.call(
            "publish", story_id=self.story["id"], standfirst=self.story["standfirst"]
        )

    async def run_phase(self, name: str, number: int) -> dict:
        args = self.args
        phase = Phase(name=name, number=number, run_id=self.run_id, drill=self)
        public = self.topology.public_url
        story_conns = round(args.readers * args.story_share)
        home_conns = max(1, args.readers - story_conns)
        bar = Progress(f"phase {number}: {name}", args.duration)
        meter = CpuMeter(self.topology, self.desk)
        purge_warnings = self.purge_warnings()
        phase.start = time.monotonic()
        phase.end = phase.start + args.duration
        phase.deadline = phase.end + args.settle
        readers = [
            asyncio.create_task(
                run_readers(
                    label=label,
                    url=public + path,
                    connections=conns,
                    threads=threads,
                    duration=args.duration,
                    args=args,
                    work_dir=self.work_dir,
                )
            )
            for label, path, conns, threads in (
                ("story", self.story["url"], story_conns, 2),
                ("home", "/", home_conns, 1),
            )
        ]
        clients = [
            *(phase.voter(n) for n in range(1, args.voters + 1)),
            phase.cookieless_voter(),
            *(phase.commenter(n) for n in range(1, args.commenters + 1)),
            phase.editor(),
            *(phase.poller(key, path) for key, path in self.poll_paths.items()),
            phase.faults(),
            phase.health(),
        ]
        tasks = [asyncio.create_task(client) for client in clients]

        async def progress() -> None:
            while True:
                elapsed = time.monotonic() - phase.start
                seen = [p for p in phase.publishes if p["seen_s"]]
                bar.update(
                    min(elapsed, args.duration),
                    f"{len(phase.acked_votes)} voters · {len(phase.acked_comments)} comments · "
                    f"{len(seen)}/{len(phase.publishes)} seen"
                    + (" · settling" if elapsed > args.duration else ""),
                )
                await asyncio.sleep(0.5)

        shower = asyncio.create_task(progress())
        try:
            reader_results = await asyncio.gather(*readers)
            await asyncio.gather(*tasks)
        finally:
            shower.cancel()
            for task in [*readers, *tasks]:
                task.cancel()
            await asyncio.gather(shower, *readers, *tasks, return_exceptions=True)
        cores = meter.cores()
        purge_warnings = self.purge_warnings() - purge_warnings
        bar.finish(f"{reader_results[0]['rps'] + reader_results[1]['rps']:,.0f} reader req/s")

        # The database, read back once the app and the database answer again.
        await asyncio.to_thread(
            wait_until, self.topology.app_healthy, timeout=120, what="the app healthy again"
        )
        check = await self.check(phase)
        check["purges_failed"] = purge_warnings
        return summarise_phase(
            phase, dict(zip(("story", "home"), reader_results, strict=True)), check, cores
        )

    def purge_warnings(self) -> int:
        """Purges the editor's process could not send (broadsheet.core.caching logs each)."""
        with contextlib.suppress(OSError):
            return self.desk.log.read_text(errors="replace").count("Could not purge")
        return 0

    async def check(self, phase: Phase) -> dict:
        readers = sorted({*phase.acked_votes, *phase.unsettled_votes})
        for _attempt in range(30):
            answer = await self.desk.call(
                "check", story_id=self.story["id"], readers=readers, prefix=phase.prefix
            )
            if answer["ok"]:
                break
            await asyncio.sleep(2)
        else:
            raise RuntimeError(f"could not read the database back: {answer['error']}")
        stored = answer["votes"]
        lost_votes = []
        for reader, stars in phase.acked_votes.items():
            now = stored.get(reader)
            # A vote sent after the last acknowledged one, whose answer never came, may
            # have been written; either value is then right.
            if now != stars and now != phase.unsettled_votes.get(reader):
                lost_votes.append({"reader": reader, "acknowledged": stars, "stored": now})
        markers = answer["markers"]
        lost_comments = [m for m in phase.acked_comments if not markers.get(m)]
        return {
            "votes_acknowledged": len(phase.acked_votes),
            "votes_unsettled": len(phase.unsettled_votes),
            "votes_lost": len(lost_votes),
            "lost_votes": lost_votes[:20],
            "comments_acknowledged": len(phase.acked_comments),
            "comments_stored": sum(1 for m in phase.acked_comments if markers.get(m)),
            "comments_lost": len(lost_comments),
            "lost_comments": lost_comments[:20],
            "comments_stored_twice": sum(1 for n in markers.values() if n > 1),
            "comments_unacknowledged_but_stored": len(set(markers) - set(phase.acked_comments)),
        }


def fetch_text(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as answer:
        return answer.read().decode("utf-8", "replace")


def escape_html(text: str) -> str:
    from html import escape

    return escape(text, quote=True)


# Summaries and the report ---------------------------------------------------------------


def kind_stats(records: list, kind: str, seconds: float) -> dict:
    mine = [r for r in records if r[0] == kind]
    statuses = Counter(r[3] for r in mine)
    latencies = [r[2] * 1000 for r in mine if r[3] > 0]
    ok = sum(n for code, n in statuses.items() if 200 <= code < 300)
    return {
        "requests": len(mine),
        "rps": round(len(mine) / seconds, 2) if seconds else 0.0,
        "p50_ms": round(percentile(latencies, 50), 1),
        "p99_ms": round(percentile(latencies, 99), 1),
        "max_ms": round(max(latencies, default=float("nan")), 1),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "errors": len(mine) - ok,
        "status_503": statuses.get(503, 0),
        "timeouts": statuses.get(-1, 0),
        "connection_errors": statuses.get(0, 0),
    }


def summarise_phase(phase: Phase, readers: dict, check: dict, cores: dict) -> dict:
    seconds = max(1e-6, phase.args.duration)
    kinds = {kind: kind_stats(phase.records, kind, seconds) for kind in ("state", "vote")}
    kinds["comment"] = kind_stats(phase.records, "comment", seconds)
    kinds["poll"] = kind_stats(phase.records, "poll", seconds)
    for kind in ("state", "vote", "comment"):
        kinds[kind]["retries"] = phase.retries[kind]
    kinds["vote"]["acknowledged"] = sum(1 for r in phase.records if r[0] == "vote" and r[3] == 200)
    kinds["comment"]["acknowledged"] = len(phase.acked_comments)
    done = [p for p in phase.publishes if p["ok"]]
    story_times = [p["seen_s"]["story"] for p in done if "story" in p["seen_s"]]
    home_times = [p["seen_s"]["home"] for p in done if "home" in p["seen_s"]]

    def spread(values: list[float]) -> dict:
        return {
            "seen": len(values),
            "p50_s": round(percentile(values, 50), 3) if values else None,
            "max_s": round(max(values), 3) if values else None,
            "within_aim": sum(1 for v in values if v < PUBLISH_AIM_S),
        }

    publishing = {
        "publishes": len(phase.publishes),
        "succeeded": len(done),
        "failed": len(phase.publishes) - len(done),
        "publish_call_p50_s": round(percentile([p["publish_s"] for p in done], 50), 3)
        if done
        else None,
        "story": spread(story_times),
        "home": spread(home_times) if "home" in phase.drill.poll_paths else None,
        "not_seen_within_timeout": sum(
            1 for p in done if set(p["seen_s"]) < set(phase.drill.poll_paths)
        ),
        "each": phase.publishes,
    }
    reader_errors = sum(r["errors"] for r in readers.values())
    writer_errors = sum(kinds[k]["errors"] for k in ("state", "vote", "comment"))
    return {
        "phase": phase.name,
        "duration_s": phase.args.duration,
        "cores": cores,
        "readers": readers,
        "requests": kinds,
        "publishing": publishing,
        "events": phase.events,
        "app_unhealthy": phase.outages,
        "problems": dict(phase.problems.most_common(12)),
        "status_503_by_source": dict(phase.unavailable),
        "check": check,
        "reader_errors": reader_errors,
        "writer_errors": writer_errors,
        "poll_errors": kinds["poll"]["errors"],
    }


def verdicts(results: dict) -> list[dict]:
    """The drill's pass/fail lines: what the issue requires, phase by phase."""
    out = []
    for summary in results["phases"]:
        name, check = summary["phase"], summary["check"]
        lost = check["votes_lost"] + check["comments_lost"]
        out.append(
            {
                "what": f"{name}: no acknowledged write lost",
                "ok": lost == 0,
                "detail": f"{check['votes_acknowledged']} voters' last votes and "
                f"{check['comments_acknowledged']} comments acknowledged; "
                f"{check['votes_lost']} votes and {check['comments_lost']} comments missing"
                + (
                    f"; {check['comments_stored_twice']} comments stored twice (a retry "
                    "after an answer was lost)"
                    if check["comments_stored_twice"]
                    else ""
                ),
            }
        )
        if name == "calm":
            errors = summary["reader_errors"] + summary["writer_errors"] + summary["poll_errors"]
            out.append(
                {
                    "what": "calm: no errors",
                    "ok": errors == 0,
                    "detail": f"{summary['reader_errors']} reader, {summary['writer_errors']} "
                    f"writer and {summary['poll_errors']} poller errors (non-2xx or no answer)",
                }
            )
        else:
            out.append(
                {
                    "what": f"{name}: readers kept getting pages",
                    "ok": summary["reader_errors"] == 0 and summary["poll_errors"] == 0,
                    "detail": f"{summary['reader_errors']} reader errors, "
                    f"{summary['poll_errors']} poller errors",
                }
            )
        failed = [e for e in summary["events"] if "error" in e]
        if failed:
            out.append(
                {
                    "what": f"{name}: faults carried out",
                    "ok": False,
                    "detail": "; ".join(f"{e['what']}: {e['error']}" for e in failed),
                }
            )
    return out


def fmt(value, spec: str = ",.0f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    return format(value, spec)


def print_table(results: dict) -> None:
    options = results["options"]
    print()
    print(
        f"Breaking-news drill on the {results['topology']['name']} topology: "
        f"{options['readers']} reader connections ({options['reader_pause_ms']} ms pause), "
        f"{options['voters']} voters + 1 without cookies, {options['commenters']} commenters, "
        f"a publish every {options['publish_every']:g} s; {options['duration']:g} s per phase"
    )
    print(f"Story: {results['story']['title']} ({results['story']['url']})")
    header = (
        f"{'':34} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} "
        f"{'503':>5} {'timeout':>7} {'retries':>7}"
    )
    for summary in results["phases"]:
        print()
        cores = summary["cores"]
        print(
            f"Phase {summary['phase']}: cores busy "
            + ", ".join(f"{name} {value:.2f}" for name, value in cores.items())
        )
        print(header)
        print("-" * len(header))
        rows = [(k, summary["readers"][k]) for k in ("story", "home")]
        rows += [(k, summary["requests"][k]) for k in ("state", "vote", "comment", "poll")]
        for kind, row in rows:
            print(
                f"{KIND_LABELS[kind]:34} {fmt(row['rps'], ',.1f'):>8} "
                f"{fmt(row['p50_ms'], ',.1f'):>8} {fmt(row['p99_ms'], ',.1f'):>8} "
                f"{row['requests']:>9,} {row['errors']:>7} {row.get('status_503', '-'):>5} "
                f"{row['timeouts']:>7} {row.get('retries', '-'):>7}"
            )
        pub = summary["publishing"]
        story = pub["story"]
        line = (
            f"Publish to served (story page): {story['seen']}/{pub['succeeded']} seen, "
            f"p50 {fmt(story['p50_s'], '.2f')} s, max {fmt(story['max_s'], '.2f')} s, "
            f"{story['within_aim']} under {PUBLISH_AIM_S:g} s"
        )
        if pub["home"]:
            line += (
                f"; home page p50 {fmt(pub['home']['p50_s'], '.2f')} s, "
                f"max {fmt(pub['home']['max_s'], '.2f')} s"
            )
        print(line)
        if summary["check"].get("purges_failed"):
            print(
                f"  the editor's process could not purge {summary['check']['purges_failed']} times"
            )
        print(
            f"  {pub['publishes']} publishes ({pub['failed']} failed, "
            f"{pub['not_seen_within_timeout']} not seen within {options['publish_timeout']:g} s); "
            "each: "
            + " ".join(
                fmt(p["seen_s"].get("story"), ".2f") if p["ok"] else "fail" for p in pub["each"]
            )
        )
        check = summary["check"]
        print(
            f"Writes: {check['votes_acknowledged']} voters' last votes acknowledged, "
            f"{check['votes_lost']} lost ({check['votes_unsettled']} unsettled at the end); "
            f"{check['comments_acknowledged']} comments acknowledged, "
            f"{check['comments_lost']} lost, {check['comments_stored_twice']} stored twice"
        )
        if summary["app_unhealthy"]:
            spans = ", ".join(
                f"{o['from_s']:.1f}-"
                + (f"{o['until_s']:.1f} s" if "until_s" in o else "end of phase")
                for o in summary["app_unhealthy"]
            )
            during = sum(1 for p in pub["each"] if p.get("app_down"))
            print(f"  the app's /healthz failed: {spans}; {during} publishes meanwhile")
        if summary["status_503_by_source"]:
            print(f"  503s: {json.dumps(summary['status_503_by_source'])}")
        for event in summary["events"]:
            extra = {k: v for k, v in event.items() if k not in ("at_s", "what", "done_at_s")}
            print(f"  at {event['at_s']:5.1f} s: {event['what']} {json.dumps(extra)}")
        if summary["problems"]:
            print(f"  problems: {json.dumps(summary['problems'])}")
    print()
    print("Checks:")
    for item in results["verification"]:
        print(f"  [{'ok  ' if item['ok'] else 'FAIL'}] {item['what']}: {item['detail']}")


def draw_chart(results: dict, path: Path) -> None:
    """Per phase: requests/s and p99 per kind of request (log scales), and each publish's
    time to reach readers as a strip, drawn with Pillow."""
    import math

    from PIL import Image, ImageDraw

    font = chart_font
    phases = results["phases"]
    kinds = ("story", "home", "state", "vote", "comment")
    colours = {
        "story": (234, 88, 12),
        "home": (251, 146, 60),
        "state": (134, 239, 172),
        "vote": (37, 99, 235),
        "comment": (22, 163, 74),
    }
    width, left, panel_w, gap = 1380, 250, 440, 90
    top, row_h, bar_h = 118, 22, 16
    block_h = row_h * len(kinds) + 24
    strip_top = top + block_h * len(phases) + 40
    strip_h = 56
    height = strip_top + strip_h * len(phases) + 70
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    options = results["options"]
    draw.text((20, 14), "Broadsheet breaking-news drill", font=font(24, True), fill="black")
    draw.text(
        (20, 48),
        f"{results['topology']['name']} topology · {options['readers']} reader connections · "
        f"{options['voters'] + 1} voters · {options['commenters']} commenters · a publish every "
        f"{options['publish_every']:g} s · {options['duration']:g} s per phase · "
        f"{results['started'][:16].replace('T', ' ')} UTC",
        font=font(14),
        fill=(70, 70, 70),
    )
    grey = (90, 90, 90)

    def log_x(x0: int, value: float, low: float, high: float) -> int:
        value = max(low, min(high, value))
        return x0 + int(panel_w * math.log10(value / low) / math.log10(high / low))

    panels = (
        (left, "requests/s", 0.1, 10_000),
        (left + panel_w + gap, "p99 latency, ms, notch p50", 0.1, 10_000),
    )
    for x0, title, low, high in panels:
        draw.text((x0, 82), title + " (log scale)", font=font(15, True), fill="black")
        exponent = round(math.log10(low))
        while 10**exponent <= high:
            x = log_x(x0, 10**exponent, low, high)
            draw.line([(x, top - 6), (x, top + block_h * len(phases) - 20)], fill=(230, 230, 230))
            label = f"{10**exponent:,.0f}" if exponent >= 0 else f"{10**exponent:g}"
            draw.text((x - 8, top - 22), label, font=font(12), fill="gray")
            exponent += 1
    for index, summary in enumerate(phases):
        y0 = top + index * block_h
        draw.text((20, y0), summary["phase"], font=font(16, True), fill="black")
        draw.text(
            (20, y0 + 20),
            f"reader errors {summary['reader_errors']}",
            font=font(12),
            fill=(220, 38, 38) if summary["reader_errors"] else grey,
        )
        check = summary["check"]
        lost = check["votes_lost"] + check["comments_lost"]
        draw.text(
            (20, y0 + 36),
            f"writes lost {lost}",
            font=font(12),
            fill=(220, 38, 38) if lost else grey,
        )
        w503 = sum(summary["requests"][k]["status_503"] for k in ("state", "vote", "comment"))
        draw.text((20, y0 + 52), f"writer 503s {w503}", font=font(12), fill=grey)
        for row, kind in enumerate(kinds):
            y = y0 + row * row_h
            stats = summary["readers"][kind] if kind in ("story", "home") else None
            stats = stats or summary["requests"][kind]
            draw.text((165, y + 1), kind, font=font(13), fill="black")
            for x0, key, low, high in (
                (left, "rps", 0.1, 10_000),
                (left + panel_w + gap, "p99_ms", 0.1, 10_000),
            ):
                value = stats[key]
                if value is None or value != value or value <= 0:
                    continue
                x1 = log_x(x0, value, low, high)
                draw.rectangle([x0, y + 2, max(x0 + 2, x1), y + bar_h], fill=colours[kind])
                text = f"{value:,.0f}" if value >= 10 else f"{value:.1f}"
                if key == "p99_ms" and stats["p50_ms"] == stats["p50_ms"] and stats["p50_ms"] > 0:
                    # p50 as a dark notch on the p99 bar
                    x50 = log_x(x0, stats["p50_ms"], low, high)
                    draw.rectangle([x50 - 1, y, x50 + 1, y + bar_h + 2], fill="black")
                    p50 = stats["p50_ms"]
                    text += f"  (p50 {p50:,.0f})" if p50 >= 10 else f"  (p50 {p50:.1f})"
                draw.text((max(x0 + 2, x1) + 4, y + 1), text, font=font(12), fill="black")
    # The strip: each publish's seconds until the story page showed it.
    limit = max(options["publish_timeout"], PUBLISH_AIM_S * 2)
    x0, strip_w = left, 2 * panel_w + gap
    draw.text(
        (20, strip_top - 28),
        "publish to served (s): dots the story page, rings the home page; xN = N not seen "
        "in time, !N = N publishes failed",
        font=font(15, True),
        fill="black",
    )

    def strip_x(seconds: float) -> int:
        return x0 + int(strip_w * max(0.0, min(limit, seconds)) / limit)

    for index, summary in enumerate(phases):
        y = strip_top + index * strip_h + 20
        draw.text((20, y - 8), summary["phase"], font=font(14), fill="black")
        draw.line([(x0, y), (x0 + strip_w, y)], fill=(200, 200, 200))
        for tick in range(0, int(limit) + 1, 2 if limit <= 12 else 5):
            draw.line([(strip_x(tick), y - 4), (strip_x(tick), y + 4)], fill="gray")
            draw.text((strip_x(tick) - 4, y + 8), f"{tick}", font=font(11), fill="gray")
        aim = strip_x(PUBLISH_AIM_S)
        draw.line([(aim, y - 16), (aim, y + 6)], fill=(220, 38, 38), width=2)
        each = summary["publishing"]["each"]
        failed = sum(1 for p in each if not p["ok"])
        unseen = sum(1 for p in each if p["ok"] and "story" not in p["seen_s"])
        marks = (f"x{unseen}" if unseen else "") + (f"  !{failed}" if failed else "")
        draw.text((strip_x(limit) + 8, y - 9), marks, font=font(14, True), fill="red")
        for publish in each:
            seen = publish["seen_s"].get("story")
            if not publish["ok"] or seen is None:
                pass
            else:
                x = strip_x(seen)
                draw.ellipse([x - 4, y - 4, x + 4, y + 4], fill=(37, 99, 235))
            home = publish["seen_s"].get("home")
            if home is not None:
                x = strip_x(home)
                draw.ellipse([x - 5, y - 5, x + 5, y + 5], outline=(234, 88, 12), width=2)
    draw.text(
        (aim + 4, strip_top - 8),
        f"aim {PUBLISH_AIM_S:g} s",
        font=font(12),
        fill=(220, 38, 38),
    )
    image.save(path)


# Main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60, help="seconds per phase")
    parser.add_argument("--quick", action="store_true", help="a short run: 20 s phases")
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}"
    )
    parser.add_argument("--readers", type=int, default=300, help="wrk connections in all")
    parser.add_argument(
        "--story-share", type=float, default=0.8, help="share of readers on the story page"
    )
    parser.add_argument(
        "--reader-pause-ms",
        type=int,
        default=50,
        help="each reader connection waits about this long between pages (0: flat out)",
    )
    parser.add_argument("--reader-timeout", type=float, default=5, help="wrk's --timeout, s")
    parser.add_argument("--voters", type=int, default=30)
    parser.add_argument("--commenters", type=int, default=3)
    parser.add_argument("--publish-every", type=float, default=3, help="seconds between updates")
    parser.add_argument(
        "--publish-timeout",
        type=float,
        default=10,
        help="seconds a publish may take to reach readers before it counts as not seen",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=30,
        help="after a phase, seconds writers may keep retrying a write still unanswered",
    )
    parser.add_argument("--db-down", type=float, default=5, help="seconds PostgreSQL stays stopped")
    parser.add_argument("--pause", type=float, default=5, help="seconds between phases")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each phase, wait up to this many seconds for the machine to drop under "
        "0.3 busy cores (other work skews the figures)",
    )
    parser.add_argument("--story-url", help="the story to use (default: the home page's lead)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration = min(args.duration, 20)
        args.pause = min(args.pause, 3)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return args


async def drill(args: argparse.Namespace, topology: Topology, work_dir: Path, results: dict):
    run = Drill(args, topology, work_dir)
    try:
        story = await run.prepare()
        results["story"] = story
        results["polled"] = run.poll_paths
        say(f"Story {story['id']}: {story['title']} ({story['url']}); polling {run.poll_paths}")
        for index, name in enumerate(args.phases, start=1):
            if index > 1:
                await asyncio.sleep(args.pause)
            await asyncio.to_thread(
                wait_until, topology.app_healthy, timeout=120, what="the app healthy"
            )
            busy = await asyncio.to_thread(wait_for_quiet, limit=0.3, patience=args.quiet_wait)
            results["phases"].append(await run.run_phase(name, index))
            results["phases"][-1]["machine_cores_busy_before"] = round(busy, 2)
    finally:
        with contextlib.suppress(Exception):
            if run.story:
                restored = await run.restore()
                if not restored["ok"]:
                    say(f"Could not restore the story's standfirst: {restored['error']}")
        await run.desk.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    signal.signal(signal.SIGTERM, interrupted)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    work_dir = Path(tempfile.mkdtemp(prefix="broadsheet-drill-"))
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "options": dict(vars(args)),
        "phases": [],
    }
    topology = None
    try:
        topology = prod_topology(args, work_dir)
        require_loopback(topology.public_url)
        results["topology"] = {
            "name": topology.name,
            "public_url": topology.public_url,
            "parts": topology.parts,
            "notes": topology.notes,
        }
        say(f"Topology {topology.name}: {json.dumps(topology.parts)}")
        for note in topology.notes:
            say(f"  note: {note}")
        asyncio.run(drill(args, topology, work_dir, results))
    except KeyboardInterrupt:
        say("\nInterrupted: everything the drill started is stopped; nothing written.")
        return 130
    finally:
        if topology is not None:
            topology.close()
        if args.keep:
            say(f"Kept {work_dir}")
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    results["verification"] = verdicts(results)
    save_results("drill", stamp, results, draw=draw_chart, report=print_table)
    return 0 if all(item["ok"] for item in results["verification"]) else 1


if __name__ == "__main__":
    sys.exit(desk_main() if sys.argv[1:2] == ["--desk"] else main())
