"""How fast, and in how much memory, the wire desk reads agency files and turns them into
articles.

Writes N items (10,000 by default) of fictional agency copy into a temporary folder, in
the shapes of broadsheet/wire/samples.py: NewsML-G2 files of one item and of several,
ninjs, RSS feeds of many entries; English, French, Spanish, German and Arabic; bodies of
8 to 15 paragraphs under a crosshead; a second version of about 5% of the stories, a few
kills, and a few stories with a photo (one JPEG, sent once, named by all of them). Then:

  parse   a child process that imports only broadsheet.wire.parsers reads every file
          into memory, then times `parse()` over them (no disk IO, no Django)
  ingest  a fresh newsroom (production settings, a fresh SQLite database in a temporary
          folder, `migrate`, a home page, a section and one source per format that
          publishes at once) runs what a desk editor runs:

              manage.py ingest <folder>

While each child runs, its resident memory is sampled every 0.2 s. Afterwards the
database is checked against what was sent: one article per story, the latest headline
on each, updates applied, kills down, photos attached.

The goal (from the issue): parsing at 1,000+ items/s and full ingest at 50+ items/s on
this machine, with the memory used reported.

Prints a progress bar on stderr and a table on stdout; writes
bench/results/wire-<timestamp>.json and .png.

    .venv/bin/python bench/wire_ingest.py                   # 10,000 items
    .venv/bin/python bench/wire_ingest.py --items 1000      # a quick run
    .venv/bin/python bench/wire_ingest.py --items 2000 --profile
"""

import argparse
import bisect
import contextlib
import datetime as dt
import gc
import json
import os
import platform
import pstats
import random
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

import psutil
from common import (
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

SCRIPT = Path(__file__).resolve()

GOAL_ITEMS = 10_000
GOAL_PARSE_PER_SECOND = 1_000
GOAL_INGEST_PER_SECOND = 50
SAMPLE_SECONDS = 0.2
TRACED_PER_SHAPE = 50  # files of each shape parsed again under tracemalloc, largest first
MB = 1024 * 1024
SEED = 20261202

PHOTO_NAME = "bench-photo.jpg"
AGENCY_NAME = "Fictional Press"
SOURCE_FORMATS = ("newsml-g2", "ninjs", "rss")
PICTURE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".webp")  # as manage.py ingest sorts

# The shapes of file the wire sends, as a share of the stories, and stories per file.
SHAPES = {
    "g2": {"share": 0.35, "per_file": (1, 1), "label": "NewsML-G2, one item"},
    "g2m": {"share": 0.15, "per_file": (2, 6), "label": "NewsML-G2, several items"},
    "ninjs": {"share": 0.20, "per_file": (1, 1), "label": "ninjs"},
    "rss": {"share": 0.30, "per_file": (10, 40), "label": "RSS feed"},
}
UPDATE_SHARE = 0.05  # of the stories, a second version
KILL_SHARE = 0.005
PICTURE_SHARE = 0.01


# The copy -------------------------------------------------------------------------------

# Per language: headline parts (who, what, where) and sentences for the bodies. RSS
# feeds are English (the sample feed says <language>en</language>).
COPY = {
    "en": {
        "weight": 0.60,
        "who": [
            "Harbour board", "City council", "Central bank", "Rail operator", "Health ministry",
            "Port workers", "Teachers' union", "Regional airline", "Water company", "Coalition",
            "Museum trustees", "Fishing fleet", "Energy regulator", "University", "Police",
            "Transport authority", "Hospital trust", "Farmers", "Parliament", "Chief minister",
        ],
        "what": [
            "backs a year-long ferry trial", "holds rates for a third month",
            "adds winter routes", "delays the new budget", "approves quay extension",
            "orders twelve cleaner vessels", "ends strike after overnight talks",
            "opens new research centre", "warns of a hard winter", "cuts evening services",
            "names a new chief executive", "wins its appeal", "plans 400 new homes",
            "scraps the toll on the old bridge", "reports best catch in a decade",
            "calls for an inquiry", "returns bronze to its home city", "trials contactless tickets",
        ],
        "where": [
            "ROTTERDAM", "DUBLIN", "LISBON", "OSLO", "GLASGOW", "CARDIFF", "HALIFAX", "HOBART",
            "BERGEN", "ABERDEEN", "CORK", "PLYMOUTH", "GDANSK", "TALLINN", "DUNDEE", "BELFAST",
        ],
        "sentences": [
            "Officials said the decision followed weeks of talks with residents and businesses.",
            "Critics said the measures did not go far enough and came too late for many.",
            "The announcement was welcomed by business groups, who had pressed for it.",
            "A spokesperson declined to comment on the details before the board meets again.",
            "Further details are expected later in the week, once the figures are published.",
            "Local residents described the mood at the meeting as calm but impatient.",
            "The plan would cost about 40 million over five years, according to the report.",
            "Opposition members said they would ask for the decision to be reviewed.",
            "The committee will hear evidence from both sides at a public session next month.",
            "Passenger numbers have fallen by a fifth since the service was cut back.",
            "The union said its members would accept the offer if the timetable stayed as it is.",
            "Engineers are due to inspect the site before any work can begin.",
            "The council's own consultation found most respondents in favour of the change.",
            "Ministers have said they will not intervene while talks continue.",
        ],
        "crossheads": ["What happens next", "Money and the timetable", "Residents divided"],
    },
    "fr": {
        "weight": 0.12,
        "who": ["Le gouvernement", "La mairie", "Le syndicat des cheminots", "La banque centrale",
                "Le parlement", "La région", "Le conseil municipal", "Les contrôleurs aériens"],
        "what": ["présente son budget rectificatif", "annonce une grève ce week-end",
                 "maintient ses taux", "adopte la réforme du rail", "ouvre une consultation",
                 "renonce au péage du vieux pont", "promet 400 logements"],
        "where": ["PARIS", "LYON", "MARSEILLE", "BORDEAUX", "LILLE", "NANTES", "STRASBOURG"],
        "sentences": [
            "Les responsables ont salué un accord équilibré après des semaines de discussions.",
            "Les syndicats restent prudents et attendent le détail des mesures.",
            "L'opposition a dénoncé un texte adopté dans la précipitation.",
            "Le coût du projet est estimé à quarante millions d'euros sur cinq ans.",
            "Les habitants seront consultés lors d'une réunion publique le mois prochain.",
            "Le ministre a refusé de commenter avant la fin des négociations.",
            "Les premiers travaux pourraient commencer au printemps.",
        ],
        "crossheads": ["Et maintenant", "Un budget serré"],
    },
    "es": {
        "weight": 0.10,
        "who": ["El Gobierno", "El ayuntamiento", "El banco central", "Los sindicatos",
                "La compañía ferroviaria", "El parlamento regional", "Los agricultores"],
        "what": ["aprueba la ley de vivienda", "convoca una huelga general", "mantiene los tipos",
                 "anuncia nuevas rutas de invierno", "recurre la sentencia", "cierra el puerto"],
        "where": ["MADRID", "BILBAO", "SEVILLA", "VALENCIA", "BARCELONA", "ZARAGOZA"],
        "sentences": [
            "Las autoridades pidieron calma a la población tras el anuncio.",
            "La oposición criticó la medida y pidió más tiempo para estudiarla.",
            "El proyecto costará unos cuarenta millones de euros en cinco años.",
            "Los vecinos podrán presentar alegaciones hasta el mes que viene.",
            "Fuentes del ministerio evitaron dar más detalles sobre el calendario.",
            "Los primeros trabajos podrían comenzar en primavera.",
        ],
        "crossheads": ["Lo que viene", "Cifras y plazos"],
    },
    "de": {
        "weight": 0.08,
        "who": ["Die Bundesregierung", "Der Stadtrat", "Die Bahn", "Die Gewerkschaft",
                "Die Zentralbank", "Der Landtag", "Die Hafenbehörde"],
        "what": ["beschließt den Nachtragshaushalt", "kündigt Warnstreiks an",
                 "hält den Leitzins stabil", "plant neue Winterfahrpläne",
                 "verschiebt die Entscheidung", "baut den Kai aus"],
        "where": ["BERLIN", "HAMBURG", "MÜNCHEN", "KÖLN", "BREMEN", "LEIPZIG"],
        "sentences": [
            "Die Verantwortlichen sprachen von einem ausgewogenen Kompromiss.",
            "Kritiker bemängelten, die Maßnahmen kämen zu spät.",
            "Das Projekt soll in fünf Jahren rund vierzig Millionen Euro kosten.",
            "Die Anwohner können bis zum nächsten Monat Einwände erheben.",
            "Ein Sprecher wollte sich vor der nächsten Sitzung nicht äußern.",
            "Die ersten Arbeiten könnten im Frühjahr beginnen.",
        ],
        "crossheads": ["Wie es weitergeht", "Geld und Fahrplan"],
    },
    "ar": {
        "weight": 0.10,
        "who": ["مجلس النواب", "وزارة الصحة", "البنك المركزي", "بلدية المدينة", "اتحاد الكرة",
                "الحكومة", "نقابة المعلمين", "هيئة الموانئ"],
        "what": ["يقر موازنة العام المقبل", "يعلن خطة جديدة للنقل", "يبقي أسعار الفائدة",
                 "يفتتح معرض الكتاب الدولي", "يؤجل الانتخابات المحلية", "يوسع الرصيف الجديد"],
        "where": ["بيروت", "عمّان", "القاهرة", "تونس", "الرباط", "الدوحة"],
        "sentences": [
            "وقال مسؤولون إن القرار جاء بعد أسابيع من المحادثات مع السكان.",
            "ورحبت الأوساط الاقتصادية بالخطوة التي طال انتظارها.",
            "وانتقدت المعارضة الإجراءات وقالت إنها لا تكفي.",
            "وتقدر كلفة المشروع بنحو أربعين مليون دولار على خمس سنوات.",
            "ومن المتوقع الإعلان عن مزيد من التفاصيل في وقت لاحق هذا الأسبوع.",
            "ورفض متحدث التعليق قبل اجتماع المجلس المقبل.",
        ],
        "crossheads": ["ماذا بعد", "الأرقام والمواعيد"],
    },
}  # fmt: skip


