"""Small rules every format shares: dates, languages, statuses, codes, text clean-up.

Kept in one place so that "stat:usable" in NewsML-G2 and "USABLE" in a Belga file go through
the same table, and an unparsable date is handled the same way in every format: left empty,
kept as sent in `raw_dates`, and reported in `warnings` (never a crash, never a guess).
"""

import re
from datetime import UTC, datetime
from urllib.parse import urlsplit

from .items import Status, Unreadable, WireItem

# --- text -------------------------------------------------------------------------------

_SPACES = re.compile(r"\s+")


def clean(value: str | None) -> str:
    """Collapse runs of whitespace (agencies pad values with newlines) and strip the ends."""
    if not value:
        return ""
    return _SPACES.sub(" ", value).strip()


_TRAILING_SEPARATOR = re.compile(r"[\s\-–—_:|/]+$")


def dateline(value: str | None) -> str:
    """The dateline as printed, without the dash that joins it to the first sentence."""
    return _TRAILING_SEPARATOR.sub("", clean(value))


_CORRECTED = re.compile(r"^\s*CORRECTED\s*[-:–—]\s*", re.IGNORECASE)


def corrected_headline(headline: str) -> tuple[str, bool]:
    """Reuters marks a correction with a "CORRECTED-" headline prefix: strip it, report it."""
    match = _CORRECTED.match(headline)
    if match:
        return headline[match.end() :], True
    return headline, False


_EMBARGO = re.compile(r"\bembargo", re.IGNORECASE)


def embargo_warning(text: str, where: str) -> str:
    """A warning when free text (edNote, advisory line) talks about an embargo, else "".

    Free text is not machine-readable, so it never sets `embargo` itself: a human checks.
    """
    if text and _EMBARGO.search(text):
        excerpt = text if len(text) <= 120 else text[:117] + "..."
        return f"The {where} mentions an embargo ({excerpt!r}): check before publishing"
    return ""


# --- dates ------------------------------------------------------------------------------


def parse_datetime(value: str) -> datetime | None:
    """An ISO 8601 date-time in any form the wires send (extended or basic), else None.

    Python 3.11's `fromisoformat` reads "2016-01-04T15:43:34.000Z", "+0100" offsets, the
    basic form "20210516T080625+0000" and a bare date "20180404"; a space instead of "T"
    ("2016-01-12 12:35:40", scoop) is read too. Naive results are returned naive: the
    caller decides (and says) that they are read as UTC.
    """
    value = value.strip()
    if not value or len(value) > 40 or not value[:4].isdigit():
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None


def date_field(
    raw: object, field: str, warnings: list[str], raw_dates: dict[str, str]
) -> datetime | None:
    """Read one date field: aware UTC, the raw text kept, a warning instead of a crash."""
    if raw is None:
        return None
    if isinstance(raw, bool):
        text = str(raw)
    elif isinstance(raw, int | float):
        # Unix seconds (seen in feeds and some JSON APIs): unambiguous, so accepted.
        raw_dates[field] = str(raw)
        try:
            return datetime.fromtimestamp(raw, UTC)
        except (OverflowError, OSError, ValueError):
            warnings.append(f"{field}: {raw!r} is not a usable timestamp; left empty")
            return None
    else:
        text = str(raw).strip()
    if not text:
        return None
    raw_dates[field] = text
    parsed = parse_datetime(text)
    if parsed is None:
        warnings.append(f"{field}: {text!r} is not a date; left empty")
        return None
    if parsed.tzinfo is None:
        warnings.append(f"{field}: {text!r} has no time zone; read as UTC")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def epoch(moment: datetime | None) -> int:
    """Seconds since 1970 for ordering versions; 0 when there is no time."""
    return int(moment.timestamp()) if moment else 0


# --- languages --------------------------------------------------------------------------

# BCP 47 asks for the shortest ISO 639 code, so the three-letter codes some agencies send
# (TT's xml:lang="swe") are mapped to their two-letter form; unknown codes pass unchanged.
_ISO639_2 = {
    "ara": "ar",
    "chi": "zh",
    "zho": "zh",
    "cze": "cs",
    "ces": "cs",
    "dan": "da",
    "dut": "nl",
    "nld": "nl",
    "eng": "en",
    "fin": "fi",
    "fre": "fr",
    "fra": "fr",
    "ger": "de",
    "deu": "de",
    "gre": "el",
    "ell": "el",
    "heb": "he",
    "hun": "hu",
    "ita": "it",
    "jpn": "ja",
    "kor": "ko",
    "nob": "nb",
    "nno": "nn",
    "nor": "no",
    "per": "fa",
    "fas": "fa",
    "pol": "pl",
    "por": "pt",
    "rus": "ru",
    "spa": "es",
    "swe": "sv",
    "tur": "tr",
    "ukr": "uk",
    "urd": "ur",
}
_NO_LANGUAGE = {"", "x-default", "und", "mul", "zxx"}
# The deprecated code for Hebrew still appears in old systems.
_RENAMED = {"iw": "he", "in": "id", "ji": "yi"}


def language(raw: str | None) -> str:
    """BCP 47, lower case, "-" separated: "en_US" → "en-us", "EN" → "en", "swe" → "sv"."""
    if not raw:
        return ""
    tag = raw.strip().replace("_", "-").lower()
    if tag in _NO_LANGUAGE or not re.fullmatch(r"[a-z]{2,8}(-[a-z0-9]{1,8})*", tag):
        return ""
    primary, _, rest = tag.partition("-")
    primary = _ISO639_2.get(primary, _RENAMED.get(primary, primary))
    return f"{primary}-{rest}" if rest else primary


