"""What the parser tests share: the project's own samples, refusals, and no network.

Parser tests are pure Python: none of them asks for the database.
"""

import signal
import socket
from contextlib import contextmanager
from pathlib import Path

import pytest

from broadsheet.wire.parsers import Unreadable, WireItem, parse

SAMPLES = Path(__file__).resolve().parents[1] / "samples"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """A parser that reaches for the network (an XXE, a DTD, a catalog) fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError(f"a parser tried to open a connection: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def sample(name: str) -> bytes:
    """The bytes of one of the project's own samples in tests/wire/samples/."""
    return (SAMPLES / name).read_bytes()


def parse_sample(name: str) -> list[WireItem]:
    return parse(sample(name), filename=name)


def refusal(data: bytes, **kwargs) -> str:
    """The reason `parse` refuses `data` with (the test fails if it is accepted)."""
    with pytest.raises(Unreadable) as refused:
        parse(data, **kwargs)
    return refused.value.reason


@contextmanager
def deadline(seconds: float):
    """Fail, rather than hang, if the block runs longer than `seconds` (a generous guard:
    the hostile files are refused in milliseconds; expanding one would take minutes)."""

    def expired(signum, frame):
        pytest.fail(f"took longer than {seconds} s: something was expanded or fetched")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