def headline(rng: random.Random, language: str) -> tuple[str, str]:
    """A headline and the dateline's place, in `language`."""
    copy = COPY[language]
    place = rng.choice(copy["where"])
    text = f"{rng.choice(copy['who'])} {rng.choice(copy['what'])}"
    return text, place


def paragraphs(rng: random.Random, language: str, place: str) -> list[str]:
    """8 to 15 paragraphs of two to four sentences; the first carries the dateline."""
    sentences = COPY[language]["sentences"]
    out = [" ".join(rng.sample(sentences, rng.randint(2, 4))) for _ in range(rng.randint(8, 15))]
    out[0] = f"{place.title() if language != 'ar' else place} — {out[0]}"
    return out


# Writing the wire ---------------------------------------------------------------------


def generate(folder: Path, *, items: int, seed: int) -> dict:
    """Write `items` items of agency copy under `folder`; returns the manifest: what
    every file holds and what the newsroom must look like once they are ingested.

    First versions go under 1-first/, second versions under 2-updates/ and kills under
    3-kills/, so that `manage.py ingest` (which reads a folder in name order, pictures
    first) meets every version after the one it replaces, as a desk receives them.
    """
    sys.path.insert(0, str(PROJECT_DIR))
    from broadsheet.wire.samples import Story, newsml_g2, ninjs, photo_bytes, rss

    rng = random.Random(seed)
    updates = round(items * UPDATE_SHARE / (1 + UPDATE_SHARE + KILL_SHARE))
    kills = max(2, round(items * KILL_SHARE))
    g2_pictured = max(1, round(items * PICTURE_SHARE / 3))
    other_pictured = max(2, round(items * PICTURE_SHARE * 2 / 3))
    # A pictured NewsML-G2 story is three items: the text, the picture and a package.
    story_count = items - updates - kills - 2 * g2_pictured
    if story_count < 50:
        sys.exit("--items: at least 100, so that every shape of file is present")

    # Lay the stories out in files, in the order a morning's wire brings them.
    names = list(SHAPES)
    per_file_mean = {n: sum(SHAPES[n]["per_file"]) / 2 for n in names}
    file_weights = [SHAPES[n]["share"] / per_file_mean[n] for n in names]
    layout: list[tuple[str, list[int]]] = []
    next_story = 0
    while next_story < story_count:
        shape = rng.choices(names, weights=file_weights)[0]
        size = min(rng.randint(*SHAPES[shape]["per_file"]), story_count - next_story)
        layout.append((shape, list(range(next_story, next_story + size))))
        next_story += size

    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=1)
    shape_of: dict[int, str] = {}
    stories: list = []
    languages = list(COPY)
    weights = [COPY[code]["weight"] for code in languages]
    for shape, members in layout:
        for n in members:
            shape_of[n] = shape
            language = "en" if shape == "rss" else rng.choices(languages, weights=weights)[0]
            text, place = headline(rng, language)
            guid = (
                f"https://press.example/stories/{n:06d}"
                if shape == "rss"
                else f"urn:newsml:press.example:2026:{n:06d}"
            )
            stories.append(
                Story(
                    guid=guid,
                    headline=text,
                    paragraphs=paragraphs(rng, language, place),
                    sent=base + dt.timedelta(seconds=4 * n),
                    standfirst=rng.choice(COPY[language]["sentences"]),
                    byline="By a staff correspondent" if language == "en" else "",
                    dateline=place,
                    language=language,
                    provider=AGENCY_NAME,
                    subjects=[
                        rng.choice(["medtop:04000000", "medtop:11000000", "medtop:06000000"])
                    ],
                    keywords=[f"desk-{language}"],
                    crosshead=rng.choice(COPY[language]["crossheads"]),
                )
            )

    # Which stories get a photo, a second version, a kill: never two of these at once.
    by_shape: dict[str, list[int]] = {name: [] for name in names}
    for n, shape in shape_of.items():
        by_shape[shape].append(n)
    pictured_g2 = set(rng.sample(by_shape["g2"], min(g2_pictured, len(by_shape["g2"]))))
    others = by_shape["ninjs"] + by_shape["rss"]
    pictured_other = set(rng.sample(others, min(other_pictured, len(others))))
    pictured = pictured_g2 | pictured_other
    versioned = [n for n in range(story_count) if shape_of[n] != "rss" and n not in pictured]
    chosen = rng.sample(versioned, updates + kills)
    updated, killed = sorted(chosen[:updates]), sorted(chosen[updates:])
    for n in pictured:
        stories[n].picture = PHOTO_NAME
        stories[n].caption = f"{stories[n].headline} (file picture)"

    first, later, kill_dir = folder / "1-first", folder / "2-updates", folder / "3-kills"
    for path in (first, later, kill_dir):
        path.mkdir(parents=True)
    files: list[dict] = []  # in the order manage.py ingest reads them
    photo = photo_bytes()
    (folder / PHOTO_NAME).write_bytes(photo)
    files.append({"name": PHOTO_NAME, "shape": "photo", "items": 0, "bytes": len(photo)})
    total_files = len(layout) + len(updated) + len(killed)
    bar = Progress("Writing the wire files", total_files, "files")

    def write(path: Path, shape: str, data: bytes, count: int) -> None:
        path.write_bytes(data)
        files.append(
            {
                "name": str(path.relative_to(folder)),
                "shape": shape,
                "items": count,
                "bytes": len(data),
            }
        )
        if len(files) % 200 == 0:
            bar.update(len(files) - 1)

    for index, (shape, members) in enumerate(layout):
        group = [stories[n] for n in members]
        if shape == "rss":
            data, count = rss(*group, title=f"{AGENCY_NAME}: latest"), len(group)
        elif shape == "ninjs":
            data, count = ninjs(group[0]), 1
        else:
            pictures = {s.guid: s.guid + ":picture" for s in group if s.picture}
            data = newsml_g2(*group, pictures=pictures or None)
            count = len(group) + 2 * len(pictures)
        suffix = "json" if shape == "ninjs" else "xml"
        write(first / f"{index:06d}-{shape}.{suffix}", shape, data, count)

    expected: dict[str, dict] = {}
    for n, story in enumerate(stories):
        expected[story.guid] = {
            "headline": story.headline,
            "language": story.language,
            "shape": shape_of[n],
            "pictured": n in pictured,
            "updated": False,
            "killed": False,
        }
    for n in updated:
        story = stories[n]
        story.version = 2
        story.sent += dt.timedelta(hours=2)
        text, _ = headline(rng, story.language)
        while text == story.headline:
            text, _ = headline(rng, story.language)
        story.headline = text
        story.paragraphs = [*story.paragraphs, rng.choice(COPY[story.language]["sentences"])]
        story.correction = n % 5 == 0  # one update in five is a correction
        expected[story.guid].update(headline=text, updated=True)
        shape = "ninjs" if shape_of[n] == "ninjs" else "g2"
        data = ninjs(story) if shape == "ninjs" else newsml_g2(story)
        write(later / f"{n:06d}-{shape}.{'json' if shape == 'ninjs' else 'xml'}", shape, data, 1)
    for n in killed:
        story = stories[n]
        story.version, story.status = 2, "canceled"
        story.sent += dt.timedelta(hours=3)
        expected[story.guid]["killed"] = True
        shape = "ninjs" if shape_of[n] == "ninjs" else "g2"
        data = ninjs(story) if shape == "ninjs" else newsml_g2(story)
        write(kill_dir / f"{n:06d}-{shape}.{'json' if shape == 'ninjs' else 'xml'}", shape, data, 1)
    bar.finish(str(folder))

    counts = Counter()
    for entry in files:
        counts[entry["shape"]] += entry["items"]
    return {
        "items": sum(entry["items"] for entry in files),
        "stories": story_count,
        "updates": len(updated),
        "kills": len(killed),
        "pictured": {"newsml-g2": len(pictured_g2), "other": len(pictured_other)},
        "languages": dict(Counter(e["language"] for e in expected.values())),
        "items_by_shape": dict(counts),
        "files_by_shape": dict(Counter(entry["shape"] for entry in files)),
        "bytes": sum(entry["bytes"] for entry in files),
        "expected_outcome": {
            "imported": story_count,
            "updated": len(updated),
            "killed": len(killed),
            "stored": 2 * len(pictured_g2),  # the picture item and the package
        },
        "files": files,
        "stories_expected": expected,
    }


