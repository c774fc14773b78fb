"""The demo newsroom: sections, staff, agencies, blogs and six weeks of stories.

Every word and picture here is invented for Broadsheet. Content goes in through the same
services the admin uses, so the demo shows what the product does. Seeding is idempotent:
each object is found by its slug or title before it is created.
"""

import io
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.files.images import ImageFile
from django.utils import timezone
from django.utils.text import slugify
from wagtail.rich_text import RichText

from . import services
from .demo_photos import draw_scene
from .models import (
    Agency,
    ArticlePage,
    Author,
    BlogContributor,
    BlogIndexPage,
    BlogPostPage,
    Byline,
    Correction,
    Photo,
    SectionPage,
)

SEED = 2017
ARTICLE_COUNT = 64
DAYS_SPANNED = 42

SECTIONS = [
    # (path of slugs, title, intro)
    (("news",), "News", "What is happening in Northgate, the region and the world."),
    (("news", "local"), "Local", "The city, its council, its streets and its people."),
    (("news", "world"), "World", "Reports from our correspondents and the wire agencies."),
    (("news", "world", "middle-east"), "Middle East", "The region, from our partners' bureaus."),
    (("business",), "Business", "Firms, jobs, the port and the money in your pocket."),
    (("sport",), "Sport", "Northgate's teams, from the terraces to the touchline."),
    (("culture",), "Culture", "Books, stage, screen and the city's galleries."),
    (("science-health",), "Science & Health", "Research, hospitals and the way we live."),
]

AUTHORS = [
    ("Miriam Okafor", "City hall reporter"),
    ("Tomasz Wilk", "Business editor"),
    ("Leila Haddad", "Foreign correspondent"),
    ("Owen Pritchard", "Chief sports writer"),
    ("Anjali Rao", "Health and science correspondent"),
    ("Hugo Marchetti", "Arts critic"),
]

AGENCIES = [
    ("Continental Press Agency", "CPA", "A (fictional) international wire service."),
    ("Meridian News Service", "MNS", "A (fictional) regional news agency."),
]

BLOGS = [
    (
        "Northgate Notebook",
        "Small stories from a big city, gathered on foot.",
        ["Miriam Okafor", "Owen Pritchard"],
    ),
    (
        "The Market Week",
        "What moved prices, and why it matters at the till.",
        ["Tomasz Wilk", "Anjali Rao"],
    ),
]

LIGHTS = ["dusk", "daylight", "grey", "morning", "night", "green"]
PLACES = ["Northgate", "Eastmoor", "Riverside", "Kingsbridge", "Hollins Park", "Saltmarsh Quay"]
WORLD_PLACES = ["Lisbon", "Nairobi", "Montreal", "Jakarta", "Oslo", "Santiago"]
MIDEAST_PLACES = ["Beirut", "Amman", "Cairo", "Doha", "Muscat", "Tunis"]
PEOPLE = [
    ("Ruth Adeyemi", "a councillor for Eastmoor"),
    ("Daniel Kerr", "who runs a bakery on Mill Lane"),
    ("Samira Nasser", "a spokeswoman for the port authority"),
    ("Graham Holt", "a retired engineer"),
    ("Fatima Diallo", "a nurse at St Cuthbert's"),
    ("Peter Lindqvist", "an economist at Northgate University"),
    ("Yusuf Karim", "a shop steward at the depot"),
    ("Helen Marsh", "the club's chairwoman"),
]

