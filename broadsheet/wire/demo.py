"""The wire desk's part of the demo: two fictional agencies' sources and a morning's copy.

CPA delivers NewsML-G2 and ninjs into a drop folder under var/wire/drop/cpa/; MNS
publishes an RSS feed that the demo site serves itself (under /media/, on loopback), which
the background worker polls. The copy goes through the same path as any agency's: files
are written into the drop folder and read by the scan, so the desk shows real history.
Safe to run again: a second run finds the source and its files already there.
"""

import os
import random
import time
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from broadsheet.news.models import Agency, SectionPage

from . import polling
from .models import ReceivedFile, RoutingRule, WireSource
from .samples import Story, newsml_g2, ninjs, photo_bytes, rss

SEED = 2026
FEED_PATH = "demo-wire/mns-latest.xml"  # under MEDIA_ROOT, served by the demo itself

# (headline, dateline, language, topic qcode, paragraphs)
COPY = [
    ("Port strike ends after overnight talks", "ROTTERDAM", "en", "medtop:04000000"),
    ("Central bank holds rates for a third month", "FRANKFURT", "en", "medtop:04000000"),
    ("Floods close rail line along the river valley", "LYON", "en", "medtop:06000000"),
    ("Coalition talks stall over budget rules", "BERLIN", "en", "medtop:11000000"),
    ("Parliament backs new transparency law", "LISBON", "en", "medtop:11000000"),
    ("Election commission sets date for snap vote", "OSLO", "en", "medtop:11000000"),
    ("Wildfire season starts early in the south", "ATHENS", "en", "medtop:06000000"),
    ("Football: late goal sends champions top", "MADRID", "en", "medtop:15000000"),
    ("Tennis: qualifier reaches first final", "MELBOURNE", "en", "medtop:15000000"),
    ("New vaccine trial begins in three countries", "GENEVA", "en", "medtop:07000000"),
    ("Astronomers map a nearby star nursery", "SANTIAGO", "en", "medtop:13000000"),
    ("Film festival opens with a debut feature", "VENICE", "en", "medtop:01000000"),
    ("Shipping firm orders twelve cleaner vessels", "COPENHAGEN", "en", "medtop:04000000"),
    ("Heatwave warning for the capital", "MADRID", "en", "medtop:17000000"),
    ("Le gouvernement présente son budget rectificatif", "PARIS", "fr", "medtop:11000000"),
    ("Grève des contrôleurs aériens ce week-end", "MARSEILLE", "fr", "medtop:04000000"),
    ("El Gobierno aprueba la ley de vivienda", "MADRID", "es", "medtop:11000000"),
    ("Inundaciones cortan carreteras en el norte", "BILBAO", "es", "medtop:06000000"),
    ("مجلس النواب يقر موازنة العام المقبل", "بيروت", "ar", "medtop:11000000"),
    ("افتتاح معرض الكتاب الدولي بمشاركة واسعة", "عمّان", "ar", "medtop:01000000"),
    ("הכנסת אישרה את תקציב המדינה בקריאה ראשונה", "ירושלים", "he", "medtop:11000000"),
    ("Regional airline adds winter routes", "DUBLIN", "en", "medtop:04000000"),
    ("Museum returns bronze to its home city", "BENIN CITY", "en", "medtop:01000000"),
    ("Glacier study finds faster melting", "REYKJAVIK", "en", "medtop:06000000"),
]
SENTENCES = {
    "en": [
        "Officials said the decision followed weeks of talks.",
        "Critics said the measures did not go far enough.",
        "The announcement was welcomed by business groups.",
        "A spokesperson declined to comment on the details.",
        "Further details are expected later in the week.",
        "Local residents described the scene as calm.",
    ],
    "fr": ["Les responsables ont salué un accord équilibré.", "Les syndicats restent prudents."],
    "es": ["Las autoridades pidieron calma a la población.", "La oposición criticó la medida."],
    "ar": [
        "وقال مسؤولون إن القرار جاء بعد أسابيع من المحادثات.",
        "ورحبت الأوساط الاقتصادية بالخطوة.",
    ],
    "he": ["גורמים רשמיים אמרו כי ההחלטה התקבלה לאחר דיונים ממושכים.", "באופוזיציה מתחו ביקורת."],
}
FEED_COPY = [
    ("Highland ferry timetable changes from Monday", "en"),
    ("University opens new marine research centre", "en"),
    ("Harbour authority approves quay extension", "en"),
    ("Regional orchestra announces spring season", "en"),
    ("Rail operator trials contactless tickets", "en"),
    ("Fishing fleet records best catch in a decade", "en"),
]


def total_steps() -> int:
    return 4


def _paragraphs(rng, language):
    sentences = SENTENCES.get(language, SENTENCES["en"])
    return [
        rng.choice(sentences),
        *(" ".join(rng.sample(sentences, min(2, len(sentences)))) for _ in range(5)),
    ]