# The parse phase, in a child process of its own -------------------------------------


def document_files(folder: Path) -> list[Path]:
    """The files that are parsed, in the order manage.py ingest reads them."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [p for p in found if p.suffix.lower() not in PICTURE_SUFFIXES]


def parse_phase(folder: Path, *, rounds_wanted: int) -> None:
    """Run in a child: read every file into memory, then time parse() over them,
    `rounds_wanted` times. Writes `PROGRESS <round> <files> <items>` lines on stderr and
    one JSON line on stdout."""
    sys.path.insert(0, str(PROJECT_DIR))
    from broadsheet.wire.parsers import Unreadable, parse

    paths = document_files(folder)
    blobs = [(str(p.relative_to(folder)), p.name, p.read_bytes()) for p in paths]
    shapes = [name.rsplit("-", 1)[-1].split(".")[0] for _, name, _ in blobs]
    # The first file of each shape pays for lazy imports and compiled patterns: warm up on
    # one of each, untimed, as a long-running desk would have.
    warmup_started = time.perf_counter()
    seen = set()
    for (_, name, data), shape in zip(blobs, shapes, strict=True):
        if shape not in seen:
            seen.add(shape)
            parse(data, filename=name)
    warmup = time.perf_counter() - warmup_started
    gc.collect()
    baseline_rss = psutil.Process().memory_info().rss
    sys.stderr.write("START\n")
    sys.stderr.flush()

    def one_round(number: int) -> dict:
        per_shape: dict[str, dict] = {}
        refused: list[str] = []
        kinds = Counter()
        done_items = 0
        every = max(len(blobs) // 100, 1)
        started = time.perf_counter()
        for index, ((relative, name, data), shape) in enumerate(zip(blobs, shapes, strict=True)):
            before = time.perf_counter()
            try:
                items = parse(data, filename=name)
            except Unreadable as refusal:
                refused.append(f"{relative}: {refusal.reason}")
                items = []
            spent = time.perf_counter() - before
            row = per_shape.setdefault(shape, {"files": 0, "items": 0, "seconds": 0.0, "bytes": 0})
            row["files"] += 1
            row["items"] += len(items)
            row["seconds"] += spent
            row["bytes"] += len(data)
            kinds.update(str(item.kind) for item in items)
            done_items += len(items)
            del items
            if index % every == 0:
                sys.stderr.write(f"PROGRESS {number} {index + 1} {done_items}\n")
                sys.stderr.flush()
        return {
            "seconds": time.perf_counter() - started,
            "items": done_items,
            "per_shape": per_shape,
            "refused": refused,
            "kinds": kinds,
        }

    # Other work on the two cores slows a round; the best of a few is the parser's own
    # speed (as timeit reports), and every round is kept.
    rounds = [one_round(number) for number in range(rounds_wanted)]
    best = min(rounds, key=lambda r: r["seconds"])
    per_shape, refused, kinds = best["per_shape"], best["refused"], best["kinds"]
    done_items, seconds = best["items"], best["seconds"]
    peak_kernel = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    # Python's own allocations while one file is parsed: the largest, and its file.
    # tracemalloc slows parsing about eightfold, so this is a second, untimed pass over
    # the largest files of each shape only (what one file costs grows with its size).
    largest: dict[str, list] = {}
    for blob, shape in zip(blobs, shapes, strict=True):
        largest.setdefault(shape, []).append(blob)
    traced = [
        blob
        for group in largest.values()
        for blob in sorted(group, key=lambda b: -len(b[2]))[:TRACED_PER_SHAPE]
    ]
    tracemalloc.start()
    traced_peak, traced_file = 0, ""
    traced_started = time.perf_counter()
    for relative, name, data in traced:
        tracemalloc.reset_peak()
        floor = tracemalloc.get_traced_memory()[0]
        with contextlib.suppress(Unreadable):
            parse(data, filename=name)
        peak = tracemalloc.get_traced_memory()[1] - floor
        if peak > traced_peak:
            traced_peak, traced_file = peak, relative
    traced_seconds = time.perf_counter() - traced_started
    tracemalloc.stop()
    print(
        json.dumps(
            {
                "files": len(blobs),
                "items": done_items,
                "items_by_kind": dict(kinds),
                "bytes": sum(len(data) for _, _, data in blobs),
                "seconds": round(seconds, 3),
                "rounds_seconds": [round(r["seconds"], 3) for r in rounds],
                "warmup_seconds": round(warmup, 3),
                "per_shape": {
                    key: {**row, "seconds": round(row["seconds"], 3)}
                    for key, row in per_shape.items()
                },
                "refused": refused[:20],
                "refused_count": len(refused),
                "baseline_rss_mb": round(baseline_rss / MB, 1),
                "peak_rss_kernel_mb": round(peak_kernel / MB, 1),
                "tracemalloc_peak_per_file_mb": round(traced_peak / MB, 2),
                "tracemalloc_peak_file": traced_file,
                "tracemalloc_pass_seconds": round(traced_seconds, 1),
                "tracemalloc_files": len(traced),
            }
        )
    )


# The newsroom -------------------------------------------------------------------------


class Newsroom:
    """A throwaway newsroom in a temporary folder: production settings, a fresh SQLite
    database, the wire files beside it."""

    def __init__(self, *, keep: bool):
        self.dir = Path(tempfile.mkdtemp(prefix="broadsheet-wire-bench-"))
        self.keep = keep
        self.wire = self.dir / "incoming"
        self.database = self.dir / "broadsheet.sqlite3"
        self.env = {
            key: value
            for key, value in os.environ.items()
            # Production settings with the embedded defaults: no outside database, cache
            # or task queue, and every folder under the temporary one.
            if key not in {"DATABASE_URL", "REDIS_URL", "TASK_BACKEND", "DEBUG", "STATIC_ROOT"}
            and key not in {"MEDIA_ROOT", "CONN_MAX_AGE", "DJANGO_SETTINGS_MODULE"}
            and key != "BROADSHEET_WIRE_DIR"
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="broadsheet.settings.production",
            SECRET_KEY=secrets.token_urlsafe(50),
            HTTPS="false",
            ALLOWED_HOSTS="127.0.0.1,localhost",
            BROADSHEET_VAR_DIR=str(self.dir),
            DATABASE_URL=f"sqlite:///{self.database}",
            PYTHONUNBUFFERED="1",
        )

    def run(self, *args: str) -> str:
        return run_python(*args, env=self.env)

    def prepare(self) -> dict:
        bar = Progress("Preparing the newsroom", 2, "steps")
        bar.update(0, "migrate")
        self.run("manage.py", "migrate", "--no-input", "-v0")
        bar.update(1, "section and sources")
        made = json.loads(self.run(str(SCRIPT), "--setup").strip().splitlines()[-1])
        bar.finish(str(self.dir))
        return made

    def remove(self) -> None:
        if not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)


def setup_newsroom() -> None:
    """Run inside the newsroom's environment: a home page, a section, the agency and one
    source per format, each routing to the section and publishing at once. Prints one
    JSON line."""
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from broadsheet.news import services as news
    from broadsheet.news.models import Agency, SectionPage
    from broadsheet.wire.models import WireSource

    home = news.ensure_home_page(site_name="The Benchmark Courier")
    section = SectionPage(title="Wire", slug="wire", show_in_menus=True)
    home.add_child(instance=section)
    section.save_revision().publish()
    agency = Agency.objects.create(
        name=AGENCY_NAME, byline_name=AGENCY_NAME, slug="fictional-press"
    )
    sources = []
    for fmt in SOURCE_FORMATS:
        # Created inactive and switched on without the save signal, so that no polling
        # task is queued: the files come in through manage.py ingest only.
        source = WireSource.objects.create(
            name=f"{AGENCY_NAME} ({fmt})",
            agency=agency,
            kind=WireSource.Kind.DROP_FOLDER,
            folder=f"bench-{fmt}",
            format=fmt,
            default_section=section,
            publish_at_once=True,
            active=False,
        )
        sources.append(source.pk)
    WireSource.objects.filter(pk__in=sources).update(active=True)
    print(json.dumps({"section": section.pk, "agency": agency.pk, "sources": sources}))


def verify_newsroom(manifest_path: Path) -> None:
    """Run inside the newsroom's environment after the ingest: what the database holds,
    set against the manifest. Prints one JSON line."""
    sys.path.insert(0, str(PROJECT_DIR))
    import django

    django.setup()
    from django_tasks_db.models import DBTaskResult

    from broadsheet.news.models import ArticlePage, Photo
    from broadsheet.wire.models import DeskAlert, ReceivedFile, WireItem

    expected = json.loads(manifest_path.read_text())["stories_expected"]
    pages = {
        row["id"]: row
        for row in ArticlePage.objects.values("id", "title", "live", "lead_photo_id", "language")
    }
    story_of: dict[str, set] = {}
    for guid, story_id in WireItem.objects.filter(kind="text").values_list("guid", "story_id"):
        story_of.setdefault(guid, set()).add(story_id)
    problems: dict[str, list[str]] = {
        "no_story": [],
        "several_stories": [],
        "wrong_headline": [],
        "wrong_language": [],
        "update_not_applied": [],
        "updated_not_live": [],
        "kill_still_live": [],
        "live_but_should_be": [],
        "no_photo": [],
    }
    wrong_headline_by_language = Counter()
    for guid, want in expected.items():
        ids = story_of.get(guid, set()) - {None}
        if not ids:
            problems["no_story"].append(guid)
            continue
        if len(ids) > 1:
            problems["several_stories"].append(guid)
        page = pages.get(next(iter(ids)))
        if page is None:
            problems["no_story"].append(guid)
            continue
        if page["title"] != want["headline"]:
            problems["wrong_headline"].append(f"{guid}: {page['title']!r} != {want['headline']!r}")
            wrong_headline_by_language[want["language"]] += 1
            if want["updated"]:
                problems["update_not_applied"].append(guid)
        if page["language"] != want["language"]:
            problems["wrong_language"].append(f"{guid}: {page['language']!r}")
        if want["updated"] and not page["live"]:
            problems["updated_not_live"].append(guid)
        if want["killed"] and page["live"]:
            problems["kill_still_live"].append(guid)
        if not want["killed"] and not page["live"]:
            problems["live_but_should_be"].append(guid)
        if want["pictured"] and not page["lead_photo_id"]:
            problems["no_photo"].append(guid)
    print(
        json.dumps(
            {
                "article_pages": len(pages),
                "live_article_pages": sum(1 for p in pages.values() if p["live"]),
                "text_guids_with_story": sum(1 for ids in story_of.values() if ids - {None}),
                "photos": Photo.objects.count(),
                "wire_items": WireItem.objects.count(),
                "wire_items_by_desk": dict(
                    Counter(WireItem.objects.values_list("desk", flat=True))
                ),
                "received_files_by_status": dict(
                    Counter(ReceivedFile.objects.values_list("status", flat=True))
                ),
                "quarantine_reasons": list(
                    ReceivedFile.objects.filter(status=ReceivedFile.Status.QUARANTINED).values_list(
                        "name", "reason"
                    )[:10]
                ),
                "desk_alerts_by_kind": dict(
                    Counter(DeskAlert.objects.values_list("kind", flat=True))
                ),
                # What the ingest left for the worker (no worker runs here).
                "tasks_queued": dict(
                    Counter(
                        DBTaskResult.objects.values_list("task_path", flat=True).iterator()
                    ).most_common()
                ),
                "problems": {key: len(value) for key, value in problems.items()},
                "problem_examples": {key: value[:5] for key, value in problems.items() if value},
                "wrong_headline_by_language": dict(wrong_headline_by_language),
            }
        )
    )


# Running a child and watching its memory ---------------------------------------------


class Child:
    """A child process whose stderr lines are followed and whose memory is sampled.

    `on_line(line, seconds)` sees every stderr line; `samples` holds (seconds, RSS MB).
    """

    def __init__(
        self,
        command: list[str],
        *,
        env: dict,
        stdout_path: Path,
        stderr_path: Path,
        on_line,
        timeout: float,
    ):
        self.samples: list[tuple[float, float]] = []
        self.stderr_path = stderr_path
        self.stdout_path = stdout_path
        self.on_line = on_line
        self.stop_sampling = threading.Event()
        self.started = time.monotonic()
        with stdout_path.open("wb") as out:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        self.watched = psutil.Process(self.process.pid)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.sampler = threading.Thread(target=self._sample, daemon=True)
        self.reader.start()
        self.sampler.start()
        self.timer = threading.Timer(timeout, self.kill)
        self.timer.start()
        self.timed_out = False

    def _read(self) -> None:
        with self.stderr_path.open("wb") as log:
            for raw in self.process.stderr:
                log.write(raw)
                for line in raw.decode("utf-8", "replace").split("\r"):
                    if line.strip():
                        self.on_line(line.strip(), time.monotonic() - self.started)

    def _sample(self) -> None:
        while not self.stop_sampling.is_set():
            with contextlib.suppress(psutil.Error):
                rss = process_rss(self.watched) / MB
                self.samples.append((time.monotonic() - self.started, rss))
            self.stop_sampling.wait(SAMPLE_SECONDS)

    def kill(self) -> None:
        self.timed_out = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def wait(self) -> tuple[int, float, resource.struct_rusage]:
        """The exit status, the seconds it ran and its rusage (the kernel's peak RSS)."""
        try:
            # wait4, not Popen.wait: the kernel's high-water mark of the child's memory
            # comes with it, a check on the samples (which can miss a short spike).
            _, status, usage = os.wait4(self.process.pid, 0)
            self.process.returncode = os.waitstatus_to_exitcode(status)
        except BaseException:
            self.kill()
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.process.pid, 0)
            raise
        finally:
            seconds = time.monotonic() - self.started
            self.timer.cancel()
            self.stop_sampling.set()
            self.sampler.join()
            self.reader.join(timeout=10)
        return self.process.returncode, seconds, usage

    @property
    def peak_sampled_mb(self) -> float:
        return max((rss for _, rss in self.samples), default=0.0)