TOPICS = {
    # section slug: (headline, standfirst, subject, tag); {place} and {n} are filled in.
    "local": [
        (
            "Council backs £{n} million plan to rebuild {place} library",
            "The branch closed after a roof collapse; campaigners say the new design must keep its "
            "children's room.",
            "library",
            "libraries",
        ),
        (
            "Night buses return to {place} after two-year gap",
            "Shift workers welcome three routes through the night, but drivers warn of staffing "
            "gaps.",
            "night buses",
            "transport",
        ),
        (
            "Flood defences on the {place} embankment to be raised",
            "Engineers say the wall was built for a river that no longer behaves as it did.",
            "flood wall",
            "flooding",
        ),
        (
            "{place} market hall to reopen with forty new stalls",
            "Traders were moved out for repairs that ran a year late and far over budget.",
            "market hall",
            "high street",
        ),
        (
            "Residents win fight to save {place} community garden",
            "The plot had been earmarked for parking; the council changed its mind after a "
            "petition.",
            "garden",
            "parks",
        ),
        (
            "Cycle lanes on the ring road divide {place} traders",
            "Some shops report fewer customers; others say the street has never been busier.",
            "cycle lanes",
            "transport",
        ),
    ],
    "world": [
        (
            "Talks in {place} end without deal on fishing quotas",
            "Delegates will meet again next month as fleets wait to learn what they may catch.",
            "fishing talks",
            "diplomacy",
        ),
        (
            "Heatwave strains power grid across {place}",
            "Operators asked households to delay washing and charging until after dark.",
            "heatwave",
            "climate",
        ),
        (
            "{place} votes in tight mayoral run-off",
            "Polls close at eight; both candidates promised cheaper housing.",
            "election",
            "elections",
        ),
        (
            "Rail strike halts commuter trains in {place}",
            "Unions and operators blame each other as the dispute over pay enters its third week.",
            "rail strike",
            "labour",
        ),
    ],
    "middle-east": [
        (
            "Aid convoys reach {place} suburbs after week of delays",
            "Trucks carrying flour and medicine crossed after checkpoints reopened overnight.",
            "aid convoys",
            "humanitarian",
        ),
        (
            "Power cuts in {place} fuel protests over prices",
            "Shopkeepers say generators now cost more to run than their rent.",
            "power cuts",
            "energy",
        ),
        (
            "{place} reopens historic souk after restoration",
            "Craftsmen spent four years repairing vaults damaged by fire.",
            "souk",
            "heritage",
        ),
        (
            "Water shortages deepen in {place} as summer begins",
            "Residents queue at tankers as reservoirs fall to their lowest level in decades.",
            "water supply",
            "climate",
        ),
    ],
    "business": [
        (
            "Port of {place} reports record container traffic",
            "New cranes and a deeper channel drew two shipping lines away from rival ports.",
            "port",
            "shipping",
        ),
        (
            "Bakery chain to create {n}00 jobs in {place}",
            "The family firm will build its largest ovens yet on the old gasworks site.",
            "bakery",
            "jobs",
        ),
        (
            "Energy bills to fall for {place} households this winter",
            "The cut is smaller than campaigners hoped and will not reach prepayment meters "
            "until spring.",
            "energy bills",
            "energy",
        ),
        (
            "Start-ups flock to old mill in {place}",
            "Cheap rents and fast broadband have filled four floors in eighteen months.",
            "old mill",
            "technology",
        ),
    ],
    "sport": [
        (
            "Northgate Rovers snatch late win over {place}",
            "A header in the ninety-third minute lifts the Rovers into the play-off places.",
            "Rovers",
            "football",
        ),
        (
            "{place} swimmer breaks county record at trials",
            "The seventeen-year-old took a second off a mark that had stood since 2009.",
            "swimmer",
            "athletics",
        ),
        (
            "Cricket ground in {place} gets £{n} million upgrade",
            "A new pavilion and floodlights will let the county play evening matches.",
            "cricket ground",
            "cricket",
        ),
        (
            "Marathon route through {place} unveiled",
            "Runners will cross both bridges and finish on the quay; roads close at six.",
            "marathon",
            "running",
        ),
    ],
    "culture": [
        (
            "{place} festival sells out in record time",
            "Organisers add a third stage and promise cheaper tickets for residents next year.",
            "festival",
            "festivals",
        ),
        (
            "Review: a bold new staging at the {place} Playhouse",
            "A stripped-back production that trusts its actors, and mostly earns that trust.",
            "Playhouse",
            "theatre",
        ),
        (
            "Lost murals uncovered during {place} station repairs",
            "Workers found painted tiles from the 1930s behind a false wall in the ticket hall.",
            "murals",
            "art",
        ),
        (
            "Poet laureate opens {place} book fair",
            "Two hundred publishers and a queue around the block on the first morning.",
            "book fair",
            "books",
        ),
    ],
    "science-health": [
        (
            "Hospital in {place} cuts waiting times by a third",
            "A new triage desk and evening clinics are credited with the fall.",
            "hospital",
            "health",
        ),
        (
            "University team maps {place} bats with sound",
            "Microphones on lamp posts reveal colonies nobody knew were there.",
            "bat survey",
            "wildlife",
        ),
        (
            "Clean-air zone reduces asthma admissions in {place}",
            "Doctors say the first full year of figures is encouraging but not conclusive.",
            "clean-air zone",
            "air quality",
        ),
        (
            "Volunteers needed for {place} sleep study",
            "Researchers want five hundred people willing to wear a wristband for a month.",
            "sleep study",
            "research",
        ),
    ],
}

