"""A real SMTP server in the test process, for tests that need a mail server to misbehave.

Django's locmem backend proves what was *handed* to the mail layer; this proves what
crossed the wire, and lets a test make the server refuse, stall or hang up at the exact
step where a real one does. It runs aiosmtpd on 127.0.0.1 in a thread of its own:

    with SMTPSink(refuse={"gone@example.org": (550, "No such mailbox")}) as sink:
        ...send through EMAIL_HOST=127.0.0.1, EMAIL_PORT=sink.port...
        sink.wait_for(3)
        assert [m.message["To"] for m in sink.messages] == [...]

Every behaviour is an attribute that a test may change while the server runs (the
server reads it afresh for each command). Addresses are compared in lower case.
"""

import asyncio
import email
import email.policy
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

STAGES = ("mail", "rcpt", "data_end")


@dataclass(frozen=True)
class ReceivedMessage:
    """One message the server accepted: its envelope, and the message as a reader's
    program parses it."""

    number: int  # which transaction (MAIL FROM) of this sink's life it was, from 1
    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes = field(repr=False)
    peer: tuple = ()  # the client's (host, port): one per connection


@dataclass(frozen=True)
class Attempt:
    """What a `drop_at` predicate is shown: the transaction so far."""

    number: int
    stage: str
    mail_from: str
    rcpt_tos: tuple[str, ...]  # at "rcpt", ends with the address being offered


class _Controller(Controller):
    """aiosmtpd's Controller on a port the kernel picks.

    The stock Controller connects to `self.port` to check the server is up, so port 0
    would fail; this records the port actually bound before that check runs. A port
    picked by probing and then bound later could be taken in between by a parallel run.
    """

    async def _create_server(self):
        server = await self.loop.create_server(
            self._factory_invoker, host=self.hostname, port=self.port
        )
        self.port = server.sockets[0].getsockname()[1]
        return server


class SMTPSink:
    """An in-process SMTP server that records what it accepts and misbehaves on request.

    refuse             {address: (code, text)}: answer RCPT with that reply, every time
                       (550 for a mailbox that does not exist, 450 for one that is busy).
    temporary_failures {address: n}: answer RCPT with 451 n times, then accept; the
                       sender's retry path sees a server that recovers.
    drop_at            (stage, which): close the connection without answering, as a
                       crashed server or a cut network does. stage is "mail", "rcpt" or
                       "data_end"; which is a transaction number (the nth MAIL FROM the
                       sink has seen, from 1) or a predicate taking an `Attempt`. At
                       "data_end" the message is not recorded: the server had not
                       committed it, so the sender cannot know and must not assume.
    on_message         callback(ReceivedMessage), run after recording and before the 250
                       reply. A test can kill the sending process here, leaving a message
                       that was delivered but never confirmed to the sender.
    delay              seconds to wait before answering the end of DATA (a slow server;
                       longer than EMAIL_TIMEOUT makes the sender time out). The message
                       is recorded before the wait, as a real server queues a message
                       once it has all of it: a sender that gives up waiting has in fact
                       delivered it, and sending it again makes a duplicate (RFC 1047).
    """

    def __init__(
        self,
        *,
        refuse: dict[str, tuple[int, str]] | None = None,
        temporary_failures: dict[str, int] | None = None,
        drop_at: tuple[str, int | Callable[[Attempt], bool]] | None = None,
        delay: float = 0.0,
        on_message: Callable[[ReceivedMessage], None] | None = None,
    ):
        self.refuse = dict(refuse or {})
        self.temporary_failures = dict(temporary_failures or {})
        self.drop_at = drop_at
        self.delay = delay
        self.on_message = on_message
        self.dropped: list[Attempt] = []  # every hang-up, so a test can check it happened
        self._messages: list[ReceivedMessage] = []
        self._transactions = 0
        # The server thread appends and the test thread reads: one lock, and a condition
        # on it so wait_for() sleeps until a message arrives instead of polling.
        self._arrived = threading.Condition()
        self._controller = _Controller(_Handler(self), hostname="127.0.0.1", port=0)

    # Running ----------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> "SMTPSink":
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> "SMTPSink":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # What arrived -----------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._arrived:
            return list(self._messages)

    @property
    def count(self) -> int:
        with self._arrived:
            return len(self._messages)

    def messages_to(self, address: str) -> list[ReceivedMessage]:
        address = address.lower()
        return [m for m in self.messages if address in m.rcpt_tos]

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least n messages have been recorded; TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"the sink has {len(self._messages)} messages after {timeout} s, not {n}"
                    )
                self._arrived.wait(left)
            return list(self._messages)

    # Called from the server's thread --------------------------------------------------

    def _begin_transaction(self) -> int:
        with self._arrived:
            self._transactions += 1
            return self._transactions

    def _should_drop(self, attempt: Attempt) -> bool:
        drop_at = self.drop_at
        if drop_at is None or drop_at[0] != attempt.stage:
            return False
        which = drop_at[1]
        hit = which(attempt) if callable(which) else which == attempt.number
        if hit:
            with self._arrived:
                self.dropped.append(attempt)
        return hit

    def _temporary_failure(self, address: str) -> bool:
        with self._arrived:
            left = self.temporary_failures.get(address, 0)
            if left > 0:
                self.temporary_failures[address] = left - 1
            return left > 0

    def _record(self, message: ReceivedMessage) -> None:
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()


class _Handler:
    """aiosmtpd's hooks; each returns the reply line, or hangs up."""

    def __init__(self, sink: SMTPSink):
        self.sink = sink

    async def hang_up(self, server, attempt: Attempt):
        """Close the socket without a reply. Closing makes aiosmtpd cancel this session's
        task, so the wait below ends there and no reply is ever written."""
        server.transport.abort()
        await asyncio.Event().wait()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        envelope.number = self.sink._begin_transaction()
        attempt = Attempt(envelope.number, "mail", address, ())
        if self.sink._should_drop(attempt):
            await self.hang_up(server, attempt)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        address = address.lower()
        attempt = Attempt(
            envelope.number, "rcpt", envelope.mail_from, (*envelope.rcpt_tos, address)
        )
        if self.sink._should_drop(attempt):
            await self.hang_up(server, attempt)
        refusal = self.sink.refuse.get(address)
        if refusal:
            code, text = refusal
            return f"{code} {text}"
        if self.sink._temporary_failure(address):
            return "451 4.3.0 Try again later (the sink's temporary failure)"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        attempt = Attempt(envelope.number, "data_end", envelope.mail_from, (*envelope.rcpt_tos,))
        if self.sink._should_drop(attempt):
            await self.hang_up(server, attempt)
        received = ReceivedMessage(
            number=envelope.number,
            mail_from=envelope.mail_from,
            rcpt_tos=tuple(envelope.rcpt_tos),
            message=email.message_from_bytes(envelope.content, policy=email.policy.default),
            raw=envelope.content,
            peer=tuple(session.peer or ()),
        )
        self.sink._record(received)
        if self.sink.on_message:
            self.sink.on_message(received)
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 OK: recorded"
