"""Sending a daily issue to every confirmed subscriber: once each, resumable, in batches.

The rules (docs/newsletter.md has the reasoning):

- When sending starts, the issue is frozen (subject, stories, both bodies) and one
  Delivery row per confirmed subscriber is written in a single INSERT … SELECT.
- Each message is claimed in the database (UNCONFIRMED) in the same commit that records
  the previous message as SENT, just before the mail server gets its final "." (see
  `smtp.py`). A row that is UNCONFIRMED after a crash is never sent again, so nobody gets
  two copies; every other row is known not to have gone and the next run sends it.
- Temporary refusals (4xx) wait and are retried with growing delays; permanent ones (5xx)
  fail the row and suppress the address, with the server's words kept for staff. A lost
  connection is reopened with back-off; a server that stays away stops the run, which
  the next run resumes.
- Only one process sends an issue at a time (`issue_lock`), and the lock dies with its
  process, so a resume after a crash can start at once.

The parts: `start` (freezing the issue), `lock` (one sender per issue), `messages` (each
reader's copy, and editors' tests), `failures` (what a refusal means), `smtp` (the handover
moment), `report` (where a send stands) and `sender` (the run itself).
"""

from .failures import classify
from .lock import SendingInProgress, issue_lock
from .messages import (
    MessageTemplate,
    message_for,
    newsletter_connection,
    send_test,
    unsubscribe_url,
)
from .report import SendReport, prune_deliveries, report_for
from .sender import Run, Sender, SendingStopped, send_issue, send_waiting
from .start import start_issue

__all__ = [
    "MessageTemplate",
    "Run",
    "SendReport",
    "Sender",
    "SendingInProgress",
    "SendingStopped",
    "classify",
    "issue_lock",
    "message_for",
    "newsletter_connection",
    "prune_deliveries",
    "report_for",
    "send_issue",
    "send_test",
    "send_waiting",
    "start_issue",
    "unsubscribe_url",
]
