"""Every real agency file, all the way in: it becomes stories or is quarantined with the
reason, and none of them trips a bug on the way (../shared/wire-samples, when present)."""

import pytest

from broadsheet.news.models import ArticlePage
from broadsheet.wire import services
from broadsheet.wire.models import ReceivedFile, WireItem
from tests.wire.parsers.test_shared_samples import SAMPLES

pytestmark = pytest.mark.skipif(
    not SAMPLES.is_dir(),
    reason=f"the shared wire-sample corpus is not at {SAMPLES} (set BROADSHEET_WIRE_SAMPLES)",
)
FILES = (
    sorted(p for p in SAMPLES.glob("*/*") if p.suffix in (".xml", ".json"))
    if SAMPLES.is_dir()
    else []
)


def test_every_agency_file_is_ingested_or_quarantined_with_its_reason(source):
    source.publish_at_once = True
    source.save()

    for path in FILES:
        received = services.receive_file(data=path.read_bytes(), name=path.name, source=source)
        services.process_file(received)

    files = ReceivedFile.objects.all()
    assert files.count() == len(FILES)
    bugs = [(f.name, f.reason) for f in files if "could not ingest" in f.reason]
    assert bugs == []
    for received in files.filter(status=ReceivedFile.Status.QUARANTINED):
        assert len(received.reason) > 20, received.name
    assert ArticlePage.objects.live().count() >= 60
    for story in ArticlePage.objects.live():
        assert story.title.strip() and story.standfirst.strip(), story.pk
        assert "<script" not in str(story.body)
    killed = WireItem.objects.filter(desk=WireItem.Desk.KILLED)
    assert all(not row.story or not row.story.live for row in killed)
