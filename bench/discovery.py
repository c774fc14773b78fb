"""Being found, at the size of a real archive: search latency and feed and sitemap
generation time on 100,000 articles, on SQLite and on PostgreSQL.

    .venv/bin/python bench/discovery.py                       # both databases, 100,000
    .venv/bin/python bench/discovery.py --articles 20000 --databases sqlite

For each database it builds a throwaway newsroom (`migrate`, the demo seed), grows it to
`--articles` articles with bench/discovery_archive.py, then times, in one process with
Django's test client and the cache emptied before every request (uncached, as a crawler
or the first reader after a purge meets them): a mix of search queries (p50/p95) and one
of each feed and sitemap (median of `--rounds`). The aim the issue sets is under 100 ms
for search at p95 and for any feed or sitemap page. Prints a table, writes JSON and a PNG
chart to bench/results/. PostgreSQL runs in a cluster of its own on a free loopback port,
stopped afterwards.
"""

import argparse
import datetime as dt
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import PROJECT_DIR, RESULTS_DIR, chart_font, interrupted, say

AIM_MS = 100


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], env: dict, *, capture: bool = False) -> str:
    """A project command; its progress goes straight to stderr, its output is returned."""
    done = subprocess.run(
        args,
        cwd=PROJECT_DIR,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed with {done.returncode}")
    return done.stdout or ""


class Postgres:
    """A cluster of this run's own (scripts/postgres.sh), so a developer's is left alone."""

    def __init__(self, folder: Path):
        self.env = {
            **os.environ,
            "BROADSHEET_PG_PORT": str(free_port()),
            "PGDATA_DIR": str(folder / "postgres"),
        }

    def start(self) -> str:
        run(["scripts/postgres.sh", "start"], self.env)
        return run(["scripts/postgres.sh", "url"], self.env, capture=True).strip()

    def stop(self) -> None:
        subprocess.run(["scripts/postgres.sh", "stop"], cwd=PROJECT_DIR, env=self.env)


def bench_database(vendor: str, *, articles: int, rounds: int, keep: bool) -> dict:
    folder = Path(tempfile.mkdtemp(prefix=f"broadsheet-discovery-{vendor}-"))
    os.chmod(folder, 0o755)  # PostgreSQL runs as its own user when this runs as root
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "broadsheet.settings.dev",
        "BROADSHEET_VAR_DIR": str(folder / "var"),
        "PYTHONUNBUFFERED": "1",
    }
    (folder / "var").mkdir()
    env.pop("DATABASE_URL", None)
    postgres = Postgres(folder) if vendor == "postgresql" else None
    python = sys.executable
    try:
        if postgres:
            say(f"[{vendor}] starting a cluster of its own")
            env["DATABASE_URL"] = postgres.start()
        say(f"[{vendor}] migrate and seed the demo newsroom")
        run([python, "manage.py", "migrate", "-v0"], env)
        run([python, "manage.py", "seed_demo"], env)
        run([python, "bench/discovery_archive.py", "grow", "--articles", str(articles)], env)
        output = run(
            [python, "bench/discovery_archive.py", "measure", "--rounds", str(rounds)],
            env,
            capture=True,
        )
        return json.loads(output.strip().splitlines()[-1])
    finally:
        if postgres:
            postgres.stop()
        if keep:
            say(f"[{vendor}] kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


def print_table(results: dict) -> None:
    runs = results["databases"]
    names = list(next(iter(runs.values()))["outputs"])
    vendors = list(runs)
    width = max(len(n) for n in names) + 2
    print(f"\n{'':<{width}}" + "".join(f"{v:>14}" for v in vendors))
    print(
        f"{'search p50 (ms)':<{width}}"
        + "".join(f"{runs[v]['search']['p50_ms']:>14.1f}" for v in vendors)
    )
    print(
        f"{'search p95 (ms)':<{width}}"
        + "".join(f"{runs[v]['search']['p95_ms']:>14.1f}" for v in vendors)
    )
    for name in names:
        print(
            f"{name + ' (ms)':<{width}}"
            + "".join(f"{runs[v]['outputs'][name]['median_ms']:>14.1f}" for v in vendors)
        )
    for vendor in vendors:
        run_ = runs[vendor]
        worst = max(run_["outputs"].items(), key=lambda item: item[1]["median_ms"])
        verdict = "met" if run_["search"]["p95_ms"] < AIM_MS else "NOT met"
        print(
            f"\n{vendor}: {run_['stories']:,} stories; search p95 "
            f"{run_['search']['p95_ms']:.0f} ms (aim < {AIM_MS} ms: {verdict}); slowest "
            f"output {worst[0]} {worst[1]['median_ms']:.0f} ms "
            f"(aim < {AIM_MS} ms: {'met' if worst[1]['median_ms'] < AIM_MS else 'NOT met'})"
        )
        for failure in run_["failures"]:
            print(f"  not 200: {failure}")


def draw_chart(results: dict, path: Path) -> None:
    """Horizontal bars, one row per output, one bar per database, the aim as a red line."""
    from PIL import Image, ImageDraw

    runs = results["databases"]
    vendors = list(runs)
    first = next(iter(runs.values()))
    rows = [("search p50", "p50"), ("search p95", "p95")] + [(n, n) for n in first["outputs"]]

    def value(vendor: str, key: str) -> float:
        if key in ("p50", "p95"):
            return runs[vendor]["search"][f"{key}_ms"]
        return runs[vendor]["outputs"][key]["median_ms"]

    colours = {"sqlite": (37, 99, 235), "postgresql": (22, 163, 74)}
    top, left, bar_h, gap = 100, 260, 14, 12
    height = top + len(rows) * (bar_h * len(vendors) + gap) + 60
    width = 1000
    biggest = max([AIM_MS * 1.2] + [value(v, k) for v in vendors for _, k in rows])
    scale = (width - left - 60) / biggest
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text(
        (20, 16),
        "Broadsheet: search, feeds and sitemaps, uncached",
        font=chart_font(22, True),
        fill="black",
    )
    draw.text(
        (20, 50),
        f"{first['stories']:,} stories · milliseconds (less is better) · "
        f"{results['started'][:16].replace('T', ' ')} UTC",
        font=chart_font(14),
        fill=(71, 85, 105),
    )
    for index, vendor in enumerate(vendors):
        x = 20 + index * 160
        draw.rectangle((x, 74, x + 12, 86), fill=colours.get(vendor, (100, 116, 139)))
        draw.text((x + 18, 72), vendor, font=chart_font(13), fill="black")
    y = top
    for label, key in rows:
        draw.text((20, y + 2), label, font=chart_font(13), fill="black")
        for vendor in vendors:
            ms = value(vendor, key)
            draw.rectangle((left, y, left + ms * scale, y + bar_h - 2), fill=colours.get(vendor))
            draw.text((left + ms * scale + 6, y), f"{ms:.0f}", font=chart_font(11), fill="black")
            y += bar_h
        y += gap
    aim_x = left + AIM_MS * scale
    draw.line((aim_x, top - 8, aim_x, y), fill=(220, 38, 38), width=2)
    draw.text((aim_x + 4, top - 22), f"aim {AIM_MS} ms", font=chart_font(12), fill=(220, 38, 38))
    image.save(path)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3, help="times each query and page")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--keep", action="store_true", help="keep the newsrooms built")
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, interrupted)
    started = dt.datetime.now(dt.UTC)
    results = {"started": started.isoformat(timespec="seconds"), "articles": args.articles}
    results["databases"] = {
        vendor: bench_database(vendor, articles=args.articles, rounds=args.rounds, keep=args.keep)
        for vendor in args.databases.split(",")
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    (RESULTS_DIR / f"discovery-{stamp}.json").write_text(json.dumps(results, indent=2))
    draw_chart(results, RESULTS_DIR / f"discovery-{stamp}.png")
    print_table(results)
    print(f"\nJSON and chart: bench/results/discovery-{stamp}.json, .png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