def _sources():
    cpa = Agency.objects.get(byline_name="CPA")
    mns = Agency.objects.get(byline_name="MNS")
    world = SectionPage.objects.get(slug="world")
    business = SectionPage.objects.get(slug="business")
    sport = SectionPage.objects.get(slug="sport")
    mideast = SectionPage.objects.get(slug="middle-east")
    drop, created = WireSource.objects.get_or_create(
        name="CPA world service (drop folder)",
        defaults={
            "agency": cpa,
            "kind": WireSource.Kind.DROP_FOLDER,
            "folder": "cpa",
            "format": "newsml-g2",
            "default_section": world,
            "publish_at_once": False,
            "poll_minutes": 2,
            "quiet_minutes": 240,
            "active": False,  # switched on below, once its rules are in
        },
    )
    if created:
        for value, section, then in (
            ("medtop:04000000", business, "publish"),
            ("medtop:15000000", sport, "publish"),
            ("arabic-service", mideast, "publish"),
        ):
            RoutingRule.objects.create(
                source=drop,
                match="keyword" if value == "arabic-service" else "subject",
                value=value,
                section=section,
                then=then,
            )
    feed, _ = WireSource.objects.get_or_create(
        name="MNS regional feed (RSS)",
        defaults={
            "agency": mns,
            "kind": WireSource.Kind.FEED,
            "format": "rss",
            "url": f"{settings.WAGTAILADMIN_BASE_URL.rstrip('/')}{settings.MEDIA_URL}{FEED_PATH}",
            "default_section": world,
            "publish_at_once": True,
            "poll_minutes": 5,
            "quiet_minutes": 720,
            "active": False,
        },
    )
    return drop, feed


def seed(*, progress=lambda n: None) -> str:
    rng = random.Random(SEED)
    drop, feed = _sources()
    progress(1)
    if ReceivedFile.objects.filter(source=drop).exists():
        progress(3)
        return "Wire desk: already seeded."
    now = timezone.now()
    folder = polling.drop_folder(drop)
    folder.mkdir(parents=True, exist_ok=True)
    stories = []
    for n, (headline, place, language, topic) in enumerate(COPY):
        story = Story(
            guid=f"urn:newsml:cpa.example:2026:{n:04d}",
            headline=headline,
            dateline=place,
            language=language,
            provider="CPA",
            subjects=[topic],
            keywords=["arabic-service"] if language == "ar" else [],
            paragraphs=_paragraphs(rng, language),
            sent=now - timedelta(minutes=20 * (len(COPY) - n)),
            crosshead="What happens next" if n % 4 == 0 else "",
        )
        if n % 5 == 0:
            story.picture, story.caption = f"cpa-{n:04d}.jpg", f"{headline} (file picture)"
            (folder / story.picture).write_bytes(photo_bytes(colour=(30 + 7 * n, 60, 90)))
        stories.append(story)
    for n, story in enumerate(stories):
        data = (
            ninjs(story)
            if n % 3 == 1
            else newsml_g2(
                story, pictures={story.guid: story.guid + ":pic"} if story.picture else None
            )
        )
        (folder / f"cpa-{n:04d}.{'json' if n % 3 == 1 else 'xml'}").write_bytes(data)
    # The morning's news: one story updated with a correction, one killed, one under embargo.
    update = stories[1]
    update.version, update.correction = 2, True
    update.headline = update.headline.replace("third", "fourth")
    update.sent = now - timedelta(minutes=5)
    (folder / "cpa-0001-v2.xml").write_bytes(newsml_g2(update))
    killed = stories[8]  # published at once into Sport, then withdrawn by the agency
    killed.version, killed.status, killed.sent = 2, "canceled", now - timedelta(minutes=3)
    (folder / "cpa-0008-kill.xml").write_bytes(newsml_g2(killed))
    embargoed = Story(
        guid="urn:newsml:cpa.example:2026:9000",
        headline="Nobel committee names this year's peace laureate",
        dateline="OSLO",
        provider="CPA",
        subjects=["medtop:11000000"],
        sent=now,
        embargo=(now + timedelta(hours=3)).replace(minute=0, second=0, microsecond=0),
        paragraphs=_paragraphs(rng, "en"),
        ednote="EMBARGOED: not for use before the time given.",
    )
    (folder / "cpa-9000-embargo.xml").write_bytes(newsml_g2(embargoed))
    (folder / "cpa-broken.xml").write_bytes(newsml_g2(stories[2])[:300])  # cut off in transit
    _age(folder)
    progress(1)
    outcome = polling.scan_drop_folder(drop)
    progress(1)
    media = settings.MEDIA_ROOT / FEED_PATH
    media.parent.mkdir(parents=True, exist_ok=True)
    media.write_bytes(
        rss(
            *(
                Story(
                    guid=f"https://mns.example/{n}",
                    headline=headline,
                    language=language,
                    provider="MNS",
                    paragraphs=_paragraphs(rng, language),
                    sent=now - timedelta(minutes=15 * n),
                )
                for n, (headline, language) in enumerate(FEED_COPY)
            ),
            title="Meridian News Service: regional",
        )
    )
    # Switched on without the save signal, then polled in a few seconds: the site that
    # serves the feed starts just after the seeding.
    WireSource.objects.filter(pk__in=[drop.pk, feed.pk]).update(active=True)
    for source in (drop, feed):
        source.refresh_from_db()
        polling.schedule_polling(source, at=now + timedelta(seconds=15))
    progress(1)
    return (
        f"Wire desk: {sum(outcome.values())} items from CPA's drop folder ("
        + ", ".join(f"{count} {what}" for what, count in sorted(outcome.items()))
        + f"); MNS's feed at {feed.url} is polled by the worker."
    )


def _age(folder):
    """Files in a drop folder are read once settled, in the order they arrived: the
    demo's are settled at once, a second apart in the order they were written."""
    paths = sorted(folder.iterdir(), key=lambda path: path.stat().st_mtime_ns)
    start = time.time() - 60 - len(paths)
    for n, path in enumerate(paths):
        os.utime(path, (start + n, start + n))
