"""A loopback SMTP server that only counts, for bench/newsletter_send.py.

It runs in its own process, so that receiving mail never competes with the sender for
its interpreter lock, and it does as little as it can per message, so that on a
two-core machine it leaves the other core to the sender and its database. Two
implementations, so the cost of the sink itself can be measured (`--compare-sinks` in
newsletter_send.py); their figures are in bench/README.md:

  raw       a minimal asyncio protocol: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
            QUIT; the message body is scanned for the end marker, never split into lines
  aiosmtpd  aiosmtpd's full server with a handler that only counts

Speaks on stdout, one line each:

  READY <port>                                     once listening
  COUNT <messages>                                 every 0.1 s while the count changes
  DONE {"messages": .., "distinct_recipients": ..}  on SIGTERM, SIGINT or end of stdin

With --recipients-file it also writes every recipient, one a line, before DONE. It ends
by itself when its stdin closes, so it never outlives the benchmark that started it.

    python bench/newsletter_sink.py --impl raw --port 2525
"""

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path

END_OF_DATA = b"\r\n.\r\n"


class Tally:
    """Everything the benchmark checks afterwards; touched only from the event loop."""

    def __init__(self, sample_dir: Path | None):
        self.messages = 0
        self.bytes = 0
        self.largest = 0
        self.recipients: dict[str, int] = {}  # address -> messages to it
        self.multi_recipient_messages = 0
        self.connections = 0
        self.open_connections = 0
        self.most_open_connections = 0
        self.first_at = 0.0
        self.last_at = 0.0
        self.sample_dir = sample_dir

    def connected(self) -> None:
        self.connections += 1
        self.open_connections += 1
        self.most_open_connections = max(self.most_open_connections, self.open_connections)

    def disconnected(self) -> None:
        self.open_connections -= 1

    def message(self, recipients: list[str], size: int, sample: bytes = b"") -> None:
        now = time.time()
        self.first_at = self.first_at or now
        self.last_at = now
        self.messages += 1
        self.bytes += size
        self.largest = max(self.largest, size)
        if len(recipients) != 1:
            self.multi_recipient_messages += 1
        for address in recipients:
            self.recipients[address] = self.recipients.get(address, 0) + 1
        # The first message is kept whole, for a person to look at.
        if self.messages == 1 and self.sample_dir and sample:
            (self.sample_dir / "first-message.eml").write_bytes(sample)

    def summary(self) -> dict:
        cpu = os.times()
        return {
            "messages": self.messages,
            "bytes": self.bytes,
            "largest_message_bytes": self.largest,
            "recipients_total": sum(self.recipients.values()),
            "distinct_recipients": len(self.recipients),
            "recipients_with_more_than_one_message": sum(
                1 for n in self.recipients.values() if n > 1
            ),
            "multi_recipient_messages": self.multi_recipient_messages,
            "connections": self.connections,
            "most_open_connections": self.most_open_connections,
            "first_message_at": self.first_at,
            "last_message_at": self.last_at,
            "cpu_seconds": round(cpu.user + cpu.system, 3),
        }


def address_of(argument: bytes) -> str:
    """The address in `TO:<a@b> PARAMS`, in lower case (subscribers are stored so)."""
    start, end = argument.find(b"<"), argument.find(b">")
    if start == -1 or end < start:
        return argument.split(b":", 1)[-1].strip().decode("utf-8", "replace").lower()
    return argument[start + 1 : end].decode("utf-8", "replace").lower()