def tail(path: Path, lines: int = 30) -> str:
    with contextlib.suppress(OSError):
        text = path.read_bytes().decode("utf-8", "replace")
        # A progress bar redraws with carriage returns: keep the last state of each line.
        return "\n".join(line.rsplit("\r", 1)[-1] for line in text.splitlines()[-lines:])
    return ""


def run_parse(folder: Path, manifest: dict, *, work: Path, args: argparse.Namespace) -> dict:
    wait_for_quiet(limit=0.3, patience=args.quiet_wait)
    total_files = sum(1 for f in manifest["files"] if f["shape"] != "photo")
    bar = Progress("Parsing (no Django)", total_files * args.parse_rounds, "files")
    marks: dict[str, float] = {}

    def on_line(line: str, seconds: float) -> None:
        if line == "START":
            marks["start"] = seconds
        elif line.startswith("PROGRESS "):
            _, number, files, items = line.split()
            bar.update(
                int(number) * total_files + int(files),
                f"round {int(number) + 1}/{args.parse_rounds}, {int(items):,} items",
            )

    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    busy_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    child = Child(
        [
            sys.executable,
            str(SCRIPT),
            "--parse-phase",
            str(folder),
            "--parse-rounds",
            str(args.parse_rounds),
        ],
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout_path=work / "parse.out",
        stderr_path=work / "parse.err",
        on_line=on_line,
        timeout=args.timeout,
    )
    code, seconds, usage = child.wait()
    busy = machine_busy_seconds() - busy_before - (own_cpu_seconds() - own_before)
    if code:
        bar.finish(f"exit {code}")
        raise RuntimeError(f"the parse phase failed:\n{tail(work / 'parse.err')}")
    result = json.loads(tail(work / "parse.out", 1))
    bar.finish(f"{result['items'] / result['seconds']:,.0f} items/s")
    child_cpu = usage.ru_utime + usage.ru_stime
    result.update(
        items_per_second=round(result["items"] / result["seconds"], 1),
        files_per_second=round(result["files"] / result["seconds"], 1),
        megabytes_per_second=round(result["bytes"] / MB / result["seconds"], 2),
        child_seconds=round(seconds, 2),
        peak_rss_mb=round(child.peak_sampled_mb, 1),
        peak_rss_kernel_mb=round(usage.ru_maxrss / 1024, 1),
        other_cores=round(max(0.0, busy - child_cpu) / seconds, 2),
        samples=[(round(t, 2), round(rss, 1)) for t, rss in child.samples],
        timed_start=marks.get("start"),
    )
    for row in result["per_shape"].values():
        row["items_per_second"] = round(row["items"] / row["seconds"], 1) if row["seconds"] else 0
    return result


