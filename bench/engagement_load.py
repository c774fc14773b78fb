"""Votes and comments per second that Broadsheet sustains on this machine, over real HTTP.

Builds a throwaway newsroom (fresh SQLite database in a temporary folder), serves it with
gunicorn exactly as production runs on one machine (broadsheet.settings.production, two
sync workers, access log off), and drives it from loopback with 50 concurrent clients:

  votes-new        wrk POSTs votes without a cookie: every vote is a new reader's first
  votes-returning  wrk POSTs votes with the cookies of 50 readers who already voted, so every
                   vote changes an existing one (the upsert's UPDATE path)
  comments         an asyncio client: each comment is a reader loading the story state
                   (cookie + math challenge), then posting once the challenge is old enough
  article          wrk GETs the voted-on story's page, uncached, as a reference

Deliberate rate limiting is lifted for the run (it is tested in tests/engagement); any
non-2xx answer is an error. Afterwards the database is checked: every vote and comment the
server acknowledged is there, and nothing else.

Prints a progress bar on stderr and a table on stdout; writes
bench/results/engagement-<timestamp>.json and .png. Needs `wrk` (apt-get install wrk).

    .venv/bin/python bench/engagement_load.py --duration 20
"""

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter, deque
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from common import (
    BENCH_DIR,
    PROJECT_DIR,
    Progress,
    chart_font,
    interrupted,
    machine_busy_seconds,
    run_python,
    save_results,
    say,
)

LUA_SCRIPT = BENCH_DIR / "engagement_votes.lua"
PHASES = ("votes-new", "votes-returning", "comments", "article")
LIFTED_LIMIT = 10**9
# The server's BROADSHEET_CHALLENGE_MIN_SECONDS (a plain setting); answers sooner are refused.
CHALLENGE_MIN_SECONDS = 3.0
CHALLENGE_MARGIN = 0.1
TARGET_VOTES_PER_SECOND = 1000


# The server ------------------------------------------------------------------------------


