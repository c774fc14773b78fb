"""Seed the benchmark's throwaway newsroom: one section and three stories, through the services.

Run by engagement_load.py in a subprocess whose environment points BROADSHEET_VAR_DIR at a
fresh temporary folder; never run it against a real database. Prints one JSON line:
{"stories": {"votes": {"id": .., "url": ..}, "returning": {..}, "comments": {..}}}.

The "votes" story is also the page whose GET throughput is measured, so it is built like the
peers' synthetic article (about 950 words under four crossheads, a 1600x900 lead photo and
20 published comments): the figures can then be set beside theirs.
"""

import io
import json
import os
import random
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

WORDS = [
    "council",
    "harbour",
    "ferry",
    "library",
    "budget",
    "residents",
    "meeting",
    "proposal",
    "evening",
    "service",
    "winter",
    "timetable",
    "committee",
    "report",
    "figures",
    "consultation",
    "street",
    "market",
    "bridge",
    "school",
    "hospital",
    "funding",
    "trial",
    "passengers",
    "route",
    "officers",
    "public",
    "decision",
    "planning",
    "station",
    "estate",
    "board",
]
CROSSHEADS = [
    "What the plan would change",
    "Money and the winter timetable",
    "Residents divided",
    "What happens next",
]


def filler(rng: random.Random, words: int) -> str:
    sentences, count = [], 0
    while count < words:
        n = rng.randint(9, 16)
        sentence = " ".join(rng.choice(WORDS) for _ in range(n))
        sentences.append(sentence.capitalize() + ".")
        count += n
    return " ".join(sentences)


def main() -> None:
    if "BROADSHEET_VAR_DIR" not in os.environ:
        sys.exit("engagement_seed.py seeds a throwaway database: set BROADSHEET_VAR_DIR.")
    import django

    django.setup()

    from django.core.files.images import ImageFile
    from django.test import override_settings
    from PIL import Image

    from broadsheet.engagement import services as engagement
    from broadsheet.news import services
    from broadsheet.news.models import ArticlePage, Author, Byline, Photo, SectionPage

    rng = random.Random(20261125)
    home = services.ensure_home_page(site_name="The Benchmark Courier")
    section = SectionPage(title="News", slug="news", show_in_menus=True)
    home.add_child(instance=section)
    section.save_revision().publish()
    author = Author.objects.create(name="Mara Quill", slug="mara-quill", role="Reporter")

    buffer = io.BytesIO()
    Image.new("RGB", (1600, 900), (40, 90, 140)).save(buffer, format="JPEG", quality=85)
    photo = Photo.objects.create(
        title="Harbour at dusk",
        description="Boats moored in the harbour at dusk",
        credit="Courier photo",
        file=ImageFile(io.BytesIO(buffer.getvalue()), name="bench-lead.jpg"),
    )

    def article(slug: str, title: str) -> ArticlePage:
        body = []
        for crosshead in CROSSHEADS:
            body.append({"type": "crosshead", "value": crosshead})
            for _ in range(3):
                body.append({"type": "paragraph", "value": f"<p>{filler(rng, 78)}</p>"})
        story = ArticlePage(
            title=title,
            slug=slug,
            standfirst="The board wants passenger counts before it commits money beyond a pilot.",
            dateline="Northgate",
            lead_photo=photo,
            lead_photo_caption="A launch idles beside the slipway at dusk.",
            body=body,
        )
        story.bylines = [Byline(author=author)]
        story.tags.add("harbour")
        return services.publish_story(parent=section, story=story)

    stories = {
        "votes": article("harbour-ferry-trial", "Harbour board backs a year-long ferry trial"),
        "returning": article("library-reopens", "Library to reopen with longer hours"),
        "comments": article("market-moves", "Street market moves to the quay"),
    }
    # The peers' article carries 20 comments; these go through the same service as readers'.
    with override_settings(
        BROADSHEET_COMMENTS_PER_ADDRESS_PER_HOUR=10**6,
        BROADSHEET_COMMENTS_PER_READER_PER_MINUTE=10**6,
    ):
        for index in range(20):
            engagement.post_comment(
                story=stories["votes"],
                name=f"Reader {index + 1}",
                email="",
                body=f"Comment {index + 1}: {filler(rng, 30)}",
                reader=f"{index:032x}",
                address="192.0.2.1",
            )
    print(
        json.dumps(
            {
                "stories": {
                    key: {"id": story.pk, "url": story.get_url()} for key, story in stories.items()
                }
            }
        )
    )


if __name__ == "__main__":
    main()
