"""Screenshot pages at phone and desktop widths with Debian's Chromium, for a human to look at.

.venv/bin/python scripts/screenshot.py URL [URL ...] [--out var/screenshots]
"""

import argparse
import os
import re
from pathlib import Path

from playwright.sync_api import sync_playwright

WIDTHS = {"phone": (320, 640), "desktop": (1280, 900)}
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--out", default="var/screenshots")
    parser.add_argument("--full-page", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for url in args.urls:
            name = re.sub(r"[^a-z0-9]+", "-", url.split("//", 1)[-1].lower()).strip("-")
            for label, (width, height) in WIDTHS.items():
                page = browser.new_page(viewport={"width": width, "height": height})
                page.goto(url)
                path = out / f"{name}-{label}.png"
                page.screenshot(path=str(path), full_page=args.full_page)
                print(path)
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