# --- statuses ---------------------------------------------------------------------------

# The explicit table: the spellings the wires use, lower-cased, and nothing else. "cancelled"
# (British spelling) is deliberately absent: an unknown status is refused, never guessed.
_G2_STATUS_URI = "http://cv.iptc.org/newscodes/pubstatusg2/"
STATUSES: dict[str, Status] = {
    "usable": Status.USABLE,
    "withheld": Status.WITHHELD,
    "canceled": Status.CANCELED,
    "stat:usable": Status.USABLE,
    "stat:withheld": Status.WITHHELD,
    "stat:canceled": Status.CANCELED,
    _G2_STATUS_URI + "usable": Status.USABLE,
    _G2_STATUS_URI + "withheld": Status.WITHHELD,
    _G2_STATUS_URI + "canceled": Status.CANCELED,
}


def status(raw: object, where: str) -> Status:
    """The publishing status by the table above; anything else is refused with the value."""
    key = str(raw).strip().lower() if isinstance(raw, str) else None
    if key is not None and key in STATUSES:
        return STATUSES[key]
    raise Unreadable(
        f"Unknown publishing status {raw!r} in {where}: only usable, withheld and canceled "
        "are accepted (a kill is spelled 'canceled')"
    )


def urgency(raw: object, warnings: list[str]) -> int | None:
    """IPTC urgency 1 (flash) … 9; 0 is tolerated as "none given". Other values: a warning."""
    if raw is None or raw == "":
        return None
    text = str(raw).strip()
    if text.isdigit() and int(text) <= 9:
        return int(text)
    warnings.append(f"urgency {text!r} is not 0-9; ignored")
    return None


# --- codes and schemes ------------------------------------------------------------------

# A local copy of the IPTC catalog aliases the wires use: the prefix of a QCode only means
# something through a catalog, and catalogs are never fetched while ingesting.
SCHEMES = {
    "medtop": "http://cv.iptc.org/newscodes/mediatopic/",
    "subj": "http://cv.iptc.org/newscodes/subjectcode/",
    "genre": "http://cv.iptc.org/newscodes/genre/",
    "cpnat": "http://cv.iptc.org/newscodes/cpnature/",
    "cptype": "http://cv.iptc.org/newscodes/cptype/",
    "ninat": "http://cv.iptc.org/newscodes/ninature/",
    "stat": _G2_STATUS_URI,
    "sig": "http://cv.iptc.org/newscodes/signal/",
    "drol": "http://cv.iptc.org/newscodes/descriptionrole/",
    "nprov": "http://cv.iptc.org/newscodes/newsprovider/",
    "rnd": "http://cv.iptc.org/newscodes/rendition/",
    "iso3166-1a2": "http://cv.iptc.org/newscodes/iso3166-1a2/",
    "iso3166-1a3": "http://cv.iptc.org/newscodes/iso3166-1a3/",
    "digsrctype": "http://cv.iptc.org/newscodes/digitalsourcetype/",
    "wikidata": "http://www.wikidata.org/entity/",
}
SUBJECT_CODES = SCHEMES["subj"]
MEDIA_TOPICS = SCHEMES["medtop"]


def code_part(qcode: str) -> str:
    """The code of a QCode or the last segment of a URI: "ninat:text" → "text"."""
    qcode = qcode.strip()
    if "/" in qcode:
        return qcode.rstrip("/").rsplit("/", 1)[-1]
    return qcode.rsplit(":", 1)[-1]


def subject_kind(code: str, scheme: str, concept_type: str = "") -> str:
    """ "mediatopic", "subject", "geo" or "genre" from what the code and its scheme say."""
    kind = code_part(concept_type).lower() if concept_type else ""
    if kind in {"geoarea", "poi"}:
        return "geo"
    lowered = f"{scheme} {code}".lower()
    if "mediatopic" in lowered or code.lower().startswith("medtop:"):
        return "mediatopic"
    if "/genre/" in lowered or code.lower().startswith("genre:"):
        return "genre"
    return "subject"


def pick_label(names: list[tuple[str, str]], lang: str) -> str:
    """The label in the item's language, else English, else the first one.

    `names` holds (language, text); a label without a language is in the item's language.
    """
    names = [(language(tag), text) for tag, text in names if text]
    if not names:
        return ""
    primary = lang.split("-")[0]
    for wanted in (
        lambda tag: tag == lang or not tag,
        lambda tag: tag.split("-")[0] == primary,
        lambda tag: tag.split("-")[0] == "en",
    ):
        for tag, text in names:
            if wanted(tag):
                return text
    return names[0][1]


# --- renditions -------------------------------------------------------------------------

# The ingest side fetches renditions, so only web addresses survive, and references it
# resolves itself (an agency's residref "tag:…", "urn:…", a name relative to the feed).
# A file:, data: or javascript: address never does: IPTC's own photo example points at
# file:///, and a fetch of that would read the server's disk.
_RENDITION_SCHEMES = {"http", "https", "tag", "urn", ""}


def screen_renditions(item: WireItem) -> None:
    """Drop picture renditions with any other address, each with a warning."""
    for picture in item.pictures:
        kept = []
        for rendition in picture.renditions:
            try:
                scheme = urlsplit(rendition.href).scheme.lower()
            except ValueError:
                scheme = "?"
            if scheme in _RENDITION_SCHEMES:
                kept.append(rendition)
            else:
                item.warnings.append(
                    f"Rendition {rendition.name or rendition.href!r} dropped: its address "
                    f"{rendition.href[:80]!r} is not http(s)"
                )
        picture.renditions = kept
