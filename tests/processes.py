"""The site's own code run in another process, against this test run's database.

For what only a second process shows: a lock or a count that must hold across the server
processes, a sender killed half-way. The child starts its clock where the test's clock
stands (time-machine does not cross into a child process), so both agree on the time.
"""

import os
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.db import connection

PROJECT = Path(__file__).resolve().parents[1]
ON_THE_TESTS_CLOCK = """
import sys, time_machine
time_machine.travel(float(sys.argv[1]), tick=True).start()
from django.core.management import execute_from_command_line
execute_from_command_line(["manage.py", *sys.argv[2:]])
"""


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def manage_py(*arguments: str, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start `manage.py ARGUMENTS` on the test database, its clock at the test's clock."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "broadsheet.settings.dev",
        "SECRET_KEY": settings.SECRET_KEY,
        "DATABASE_URL": database_url(),
        # The same folder as this process: on SQLite some locks are files in it.
        "BROADSHEET_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-c", ON_THE_TESTS_CLOCK, str(time.time()), *arguments],
        cwd=PROJECT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        **popen,
    )
