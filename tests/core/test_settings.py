"""Start-up fails closed: production is chosen on purpose, and refuses to run half set up."""

import os
import secrets
import subprocess
import sys

import pytest

from tests.processes import PROJECT, manage_py

PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "broadsheet.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "www.example-paper.com",
    "HTTPS": "true",
}


def run(*command, **env):
    # A clean start: none of the settings this test chooses, nor the browser tests' leave
    # to use the database from async code, which a deployment must not have.
    left_out = {
        "DJANGO_SETTINGS_MODULE",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "HTTPS",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    }
    environment = {key: value for key, value in os.environ.items() if key not in left_out}
    environment.update({key: value for key, value in env.items() if value is not None})
    return subprocess.run(
        [sys.executable, *command], cwd=PROJECT, env=environment, capture_output=True, text=True
    )


@pytest.mark.parametrize("command", [("manage.py", "check"), ("-c", "import broadsheet.wsgi")])
def test_nothing_starts_without_settings_chosen(command):
    started = run(*command)

    assert started.returncode != 0
    assert "DJANGO_SETTINGS_MODULE is not set" in started.stderr
    assert "broadsheet.settings.production" in started.stderr


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("SECRET_KEY", "SECRET_KEY is not set"),
        ("ALLOWED_HOSTS", "ALLOWED_HOSTS is not set"),
    ],
)
def test_production_refuses_to_start_half_set_up(missing, message):
    started = run("-c", "import broadsheet.wsgi", **{**PRODUCTION, missing: None})

    assert started.returncode != 0
    assert message in started.stderr


def test_production_passes_djangos_deployment_checks(tmp_path):
    checked = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **PRODUCTION,
        BROADSHEET_VAR_DIR=str(tmp_path),
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "System check identified no issues" in checked.stdout


CLIENT = """
from django.test import Client
reader = Client()
plain = reader.get("/", HTTP_HOST="www.example-paper.com")
print("plain", plain.status_code, plain["Location"])
secure = reader.get("/", HTTP_HOST="www.example-paper.com", HTTP_X_FORWARDED_PROTO="https")
print("secure", secure.status_code, secure["Strict-Transport-Security"])
"""


def test_production_over_https_redirects_plain_http_and_sends_hsts(db):
    process = manage_py("shell", "-c", CLIENT, env=PRODUCTION)
    output = process.communicate(timeout=60)[0].decode()

    assert "plain 301 https://www.example-paper.com/" in output, output
    assert "max-age=31536000; includeSubDomains" in output, output