def free_port() -> int:
    while True:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port != 8000:  # the demo's port
            return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (gunicorn's workers), so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0.0
    for each in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def own_cpu_seconds() -> float:
    """This script and its finished children (wrk), user + system."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


class CpuMeter:
    """Cores kept busy by gunicorn, by the load generator and by anything else meanwhile."""

    def __init__(self, server: "Server | None"):
        self.server = server
        self.start = self.snapshot()

    def snapshot(self) -> tuple[float, float, float, float]:
        server = self.server.cpu() if self.server and self.server.process else 0.0
        return time.monotonic(), machine_busy_seconds(), server, own_cpu_seconds()

    def cores(self) -> dict:
        end = self.snapshot()
        seconds = max(1e-6, end[0] - self.start[0])
        machine, server, own = (end[i] - self.start[i] for i in (1, 2, 3))
        return {
            "server_cores": round(server / seconds, 2),
            "loadgen_cores": round(own / seconds, 2),
            "other_cores": round(max(0.0, machine - server - own) / seconds, 2),
        }


def wait_for_quiet(server: "Server", *, limit: float, patience: float) -> float:
    """Wait (up to `patience` seconds) until other work on the machine uses under `limit`
    cores; returns what it last used. Other programs sharing the 2 cores skew the figures."""
    deadline = time.monotonic() + patience
    warned = False
    while True:
        meter = CpuMeter(server)
        time.sleep(1.0)
        other = meter.cores()["other_cores"] + meter.cores()["server_cores"]
        if other < limit or time.monotonic() >= deadline:
            if warned or other >= limit:
                say(
                    f"  other work on the machine: {other:.2f} cores"
                    + (" (proceeding anyway)" if other >= limit else "")
                )
            return other
        if not warned:
            say(f"  waiting for other work on the machine to settle ({other:.2f} cores busy)...")
            warned = True


class Server:
    """A throwaway Broadsheet under gunicorn; stop() ends exactly the processes it started."""

    def __init__(self, *, workers: int, extra_args: list[str], keep: bool, settings: str):
        self.var_dir = Path(tempfile.mkdtemp(prefix="broadsheet-bench-"))
        self.port = free_port()
        self.keep = keep
        self.workers = workers
        self.extra_args = extra_args
        self.process: subprocess.Popen | None = None
        self.env = {
            key: value
            for key, value in os.environ.items()
            # The embedded default: no outside database, cache or task queue.
            if key not in {"DATABASE_URL", "REDIS_URL", "TASK_BACKEND", "DEBUG", "STATIC_ROOT"}
            and key not in {"MEDIA_ROOT", "CONN_MAX_AGE", "BROADSHEET_TRUSTED_PROXIES"}
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE=settings,
            SECRET_KEY=secrets.token_urlsafe(50),
            HTTPS="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BROADSHEET_VAR_DIR=str(self.var_dir),
            BROADSHEET_VOTES_PER_ADDRESS_PER_MINUTE=str(LIFTED_LIMIT),
            BROADSHEET_NEW_VOTERS_PER_ADDRESS_PER_STORY_PER_HOUR=str(LIFTED_LIMIT),
            BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR=str(LIFTED_LIMIT),
            PYTHONUNBUFFERED="1",
        )
        self.error_log = self.var_dir / "gunicorn.log"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def database(self) -> Path:
        return self.var_dir / "broadsheet.sqlite3"

    def run(self, *args: str) -> str:
        return run_python(*args, env=self.env)

    def prepare(self) -> dict:
        bar = Progress("Preparing the newsroom", 3, "steps")
        bar.update(0, "migrate")
        self.run("manage.py", "migrate", "--no-input", "-v0")
        bar.update(1, "collectstatic")
        self.run("manage.py", "collectstatic", "--no-input", "-v0")
        bar.update(2, "seed stories")
        seeded = json.loads(
            self.run(str(BENCH_DIR / "engagement_seed.py")).strip().splitlines()[-1]
        )
        bar.finish(str(self.var_dir))
        return seeded["stories"]

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
            "--graceful-timeout",
            "5",
            "--error-logfile",
            str(self.error_log),
            *self.extra_args,
        ]

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command(),
            cwd=PROJECT_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.base_url + "/", timeout=5) as answer:
                    answer.read()
                return
            except urllib.error.HTTPError:
                return  # it answers
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer within 30 s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.error_log.read_text().splitlines()[-lines:])
        return ""

    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) if self.process else 0.0

    def worker_pids(self) -> list[int]:
        with contextlib.suppress(OSError):
            path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            return [int(p) for p in path.read_text().split()]
        return []

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.terminate()  # the master stops its workers gracefully
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # the group this script created
                process.wait(timeout=5)
        if not self.keep:
            shutil.rmtree(self.var_dir, ignore_errors=True)


# The database check ---------------------------------------------------------------------


def db_count(server: Server, sql: str, *params) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{server.database}?mode=ro", uri=True)) as db:
        db.execute("PRAGMA busy_timeout = 20000")
        return db.execute(sql, params).fetchone()[0]


def settled_count(server: Server, sql: str, *params) -> int:
    """The count once requests still in the server's hands have been written."""
    previous, stable_since = None, time.monotonic()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = db_count(server, sql, *params)
        if current != previous:
            previous, stable_since = current, time.monotonic()
        elif time.monotonic() - stable_since > 0.75:
            break
        time.sleep(0.1)
    return previous


# wrk phases ------------------------------------------------------------------------------


def run_wrk(
    *,
    label: str,
    url: str,
    mode: str,
    duration: float,
    connections: int,
    threads: int,
    max_requests: int,
    server: Server | None,
    story_id: int = 0,
    origin: str = "",
    cookies: Path | None = None,
    expect_count: int = -1,
    work_dir: Path,
) -> dict:
    if urlsplit(url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit(f"refusing a non-loopback URL: {url}")
    out = work_dir / f"wrk-{label}.json"
    env = {
        **os.environ,
        "BENCH_MODE": mode,
        "BENCH_STORY": str(story_id),
        "BENCH_ORIGIN": origin,
        "BENCH_THREADS": str(threads),
        "BENCH_MAX_REQUESTS": str(max_requests),
        "BENCH_EXPECT_COUNT": str(expect_count),
        "BENCH_COOKIES": str(cookies or ""),
        "BENCH_OUT": str(out),
    }
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    bar = Progress(label, duration)
    meter = CpuMeter(server)
    started = time.monotonic()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        while process.poll() is None:
            bar.update(time.monotonic() - started)
            time.sleep(0.25)
    except BaseException:
        process.terminate()
        process.wait()
        raise
    stdout, stderr = process.communicate()
    cores = meter.cores()
    if process.returncode or not out.exists():
        raise RuntimeError(
            f"wrk failed ({process.returncode}):\n{stdout.decode()}{stderr.decode()}"
        )
    result = json.loads(out.read_text())
    result["command"] = " ".join(command)
    result["raw"] = stdout.decode()
    result.update(cores)
    bar.finish(f"{result['requests'] / (result['duration_us'] / 1e6):,.0f} req/s")
    return result


def summarise_wrk(result: dict, *, ok: set[int]) -> dict:
    seconds = result["duration_us"] / 1e6
    statuses = {int(code): n for code, n in result["statuses"].items()}
    limited = statuses.get(429, 0)
    bad_status = sum(n for code, n in statuses.items() if code not in ok and code != 429)
    socket_errors = sum(result["errors"][k] for k in ("connect", "read", "write", "timeout"))
    errors = bad_status + socket_errors
    requests = result["requests"]
    return {
        "requests": requests,
        "duration_s": round(seconds, 3),
        "rps": round(requests / seconds, 1),
        "p50_ms": result["latency_us"]["p50"] / 1000,
        "p90_ms": result["latency_us"]["p90"] / 1000,
        "p99_ms": result["latency_us"]["p99"] / 1000,
        "max_ms": result["latency_us"]["max"] / 1000,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "rate_limited": limited,
        "errors": errors,
        "error_rate": errors / max(1, requests + socket_errors),
        "socket_errors": result["errors"],
        "server_cores": result["server_cores"],
        "loadgen_cores": result["loadgen_cores"],
        "other_cores": result["other_cores"],
        "wrk_command": result["command"],
    }


# A small asyncio HTTP/1.1 client (standard library only) ---------------------------------


class HttpConnection:
    """One keep-alive connection; reconnects when the server closes it (gunicorn's sync
    workers answer every request with Connection: close)."""

    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.idle_since = 0.0

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, dict[str, list[str]], bytes, float]:
        """(status, headers by lower-case name, body, seconds from sending to the last byte)."""
        if self.writer is not None and time.monotonic() - self.idle_since > 1.0:
            self.close()  # a server's keep-alive timeout may have closed it meanwhile
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body or method == "POST":
            head.append(f"Content-Length: {len(body)}")
        started = time.monotonic()
        try:
            self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
            await self.writer.drain()
            status_line = await self.reader.readline()
            if not status_line:
                raise ConnectionResetError("the server closed the connection")
            status = int(status_line.split()[1])
            response_headers: dict[str, list[str]] = {}
            while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                response_headers.setdefault(name.strip().lower(), []).append(value.strip())
            if "content-length" in response_headers:
                content = await self.reader.readexactly(int(response_headers["content-length"][0]))
            elif "chunked" in response_headers.get("transfer-encoding", [""])[0].lower():
                content = b""
                while size := int((await self.reader.readline()).split(b";")[0], 16):
                    content += await self.reader.readexactly(size)
                    await self.reader.readline()
                await self.reader.readline()
            else:
                content = await self.reader.read()
        except BaseException:
            self.close()
            raise
        elapsed = time.monotonic() - started
        if "close" in response_headers.get("connection", [""])[0].lower():
            self.close()
        self.idle_since = time.monotonic()
        return status, response_headers, content, elapsed

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def reader_cookie(headers: dict[str, list[str]]) -> str | None:
    for value in headers.get("set-cookie", []):
        if value.startswith("bs_reader="):
            return value.split(";", 1)[0]
    return None


def solve_challenge(question: str) -> str:
    """The answer to the comment form's math challenge ("What is 3 plus 4?")."""
    first, second = map(int, re.findall(r"\d+", question)[:2])
    return str(first + second)


def refusal(content: bytes) -> str:
    """The reason a JSON refusal gives, without its (different every time) new challenge."""
    try:
        data = json.loads(content)
        return json.dumps(data.get("errors") or data.get("error"))[:200]
    except ValueError:
        return content[:200].decode(errors="replace")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


async def first_votes(server: Server, *, story_id: int, readers: int, clients: int) -> list[str]:
    """Each of `readers` new readers votes once; returns their cookies (returning readers)."""
    cookies: list[str] = []
    todo = iter(range(readers))
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Origin": server.base_url,
    }

    async def client() -> None:
        connection = HttpConnection("127.0.0.1", server.port)
        try:
            for index in todo:
                status, answer, _, _ = await connection.request(
                    "POST",
                    f"/engagement/stories/{story_id}/vote/",
                    headers,
                    f"stars={index % 5 + 1}".encode(),
                )
                cookie = reader_cookie(answer)
                if status != 200 or cookie is None:
                    raise RuntimeError(f"a first vote was answered {status}")
                cookies.append(cookie)
        finally:
            connection.close()

    await asyncio.gather(*(client() for _ in range(min(clients, readers))))
    return cookies