INGEST_LINE = re.compile(r"^Ingesting:? .*?([\d,]+)/([\d,]+)")
SUMMARY_LINE = re.compile(r"^([\d,]+) files?: (.*)$")


def run_ingest(newsroom: Newsroom, manifest: dict, *, args: argparse.Namespace, stamp: str) -> dict:
    wait_for_quiet(limit=0.3, patience=args.quiet_wait)
    files = manifest["files"]
    # Items done after k files, in the order the command reads them (photo first).
    cumulative = [0]
    for entry in files:
        cumulative.append(cumulative[-1] + entry["items"])
    bar = Progress("Ingesting (manage.py)", manifest["items"], "items")
    progress: list[tuple[float, int]] = []  # seconds, items done

    def on_line(line: str, seconds: float) -> None:
        match = INGEST_LINE.match(line)
        if match:
            done = int(match.group(1).replace(",", ""))
            items = cumulative[min(done, len(files))]
            progress.append((seconds, items))
            bar.update(items, f"{done:,}/{len(files):,} files")

    command = ["manage.py", "ingest", str(newsroom.wire)]
    profile_path = newsroom.dir / "ingest.prof"
    if args.profile:
        command = ["-m", "cProfile", "-o", str(profile_path), *command]
    busy_before, own_before = machine_busy_seconds(), own_cpu_seconds()
    child = Child(
        [sys.executable, *command],
        env=newsroom.env,
        stdout_path=newsroom.dir / "ingest.out",
        stderr_path=newsroom.dir / "ingest.err",
        on_line=on_line,
        timeout=args.timeout,
    )
    code, seconds, usage = child.wait()
    busy = machine_busy_seconds() - busy_before - (own_cpu_seconds() - own_before)
    bar.finish(f"exit {code} after {seconds:.1f} s")
    stdout = tail(newsroom.dir / "ingest.out", 10)
    outcome: dict[str, int] = {}
    files_reported = None
    for line in stdout.splitlines():
        match = SUMMARY_LINE.match(line.strip())
        if match:
            files_reported = int(match.group(1).replace(",", ""))
            for part in match.group(2).split(", "):
                count, _, what = part.partition(" ")
                with contextlib.suppress(ValueError):
                    outcome[what] = int(count.replace(",", ""))
    if code:
        say(
            f"manage.py ingest exited {code}; its stderr ends:\n{tail(newsroom.dir / 'ingest.err')}"
        )
    child_cpu = usage.ru_utime + usage.ru_stime
    first_progress = progress[0][0] if progress else None
    result = {
        "command": " ".join(["python", *command]),
        "exit_code": code,
        "timed_out": child.timed_out,
        "profiled": bool(args.profile),
        "seconds": round(seconds, 2),
        "items": manifest["items"],
        "stories": manifest["stories"] + manifest["updates"] + manifest["kills"],
        "items_per_second": round(manifest["items"] / seconds, 1),
        "files_per_second": round(len(files) / seconds, 1),
        "seconds_to_first_progress": round(first_progress, 2) if first_progress else None,
        "peak_rss_mb": round(child.peak_sampled_mb, 1),
        "peak_rss_kernel_mb": round(usage.ru_maxrss / 1024, 1),
        "rss_growth": rss_growth(child.samples, progress, manifest["items"]),
        "cpu_seconds": round(child_cpu, 1),
        "cores": round(child_cpu / seconds, 2),
        "other_cores": round(max(0.0, busy - child_cpu) / seconds, 2),
        "files_reported": files_reported,
        "outcome": outcome,
        "stdout_tail": stdout,
        "stderr_tail": tail(newsroom.dir / "ingest.err", 10),
        "samples": [(round(t, 2), round(rss, 1)) for t, rss in child.samples],
        "progress": progress,
        "database_mb": round(newsroom.database.stat().st_size / MB, 1)
        if newsroom.database.exists()
        else None,
    }
    if args.profile and profile_path.exists():
        result["profile"] = summarise_profile(profile_path, stamp=stamp, items=manifest["items"])
    return result


def rss_growth(samples, progress, total: int) -> dict:
    """MB of RSS per 1,000 items after the first 10% (start-up excluded): a least-squares
    slope of the samples against the items done at that moment."""
    if not progress:
        return {"mb_per_1k_items": None}
    times = [t for t, _ in progress]
    points = []
    for t, rss in samples:
        at = bisect.bisect_right(times, t) - 1
        if at >= 0 and progress[at][1] >= total * 0.1:
            points.append((progress[at][1], rss))
    if len(points) < 3 or points[-1][0] == points[0][0]:
        return {"mb_per_1k_items": None}
    mean_n = sum(n for n, _ in points) / len(points)
    mean_rss = sum(r for _, r in points) / len(points)
    spread = sum((n - mean_n) ** 2 for n, _ in points)
    slope = sum((n - mean_n) * (r - mean_rss) for n, r in points) / spread
    return {
        "mb_per_1k_items": round(slope * 1000, 2),
        "from_mb": round(points[0][1], 1),
        "to_mb": round(points[-1][1], 1),
    }