QUOTES = [
    "We have waited a long time for this, and people here deserve to see it done properly",
    "Nobody is pretending the money solves everything, but it is a start",
    "The numbers tell one story, the people on the ground tell another",
    "It is not about one decision, it is about whether anyone listens",
    "If this works here, other places will copy it within a year",
    "We were told to be patient; patience has run out",
    "There is still a lot we do not know, and we should say so",
    "The worst thing we could do now is nothing at all",
]

SENTENCES = [
    "Officials said the work on the {subject} would begin within weeks.",
    "The decision came after months of public meetings in {place}.",
    "Figures published on {weekday} showed the change had been larger than expected.",
    "Critics argue that the plan does too little, too late.",
    "Supporters say the {subject} has been neglected for more than a decade.",
    "A consultation drew more than {n},{m}00 responses, the highest number on record.",
    "The cost will be shared between the city and a regional fund.",
    "Some residents said they had only learned of the {subject} plans from neighbours.",
    "The authority said it would publish a full timetable next month.",
    "Independent analysts cautioned that the estimates could change.",
    "Local businesses have been asked to comment before the end of the month.",
    "Similar schemes elsewhere have had mixed results, according to a recent review.",
    "The opposition called for an independent inquiry into the {subject}.",
    "A final vote is expected before the end of the year.",
]

BLOG_TOPICS = [
    ("Notes from a morning at the fish market", "markets"),
    ("The bench on Chapel Street and the people who sit on it", "streets"),
    ("What the lamplighters' guild did next", "history"),
    ("A walk along the old tram lines", "history"),
    ("Why the price of bread tells you about the weather", "prices"),
    ("Five charts on the city's rents", "housing"),
    ("The corner shop that outlasted three supermarkets", "high street"),
    ("How the port quietly became the city's biggest employer", "shipping"),
    ("Coffee, cardamom and the new cafes of Saltmarsh Quay", "food"),
    ("What a pension fund sees in a wind farm", "energy"),
    ("The allotment waiting list, explained", "parks"),
    ("Reading the small print on your water bill", "prices"),
]


@dataclass
class SeedReport:
    created: int = 0
    existing: int = 0
    scheduled_title: str = ""
    scheduled_at: object = None


def _paragraph(rng, subject, place):
    text = " ".join(
        sentence.format(
            subject=subject,
            place=place,
            n=rng.randint(2, 9),
            m=rng.randint(1, 9),
            weekday=rng.choice(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]),
        )
        for sentence in rng.sample(SENTENCES, rng.randint(2, 3))
    )
    return {"type": "paragraph", "value": f"<p>{text}</p>"}


