"""The wire desk's fixtures: a morning on the desk, an agency's drop folder into World."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from broadsheet.wire.models import RoutingRule, WireSource
from broadsheet.wire.polling import drop_folder

# The desk's morning: items the tests write were sent at 06:00 UTC on this day.
DESK_MORNING = datetime(2026, 11, 26, 6, 30, tzinfo=ZoneInfo("Europe/London"))


@pytest.fixture
def desk_morning():
    with time_machine.travel(DESK_MORNING, tick=True) as traveller:
        yield traveller


@pytest.fixture
def politics(news):
    from tests.conftest import add_section

    return add_section(news, "Politics")


@pytest.fixture
def source(db, agency, world, politics, desk_morning):
    """CPA's drop folder: politics by media topic, everything else drafted into World."""
    source = WireSource.objects.create(
        name="CPA English service",
        agency=agency,
        kind=WireSource.Kind.DROP_FOLDER,
        folder="cpa",
        default_section=world,
        publish_at_once=False,
    )
    RoutingRule.objects.create(
        source=source, match="subject", value="medtop:11000000", section=politics, then="publish"
    )
    drop_folder(source).mkdir(parents=True, exist_ok=True)
    return source