def summarise_profile(path: Path, *, stamp: str, items: int) -> dict:
    """The profile's top functions, written beside the results and kept in the JSON."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    text_path = RESULTS_DIR / f"wire-{stamp}-profile.txt"
    shutil.copy(path, RESULTS_DIR / f"wire-{stamp}-profile.prof")
    with text_path.open("w") as out:
        stats = pstats.Stats(str(path), stream=out)
        for order in ("tottime", "cumulative"):
            out.write(f"\n=== by {order} ===\n")
            stats.sort_stats(order).print_stats(60)
    stats = pstats.Stats(str(path))
    total = stats.total_tt

    def where(filename: str, line: int, function: str) -> str:
        for marker in ("site-packages/", f"{PROJECT_DIR}/"):
            if marker in filename:
                filename = filename.split(marker, 1)[1]
        return f"{filename}:{line}({function})"

    def top(key: int, limit: int, keep=lambda name: True) -> list[dict]:
        rows = []
        for (filename, line, function), (_, calls, tottime, cumtime, _) in sorted(
            stats.stats.items(), key=lambda item: -item[1][key]
        ):
            name = where(filename, line, function)
            if not keep(name):
                continue
            rows.append(
                {
                    "function": name,
                    "calls": calls,
                    "tottime_s": round(tottime, 2),
                    "cumtime_s": round(cumtime, 2),
                    "share": round((tottime if key == 2 else cumtime) / total, 3) if total else 0,
                }
            )
            if len(rows) == limit:
                break
        return rows

    # Every SQL statement (savepoints included) passes through Django's CursorWrapper.
    statements = sum(
        calls
        for (filename, _, function), (_, calls, *_rest) in stats.stats.items()
        if filename.endswith("django/db/backends/utils.py")
        and function in ("execute", "executemany")
    )
    return {
        "total_seconds": round(total, 1),
        "text": str(text_path.relative_to(PROJECT_DIR)),
        "sql_statements": statements,
        "sql_statements_per_item": round(statements / items, 1) if items else None,
        "top_by_tottime": top(2, 25),
        # Where the project's own code spends its time, callees included.
        "broadsheet_by_cumulative": top(3, 25, lambda name: name.startswith("broadsheet/")),
    }


# Checks, goals, the table -------------------------------------------------------------


def checks(manifest: dict, parsed: dict, ingest: dict | None, facts: dict | None) -> list[dict]:
    out = [
        {
            "what": "parse: every file read, every item found",
            "ok": parsed["refused_count"] == 0 and parsed["items"] == manifest["items"],
            "detail": f"{parsed['items']:,} items from {parsed['files']:,} files "
            f"({manifest['items']:,} sent), {parsed['refused_count']} refused"
            + (f": {parsed['refused'][0]}" if parsed["refused"] else ""),
        }
    ]
    if ingest is None:
        return out
    expected = manifest["expected_outcome"]
    outcome = ingest["outcome"]
    others = {key: value for key, value in outcome.items() if key not in expected}
    out.append(
        {
            "what": "manage.py ingest exited cleanly",
            "ok": ingest["exit_code"] == 0 and not ingest["timed_out"],
            "detail": f"exit status {ingest['exit_code']}"
            + (" (killed: --timeout reached)" if ingest["timed_out"] else ""),
        }
    )
    out.append(
        {
            "what": "its summary: every story imported, every update and kill applied",
            "ok": all(outcome.get(k, 0) == v for k, v in expected.items())
            and not others
            and ingest["files_reported"] == len(manifest["files"]),
            "detail": f"{ingest['files_reported'] or 0:,} files: "
            + ", ".join(f"{outcome.get(k, 0):,}/{v:,} {k}" for k, v in expected.items())
            + (", and " + ", ".join(f"{v:,} {k}" for k, v in others.items()) if others else ""),
        }
    )
    if facts is None:
        return out
    problems = facts["problems"]
    statuses = facts["received_files_by_status"]
    stories, kills, updates = manifest["stories"], manifest["kills"], manifest["updates"]
    pictured = sum(manifest["pictured"].values())
    out += [
        {
            "what": "every file received and read, none quarantined",
            "ok": sum(statuses.values()) == len(manifest["files"])
            and not statuses.get("quarantined"),
            "detail": f"received files by status {statuses}"
            + (
                f"; first reason: {facts['quarantine_reasons'][0]}"
                if facts["quarantine_reasons"]
                else ""
            ),
        },
        {
            "what": "one article per story (distinct text guids)",
            "ok": facts["article_pages"] == stories
            and facts["text_guids_with_story"] == stories
            and not problems["no_story"]
            and not problems["several_stories"],
            "detail": f"{facts['article_pages']:,} article pages, "
            f"{facts['text_guids_with_story']:,} guids with a story, {stories:,} distinct guids "
            f"sent; {problems['no_story']} without a story, {problems['several_stories']} with "
            "several",
        },
        {
            "what": "live articles = stories minus kills",
            "ok": facts["live_article_pages"] == stories - kills
            and not problems["live_but_should_be"],
            "detail": f"{facts['live_article_pages']:,} live, {stories - kills:,} expected; "
            f"{problems['live_but_should_be']} not killed but not live",
        },
        {
            "what": "every story carries its latest headline and its language",
            "ok": not problems["wrong_headline"] and not problems["wrong_language"],
            "detail": f"{problems['wrong_headline']} wrong headlines"
            + (f" {facts['wrong_headline_by_language']}" if problems["wrong_headline"] else "")
            + f", {problems['wrong_language']} wrong languages, over "
            + ", ".join(f"{n:,} {code}" for code, n in sorted(manifest["languages"].items())),
        },
        {
            "what": "updated stories show the second version, live",
            "ok": not problems["update_not_applied"] and not problems["updated_not_live"],
            "detail": f"{updates - problems['update_not_applied']:,}/{updates:,} with the v2 "
            f"headline, {problems['updated_not_live']} not live",
        },
        {
            "what": "killed stories are not live",
            "ok": not problems["kill_still_live"],
            "detail": f"{kills - problems['kill_still_live']}/{kills} down; desk alerts "
            f"{facts['desk_alerts_by_kind']}",
        },
        {
            "what": "pictured stories have their lead photo, stored once",
            "ok": not problems["no_photo"] and facts["photos"] == 1,
            "detail": f"{pictured - problems['no_photo']}/{pictured} with a lead photo, "
            f"{facts['photos']} photo(s) stored",
        },
    ]
    return out


def verdicts(parsed: dict, ingest: dict | None) -> list[dict]:
    out = [
        {
            "goal": f"parsing at {GOAL_PARSE_PER_SECOND:,}+ items/s",
            "ok": parsed["items_per_second"] >= GOAL_PARSE_PER_SECOND,
            "detail": f"{parsed['items_per_second']:,.0f} items/s "
            f"({parsed['items']:,} items in {parsed['seconds']:.1f} s, the best of "
            f"{len(parsed['rounds_seconds'])} rounds), peak RSS "
            f"{parsed['peak_rss_kernel_mb']:.0f} MB",
        }
    ]
    if ingest is not None:
        out.append(
            {
                "goal": f"full ingest at {GOAL_INGEST_PER_SECOND}+ items/s",
                "ok": None
                if ingest["profiled"]
                else ingest["items_per_second"] >= GOAL_INGEST_PER_SECOND,
                "detail": f"{ingest['items_per_second']:,.1f} items/s ({ingest['items']:,} items "
                f"in {ingest['seconds']:.1f} s, start-up included), peak RSS "
                f"{ingest['peak_rss_kernel_mb']:.0f} MB"
                + (" (under cProfile: not the product's figure)" if ingest["profiled"] else ""),
            }
        )
    return out


def print_table(results: dict) -> None:
    manifest, parsed, ingest = results["wire"], results["parse"], results.get("ingest")
    engine = results["engine"]
    print()
    print(
        f"Broadsheet wire ingest: {manifest['items']:,} items in {len(manifest['files']):,} files "
        f"({manifest['bytes'] / MB:.1f} MB): {manifest['stories']:,} stories, "
        f"{manifest['updates']:,} updates, {manifest['kills']} kills, "
        f"{sum(manifest['pictured'].values())} with a photo; {results['machine']['cpus']} CPUs; "
        f"code at {engine['commit']}"
        + (" with uncommitted wire changes" if engine["uncommitted"] else "")
    )
    print(
        "Languages: "
        + ", ".join(f"{code} {n:,}" for code, n in sorted(manifest["languages"].items()))
    )
    print()
    print(
        "Parsing (parse() in a child process without Django, files already in memory; the "
        f"best of {len(parsed['rounds_seconds'])} rounds: "
        + ", ".join(f"{seconds:.2f}" for seconds in parsed["rounds_seconds"])
        + " s):"
    )
    header = (
        f"  {'shape':<26} {'files':>7} {'items':>7} {'seconds':>8} {'items/s':>9} {'KB/file':>8}"
    )
    print(header)
    print("  " + "-" * (len(header) - 2))
    for key, row in sorted(parsed["per_shape"].items(), key=lambda kv: list(SHAPES).index(kv[0])):
        print(
            f"  {SHAPES[key]['label']:<26} {row['files']:>7,} {row['items']:>7,} "
            f"{row['seconds']:>8.2f} {row['items_per_second']:>9,.0f} "
            f"{row['bytes'] / 1024 / row['files']:>8.1f}"
        )
    print(
        f"  {'all':<26} {parsed['files']:>7,} {parsed['items']:>7,} {parsed['seconds']:>8.2f} "
        f"{parsed['items_per_second']:>9,.0f} {parsed['bytes'] / 1024 / parsed['files']:>8.1f}"
    )
    print(
        f"  {parsed['files_per_second']:,.0f} files/s, {parsed['megabytes_per_second']:.1f} MB/s; "
        f"RSS {parsed['baseline_rss_mb']:.0f} MB with every file loaded, peak "
        f"{parsed['peak_rss_mb']:.0f} MB sampled, {parsed['peak_rss_kernel_mb']:.0f} MB kernel; "
        f"largest Python allocation for one file {parsed['tracemalloc_peak_per_file_mb']:.1f} MB "
        f"(tracemalloc over the {TRACED_PER_SHAPE} largest files of each shape, at "
        f"{parsed['tracemalloc_peak_file']}); other work on the machine "
        f"{parsed['other_cores']:.2f} cores"
    )
    if ingest is not None:
        print()
        print("Full ingest (manage.py ingest <folder>, production settings, fresh SQLite):")
        growth = ingest["rss_growth"]["mb_per_1k_items"]
        print(
            f"  {ingest['items_per_second']:,.1f} items/s, "
            f"{ingest['files_per_second']:,.1f} files/s: "
            f"{ingest['items']:,} items in {ingest['seconds']:.1f} s (start-up included; first "
            f"progress after {ingest['seconds_to_first_progress'] or 0:.1f} s)"
            + ("  (under cProfile)" if ingest["profiled"] else "")
        )
        print(
            f"  peak RSS {ingest['peak_rss_mb']:.0f} MB sampled, "
            f"{ingest['peak_rss_kernel_mb']:.0f} MB kernel; RSS slope "
            f"{f'{growth:+.2f}' if growth is not None else '-'} MB per 1,000 items "
            f"after the first 10%; {ingest['cores']:.2f} cores busy, other work "
            f"{ingest['other_cores']:.2f} cores; database {ingest['database_mb']} MB"
        )
        lines = ingest["stdout_tail"].strip().splitlines()
        print(f"  its summary line: {lines[-1] if lines else '-'}")
        tasks = results.get("database", {}).get("tasks_queued")
        if tasks:
            print(
                f"  left for the worker (not measured): {sum(tasks.values()):,} tasks, "
                + ", ".join(f"{n:,} {path.rsplit('.', 1)[-1]}" for path, n in tasks.items())
            )
    print()
    print("Checks:")
    for item in results["checks"]:
        print(f"  [{'ok' if item['ok'] else 'FAIL'}] {item['what']}: {item['detail']}")
    examples = results.get("database", {}).get("problem_examples")
    if examples:
        print("  Examples of what went wrong:")
        for key, found in examples.items():
            print(f"    {key}: {found[:3]}")
    print()
    print("Goals:")
    for item in results["goals"]:
        mark = {True: "met", False: "not met", None: "?"}[item["ok"]]
        print(f"  [{mark}] {item['goal']}: {item['detail']}")
    profile = (ingest or {}).get("profile")
    if profile:
        print()
        print(
            f"Profile of the ingest (cProfile, {profile['total_seconds']} s profiled; "
            f"{profile['sql_statements']:,} SQL statements, "
            f"{profile['sql_statements_per_item']} per item; full listing {profile['text']}):"
        )
        print("  by own time:")
        for row in profile["top_by_tottime"][:15]:
            print(
                f"    {100 * row['share']:5.1f}%  {row['tottime_s']:7.1f} s  "
                f"{row['calls']:>9,} calls  {row['function']}"
            )
        print("  broadsheet's functions, callees included:")
        for row in profile["broadsheet_by_cumulative"][:15]:
            print(
                f"    {100 * row['share']:5.1f}%  {row['cumtime_s']:7.1f} s  "
                f"{row['calls']:>9,} calls  {row['function']}"
            )


# The chart ----------------------------------------------------------------------------


def draw_chart(results: dict, path: Path) -> None:
    """Drawn with Pillow: parsing items/s by shape against the goal; items ingested over
    time against the goal's pace; the memory of both children over time."""
    from PIL import Image, ImageDraw

    font = chart_font
    parsed, ingest = results["parse"], results.get("ingest")
    blue, green, orange, grey = (37, 99, 235), (22, 163, 74), (234, 88, 12), (100, 116, 139)
    goal_colour = (220, 38, 38)
    width, height = 1100, 1380
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((20, 16), "Broadsheet wire ingest", font=font(24, True), fill="black")
    draw.text(
        (20, 52),
        f"{results['wire']['items']:,} items in {len(results['wire']['files']):,} files · "
        f"production settings, SQLite · {results['machine']['cpus']} CPUs · "
        f"{results['started'][:16].replace('T', ' ')} UTC · code at {results['engine']['commit']}",
        font=font(15),
        fill=(70, 70, 70),
    )
    left, right, plot_h = 110, 40, 300
    plot_w = width - left - right

    def nice_step(span: float, ticks: int = 6) -> float:
        raw = span / ticks
        magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
        for step in (1, 2, 2.5, 5, 10):
            if raw <= step * magnitude:
                return step * magnitude
        return 10 * magnitude

    def tick(value: float) -> str:
        return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"

    def frame(top: int, title: str, y_label: str, y_max: float, x_max: float | None, x_label: str):
        draw.text((20, top), title, font=font(17, True), fill="black")
        draw.text((20, top + 26), y_label, font=font(14), fill=(70, 70, 70))
        top += 56
        for value in frange(nice_step(y_max), y_max):
            y = top + plot_h - plot_h * value / y_max
            draw.line([(left, y), (left + plot_w, y)], fill=(232, 232, 232))
            draw.text((left - 8, y - 8), tick(value), font=font(12), fill="gray", anchor="ra")
        if x_max:
            for value in frange(nice_step(x_max), x_max):
                x = left + plot_w * value / x_max
                draw.line([(x, top), (x, top + plot_h)], fill=(232, 232, 232))
                draw.text(
                    (x, top + plot_h + 6), tick(value), font=font(12), fill="gray", anchor="ma"
                )
        draw.rectangle([left, top, left + plot_w, top + plot_h], outline=(160, 160, 160))
        draw.text(
            (left + plot_w // 2, top + plot_h + 26),
            x_label,
            font=font(14),
            fill="black",
            anchor="ma",
        )
        return top

    def dashed_h(top: int, y_max: float, value: float, label: str) -> None:
        y = top + plot_h - plot_h * value / y_max
        for x in range(left, left + plot_w, 12):
            draw.line([(x, y), (x + 6, y)], fill=goal_colour, width=2)
        # Above the plot's top right corner, clear of the bars and lines.
        draw.text(
            (left + plot_w, top - 22), f"- - {label}", font=font(13), fill=goal_colour, anchor="ra"
        )

    # 1. Parsing, items/s by shape.
    bars = [
        (SHAPES[key]["label"], row["items_per_second"])
        for key, row in sorted(
            parsed["per_shape"].items(), key=lambda kv: list(SHAPES).index(kv[0])
        )
    ] + [("all files", parsed["items_per_second"])]
    y_max = max([GOAL_PARSE_PER_SECOND * 1.2, *(v for _, v in bars)]) * 1.12
    top = frame(90, "Parsing alone: items per second, by shape of file", "items/s", y_max, None, "")
    slot = plot_w / len(bars)
    for index, (label, value) in enumerate(bars):
        x0 = left + slot * index + slot * 0.2
        x1 = left + slot * (index + 1) - slot * 0.2
        y = top + plot_h - plot_h * value / y_max
        draw.rectangle([x0, y, x1, top + plot_h], fill=blue if label != "all files" else green)
        draw.text(
            ((x0 + x1) / 2, y - 18), f"{value:,.0f}", font=font(13, True), fill="black", anchor="ma"
        )
        draw.text(
            ((x0 + x1) / 2, top + plot_h + 6), label, font=font(12), fill="black", anchor="ma"
        )
    dashed_h(top, y_max, GOAL_PARSE_PER_SECOND, f"goal {GOAL_PARSE_PER_SECOND:,} items/s")

    # 2. Ingest: items done over time, against the goal's pace.
    if ingest is not None and ingest["progress"]:
        x_max = ingest["seconds"] * 1.03
        items = ingest["items"]
        top = frame(
            500,
            "Full ingest (manage.py ingest): items done over time, start-up included",
            "items",
            items * 1.08,
            x_max,
            "seconds since manage.py ingest started",
        )

        def xy(x, y):
            return (left + plot_w * x / x_max, top + plot_h - plot_h * y / (items * 1.08))

        goal_end = min(x_max, items / GOAL_INGEST_PER_SECOND)
        start, end = xy(0, 0), xy(goal_end, goal_end * GOAL_INGEST_PER_SECOND)
        steps = 60
        for k in range(0, steps, 2):
            a = (
                start[0] + (end[0] - start[0]) * k / steps,
                start[1] + (end[1] - start[1]) * k / steps,
            )
            b = (
                start[0] + (end[0] - start[0]) * (k + 1) / steps,
                start[1] + (end[1] - start[1]) * (k + 1) / steps,
            )
            draw.line([a, b], fill=goal_colour, width=2)
        draw.text(
            (left + plot_w, top - 22),
            f"- - goal pace {GOAL_INGEST_PER_SECOND} items/s",
            font=font(13),
            fill=goal_colour,
            anchor="ra",
        )
        points = [xy(0, 0), *(xy(t, n) for t, n in ingest["progress"])]
        if len(points) > 1:
            draw.line(points, fill=orange, width=3)
        draw.text(
            (left + plot_w - 300, top + plot_h - 30),
            f"— {ingest['items_per_second']:,.1f} items/s overall",
            font=font(14, True),
            fill=orange,
        )

    # 3. Memory of both children over time.
    lines = [("parse child", parsed["samples"], blue)]
    if ingest is not None:
        lines.append(("manage.py ingest", ingest["samples"], orange))
    x_max = max(max((t for t, _ in samples), default=1) for _, samples, _ in lines) * 1.03
    y_max = max(max((r for _, r in samples), default=1) for _, samples, _ in lines) * 1.15
    top = frame(
        910,
        "Resident memory of each child process over time",
        "RSS, MB",
        y_max,
        x_max,
        "seconds since the process started",
    )
    for index, (label, samples, colour) in enumerate(lines):
        points = [
            (left + plot_w * t / x_max, top + plot_h - plot_h * r / y_max) for t, r in samples
        ]
        if len(points) > 1:
            draw.line(points, fill=colour, width=3)
        peak = max((r for _, r in samples), default=0)
        draw.text(
            (left + plot_w - 330, top + plot_h - 30 - 20 * (len(lines) - 1 - index)),
            f"— {label}: peak {peak:,.0f} MB",
            font=font(14, True),
            fill=colour,
        )
    draw.text(
        (20, height - 30),
        "Figures: bench/wire_ingest.py; see bench/README.md",
        font=font(12),
        fill=grey,
    )
    image.save(path)


def frange(step: float, limit: float):
    value = 0.0
    while value <= limit:
        yield value
        value += step


# Main ---------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--items", type=int, default=GOAL_ITEMS, help="items to send (what parse() returns)"
    )
    parser.add_argument("--seed", type=int, default=SEED, help="for the generated copy")
    parser.add_argument(
        "--parse-rounds",
        type=int,
        default=3,
        help="time parsing this many times over the files and report the best round",
    )
    parser.add_argument(
        "--parse-only", action="store_true", help="skip the full ingest (no database)"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run the ingest under cProfile (slower: its figures are not the product's)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before a phase is killed"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60,
        help="before each phase, wait up to this many seconds for other work on the machine "
        "to drop under 0.3 cores",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--setup", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--verify", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--parse-phase", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def engine_version() -> dict:
    """Which code was measured: the commit, and any uncommitted change to the wire desk."""

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False
        )
        return done.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "uncommitted": git("status", "--short", "--", "broadsheet/wire").splitlines(),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.setup:
        setup_newsroom()
        return 0
    if args.verify:
        verify_newsroom(args.verify)
        return 0
    if args.parse_phase:
        parse_phase(args.parse_phase, rounds_wanted=args.parse_rounds)
        return 0
    # SIGTERM unwinds like Ctrl-C, through the finally blocks that stop what was started.
    signal.signal(signal.SIGTERM, interrupted)
    started = dt.datetime.now(dt.UTC)
    stamp = started.strftime("%Y%m%d-%H%M%S")
    results: dict = {
        "started": started.isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "loadavg_at_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "engine": engine_version(),
        "options": {key: str(value) for key, value in vars(args).items()},
        "goals_set": {
            "items": GOAL_ITEMS,
            "parse_items_per_second": GOAL_PARSE_PER_SECOND,
            "ingest_items_per_second": GOAL_INGEST_PER_SECOND,
        },
    }
    newsroom = Newsroom(keep=args.keep)
    facts = None
    try:
        manifest = generate(newsroom.wire, items=args.items, seed=args.seed)
        manifest_path = newsroom.dir / "manifest.json"
        manifest_path.write_text(json.dumps(manifest))
        results["wire"] = {k: v for k, v in manifest.items() if k != "stories_expected"}
        results["parse"] = run_parse(newsroom.wire, manifest, work=newsroom.dir, args=args)
        if not args.parse_only:
            results["setup"] = newsroom.prepare()
            results["ingest"] = run_ingest(newsroom, manifest, args=args, stamp=stamp)
            say("Checking the newsroom against what was sent...")
            facts = json.loads(
                newsroom.run(str(SCRIPT), "--verify", str(manifest_path)).strip().splitlines()[-1]
            )
            results["database"] = facts
    except KeyboardInterrupt:
        say("\nInterrupted: the children are stopped, nothing written.")
        return 130
    finally:
        if args.keep:
            say(f"Kept {newsroom.dir}")
        newsroom.remove()

    results["checks"] = checks(manifest, results["parse"], results.get("ingest"), facts)
    results["goals"] = verdicts(results["parse"], results.get("ingest"))
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / f"wire-{stamp}.json"
    png_path = RESULTS_DIR / f"wire-{stamp}.png"
    json_path.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    draw_chart(results, png_path)
    print_table(results)
    print(f"\nResults: {json_path.relative_to(PROJECT_DIR)}")
    print(f"Chart:   {png_path.relative_to(PROJECT_DIR)}")
    return 0 if all(item["ok"] for item in results["checks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
