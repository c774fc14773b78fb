"""How fast, and in how much memory, Broadsheet delivers one daily issue to N subscribers.

Builds a throwaway newsroom once (fresh SQLite database in a temporary folder, production
settings, `migrate` and `seed_demo`), then for each N copies that database, adds N
confirmed subscribers and runs what production runs:

    manage.py send_newsletter --now --date <today>

with Django's SMTP backend pointed at bench/newsletter_sink.py, a loopback SMTP server in
a process of its own that only counts. While the command runs, its resident memory (its
children included) is sampled every 0.2 s against the number of messages the sink has
received so far. Afterwards the sink must hold exactly N messages for N distinct
recipients, exactly the confirmed subscribers, and the database must record N sent.

The goal (from the issue): 100,000 messages in under 5 minutes on this 2-core machine,
peak memory under 300 MB, memory flat in N.

Prints a progress bar on stderr and a table on stdout; writes
bench/results/newsletter-<timestamp>.json and .png (memory against messages sent, one
line per N, and messages sent over time).

    .venv/bin/python bench/newsletter_send.py                    # 100,000 subscribers
    .venv/bin/python bench/newsletter_send.py --scaling          # 10k, 30k, 100k
    .venv/bin/python bench/newsletter_send.py --compare-sinks    # the sink's own cost
"""

import argparse
import contextlib
import datetime as dt
import json
import os
import platform
import pstats
import secrets
import shutil
import signal
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from common import (
    BENCH_DIR,
    PROJECT_DIR,
    RESULTS_DIR,
    Progress,
    chart_font,
    interrupted,
    machine_busy_seconds,
    own_cpu_seconds,
    process_rss,
    run_python,
    say,
    wait_for_quiet,
)

SINK = BENCH_DIR / "newsletter_sink.py"
SCRIPT = Path(__file__).resolve()

GOAL_MESSAGES = 100_000
GOAL_SECONDS = 300
GOAL_PEAK_MB = 300
SCALING_SIZES = (10_000, 30_000, 100_000)
# "Flat in N": the peak at the largest N is within this much of the peak at the smallest.
FLAT_SHARE, FLAT_MB = 0.10, 10
SAMPLE_SECONDS = 0.2
MB = 1024 * 1024
EMAIL_DOMAIN = "bench.example.org"


# The newsroom ---------------------------------------------------------------------------


