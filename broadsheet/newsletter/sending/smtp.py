"""An SMTP backend that says when a message is handed over, so nothing is sent twice.

A message is only delivered once the server has the final "." of its DATA. If the sender
dies before that, the server throws the partial message away; if it dies after, the
server may have it and nobody can tell. Django's SMTP backend sends the whole DATA in one
go, so a sender that records "sending" before calling it cannot distinguish "never left"
from "maybe delivered" and must treat both as maybe. This backend runs a callback in
between: the sender commits "handed over" there, and every message the database does not
mark so is known not to have been delivered and can be sent on the next run.

Other backends (django-anymail's, the file backend) have no such moment: for them the
sender records "handed over" just before calling them.
"""

import contextlib
import functools
import re
import smtplib
import socket

from django.conf import settings
from django.core.mail.backends import smtp
from django.core.mail.message import sanitize_address

PERIOD_AT_LINE_START = re.compile(rb"(?m)^\.")


@functools.lru_cache(maxsize=16)
def envelope_address(address: str) -> str:
    return sanitize_address(address, settings.DEFAULT_CHARSET)


class HandoverMixin:
    """smtplib's DATA, with `before_end_of_data()` called before the terminating "."."""

    before_end_of_data = None

    def connect(self, *args, **kwargs):
        reply = super().connect(*args, **kwargs)
        # The final "." now leaves in a write of its own, after the body. With Nagle's
        # algorithm on, the kernel holds those three bytes until the body is acknowledged,
        # and the server delays that acknowledgement (up to 40 ms on Linux) while it waits
        # for more: one message per 40 ms. SMTP is request and reply; send at once.
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return reply

    def data(self, msg):
        self.putcmd("data")
        code, reply = self.getreply()
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)
        # Dot-stuffing as RFC 5321 §4.5.2 asks (smtplib keeps its version private).
        body = PERIOD_AT_LINE_START.sub(b"..", msg)
        if not body.endswith(b"\r\n"):
            body += b"\r\n"
        self.send(body)
        if self.before_end_of_data is not None:
            self.before_end_of_data()
        self.send(b".\r\n")
        return self.getreply()


class HandoverSMTP(HandoverMixin, smtplib.SMTP):
    pass


class HandoverSMTPSSL(HandoverMixin, smtplib.SMTP_SSL):
    pass


class SMTPBackend(smtp.EmailBackend):
    """Django's SMTP backend; a message's `before_handover` runs before its final "."."""

    hands_over = True

    @property
    def connection_class(self):
        return HandoverSMTPSSL if self.use_ssl else HandoverSMTP

    def _send(self, email_message):
        self.connection.before_end_of_data = getattr(email_message, "before_handover", None)
        try:
            prebuilt = getattr(email_message, "prebuilt", None)
            if prebuilt is None:
                return super()._send(email_message)
            # A newsletter copy: its bytes are ready and its one recipient was checked
            # when they were made (messages.MessageTemplate.fill); parsing the same From
            # address again for each of 100,000 messages was a fifth of the send time.
            self.connection.sendmail(
                envelope_address(email_message.from_email), email_message.to, prebuilt
            )
            return True
        finally:
            if self.connection is not None:
                self.connection.before_end_of_data = None

    def abandon(self):
        """Drop the connection without QUIT: the server discards a message not yet ended."""
        for connection in (self.connection, self._partial_connection):
            if connection is not None:
                with contextlib.suppress(OSError):
                    connection.close()
        self.connection = self._partial_connection = None