class RawSession(asyncio.Protocol):
    """Just enough SMTP for smtplib (and so Django's SMTP backend) to deliver."""

    def __init__(self, tally: Tally, reply_delay: float = 0.0):
        self.tally = tally
        # Every reply held back this long: a relay that far away (one round trip each).
        self.reply_delay = reply_delay
        self.buffer = b""
        self.in_data = False
        self.recipients: list[str] = []
        self.size = 0
        self.tail = b""
        self.keep: list[bytes] | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self.tally.connected()
        self.reply(b"220 sink ESMTP\r\n")

    def reply(self, line: bytes, *, then_close: bool = False) -> None:
        def send():
            self.transport.write(line)
            if then_close:
                self.transport.close()

        if self.reply_delay:
            asyncio.get_running_loop().call_later(self.reply_delay, send)
        else:
            send()

    def connection_lost(self, exc) -> None:
        self.tally.disconnected()

    def data_received(self, data: bytes) -> None:
        if self.in_data:
            data = self.body(data)
            if not data:
                return
        self.buffer += data
        while not self.in_data:
            end = self.buffer.find(b"\r\n")
            if end == -1:
                return
            line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
            self.command(line)
        if self.buffer:  # commands and body arrived together
            rest, self.buffer = self.buffer, b""
            self.data_received(rest)

    def command(self, line: bytes) -> None:
        verb = line[:4].upper()
        reply = b"250 OK\r\n"
        if verb == b"EHLO":
            reply = b"250-sink\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING\r\n"
        elif verb == b"MAIL":
            self.recipients = []
        elif verb == b"RCPT":
            self.recipients.append(address_of(line[4:]))
        elif verb == b"DATA":
            self.in_data, self.size, self.tail = True, 0, b"\r\n"
            self.keep = [] if self.tally.messages == 0 else None
            reply = b"354 End data with <CR><LF>.<CR><LF>\r\n"
        elif verb == b"QUIT":
            self.reply(b"221 Bye\r\n", then_close=True)
            return
        elif verb not in (b"HELO", b"RSET", b"NOOP"):
            reply = b"502 Not implemented\r\n"
        self.reply(reply)

    def body(self, data: bytes) -> bytes:
        """Consume message data; returns what follows the end marker, if it came."""
        probe = self.tail + data
        found = probe.find(END_OF_DATA)
        if found == -1:
            self.size += len(data)
            self.tail = probe[-4:]
            if self.keep is not None:
                self.keep.append(data)
            return b""
        end = found + len(END_OF_DATA) - len(self.tail)
        self.size += end
        if self.keep is not None:
            self.keep.append(data[:end])
        self.tally.message(self.recipients, self.size, b"".join(self.keep or []))
        self.in_data, self.recipients, self.keep = False, [], None
        self.reply(b"250 OK\r\n")
        return data[end:]


class CountingHandler:
    """aiosmtpd's hooks, counting only."""

    def __init__(self, tally: Tally):
        self.tally = tally

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address.lower())
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        content = envelope.original_content or b""
        self.tally.message(envelope.rcpt_tos, len(content), content)
        return "250 OK"


async def serve(
    impl: str, port: int, tally: Tally, stop: asyncio.Event, reply_delay: float = 0.0
) -> None:
    loop = asyncio.get_running_loop()
    if impl == "raw":
        factory = lambda: RawSession(tally, reply_delay)  # noqa: E731
    else:
        from aiosmtpd.smtp import SMTP

        class CountingSMTP(SMTP):
            def connection_made(self, transport):
                tally.connected()
                super().connection_made(transport)

            def connection_lost(self, error):
                tally.disconnected()
                super().connection_lost(error)

        handler = CountingHandler(tally)
        factory = lambda: CountingSMTP(handler, decode_data=False, enable_SMTPUTF8=True)  # noqa: E731
    server = await loop.create_server(factory, "127.0.0.1", port, backlog=128)
    print(f"READY {server.sockets[0].getsockname()[1]}", flush=True)
    shown = -1
    while not stop.is_set():
        if tally.messages != shown:
            shown = tally.messages
            print(f"COUNT {shown}", flush=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)
    server.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--impl", choices=("raw", "aiosmtpd"), default="raw")
    parser.add_argument("--port", type=int, default=0, help="0: one the kernel picks")
    parser.add_argument("--recipients-file", type=Path, help="write every recipient here")
    parser.add_argument("--sample-dir", type=Path, help="keep the first message here")
    parser.add_argument(
        "--reply-delay-ms", type=float, default=0.0, help="raw sink: hold every reply this long"
    )
    args = parser.parse_args(argv)

    tally = Tally(args.sample_dir)
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    def stdin_readable() -> None:
        # The benchmark holds our stdin open; when it goes away, so do we.
        if not os.read(sys.stdin.fileno(), 4096):
            loop.remove_reader(sys.stdin.fileno())
            stop.set()

    loop.add_reader(sys.stdin.fileno(), stdin_readable)
    loop.run_until_complete(
        serve(args.impl, args.port, tally, stop, reply_delay=args.reply_delay_ms / 1000)
    )
    if args.recipients_file:
        args.recipients_file.write_text("".join(f"{a}\n" for a in tally.recipients))
    print("DONE " + json.dumps(tally.summary()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
