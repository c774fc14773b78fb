"""What the benchmarks share: progress on stderr, running a project command, the machine's
CPU time, the charts' font, and stopping cleanly on a signal."""

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"


class Progress:
    """A one-line bar on stderr; milestones only when stderr is not a terminal."""

    def __init__(self, label: str, total: float, unit: str = "s"):
        self.label, self.total, self.unit = label, total, unit
        self.tty = sys.stderr.isatty()
        self.last_quarter = -1
        self.extra = ""

    def update(self, done: float, extra: str = "") -> None:
        done = min(done, self.total)
        self.extra = extra or self.extra
        if self.tty:
            filled = int(30 * done / self.total) if self.total else 30
            sys.stderr.write(
                f"\r{self.label:<26} [{'#' * filled}{'.' * (30 - filled)}] "
                f"{done:5.1f}/{self.total:g} {self.unit} {self.extra:<28}"
            )
            sys.stderr.flush()
        else:
            quarter = int(4 * done / self.total) if self.total else 4
            if quarter > self.last_quarter:
                self.last_quarter = quarter
                sys.stderr.write(f"{self.label}: {25 * quarter}% {self.extra}\n")

    def finish(self, note: str = "") -> None:
        self.update(self.total)
        if self.tty:
            sys.stderr.write(f" {note}\n")
        elif note:
            sys.stderr.write(f"{self.label}: {note}\n")


def say(message: str) -> None:
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


def machine_busy_seconds() -> float:
    """CPU seconds spent by the whole machine, all cores, since boot (from /proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def run_python(*args: str, env: dict) -> str:
    """Run `python <args>` in the project with `env`; its output, or an error with it."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def chart_font(size: int, bold: bool = False):
    """Debian's DejaVu (fonts-dejavu-core, which .ci/run installs), else Pillow's own."""
    from PIL import ImageFont

    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    try:
        return ImageFont.truetype(f"/usr/share/fonts/truetype/dejavu/{name}", size)
    except OSError:
        return ImageFont.load_default(size=size)


def interrupted(signum, frame):
    raise KeyboardInterrupt


def process_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants."""
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):
            total += child.memory_info().rss
    return total


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


def wait_for_quiet(*, limit: float, patience: float) -> float:
    """Wait (up to `patience` s) until the machine uses under `limit` cores; other work
    sharing the two cores skews the figures. Returns the load last seen."""
    deadline = time.monotonic() + patience
    warned = False
    while True:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy < limit or time.monotonic() >= deadline:
            if busy >= limit:
                say(f"  other work on the machine: {busy:.2f} cores (proceeding anyway)")
            return busy
        if not warned:
            say(f"  waiting for other work on the machine to settle ({busy:.2f} cores busy)...")
            warned = True


def save_results(name: str, stamp: str, results: dict, *, draw, report) -> None:
    """Write bench/results/<name>-<stamp>.json and .png (`draw(results, path)`), print the
    report (`report(results)`) and say where both went: what every benchmark ends with."""
    import json

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / f"{name}-{stamp}.json"
    png_path = RESULTS_DIR / f"{name}-{stamp}.png"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    draw(results, png_path)
    report(results)
    print(f"\nResults: {json_path.relative_to(PROJECT_DIR)}")
    print(f"Chart:   {png_path.relative_to(PROJECT_DIR)}")