async def comment_load(
    server: Server,
    *,
    story_id: int,
    clients: int,
    depth: int,
    settle: float,
    duration: float,
    max_posts: int,
) -> dict:
    """`clients` clients post comments; each comment is a new reader's, on a fresh challenge.

    A client first fetches `depth` challenges (GET .../state/, which also gives the new
    reader's cookie). Then, one for one as readers do, it posts the oldest challenge once it
    is CHALLENGE_MIN_SECONDS old and fetches a replacement. The wait then costs nothing
    as long as clients * depth / 3 s exceeds what the server sustains; time spent waiting
    anyway is reported (raise --depth if it is not near zero). The measured window opens
    `settle` seconds after every client has its queue and its first challenge has aged.
    Every request sent is waited for, so the database check is exact.
    """
    state_path = f"/engagement/stories/{story_id}/state/"
    post_path = f"/engagement/stories/{story_id}/comments/"
    window: dict[str, float] = {}  # "start" and "end", set once every queue is full
    filled = Counter()
    records: list[tuple[str, float, float, int]] = []  # kind, finished at, seconds, status
    ages: list[float] = []  # how old each challenge was when posted (measured window only)
    waited = Counter()  # seconds clients slept for a challenge to age, in the window
    problems: Counter = Counter()
    posted = Counter()
    meters: dict = {}
    all_filled = asyncio.Event()

    async def fetch(connection: HttpConnection, waiting: deque) -> None:
        try:
            status, headers, content, seconds = await connection.request(
                "GET", state_path, {"Accept": "application/json"}
            )
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            problems[f"state: {type(exc).__name__}"] += 1
            records.append(("state", time.monotonic(), 0.0, 0))
            return
        records.append(("state", time.monotonic(), seconds, status))
        if status != 200:
            problems[f"state {status}"] += 1
            return
        challenge = json.loads(content)["challenge"]
        # The server dated the challenge while answering, before this moment: counting
        # from here, it is never posted sooner than the server allows.
        waiting.append(
            (
                time.monotonic(),
                reader_cookie(headers),
                challenge["token"],
                solve_challenge(challenge["question"]),
            )
        )

    async def post(connection: HttpConnection, number: int, serial: int, item: tuple) -> None:
        _, cookie, token, answer = item
        posted["sent"] += 1
        body = urlencode(
            {
                "name": f"Reader {number}",
                "email": f"reader{number}@example.com",
                "body": f"Comment {number}-{serial}: the late ferry would get me home "
                f"before midnight on {serial % 7 + 1} nights a fortnight.",
                "challenge_token": token,
                "challenge_answer": answer,
            }
        ).encode()
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
            "Origin": server.base_url,
            "Cookie": cookie,
        }
        try:
            status, _, content, seconds = await connection.request("POST", post_path, headers, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            problems[f"post: {type(exc).__name__}"] += 1
            records.append(("post", time.monotonic(), 0.0, 0))
            return
        records.append(("post", time.monotonic(), seconds, status))
        if status == 201:
            posted["created"] += 1
        elif status != 429:
            problems[f"post {status}: {refusal(content)}"] += 1

    def running(now: float) -> bool:
        return ("end" not in window or now < window["end"]) and posted["sent"] < max_posts

    async def client(number: int) -> None:
        connection = HttpConnection("127.0.0.1", server.port)
        waiting: deque = deque()  # (received at, cookie, token, answer)
        try:
            while len(waiting) < depth and running(time.monotonic()):
                await fetch(connection, waiting)
            filled["clients"] += 1
            if filled["clients"] == clients:
                all_filled.set()
            serial = 0
            while waiting and running(now := time.monotonic()):
                ready_at = waiting[0][0] + CHALLENGE_MIN_SECONDS + CHALLENGE_MARGIN
                if ready_at > now:
                    if "start" in window and now >= window["start"]:
                        waited["seconds"] += ready_at - now
                    await asyncio.sleep(ready_at - now)
                    continue
                item = waiting.popleft()
                if "start" in window and now >= window["start"]:
                    ages.append(now - item[0])
                serial += 1
                await post(connection, number, serial, item)
                await fetch(connection, waiting)
        finally:
            connection.close()

    bar = Progress("comments (asyncio)", duration)

    async def conduct() -> None:
        """Open the window once queues are full and aged; show progress; meter the CPU."""
        while not all_filled.is_set():
            bar.update(0, f"filling queues: {filled['clients']}/{clients}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_filled.wait(), 0.25)
        window["start"] = time.monotonic() + CHALLENGE_MIN_SECONDS + settle
        window["end"] = window["start"] + duration
        while (now := time.monotonic()) < window["start"]:
            bar.update(0, f"settling {window['start'] - now:.0f}s")
            await asyncio.sleep(0.25)
        meters["window"] = CpuMeter(server)
        while time.monotonic() < window["end"]:
            bar.update(time.monotonic() - window["start"], f"{posted['created']:,} comments")
            await asyncio.sleep(0.25)
        meters["cores"] = meters["window"].cores()

    conductor = asyncio.create_task(conduct())
    try:
        await asyncio.gather(*(client(n) for n in range(1, clients + 1)))
    finally:
        if "cores" not in meters and "window" in meters:  # stopped early by the bound
            meters["cores"] = meters["window"].cores()
        conductor.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await conductor
    if "start" not in window:
        raise RuntimeError(f"the comment clients never filled their queues: {dict(problems)}")
    window_start = window["start"]
    measured_end = min(window["end"], time.monotonic())
    span = max(1e-6, measured_end - window_start)

    def stats(kind: str, ok: int) -> dict:
        inside = [r for r in records if r[0] == kind and window_start <= r[1] <= measured_end]
        statuses = Counter(r[3] for r in inside)
        errors = sum(n for code, n in statuses.items() if code not in (ok, 429))
        latencies = [r[2] * 1000 for r in inside if r[3]]
        return {
            "requests": len(inside),
            "duration_s": round(span, 3),
            "rps": round(len(inside) / span, 1) if span > 0 else 0.0,
            "p50_ms": round(percentile(latencies, 50), 2),
            "p90_ms": round(percentile(latencies, 90), 2),
            "p99_ms": round(percentile(latencies, 99), 2),
            "max_ms": round(max(latencies, default=float("nan")), 2),
            "statuses": {str(k): v for k, v in sorted(statuses.items())},
            "rate_limited": statuses.get(429, 0),
            "errors": errors,
            "error_rate": errors / max(1, len(inside)),
        }

    posts, state = stats("post", 201), stats("state", 200)
    posts.update(meters.get("cores", {}))
    posts["waiting_for_challenges"] = round(waited["seconds"] / (clients * span), 3)
    posts["challenge_age_at_post_s"] = {
        "p50": round(percentile(ages, 50), 2),
        "p99": round(percentile(ages, 99), 2),
    }
    bar.finish(f"{posts['rps']:,.1f} comments/s")
    return {
        "posts": posts,
        "state": state,
        "created_total": posted["created"],
        "posted_total": sum(1 for r in records if r[0] == "post"),
        "problems": dict(problems.most_common(10)),
        "depth": depth,
    }


# Peers -----------------------------------------------------------------------------------


def running_peer(explicit: str | None) -> str | None:
    """The stock Wagtail peer (SQLite, uncached), if ../shared/peers set it up and it runs."""
    if explicit:
        return explicit
    state = Path(os.environ.get("BSP_STATE", "/tmp/bsp")) / "wagtail" / "url_path"
    if not state.exists():
        return None
    url = f"http://127.0.0.1:8082{state.read_text().strip()}"
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            answer.read()
        return url
    except OSError:
        return None


# Report ----------------------------------------------------------------------------------


ROWS = [
    ("votes-new", "votes/s, new reader per request"),
    ("votes-returning", "votes/s, returning readers"),
    ("comments", "comment posts/s"),
    ("comments-state", "  state+challenge GETs/s (same run)"),
    ("article", "article page GETs/s (uncached)"),
    ("peer-article", "peer: stock Wagtail article GETs/s"),
]


def print_table(results: dict) -> None:
    phases = results["phases"]
    print()
    print(
        f"Broadsheet engagement load: {results['clients']} clients on loopback, gunicorn "
        f"{results['server']['workers']} workers ({results['server']['worker_class']}), SQLite, "
        f"{results['machine']['cpus']} CPUs"
    )
    print(
        "Deliberate rate limits lifted for this run (votes and comments per address set to "
        f"{LIFTED_LIMIT:,}); they are tested in tests/engagement."
    )
    header = (
        f"{'':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} "
        f"{'err %':>6} {'429':>5} {'secs':>6} {'server':>7} {'loadgen':>7} {'other':>6}"
    )
    print(header)
    print("-" * len(header))
    for key, label in ROWS:
        row = phases.get(key)
        if not row:
            continue

        def cores(name, row=row):
            return f"{row[name]:.2f}" if name in row else "-"

        print(
            f"{label:38} {row['rps']:>9,.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
            f"{row['requests']:>9,} {row['errors']:>7} {100 * row['error_rate']:>6.2f} "
            f"{row['rate_limited']:>5} {row['duration_s']:>6.1f} {cores('server_cores'):>7} "
            f"{cores('loadgen_cores'):>7} {cores('other_cores'):>6}"
        )
    print(
        "(server / loadgen / other: CPU cores kept busy by gunicorn, by the load generator and "
        "by anything else on the machine during the phase)"
    )
    comments = phases.get("comments")
    if comments:
        share = comments.get("waiting_for_challenges", 0)
        print(
            f"Comments: each is one state GET (cookie + challenge) and one POST; challenges "
            f"were {comments['challenge_age_at_post_s']['p50']:.1f} s old when posted (p50), "
            f"clients spent {100 * share:.0f}% of the window waiting for one to age"
            + (" -- raise --depth, the wait bounded throughput" if share > 0.05 else "")
            + "."
        )
    ratios = results.get("ratios") or {}
    for name, value in ratios.items():
        print(f"ratio {name}: {value:.2f}x")
    if results.get("peers"):
        print(f"Peers: {results['peers']}.")
    votes = phases.get("votes-new")
    if votes:
        verdict = "meets" if votes["rps"] >= TARGET_VOTES_PER_SECOND else "is BELOW"
        print(f"Votes/s {verdict} the target of {TARGET_VOTES_PER_SECOND:,} (new readers).")
    print()
    print("Database check:")
    for item in results["verification"]:
        mark = "ok  " if item["ok"] else "FAIL"
        print(f"  [{mark}] {item['what']}: {item['detail']}")


def draw_chart(results: dict, path: Path) -> None:
    """A horizontal bar chart of requests per second, with p50/p99, drawn with Pillow."""
    from PIL import Image, ImageDraw

    font = chart_font

    rows = [
        (label.strip(), results["phases"][key]) for key, label in ROWS if key in results["phases"]
    ]
    colours = {
        "votes": (37, 99, 235),
        "comment": (22, 163, 74),
        "state": (134, 239, 172),
        "article": (234, 88, 12),
        "peer": (148, 163, 184),
    }
    width, left, right, top, row_h = 1100, 330, 60, 110, 64
    height = top + row_h * len(rows) + 70
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text(
        (20, 16), "Broadsheet engagement endpoints under load", font=font(24, True), fill="black"
    )
    server = results["server"]
    draw.text(
        (20, 52),
        f"{results['clients']} concurrent clients on loopback · gunicorn {server['workers']} "
        f"{server['worker_class']} workers · SQLite · {results['machine']['cpus']} CPUs · "
        f"{results['started'][:16].replace('T', ' ')} UTC",
        font=font(15),
        fill=(70, 70, 70),
    )
    draw.text(
        (20, 74),
        "bars: requests/s sustained (errors 0 unless marked); text: p50 / p99 latency",
        font=font(15),
        fill=(70, 70, 70),
    )
    scale_max = max([TARGET_VOTES_PER_SECOND, *(r["rps"] for _, r in rows)]) * 1.08
    plot_w = width - left - right

    def x_of(value: float) -> int:
        return left + int(plot_w * value / scale_max)

    for tick in range(0, int(scale_max) + 1, 250 if scale_max < 3000 else 1000):
        x = x_of(tick)
        draw.line([(x, top - 8), (x, top + row_h * len(rows))], fill=(230, 230, 230))
        draw.text((x - 12, top + row_h * len(rows) + 6), f"{tick:,}", font=font(13), fill="gray")
    for index, (label, row) in enumerate(rows):
        y = top + index * row_h
        kind = next((k for k in colours if k in label), "votes")
        draw.text((20, y + 14), label, font=font(16), fill="black")
        draw.rectangle(
            [left, y + 8, max(left + 2, x_of(row["rps"])), y + row_h - 16], fill=colours[kind]
        )
        note = f"{row['rps']:,.0f}/s   p50 {row['p50_ms']:.0f} ms · p99 {row['p99_ms']:.0f} ms"
        if row["errors"]:
            note += f" · {row['errors']} errors"
        text_x = x_of(row["rps"]) + 8
        if text_x + 330 > width:
            text_x = x_of(row["rps"]) - 340
            draw.text((text_x, y + 16), note, font=font(15, True), fill="white")
        else:
            draw.text((text_x, y + 16), note, font=font(15), fill="black")
    x = x_of(TARGET_VOTES_PER_SECOND)
    for y in range(top - 12, top + row_h * len(rows), 10):
        draw.line([(x, y), (x, y + 5)], fill=(220, 38, 38), width=2)
    label = f"target {TARGET_VOTES_PER_SECOND:,} votes/s"
    label_x = x + 4
    if label_x + draw.textlength(label, font=font(13)) > width - 4:
        label_x = x - 4 - draw.textlength(label, font=font(13))
    draw.text((label_x, top - 30), label, font=font(13), fill=(220, 38, 38))
    image.save(path)


# Main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds before each")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=200_000,
        help="per-phase bound on requests (the phase also stops at --duration)",
    )
    parser.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}"
    )
    parser.add_argument(
        "--gunicorn-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="extra gunicorn argument for experiments, e.g. --gunicorn-arg=--threads=4",
    )
    parser.add_argument(
        "--settings",
        default="broadsheet.settings.production",
        help="settings module for the server (experiments only: one that imports production "
        "and changes one thing; put its folder on PYTHONPATH)",
    )
    parser.add_argument("--peer-url", help="a running peer's article on loopback to measure too")
    parser.add_argument(
        "--depth",
        type=int,
        default=20,
        help="challenges each comment client keeps waiting (bounds comments/s at "
        "clients * depth / 3 s)",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each phase, wait up to this many seconds for other work on the machine "
        "to drop under 0.3 cores",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary var dir")
    parser.add_argument("--pause", type=float, default=2, help="seconds between phases")
    args = parser.parse_args(argv)
    args.phases = [p.strip() for p in args.phases.split(",") if p.strip()]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        parser.error(f"unknown phases: {', '.join(sorted(unknown))}")
    return args


def worker_class(extra: list[str]) -> str:
    text = " ".join(extra)
    match = re.search(r"(?:--worker-class|-k)[= ](\S+)", text)
    if match:
        return match.group(1)
    return "gthread" if re.search(r"--threads[= ]([2-9]|\d\d)", text) else "sync"


SOCKET_ERRORS = ("connect", "read", "write", "timeout")


class Run:
    """One benchmark run: the server, the options, and the results as they accumulate."""

    def __init__(self, args: argparse.Namespace, server: Server, stories: dict, results: dict):
        self.args, self.server, self.stories, self.results = args, server, stories, results
        self.phases, self.checks = results["phases"], results["verification"]

    def quiet(self) -> None:
        wait_for_quiet(self.server, limit=0.3, patience=self.args.quiet_wait)

    def wrk(self, label: str, **options) -> list[dict]:
        """A warm-up run, then the measured run, of the same wrk load."""
        common = {
            "connections": self.args.clients,
            "threads": self.args.wrk_threads,
            "max_requests": self.args.max_requests,
            "server": self.server,
            "origin": self.server.base_url,
            "work_dir": self.server.var_dir,
        }
        return [
            run_wrk(label=name, duration=seconds, **{**common, **options})
            for name, seconds in (
                (f"{label} warm-up", self.args.warmup),
                (label, self.args.duration),
            )
        ]

    def votes_new(self) -> None:
        story = self.stories["votes"]
        runs = self.wrk(
            "votes-new", url=self.server.base_url + "/", mode="new", story_id=story["id"]
        )
        self.phases["votes-new"] = summarise_wrk(runs[-1], ok={200})
        acknowledged = sum(r["statuses"].get("200", 0) for r in runs)
        in_flight = sum(r["sent"] - r["received"] for r in runs)
        socket_errors = sum(r["errors"][k] for r in runs for k in SOCKET_ERRORS)
        rows = settled_count(
            self.server, "SELECT COUNT(*) FROM engagement_vote WHERE story_id = ?", story["id"]
        )
        exact = rows == acknowledged + in_flight
        self.checks.append(
            {
                "what": "votes from new readers",
                # A request lost to a socket error may or may not have reached the server.
                "ok": exact
                or bool(socket_errors and acknowledged <= rows <= acknowledged + in_flight),
                "detail": f"{rows:,} rows = {acknowledged:,} answered 200 + {in_flight} still "
                "in flight when wrk stopped (the server finished them)"
                + ("" if exact else " -- MISMATCH"),
                "rows": rows,
                "acknowledged": acknowledged,
                "in_flight_at_stop": in_flight,
            }
        )

    def votes_returning(self) -> None:
        story = self.stories["returning"]
        say(f"Creating {self.args.clients} returning readers (one first vote each)...")
        cookies = asyncio.run(
            first_votes(
                self.server,
                story_id=story["id"],
                readers=self.args.clients,
                clients=self.args.clients,
            )
        )
        cookie_file = self.server.var_dir / "reader-cookies.txt"
        cookie_file.write_text("\n".join(cookies) + "\n")
        runs = self.wrk(
            "votes-returning",
            url=self.server.base_url + "/",
            mode="returning",
            story_id=story["id"],
            cookies=cookie_file,
            expect_count=len(cookies),
        )
        self.phases["votes-returning"] = summarise_wrk(runs[-1], ok={200})
        query = "SELECT COUNT(*) FROM engagement_vote WHERE story_id = ?"
        rows = settled_count(self.server, query, story["id"])
        changed = db_count(self.server, query + " AND updated_at > created_at", story["id"])
        bad_tally = sum(r["bad_tally"] for r in runs)
        self.checks.append(
            {
                "what": "votes from returning readers",
                "ok": rows == len(cookies) == changed and bad_tally == 0,
                "detail": f"{rows} rows for {len(cookies)} readers (no duplicates), {changed} "
                f"changed during the run; {bad_tally} answers reported a tally other than "
                "the number of readers",
                "rows": rows,
                "readers": len(cookies),
                "changed": changed,
                "bad_tally_answers": bad_tally,
            }
        )

    def comments(self) -> None:
        story = self.stories["comments"]
        outcome = asyncio.run(
            comment_load(
                self.server,
                story_id=story["id"],
                clients=self.args.clients,
                depth=self.args.depth,
                settle=self.args.warmup,
                duration=self.args.duration,
                max_posts=self.args.max_requests,
            )
        )
        self.phases["comments"] = outcome.pop("posts")
        self.phases["comments-state"] = outcome.pop("state")
        self.results["comments_detail"] = outcome
        query = "SELECT COUNT(*) FROM engagement_comment WHERE story_id = ?"
        rows = settled_count(self.server, query, story["id"])
        published = db_count(self.server, query + " AND status = 'published'", story["id"])
        problems = outcome["problems"]
        self.checks.append(
            {
                "what": "comments",
                "ok": rows == outcome["created_total"],
                "detail": f"{rows:,} saved = {outcome['created_total']:,} answered 201 "
                f"({published:,} published, {rows - published:,} held or spam)"
                + (f"; problems: {problems}" if problems else ""),
                "rows": rows,
                "acknowledged": outcome["created_total"],
                "published": published,
            }
        )

    def article(self) -> None:
        url = self.server.base_url + self.stories["votes"]["url"]
        with urllib.request.urlopen(url, timeout=30) as answer:
            page_bytes = len(answer.read())
        runs = self.wrk("article GET", url=url, mode="get")
        self.phases["article"] = summarise_wrk(runs[-1], ok={200})
        self.phases["article"].update(page_bytes=page_bytes, url=self.stories["votes"]["url"])
        peer = running_peer(self.args.peer_url)
        if not peer:
            self.results["peers"] = "none running (see /work/shared/peers), so no ratio"
            return
        time.sleep(self.args.pause)
        runs = self.wrk("peer article GET", url=peer, mode="get", server=None)
        self.phases["peer-article"] = summarise_wrk(runs[-1], ok={200})
        self.phases["peer-article"]["url"] = peer
        self.results["ratios"] = {
            "Broadsheet article GET / stock Wagtail peer article GET (same run)": (
                self.phases["article"]["rps"] / self.phases["peer-article"]["rps"]
            )
        }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if shutil.which("wrk") is None and set(args.phases) - {"comments"}:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")
    # SIGTERM unwinds like Ctrl-C, through the finally below that stops gunicorn.
    signal.signal(signal.SIGTERM, interrupted)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    server = Server(
        workers=args.workers, extra_args=args.gunicorn_arg, keep=args.keep, settings=args.settings
    )
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "clients": args.clients,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "server": {
            "command": " ".join(server.command()),
            "workers": args.workers,
            "worker_class": worker_class(args.gunicorn_arg),
            "settings": args.settings,
            "database": "SQLite (the embedded default), a fresh temporary file",
            "rate_limits": f"votes and comments per address lifted to {LIFTED_LIMIT:,}; "
            "comments per reader per minute (3) kept: every comment is a new reader's",
        },
        "options": vars(args),
        "phases": {},
        "verification": [],
    }
    say(
        "Deliberate rate limits are lifted for this run (they are tested in tests/engagement); "
        "any non-2xx answer counts as an error."
    )
    try:
        stories = server.prepare()
        server.start()
        results["stories"] = stories
        say(
            f"gunicorn at {server.base_url}: master {server.process.pid}, "
            f"workers {server.worker_pids()}; var dir {server.var_dir}"
        )
        run = Run(args, server, stories, results)
        steps = {
            "votes-new": run.votes_new,
            "votes-returning": run.votes_returning,
            "comments": run.comments,
            "article": run.article,
        }
        for index, phase in enumerate(args.phases):
            if index:
                time.sleep(args.pause)
            run.quiet()
            steps[phase]()
    except KeyboardInterrupt:
        say("\nInterrupted: gunicorn stopped, nothing written.")
        return 130
    except Exception:
        if server.process is not None:
            say(f"gunicorn's log (last lines):\n{server.log_tail()}")
        raise
    finally:
        server.stop()

    save_results("engagement", stamp, results, draw=draw_chart, report=print_table)
    return 0 if all(item["ok"] for item in results["verification"]) else 1


if __name__ == "__main__":
    sys.exit(main())