def story_body(rng, *, subject, place, photo=None, paragraphs=14):
    """A body of short paragraphs split by two crossheads, with quotations and a fact box."""
    people = rng.sample(PEOPLE, 3)
    quotes = rng.sample(QUOTES, 4)
    blocks = []
    crossheads = [f"'{quotes[2].split(',')[0].capitalize()}'", f"'{quotes[3].split(',')[0]}'"]
    thirds = {paragraphs // 3: crossheads[0], 2 * paragraphs // 3: crossheads[1]}
    for index in range(paragraphs):
        if index in thirds:
            blocks.append({"type": "crosshead", "value": thirds[index]})
        if index in (2, 7, 11):
            name, role = people[len([b for b in blocks if b["type"] == "quote"]) % 3]
            quote = quotes[index % 4]
            blocks.append({"type": "paragraph", "value": f"<p>“{quote},” said {name}, {role}.</p>"})
        else:
            blocks.append(_paragraph(rng, subject, place))
        if index == 5:
            name, _ = people[0]
            blocks.append({"type": "quote", "value": {"quotation": quotes[1], "attribution": name}})
        if index == 9 and rng.random() < 0.5:
            blocks.append(
                {
                    "type": "fact_box",
                    "value": {
                        "title": f"The {subject} in numbers",
                        "body": f"<ul><li>{rng.randint(3, 40)} years since the last overhaul</li>"
                        f"<li>£{rng.randint(2, 12)} million in public money</li>"
                        f"<li>{rng.randint(10, 90)}% of those consulted were in favour</li></ul>",
                    },
                }
            )
        if index == 8 and photo is not None:
            blocks.append(
                {
                    "type": "photo",
                    "value": {"photo": photo.pk, "caption": f"A scene in {place} this week."},
                }
            )
    return blocks


def _ensure_photos(count, progress):
    kinds = ["street", "harbour", "hills", "crowd"]
    photos = []
    for index in range(count):
        title = f"Demo photo {index + 1:02d}"
        photo = Photo.objects.filter(title=title).first()
        if photo is None:
            kind = kinds[index % len(kinds)]
            data = draw_scene(SEED + index, kind)
            photo = Photo(
                title=title,
                description=f"Illustration: a {kind} scene in {LIGHTS[(SEED + index) % 6]} light",
                credit="Courier photo" if index % 3 else "CPA photo",
                file=ImageFile(io.BytesIO(data), name=f"demo-{index + 1:02d}.jpg"),
            )
            photo.save()
        photos.append(photo)
        progress(1)
    return photos


def _child(parent, model, slug):
    return model.objects.child_of(parent).filter(slug=slug).first()


def seed_newsroom(*, progress: Callable[[int], None] = lambda n: None, now=None) -> SeedReport:
    """Create the demo newsroom, or complete it if a previous run stopped half-way."""
    now = now or timezone.now()
    report = SeedReport()
    home = services.ensure_home_page(site_name="The Northgate Courier")

    sections = {}
    for path, title, intro in SECTIONS:
        parent = sections[path[:-1]] if len(path) > 1 else home
        section = _child(parent, SectionPage, path[-1])
        if section is None:
            section = SectionPage(
                title=title, slug=path[-1], intro=intro, show_in_menus=len(path) == 1
            )
            parent.add_child(instance=section)
            section.save_revision().publish()
        sections[path] = section
    progress(1)

    authors = {}
    for name, role in AUTHORS:
        authors[name], _ = Author.objects.get_or_create(
            slug=slugify(name),
            defaults={
                "name": name,
                "role": role,
                "bio": f"{name} is the Courier's {role.lower()}.",
            },
        )
    agencies = [
        Agency.objects.get_or_create(
            slug=slugify(short), defaults={"name": name, "byline_name": short, "about": about}
        )[0]
        for name, short, about in AGENCIES
    ]
    photos = _ensure_photos(24, progress)

    section_keys = [path for path, *_ in SECTIONS if path[-1] in TOPICS]
    for index in range(ARTICLE_COUNT):
        # One generator per story, so a story skipped on a re-run leaves the others as they were.
        rng = random.Random(SEED * 1000 + index)
        path = section_keys[index % len(section_keys)]
        key = path[-1]
        occurrence = index // len(section_keys)
        topic, cycle = occurrence % len(TOPICS[key]), occurrence // len(TOPICS[key])
        template, standfirst, subject, tag = TOPICS[key][topic]
        places = {"world": WORLD_PLACES, "middle-east": MIDEAST_PLACES}.get(key, PLACES)
        # A topic that comes round again is set somewhere else.
        place = places[(topic + cycle * 3) % len(places)]
        headline = template.format(place=place, n=rng.randint(2, 9))
        slug = f"{slugify(headline)}-{index + 1}"
        published_at = now - timedelta(
            days=DAYS_SPANNED * (index + 1) / ARTICLE_COUNT,
            hours=rng.randint(0, 5),
            minutes=rng.randint(0, 59),
        )
        if _child(sections[path], ArticlePage, slug):
            report.existing += 1
            progress(1)
            continue
        is_wire = key in ("world", "middle-east") or index % 9 == 0
        story = ArticlePage(
            title=headline,
            slug=slug,
            standfirst=standfirst,
            dateline=place if is_wire or index % 2 else "",
            agency=agencies[index % 2] if is_wire else None,
            lead_photo=photos[index % len(photos)],
            lead_photo_caption=f"{place}, where the {subject} has become a talking point.",
            body=story_body(
                rng,
                subject=subject,
                place=place,
                photo=photos[(index + 5) % len(photos)] if index % 4 == 0 else None,
            ),
        )
        story.tags.add(tag, place)
        if not is_wire or index % 3 == 0:
            story.bylines = [Byline(author=list(authors.values())[index % len(authors)])]
        if index % 11 == 3:
            story.corrections = [
                Correction(
                    date=(published_at + timedelta(days=1)).date(),
                    note="An earlier version of this story misspelled the name of "
                    f"{PEOPLE[index % len(PEOPLE)][0]}.",
                )
            ]
        story = services.publish_story(parent=sections[path], story=story)
        updated_at = None
        if index % 5 == 1:
            # A substantive update, published as a second revision.
            story.body.append(
                (
                    "paragraph",
                    RichText(
                        "<p>This story has been updated with reaction from residents "
                        "and officials.</p>"
                    ),
                )
            )
            story.save_revision().publish()
            updated_at = published_at + timedelta(hours=rng.randint(2, 20))
        services.backdate_story(story=story, published_at=published_at, updated_at=updated_at)
        report.created += 1
        progress(1)

    for blog_index, (title, intro, writer_names) in enumerate(BLOGS):
        slug = slugify(title)
        blog = _child(home, BlogIndexPage, slug)
        if blog is None:
            blog = BlogIndexPage(title=title, slug=slug, intro=intro)
            blog.contributors = [BlogContributor(author=authors[n]) for n in writer_names]
            home.add_child(instance=blog)
            blog.save_revision().publish()
        for post_index in range(6):
            rng = random.Random(SEED * 2000 + blog_index * 10 + post_index)
            post_title, tag = BLOG_TOPICS[blog_index * 6 + post_index]
            post_slug = slugify(post_title)
            if _child(blog, BlogPostPage, post_slug):
                report.existing += 1
                continue
            writer = authors[writer_names[post_index % len(writer_names)]]
            post = BlogPostPage(
                title=post_title,
                slug=post_slug,
                standfirst=f"{writer.name.split()[0]} on {tag}, and what it says about the city.",
                lead_photo=photos[(post_index * 5 + blog_index) % len(photos)],
                lead_photo_caption="Northgate, seen from the old town.",
                body=story_body(rng, subject=tag, place="Northgate", paragraphs=8),
                bylines=[Byline(author=writer)],
            )
            post.tags.add(tag, "blogs")
            post = services.publish_story(parent=blog, story=post)
            services.backdate_story(
                story=post, published_at=now - timedelta(days=post_index * 4 + blog_index * 2 + 0.5)
            )
            report.created += 1

    # One story waits for its time: the background worker publishes it.
    scheduled_slug = "council-to-announce-winter-gritting-routes"
    existing = _child(sections[("news", "local")], ArticlePage, scheduled_slug)
    if existing is None:
        rng = random.Random(SEED * 3000)
        go_live = now + timedelta(minutes=5)
        story = ArticlePage(
            title="Council to announce winter gritting routes",
            slug=scheduled_slug,
            standfirst="The city's gritters will cover twelve more miles of road this winter.",
            dateline="Northgate",
            lead_photo=photos[0],
            lead_photo_caption="A gritter at the Eastmoor depot.",
            body=story_body(rng, subject="gritting", place="Northgate", paragraphs=6),
            bylines=[Byline(author=authors["Miriam Okafor"])],
            go_live_at=go_live,
        )
        story.tags.add("transport", "winter")
        services.publish_story(parent=sections[("news", "local")], story=story)
        report.scheduled_title, report.scheduled_at = story.title, go_live
    progress(1)
    return report


def total_steps() -> int:
    return 1 + 24 + ARTICLE_COUNT + 1


# The demo command's interface (broadsheet/core/management/commands/seed_demo.py).
LOGINS = [
    ("editor", services.EDITORS, "Editors: review, publish, schedule; the newsletter"),
    ("reporter", services.REPORTERS, "Reporters: write and submit to the Editors' review"),
]


def seed(*, progress=lambda n: None) -> str:
    report = seed_newsroom(progress=progress)
    line = f"Stories: {report.created} created, {report.existing} already there."
    if report.scheduled_title:
        line += (
            f"\nScheduled: '{report.scheduled_title}' goes live at "
            f"{report.scheduled_at:%H:%M} UTC; the background worker publishes it."
        )
    return line
