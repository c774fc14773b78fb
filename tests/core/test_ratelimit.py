"""Rate limits mean what their settings say, however many processes serve the site."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from broadsheet.core.models import RateCount
from broadsheet.core.ratelimit import RateLimited, check_rate
from tests.processes import manage_py

TEN_PAST = datetime(2026, 11, 26, 9, 10, tzinfo=UTC)


def act(key="203.0.113.7", limit=3, window=3600):
    check_rate(scope="test", key=key, limit=limit, window=window, message="Slow down, please.")


def allowed(times, **kwargs) -> int:
    passed = 0
    for _ in range(times):
        try:
            act(**kwargs)
            passed += 1
        except RateLimited as refused:
            assert refused.message == "Slow down, please."
    return passed


@pytest.mark.parametrize("store", ["database", "cache"])
def test_a_limit_lets_through_exactly_its_number_per_window(db, settings, store):
    settings.BROADSHEET_RATE_LIMIT_STORE = store
    with time_machine.travel(TEN_PAST):
        assert allowed(10) == 3
        assert allowed(2, key="198.51.100.1") == 2  # another address has its own count
    # Windows are aligned to the clock: the next hour starts a new count.
    with time_machine.travel(TEN_PAST + timedelta(minutes=50)):
        assert allowed(10) == 3


def test_windows_that_ended_are_cleared_when_a_new_one_begins(db):
    with time_machine.travel(TEN_PAST):
        allowed(2)
        allowed(2, key="198.51.100.1")
    assert RateCount.objects.count() == 2

    with time_machine.travel(TEN_PAST + timedelta(hours=2)):
        allowed(1)

    assert list(RateCount.objects.values_list("count", flat=True)) == [1]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_server_processes_share_one_count(settings):
    # Two processes at once, each trying 25 sign-ups against a limit of 20 an hour.
    code = (
        "from broadsheet.core.ratelimit import RateLimited, check_rate\n"
        "passed = 0\n"
        "for _ in range(25):\n"
        "    try:\n"
        "        check_rate(scope='signup', key='one-address', limit=20, window=3600,"
        " message='no')\n"
        "        passed += 1\n"
        "    except RateLimited:\n"
        "        pass\n"
        "print('passed', passed)\n"
    )
    processes = [manage_py("shell", "-c", code) for _ in range(2)]
    outputs = [process.communicate(timeout=60)[0].decode() for process in processes]

    passed = [int(out.split("passed ")[-1]) for out in outputs]
    assert sum(passed) == 20, outputs
    assert RateCount.objects.get().count == 50