class Newsroom:
    """A throwaway newsroom: one seeded template database, copied fresh for every run.

    Every copy shares one BROADSHEET_VAR_DIR, so the demo photos (and the renditions the
    issue's email points at) are on disk for each of them.
    """

    def __init__(self, *, keep: bool):
        self.dir = Path(tempfile.mkdtemp(prefix="broadsheet-newsletter-bench-"))
        self.keep = keep
        self.template = self.dir / "template.sqlite3"
        self.env = {
            key: value
            for key, value in os.environ.items()
            # Production settings with the embedded defaults, and mail set per run below.
            if key not in {"DATABASE_URL", "REDIS_URL", "TASK_BACKEND", "DEBUG", "STATIC_ROOT"}
            and key not in {"MEDIA_ROOT", "CONN_MAX_AGE", "DJANGO_SETTINGS_MODULE"}
            and not key.startswith("EMAIL_")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="broadsheet.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            HTTPS="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BROADSHEET_VAR_DIR=str(self.dir),
            PYTHONUNBUFFERED="1",
        )

    def env_for(self, database: Path, **extra: str) -> dict:
        return {**self.env, "DATABASE_URL": f"sqlite:///{database}", **extra}

    def run(self, database: Path, *args: str) -> str:
        return run_python(*args, env=self.env_for(database))

    def prepare(self) -> None:
        bar = Progress("Preparing the newsroom", 2, "steps")
        bar.update(0, "migrate")
        self.run(self.template, "manage.py", "migrate", "--no-input", "-v0")
        bar.update(1, "seed_demo")
        self.run(self.template, "manage.py", "seed_demo")
        with contextlib.closing(sqlite3.connect(self.template)) as db:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        bar.finish(str(self.dir))

    def database_with(self, subscribers: int) -> tuple[Path, dict]:
        """A fresh copy of the template with `subscribers` confirmed subscribers added."""
        database = self.dir / f"run-{subscribers}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        with (
            contextlib.closing(sqlite3.connect(self.template)) as source,
            contextlib.closing(sqlite3.connect(database)) as copy,
        ):
            source.backup(copy)
        say(f"Bringing confirmed subscribers up to {subscribers:,}...")
        output = self.run(database, str(SCRIPT), "--seed-subscribers", str(subscribers))
        seeded = json.loads(output.strip().splitlines()[-1])
        return database, seeded

    def remove(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def seed_subscribers(count: int) -> None:
    """Run inside the newsroom's environment: bring the confirmed subscribers up to
    `count` (the demo has some already), quickly, and make sure today's issue exists.
    Prints one JSON line."""
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from broadsheet.newsletter.models import DailyIssue, Subscriber

    started = time.monotonic()
    now = timezone.now()
    confirmed = Subscriber.objects.filter(status=Subscriber.Status.CONFIRMED)
    already = confirmed.count()
    if already > count:
        sys.exit(f"the demo already has {already} confirmed subscribers: ask for more")
    chunk = 5_000
    with transaction.atomic():
        for first in range(already, count, chunk):
            Subscriber.objects.bulk_create(
                Subscriber(
                    email=f"reader{n:07d}@{EMAIL_DOMAIN}",
                    status=Subscriber.Status.CONFIRMED,
                    confirmed_at=now,
                )
                for n in range(first, min(first + chunk, count))
            )
    issue, _ = DailyIssue.objects.get_or_create(date=timezone.localdate())
    print(
        json.dumps(
            {
                "from_demo": already,
                "added": count - already,
                "confirmed": confirmed.count(),
                "seconds": round(time.monotonic() - started, 2),
                "date": issue.date.isoformat(),
            }
        )
    )


def read_only(database: Path) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    db.execute("PRAGMA busy_timeout = 20000")
    return db


def confirmed_addresses(database: Path) -> set[str]:
    with contextlib.closing(read_only(database)) as db:
        rows = db.execute("SELECT email FROM newsletter_subscriber WHERE status = 'confirmed'")
        return {email.lower() for (email,) in rows}


def delivery_record(database: Path, date: str) -> dict:
    with contextlib.closing(read_only(database)) as db:
        issue = db.execute(
            "SELECT id, status, status_detail FROM newsletter_dailyissue WHERE date = ?", (date,)
        ).fetchone()
        if issue is None:
            return {"issue": None, "deliveries": {}}
        statuses = dict(
            db.execute(
                "SELECT status, COUNT(*) FROM newsletter_delivery WHERE issue_id = ? "
                "GROUP BY status",
                (issue[0],),
            ).fetchall()
        )
        return {"issue_status": issue[1], "issue_detail": issue[2], "deliveries": statuses}


# The sink -------------------------------------------------------------------------------


class Sink:
    """bench/newsletter_sink.py in its own process; `count` follows its COUNT lines."""

    def __init__(self, *, impl: str, work_dir: Path, label: str, reply_delay_ms: float = 0.0):
        self.recipients_file = work_dir / f"recipients-{label}.txt"
        self.sample_dir = work_dir / f"sample-{label}"
        self.sample_dir.mkdir(exist_ok=True)
        self.count = 0
        self.summary: dict | None = None
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(SINK),
                "--impl",
                impl,
                "--recipients-file",
                str(self.recipients_file),
                "--sample-dir",
                str(self.sample_dir),
                "--reply-delay-ms",
                str(reply_delay_ms),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        ready = self.process.stdout.readline().split()
        if not ready or ready[0] != "READY":
            self.stop()
            raise RuntimeError(f"the sink did not start: {ready}")
        self.port = int(ready[1])
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            kind, _, rest = line.partition(" ")
            if kind == "COUNT":
                self.count = int(rest)
            elif kind == "DONE":
                self.summary = json.loads(rest)

    def cpu_seconds(self) -> float:
        with contextlib.suppress(psutil.Error):
            times = psutil.Process(self.process.pid).cpu_times()
            return times.user + times.system
        return 0.0

    def settle(self, timeout: float = 10) -> None:
        """Wait until the count stops moving (the last replies may still be in flight)."""
        previous, since = -1, time.monotonic()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count != previous:
                previous, since = self.count, time.monotonic()
            elif time.monotonic() - since > 0.5:
                return
            time.sleep(0.1)

    def stop(self) -> dict:
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        if hasattr(self, "reader"):
            self.reader.join(timeout=5)
        return self.summary or {}


# One send -------------------------------------------------------------------------------


def send_once(
    newsroom: Newsroom, *, subscribers: int, args: argparse.Namespace, stamp: str
) -> dict:
    database, seeded = newsroom.database_with(subscribers)
    expected = confirmed_addresses(database)
    label = str(subscribers)
    wait_for_quiet(limit=0.3, patience=args.quiet_wait)
    sink = Sink(impl=args.sink, work_dir=newsroom.dir, label=label, reply_delay_ms=args.relay_ms)
    command = ["manage.py", "send_newsletter", "--now", "--date", seeded["date"]]
    profile_path = newsroom.dir / f"profile-{label}.prof"
    if args.profile:
        command = ["-m", "cProfile", "-o", str(profile_path), *command]
    stdout_path = newsroom.dir / f"send-{label}.out"
    stderr_path = newsroom.dir / f"send-{label}.err"
    env = newsroom.env_for(
        database,
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(sink.port),
        **dict(item.split("=", 1) for item in args.sender_env),
    )
    samples: list[tuple[float, float, int]] = []  # seconds, RSS MB, messages at the sink
    stop_sampling = threading.Event()
    busy_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    sink_cpu_before = sink.cpu_seconds()
    started = time.monotonic()
    started_wall = time.time()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        sender = subprocess.Popen(
            [sys.executable, *command],
            cwd=PROJECT_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
    watched = psutil.Process(sender.pid)
    bar = Progress(f"Sending to {subscribers:,}", subscribers, "messages")

    def sample() -> None:
        while not stop_sampling.is_set():
            with contextlib.suppress(psutil.Error):
                rss = process_rss(watched) / MB
                samples.append((time.monotonic() - started, rss, sink.count))
                bar.update(sink.count, f"{rss:6.0f} MB RSS")
            stop_sampling.wait(SAMPLE_SECONDS)

    def time_out() -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sender.pid, signal.SIGKILL)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timer = threading.Timer(args.timeout, time_out)
    timer.start()
    try:
        # wait4, not Popen.wait: the kernel's own high-water mark of the sender's memory
        # comes with it, a check on the 0.2 s samples (which can miss a short spike).
        _, status, usage = os.wait4(sender.pid, 0)
        sender.returncode = os.waitstatus_to_exitcode(status)
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(sender.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(sender.pid, 0)
        sink.stop()
        raise
    finally:
        timer.cancel()
        stop_sampling.set()
        sampler.join()
    seconds = time.monotonic() - started
    timed_out = seconds >= args.timeout
    sink.settle()
    sink_cpu = sink.cpu_seconds() - sink_cpu_before
    busy = machine_busy_seconds() - busy_before
    own = own_cpu_seconds() - own_before
    tally = sink.stop()
    bar.finish(f"exit {sender.returncode} after {seconds:.1f} s")

    sender_cpu = usage.ru_utime + usage.ru_stime
    received = set(sink.recipients_file.read_text().split()) if tally else set()
    record = delivery_record(database, seeded["date"])
    messages = tally.get("messages", 0)
    first_at = tally.get("first_message_at") or started_wall
    last_at = tally.get("last_message_at") or started_wall
    sending_seconds = max(last_at - first_at, 1e-6)
    peak_sampled = max((rss for _, rss, _ in samples), default=0.0)
    result = {
        "subscribers": subscribers,
        "confirmed_in_database": len(expected),
        "seed_seconds": seeded["seconds"],
        "date": seeded["date"],
        "command": " ".join(["python", *command]),
        "exit_code": sender.returncode,
        "timed_out": timed_out,
        "profiled": bool(args.profile),
        "experiment": args.sender_env
        + ([f"relay {args.relay_ms:g} ms away"] if args.relay_ms else []),
        "seconds": round(seconds, 2),
        "seconds_to_first_message": round(first_at - started_wall, 2),
        "sending_seconds": round(sending_seconds, 2),
        "messages_per_second": round(messages / seconds, 1),
        "messages_per_second_while_sending": round(messages / sending_seconds, 1),
        "peak_rss_mb": round(peak_sampled, 1),
        "peak_rss_kernel_mb": round(usage.ru_maxrss / 1024, 1),
        "rss_growth": rss_growth(samples, subscribers),
        "sender_cpu_seconds": round(sender_cpu, 1),
        "sender_cores": round(sender_cpu / seconds, 2),
        "sink_cpu_seconds": round(sink_cpu, 1),
        "other_cores": round(max(0.0, busy - sender_cpu - sink_cpu - own) / seconds, 2),
        "average_message_bytes": round(tally.get("bytes", 0) / messages) if messages else 0,
        "sink": {key: value for key, value in tally.items() if not key.endswith("_at")},
        "database": record,
        "stdout_tail": tail(stdout_path, 15),
        "stderr_tail": tail(stderr_path, 15),
        "samples": [(round(t, 2), round(rss, 1), n) for t, rss, n in samples],
    }
    result["checks"] = checks(result, expected=expected, received=received, tally=tally)
    if args.profile and profile_path.exists():
        result["profile"] = summarise_profile(profile_path, stamp=stamp, label=label)
    if sender.returncode:
        say(f"send_newsletter exited {sender.returncode}; its stderr ends:\n" + tail(stderr_path))
    return result


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        text = path.read_bytes().decode("utf-8", "replace")
        # A progress bar redraws with carriage returns: keep the last state of each line.
        return "\n".join(line.rsplit("\r", 1)[-1] for line in text.splitlines()[-lines:])
    return ""


def rss_growth(samples: list[tuple[float, float, int]], total: int) -> dict:
    """How memory moved while messages went out: a least-squares slope of RSS against
    messages sent, over the part of the run after the first 10% (start-up excluded)."""
    points = [(n, rss) for _, rss, n in samples if total and n >= total * 0.1]
    if len(points) < 3 or points[-1][0] == points[0][0]:
        return {"mb_per_10k_messages": None, "from_mb": None, "to_mb": None}
    mean_n = sum(n for n, _ in points) / len(points)
    mean_rss = sum(r for _, r in points) / len(points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    slope = sum((n - mean_n) * (r - mean_rss) for n, r in points) / spread
    return {
        "mb_per_10k_messages": round(slope * 10_000, 2),
        "from_mb": round(points[0][1], 1),
        "to_mb": round(points[-1][1], 1),
    }


def checks(result: dict, *, expected: set[str], received: set[str], tally: dict) -> list[dict]:
    n = len(expected)
    sent = result["database"]["deliveries"].get("sent", 0)
    missing, extra = len(expected - received), len(received - expected)
    return [
        {
            "what": "send_newsletter exited cleanly",
            "ok": result["exit_code"] == 0 and not result["timed_out"],
            "detail": f"exit status {result['exit_code']}"
            + (" (killed: --timeout reached)" if result["timed_out"] else ""),
        },
        {
            "what": "the sink received one message per confirmed subscriber",
            "ok": tally.get("messages") == n
            and tally.get("distinct_recipients") == n
            and tally.get("multi_recipient_messages") == 0,
            "detail": f"{tally.get('messages', 0):,} messages, "
            f"{tally.get('distinct_recipients', 0):,} distinct recipients, "
            f"{tally.get('multi_recipient_messages', 0)} messages with more than one, "
            f"{tally.get('recipients_with_more_than_one_message', 0)} recipients with more "
            f"than one message; {n:,} confirmed subscribers",
        },
        {
            "what": "the recipients are exactly the confirmed subscribers",
            "ok": not missing and not extra,
            "detail": f"{missing:,} subscribers got nothing, {extra:,} addresses that are not "
            "confirmed subscribers got mail",
        },
        {
            "what": "the database records every delivery as sent",
            "ok": sent == n,
            "detail": f"deliveries by status {result['database']['deliveries']}; issue "
            f"{result['database'].get('issue_status')!r} "
            f"{result['database'].get('issue_detail') or ''}".rstrip(),
        },
    ]


def summarise_profile(path: Path, *, stamp: str, label: str) -> dict:
    """The profile's top functions, written beside the results and kept in the JSON."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text_path = RESULTS_DIR / f"newsletter-{stamp}-profile-{label}.txt"
    shutil.copy(path, RESULTS_DIR / f"newsletter-{stamp}-profile-{label}.prof")
    with text_path.open("w") as out:
        stats = pstats.Stats(str(path), stream=out).strip_dirs()
        for order in ("tottime", "cumulative"):
            out.write(f"\n=== by {order} ===\n")
            stats.sort_stats(order).print_stats(40)
    stats = pstats.Stats(str(path)).strip_dirs().sort_stats("tottime")
    total = stats.total_tt
    top = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in sorted(
        stats.stats.items(), key=lambda item: -item[1][2]
    )[:25]:
        top.append(
            {
                "function": f"{filename}:{line}({function})",
                "calls": calls,
                "tottime_s": round(tottime, 2),
                "share": round(tottime / total, 3) if total else 0,
                "cumtime_s": round(cumtime, 2),
            }
        )
    return {"total_seconds": round(total, 1), "text": str(text_path), "top_by_tottime": top}


# Comparing the two sinks --------------------------------------------------------------


def sample_message(size: int) -> bytes:
    """A newsletter-shaped message: plain text and HTML alternatives, about `size` bytes."""
    story = "The council voted on Tuesday to rebuild the harbour library. " * 4
    text = "\r\n".join([story] * max(1, size // 3 // len(story)))
    html = "\r\n".join(f"<p>{story}</p>" for _ in range(max(1, size * 2 // 3 // len(story))))
    return (
        "From: newsroom@broadsheet.invalid\r\nTo: reader@bench.example.org\r\n"
        "Subject: Top stories for Thursday\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        f"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        f"--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n{html}\r\n--b--\r\n"
    ).encode()


def compare_sinks(args: argparse.Namespace) -> dict:
    """Each sink implementation receives the same messages from a bare smtplib client
    over one connection: the client's rate, and the sink's CPU per message."""
    body = sample_message(args.message_bytes)
    work_dir = Path(tempfile.mkdtemp(prefix="broadsheet-sink-compare-"))
    rows = {}
    try:
        for impl in ("raw", "aiosmtpd"):
            wait_for_quiet(limit=0.3, patience=args.quiet_wait)
            sink = Sink(impl=impl, work_dir=work_dir, label=impl)
            bar = Progress(f"sink {impl}", args.messages, "messages")
            cpu_before = sink.cpu_seconds()
            started = time.monotonic()
            try:
                with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as client:
                    for n in range(args.messages):
                        client.sendmail(
                            "newsroom@broadsheet.invalid", [f"reader{n}@{EMAIL_DOMAIN}"], body
                        )
                        if n % 500 == 0:
                            bar.update(n)
                seconds = time.monotonic() - started
                sink.settle()
                cpu = sink.cpu_seconds() - cpu_before
            finally:
                tally = sink.stop()
            bar.finish(f"{args.messages / seconds:,.0f} msg/s")
            rows[impl] = {
                "messages": tally.get("messages"),
                "seconds": round(seconds, 2),
                "client_messages_per_second": round(args.messages / seconds),
                "sink_cpu_seconds": round(cpu, 2),
                "sink_cpu_us_per_message": round(1e6 * cpu / args.messages),
                "sink_cores": round(cpu / seconds, 2),
            }
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    print()
    print(
        f"SMTP sinks: {args.messages:,} messages of {len(body):,} bytes from one smtplib connection"
    )
    header = f"{'sink':10} {'client msg/s':>13} {'sink CPU µs/msg':>16} {'sink cores':>11}"
    print(header)
    print("-" * len(header))
    for impl, row in rows.items():
        print(
            f"{impl:10} {row['client_messages_per_second']:>13,} "
            f"{row['sink_cpu_us_per_message']:>16,} {row['sink_cores']:>11.2f}"
        )
    faster = min(rows, key=lambda impl: rows[impl]["sink_cpu_us_per_message"])
    print(f"Cheaper per message: {faster}.")
    return {"message_bytes": len(body), "sinks": rows, "cheaper": faster}


# Report ---------------------------------------------------------------------------------


def verdicts(runs: list[dict]) -> list[dict]:
    """The issue's three goals, judged from whichever runs can judge them."""
    out = verdicts_of(runs)
    if any(run["experiment"] for run in runs):
        for item in out:
            item["detail"] += " (an experiment, not the product)"
    return out


def verdicts_of(runs: list[dict]) -> list[dict]:
    out = []
    full = [r for r in runs if r["subscribers"] >= GOAL_MESSAGES and not r["profiled"]]
    if full:
        run = full[-1]
        sent = run["sink"].get("messages", 0)
        finished = run["exit_code"] == 0 and sent == run["subscribers"]
        detail = f"{sent:,} in {run['seconds']:.0f} s ({run['messages_per_second']:,.0f} msg/s)"
        if not finished:
            rate = run["messages_per_second"]
            detail = f"did not finish (exit status {run['exit_code']}): {detail}" + (
                f"; all would take about {run['subscribers'] / rate:.0f} s" if rate else ""
            )
        out.append(
            {
                "goal": f"{GOAL_MESSAGES:,} messages in under {GOAL_SECONDS // 60} minutes",
                "ok": finished and run["seconds"] < GOAL_SECONDS,
                "detail": detail,
            }
        )
    elif runs:
        run = max(runs, key=lambda r: r["subscribers"])
        rate = run["messages_per_second"]
        projected = GOAL_MESSAGES / rate if rate else float("inf")
        out.append(
            {
                "goal": f"{GOAL_MESSAGES:,} messages in under {GOAL_SECONDS // 60} minutes",
                "ok": None,
                "detail": f"not run at {GOAL_MESSAGES:,}"
                + (" without the profiler" if run["profiled"] else "")
                + f"; at {rate:,.0f} msg/s it would take about {projected:.0f} s",
            }
        )
    if runs:
        worst = max(runs, key=lambda r: max(r["peak_rss_mb"], r["peak_rss_kernel_mb"]))
        peak = max(worst["peak_rss_mb"], worst["peak_rss_kernel_mb"])
        out.append(
            {
                "goal": f"peak memory under {GOAL_PEAK_MB} MB",
                "ok": peak < GOAL_PEAK_MB,
                "detail": f"highest peak {peak:.0f} MB, at {worst['subscribers']:,} subscribers",
            }
        )
    sizes = sorted({r["subscribers"] for r in runs})
    if len(sizes) > 1:
        small = next(r for r in runs if r["subscribers"] == sizes[0])
        large = next(r for r in runs if r["subscribers"] == sizes[-1])
        grew = large["peak_rss_kernel_mb"] - small["peak_rss_kernel_mb"]
        allowed = max(FLAT_MB, FLAT_SHARE * small["peak_rss_kernel_mb"])
        out.append(
            {
                "goal": "memory flat in N",
                "ok": grew <= allowed,
                "detail": f"peak {small['peak_rss_kernel_mb']:.0f} MB at {sizes[0]:,}, "
                f"{large['peak_rss_kernel_mb']:.0f} MB at {sizes[-1]:,} ({grew:+.0f} MB; "
                f"flat means within {allowed:.0f} MB)",
            }
        )
    elif runs:
        run = runs[0]
        slope = run["rss_growth"]["mb_per_10k_messages"]
        if slope is not None:
            over_run = slope * run["subscribers"] * 0.9 / 10_000
            allowed = max(FLAT_MB, FLAT_SHARE * run["peak_rss_kernel_mb"])
            out.append(
                {
                    "goal": "memory flat in N (within one run; --scaling compares N)",
                    "ok": over_run <= allowed,
                    "detail": f"{slope:+.2f} MB per 10,000 messages after the first 10%, "
                    f"{over_run:+.0f} MB over the run (flat means within {allowed:.0f} MB)",
                }
            )
    return out


def print_table(results: dict) -> None:
    runs = results["runs"]
    print()
    engine = results["engine"]
    print(
        f"Broadsheet newsletter delivery: manage.py send_newsletter, production settings, "
        f"SQLite, Django's SMTP backend to a loopback sink ({results['sink']}), "
        f"{results['machine']['cpus']} CPUs; code at {engine['commit']}"
        + (" with uncommitted newsletter changes" if engine["uncommitted"] else "")
    )
    header = (
        f"{'subscribers':>11} {'msg/s':>7} {'total s':>8} {'to 1st':>7} {'sending':>8} "
        f"{'peak MB':>8} {'kernel':>7} {'MB/10k':>7} {'sender':>7} {'sink':>6} {'other':>6} "
        f"{'msg KB':>7}"
    )
    print(header)
    print("-" * len(header))
    for run in runs:
        slope = run["rss_growth"]["mb_per_10k_messages"]
        print(
            f"{run['subscribers']:>11,} {run['messages_per_second']:>7,.0f} "
            f"{run['seconds']:>8.1f} {run['seconds_to_first_message']:>7.1f} "
            f"{run['sending_seconds']:>8.1f} {run['peak_rss_mb']:>8.0f} "
            f"{run['peak_rss_kernel_mb']:>7.0f} "
            f"{(f'{slope:+.2f}' if slope is not None else '-'):>7} "
            f"{run['sender_cores']:>7.2f} "
            f"{run['sink_cpu_seconds'] / max(run['seconds'], 1e-6):>6.2f} "
            f"{run['other_cores']:>6.2f} {run['average_message_bytes'] / 1024:>7.1f}"
            + ("  (under cProfile)" if run["profiled"] else "")
        )
    if any(run["experiment"] for run in runs):
        print(f"Experiment, not the product's figures: {' '.join(runs[0]['experiment'])}")
    for run in runs:
        if run["sender_cores"] < 0.5 and run["messages_per_second"]:
            print(
                f"At {run['subscribers']:,} the sender was busy only "
                f"{100 * run['sender_cores']:.0f}% of the time: it spent the rest waiting "
                "(on the network, a lock or a timer), not working."
            )
    print(
        "(msg/s: messages / total s, start-up included; to 1st: seconds until the first "
        "message reached the sink;\n sending: first to last message; peak MB: sampled every "
        f"{SAMPLE_SECONDS} s, the command and its children; kernel: its own high-water mark;\n"
        " MB/10k: RSS slope per 10,000 messages after the first 10%; sender / sink / other: "
        "CPU cores kept busy)"
    )
    print()
    print("Checks:")
    for run in runs:
        for item in run["checks"]:
            mark = "ok  " if item["ok"] else "FAIL"
            print(f"  [{mark}] {run['subscribers']:,}: {item['what']}: {item['detail']}")
    print()
    print("Goals:")
    for item in results["goals"]:
        mark = {True: "met ", False: "MISS", None: "?   "}[item["ok"]]
        print(f"  [{mark}] {item['goal']}: {item['detail']}")
    for run in runs:
        if run.get("profile"):
            print()
            print(
                f"Profile at {run['subscribers']:,} (cProfile, {run['profile']['total_seconds']}"
                f" s profiled, wall clock; full listing {run['profile']['text']}):"
            )
            for row in run["profile"]["top_by_tottime"][:15]:
                print(
                    f"  {100 * row['share']:5.1f}%  {row['tottime_s']:7.1f} s  "
                    f"{row['calls']:>9,} calls  {row['function']}"
                )


def draw_chart(results: dict, path: Path) -> None:
    """Two line charts drawn with Pillow: RSS against messages sent, and messages sent
    against time; one line per N."""
    from PIL import Image, ImageDraw

    font = chart_font

    runs = results["runs"]
    colours = [(37, 99, 235), (22, 163, 74), (234, 88, 12), (147, 51, 234), (100, 116, 139)]
    goal_colour = (220, 38, 38)
    width, height = 1100, 1000
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 16), "Broadsheet newsletter delivery", font=font(24, True), fill="black")
    draw.text(
        (20, 52),
        f"manage.py send_newsletter to a loopback SMTP sink ({results['sink']}) · production "
        f"settings, SQLite · {results['machine']['cpus']} CPUs · "
        f"{results['started'][:16].replace('T', ' ')} UTC",
        font=font(15),
        fill=(70, 70, 70),
    )

    def nice_step(span: float, ticks: int = 6) -> float:
        raw = span / ticks
        magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 1
        for step in (1, 2, 2.5, 5, 10):
            if raw <= step * magnitude:
                return step * magnitude
        return 10 * magnitude

    def tick(value: float) -> str:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"

    def panel(top, title, x_label, y_label, lines, x_max, y_max, goal_x=None, goal_y=None):
        left, right, plot_h = 100, 40, 330
        plot_w = width - left - right
        draw.text((20, top), title, font=font(17, True), fill="black")
        draw.text((20, top + 26), y_label, font=font(14), fill=(70, 70, 70))
        top += 56

        def xy(x, y):
            return (left + plot_w * x / x_max, top + plot_h - plot_h * y / y_max)

        for value in frange(nice_step(y_max), y_max):
            y = xy(0, value)[1]
            draw.line([(left, y), (left + plot_w, y)], fill=(232, 232, 232))
            draw.text((left - 8, y - 8), tick(value), font=font(12), fill="gray", anchor="ra")
        for value in frange(nice_step(x_max), x_max):
            x = xy(value, 0)[0]
            draw.line([(x, top), (x, top + plot_h)], fill=(232, 232, 232))
            draw.text((x, top + plot_h + 6), tick(value), font=font(12), fill="gray", anchor="ma")
        draw.rectangle([left, top, left + plot_w, top + plot_h], outline=(160, 160, 160))
        middle = (left + plot_w // 2, top + plot_h + 26)
        draw.text(middle, x_label, font=font(14), fill="black", anchor="ma")
        if goal_y is not None and goal_y <= y_max:
            y = xy(0, goal_y)[1]
            for x in range(left, left + plot_w, 12):
                draw.line([(x, y), (x + 6, y)], fill=goal_colour, width=2)
            draw.text((left + 6, y - 18), f"goal {goal_y:,} MB", font=font(13), fill=goal_colour)
        if goal_x is not None and goal_x <= x_max:
            x = xy(goal_x, 0)[0]
            for y in range(top, top + plot_h, 12):
                draw.line([(x, y), (x, y + 6)], fill=goal_colour, width=2)
            draw.text((x + 4, top + 4), f"goal {goal_x:,} s", font=font(13), fill=goal_colour)
        for index, (label, points) in enumerate(lines):
            colour = colours[index % len(colours)]
            if len(points) > 1:
                draw.line([xy(x, y) for x, y in points], fill=colour, width=3)
            draw.text(
                (left + plot_w - 230, top + 10 + 20 * index),
                f"— {label}",
                font=font(14, True),
                fill=colour,
            )

    label = "{:,} subscribers".format
    rss_lines = [(label(r["subscribers"]), [(n, rss) for _, rss, n in r["samples"]]) for r in runs]
    peak = max([GOAL_PEAK_MB * 1.1, *(r["peak_rss_mb"] for r in runs)])
    biggest = max(n for r in runs for _, _, n in [*r["samples"], (0, 0, r["subscribers"])])
    panel(
        90,
        "Resident memory of the sending process (and its children) as messages go out",
        "messages received by the sink",
        "RSS, MB",
        rss_lines,
        biggest * 1.02,
        peak * 1.08,
        goal_y=GOAL_PEAK_MB,
    )
    time_lines = [(label(r["subscribers"]), [(t, n) for t, _, n in r["samples"]]) for r in runs]
    longest = max(r["seconds"] for r in runs)
    panel(
        530,
        "Messages received by the sink over time (start-up included)",
        "seconds since send_newsletter started",
        "messages",
        time_lines,
        max(longest, GOAL_SECONDS * 1.05 if longest > GOAL_SECONDS * 0.6 else longest) * 1.02,
        biggest * 1.08,
        goal_x=GOAL_SECONDS,
    )
    image.save(path)


def frange(step: float, limit: float):
    value = 0.0
    while value <= limit:
        yield value
        value += step


# Main -----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=GOAL_MESSAGES)
    parser.add_argument(
        "--scaling",
        action="store_true",
        help=f"run at {', '.join(f'{n:,}' for n in SCALING_SIZES)} subscribers and compare "
        "their peak memory",
    )
    parser.add_argument(
        "--sizes",
        help="with --scaling, other comma-separated subscriber counts (e.g. 2000,5000)",
    )
    parser.add_argument(
        "--sink",
        choices=("raw", "aiosmtpd"),
        default="raw",
        help="the sink's implementation (raw is cheaper; see --compare-sinks)",
    )
    parser.add_argument(
        "--relay-ms",
        type=float,
        default=0.0,
        help="raw sink: hold every reply this many ms, as a relay that far away would",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the sender under cProfile (slower: its figures are not the product's)",
    )
    parser.add_argument(
        "--timeout", type=float, default=1200, help="seconds before a send is killed"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each run, wait up to this many seconds for other work on the machine "
        "to drop under 0.3 cores",
    )
    parser.add_argument(
        "--sender-env",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="for experiments only: an extra environment variable for send_newsletter, e.g. "
        "NEWSLETTER_EMAIL_BACKEND=module.Backend with PYTHONPATH=its folder (figures from "
        "such runs are not the product's)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--compare-sinks",
        action="store_true",
        help="only measure the two sink implementations against a bare smtplib client",
    )
    parser.add_argument("--messages", type=int, default=20_000, help="with --compare-sinks")
    parser.add_argument("--message-bytes", type=int, default=30_000, help="with --compare-sinks")
    parser.add_argument("--seed-subscribers", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.scaling:
        args.sizes = (
            [int(s.replace("_", "")) for s in args.sizes.split(",")]
            if args.sizes
            else list(SCALING_SIZES)
        )
    else:
        args.sizes = [args.subscribers]
    return args


def engine_version() -> dict:
    """Which code was measured: the commit, and any uncommitted change to the newsletter."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "uncommitted": git("status", "--short", "--", "broadsheet/newsletter").splitlines(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.seed_subscribers is not None:
        seed_subscribers(args.seed_subscribers)
        return 0
    # SIGTERM unwinds like Ctrl-C, through the finally blocks that stop what was started.
    signal.signal(signal.SIGTERM, interrupted)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    if args.compare_sinks:
        try:
            comparison = compare_sinks(args)
        except KeyboardInterrupt:
            say("\nInterrupted.")
            return 130
        json_path = RESULTS_DIR / f"newsletter-sinks-{stamp}.json"
        json_path.write_text(
            json.dumps({"started": started.isoformat(), "machine": machine, **comparison}, indent=2)
        )
        print(f"\nResults: {json_path.relative_to(PROJECT_DIR)}")
        return 0

    newsroom = Newsroom(keep=args.keep)
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "machine": machine,
        "sink": args.sink,
        "engine": engine_version(),
        "options": vars(args),
        "goals_set": {
            "messages": GOAL_MESSAGES,
            "seconds": GOAL_SECONDS,
            "peak_rss_mb": GOAL_PEAK_MB,
            "flat": f"peak at the largest N within {FLAT_MB} MB or {FLAT_SHARE:.0%} of the "
            "smallest's",
        },
        "runs": [],
    }
    try:
        newsroom.prepare()
        for subscribers in args.sizes:
            results["runs"].append(
                send_once(newsroom, subscribers=subscribers, args=args, stamp=stamp)
            )
    except KeyboardInterrupt:
        say("\nInterrupted: the sender and the sink are stopped, nothing written.")
        return 130
    finally:
        if args.keep:
            say(f"Kept {newsroom.dir}")
        newsroom.remove()

    results["goals"] = verdicts(results["runs"])
    json_path = RESULTS_DIR / f"newsletter-{stamp}.json"
    png_path = RESULTS_DIR / f"newsletter-{stamp}.png"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    draw_chart(results, png_path)
    print_table(results)
    print(f"\nResults: {json_path.relative_to(PROJECT_DIR)}")
    print(f"Chart:   {png_path.relative_to(PROJECT_DIR)}")
    checks_ok = all(item["ok"] for run in results["runs"] for item in run["checks"])
    return 0 if checks_ok else 1


if __name__ == "__main__":
    sys.exit(main())
