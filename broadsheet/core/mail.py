"""Email written to files a person can open: one .eml file per message.

Django's file backend appends every message of a connection to one .log file, so a
newsletter to 300 readers is one long file. An .eml file per message opens in any mail
program (double-click) and shows the HTML as readers see it.
"""

import re
from datetime import datetime
from itertools import count
from pathlib import Path

from django.core.mail.backends.filebased import EmailBackend as FileBackend

UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")
serial = count(1)


class EmlFileBackend(FileBackend):
    """Each message in its own `<time>-<n>-<recipient>.eml` under EMAIL_FILE_PATH."""

    def open(self):
        return False  # nothing to keep open: each message opens its own file

    def close(self):
        pass

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            recipient = UNSAFE.sub("_", (message.recipients() or ["nobody"])[0])[:80]
            name = f"{datetime.now():%Y%m%d-%H%M%S}-{next(serial):06}-{recipient}.eml"
            Path(self.file_path, name).write_bytes(message.message().as_bytes(linesep="\r\n"))
            sent += 1
        return sent
