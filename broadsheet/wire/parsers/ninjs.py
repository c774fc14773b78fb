"""IPTC ninjs 1.x, 2.x and 3.x (News in JSON).

The version is what `standard.version` (or 1.3's `$standard`) declares; otherwise the keys
tell: camelCase core keys (`versionCreated`, `pubStatus`, …) are 3.x, the arrays
`headlines`/`bodies`/`descriptions` 2.x, and `headline`/`body_*` 1.x. Keys are then read
in either spelling, so a 2.x item with one stray camelCase key still reads completely.

* A top-level array is a collection of items; an object without `uri` that wraps a list
  of items (BBC's search envelope: `total`, `limit`, `offset`, `item`) is unwrapped, with a
  warning. Only `uri` is required (Superdesk's ninjs flavour calls it `guid`, accepted).
* `sequence`: the version when it is all digits, else the version-created time in epoch
  seconds (else 0).
* Bodies are chosen richest first: a NITF document carried as a string (parsed by the same
  hardened `safexml` as any wire XML), then HTML/XHTML, then plain text.
* `associations` (an object keyed by name in 1.x, an array in 2.x/3.x) with image
  renditions (object or array) become `pictures`.
* Events and planning items are `kind=OTHER`. A file that declares ninjs 1.x or 2.x but
  carries an event (a 3.x type) is refused: its declaration and its content disagree.
"""

import re
from typing import Any

from . import bodies, conventions, normalise
from .items import Block, Kind, Rendition, Status, Subject, Unreadable, WireItem, WirePicture

_CAMEL_KEYS = {
    "versionCreated", "firstCreated", "pubStatus", "copyrightNotice", "copyrightHolder",
    "altIds", "edNote", "embargoedUntil", "contentCreated", "usageTerms", "infoSources",
    "representationType", "eventDetails", "digitalSourceType", "plannedCoverage",
}  # fmt: skip
_V2_KEYS = ("headlines", "bodies", "descriptions", "subjects", "people", "places", "genres")
_ENVELOPE_KEYS = ("item", "items", "data", "results")
_KINDS = {
    "text": Kind.TEXT,
    "composite": Kind.TEXT,
    "picture": Kind.PICTURE,
    "graphic": Kind.OTHER,
    "video": Kind.OTHER,
    "audio": Kind.OTHER,
    "event": Kind.OTHER,
    "planning": Kind.OTHER,
    "component": Kind.OTHER,
}
_THREE_ONLY_TYPES = {"event", "planning"}
_VERSION = re.compile(r"\s*(\d+)")


def read(value: Any, *, max_bytes: int) -> list[WireItem]:
    """WireItems from decoded ninjs JSON."""
    notes: list[str] = []
    if isinstance(value, list):
        objects = value
    elif isinstance(value, dict) and ("uri" in value or "guid" in value):
        objects = [value]
    elif isinstance(value, dict):
        key = next((k for k in _ENVELOPE_KEYS if isinstance(value.get(k), list)), None)
        if key is None:
            raise Unreadable("A JSON object that is not a ninjs item: it has no 'uri'")
        objects = value[key]
        notes.append(f"ninjs items unwrapped from an envelope (its {key!r} list)")
    else:
        raise Unreadable("JSON that is neither a ninjs object nor a list of them")
    if not objects:
        raise Unreadable("An empty ninjs collection")
    items = []
    for position, obj in enumerate(objects, start=1):
        where = f"ninjs item {position}" if len(objects) > 1 else "ninjs item"
        if not isinstance(obj, dict):
            raise Unreadable(f"{where}: not a JSON object")
        try:
            items.append(_item(obj, list(notes), max_bytes))
        except Unreadable as error:
            raise Unreadable(f"{where}: {error.reason}") from None
    return items


def _get(obj: dict, *keys: str) -> Any:
    for key in keys:
        value = obj.get(key)
        if value is not None:
            return value
    return None


def _str(value: Any) -> str:
    if isinstance(value, str):
        return " ".join(value.split())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return ""


def _int(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


def _version(obj: dict) -> tuple[int, bool]:
    """(major version, whether the file declared it as IPTC ninjs)."""
    standard = _get(obj, "standard", "$standard")
    if isinstance(standard, dict):
        match = _VERSION.match(str(standard.get("version", "")))
        if match and match.group(1) in ("1", "2", "3"):
            return int(match.group(1)), str(standard.get("name", "")).lower() == "ninjs"
    if any(key in obj for key in _CAMEL_KEYS):
        return 3, False
    if any(isinstance(obj.get(key), list) for key in _V2_KEYS):
        return 2, False
    return 1, False


def _item(obj: dict, warnings: list[str], max_bytes: int) -> WireItem:
    major, declared = _version(obj)
    item = WireItem(format=f"ninjs-{major}", guid="", warnings=warnings)
    item.guid = _str(obj.get("uri")) or _str(obj.get("guid"))
    if not item.guid:
        raise Unreadable("no 'uri', the one field every ninjs version requires")

    kind = _str(obj.get("type")).lower()
    if declared and major < 3 and kind in _THREE_ONLY_TYPES:
        raise Unreadable(
            f"declares ninjs {obj.get('standard', {}).get('version')} but is of type "
            f"{kind!r}, which exists only from ninjs 3.0"
        )
    if kind in _KINDS:
        item.kind = _KINDS[kind]
    elif not kind:
        item.kind = Kind.OTHER if "eventDetails" in obj or "plannedCoverage" in obj else Kind.TEXT
    else:
        item.kind = Kind.TEXT
        item.warnings.append(f"Unknown ninjs type {kind!r}: read as text")

    item.version = _str(obj.get("version"))
    item.version_created = normalise.date_field(
        _get(obj, "versioncreated", "versionCreated"),
        "versioncreated",
        item.warnings,
        item.raw_dates,
    )
    item.first_created = normalise.date_field(
        _get(obj, "firstcreated", "firstCreated"), "firstcreated", item.warnings, item.raw_dates
    )
    embargo = _get(obj, "embargoed", "embargoedUntil")
    if embargo is not None:
        item.embargo = normalise.date_field(embargo, "embargoed", item.warnings, item.raw_dates)
        item.embargo_pending = item.embargo is None
    expires = obj.get("expires")
    if isinstance(expires, str | int):
        item.expires = normalise.date_field(expires, "expires", item.warnings, item.raw_dates)
    if item.version.isdigit():
        item.sequence = int(item.version)
    else:
        item.sequence = normalise.epoch(item.version_created)

    status = _get(obj, "pubstatus", "pubStatus")
    item.status = Status.USABLE if status is None else normalise.status(status, "pubstatus")
    item.language = normalise.language(_str(obj.get("language")))
    item.urgency = normalise.urgency(obj.get("urgency"), item.warnings)
    item.slugline = _str(_get(obj, "slugline", "slug"))
    item.byline = _str(_get(obj, "byline", "by"))
    item.located = _str(obj.get("located"))
    item.ednote = _str(_get(obj, "ednote", "edNote"))
    if warning := normalise.embargo_warning(item.ednote, "ednote"):
        item.warnings.append(warning)
    item.provider = _provider(obj)

    headline, subheadline = _headlines(obj)
    descriptions = _descriptions(obj)
    item.headline = headline
    item.creditline = descriptions.get("creditline", "") or _str(
        _get(obj, "copyrightholder", "copyrightHolder")
    )
    item.subjects = _subjects(obj, item.language)
    for replaced in _replaced(obj):
        if replaced != item.guid and replaced not in item.replaces:
            item.replaces.append(replaced)

    nitf_byline = ""
    if item.kind == Kind.TEXT:
        item.body, nitf_headline, nitf_byline = _body(obj, item, max_bytes)
        item.headline = item.headline or nitf_headline
    item.pictures = _associations(obj)

    if item.kind == Kind.PICTURE:
        item.pictures.insert(0, _picture(obj))
    elif item.kind == Kind.OTHER:
        item.headline = item.headline or _str(obj.get("title"))
        item.standfirst = _standfirst(descriptions) or subheadline
        _event_dates(obj, item)
    else:
        item.standfirst = _standfirst(descriptions) or subheadline
        item.headline = item.headline or _str(obj.get("title"))
        conventions.finish_text(item, body_byline=nitf_byline)
    return item


def _provider(obj: dict) -> str:
    provider = _str(_get(obj, "source", "provider"))
    if provider:
        return provider
    sources = _get(obj, "infosources", "infoSources")
    if isinstance(sources, list) and sources and isinstance(sources[0], dict):
        return _str(sources[0].get("name"))
    return _str(_get(obj, "copyrightholder", "copyrightHolder"))


def _headlines(obj: dict) -> tuple[str, str]:
    """(headline, sub-headline) from `headline`/`headline_*` or the `headlines` array."""
    listed = obj.get("headlines")
    if isinstance(listed, list):
        pairs = [
            (_str(h.get("role")).lower(), _str(h.get("value")))
            for h in listed
            if isinstance(h, dict)
        ]
        main = [v for role, v in pairs if v and role in ("", "main")]
        subs = [v for role, v in pairs if v and "sub" in role]
        others = [v for role, v in pairs if v and "sub" not in role]
        return (main or others or [""])[0], (subs or [""])[0]
    headline = _str(obj.get("headline"))
    if not headline:
        headline = next(
            (_str(v) for k, v in obj.items() if k.startswith("headline_") and "sub" not in k), ""
        )
    sub = next((_str(v) for k, v in obj.items() if k.startswith("headline_") and "sub" in k), "")
    return headline, sub


def _descriptions(obj: dict) -> dict[str, str]:
    """Descriptions by role, as plain text: {"caption": …, "lead": …, "": …}."""
    found: dict[str, str] = {}
    listed = obj.get("descriptions")
    if isinstance(listed, list):
        for description in listed:
            if isinstance(description, dict):
                role = _str(description.get("role")).lower()
                value = bodies.plain_text(description.get("value") or "")
                if value:
                    found.setdefault(role, value)
    for key, value in obj.items():
        if key.startswith("description_") and isinstance(value, str):
            role = "" if key in ("description_text", "description_html") else key[12:]
            found.setdefault(role, bodies.plain_text(value))
    return found


def _standfirst(descriptions: dict[str, str]) -> str:
    for role in ("lead", "summary", "abstract", "", "text", "description", "main"):
        if descriptions.get(role):
            return descriptions[role]
    return ""


def _subjects(obj: dict, lang: str) -> list[Subject]:
    subjects: list[Subject] = []
    seen: set[tuple[str, str]] = set()
    groups: dict[str, list[dict]] = {}
    entries: list[tuple[str, Any]] = []
    for key, kind in (
        ("subject", "subject"), ("subjects", "subject"), ("genre", "genre"),
        ("genres", "genre"), ("place", "geo"), ("places", "geo"), ("keywords", "keyword"),
    ):  # fmt: skip
        listed = obj.get(key)
        if isinstance(listed, list):
            entries.extend((kind, entry) for entry in listed)
    # BBC labels one concept (one "guid") in several languages: keep the item's language.
    for _, entry in entries:
        if isinstance(entry, dict) and entry.get("guid") and entry.get("lang"):
            groups.setdefault(str(entry["guid"]), []).append(entry)
    chosen = {guid: _pick_by_lang(group, lang) for guid, group in groups.items() if len(group) > 1}
    for kind, entry in entries:
        if isinstance(entry, str):
            word = _str(entry)
            subject = Subject(word, "keyword", word, "keyword")
        elif isinstance(entry, dict):
            guid = str(entry.get("guid", ""))
            if guid in chosen and chosen[guid] is not entry:
                continue
            subject = _subject(entry, kind)
        else:
            continue
        if subject.code and (subject.code, subject.kind) not in seen:
            seen.add((subject.code, subject.kind))
            subjects.append(subject)
    return subjects


def _pick_by_lang(group: list[dict], lang: str) -> dict:
    primary = lang.split("-")[0]
    for wanted in (primary, "en"):
        for entry in group:
            if normalise.language(str(entry.get("lang", ""))).split("-")[0] == wanted:
                return entry
    return group[0]


def _subject(entry: dict, kind: str) -> Subject:
    name = _str(entry.get("name"))
    uri = _str(entry.get("uri"))
    code = _str(entry.get("code")) or uri or _str(entry.get("literal")) or _str(entry.get("qcode"))
    scheme = _str(entry.get("scheme"))
    if not scheme and uri and "/" in uri:
        scheme = uri.rsplit("/", 1)[0] + "/"
    if not scheme and ":" in code and "/" not in code:
        prefix = code.split(":", 1)[0]
        scheme = normalise.SCHEMES.get(prefix, prefix)
    if kind == "subject":
        if _str(entry.get("rel")).lower() == "category":
            kind = "category"
        else:
            kind = normalise.subject_kind(code, scheme)
    return Subject(code=code or name, scheme=scheme, name=name, kind=kind)


def _replaced(obj: dict) -> list[str]:
    """TT names the items a new uri replaces in `replacing` and `revisions`."""
    found = []
    replacing = obj.get("replacing")
    if isinstance(replacing, list):
        found.extend(_str(uri) for uri in replacing if _str(uri))
    revisions = obj.get("revisions")
    if isinstance(revisions, list):
        found.extend(_str(r.get("uri")) for r in revisions if isinstance(r, dict) and r.get("uri"))
    return found


def _body(obj: dict, item: WireItem, max_bytes: int) -> tuple[list[Block], str, str]:
    """(blocks, NITF headline, NITF byline) from the richest body on offer."""
    candidates: list[tuple[str, str]] = []
    listed = obj.get("bodies")
    if isinstance(listed, list):
        for body in listed:
            if isinstance(body, dict) and isinstance(body.get("value"), str):
                content_type = _str(_get(body, "contenttype", "contentType")).lower()
                candidates.append((content_type, body["value"]))
    for key, value in obj.items():
        if key.startswith("body_") and isinstance(value, str):
            content_type = "text/plain" if key == "body_text" else ""
            candidates.append((content_type, value))

    def rank(candidate: tuple[str, str]) -> int:
        content_type, value = candidate
        start = value.lstrip()[:200]
        if (
            "nitf" in content_type
            or start.startswith("<nitf")
            or (start.startswith("<?xml") and "<nitf" in value[:2000])
        ):
            return 0
        if "html" in content_type or "xml" in content_type or bodies.looks_like_html(value):
            return 1
        return 2

    candidates = [c for c in candidates if c[1].strip()]
    if not candidates:
        return [], "", ""
    best = min(candidates, key=rank)
    if rank(best) == 0:  # NITF inside a JSON string, through the hardened XML parser
        try:
            blocks, headline, byline, notes = bodies.nitf_document(best[1], max_bytes=max_bytes)
        except Unreadable as error:
            raise Unreadable(f"its NITF body is unreadable: {error.reason}") from None
        item.warnings.extend(notes)
        return blocks, headline, byline
    if rank(best) == 1:
        return bodies.html_blocks(best[1]), "", ""
    return bodies.text_blocks(best[1]), "", ""


def _renditions(value: Any) -> list[Rendition]:
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = [(r.get("name", "") if isinstance(r, dict) else "", r) for r in value]
    else:
        return []
    renditions = []
    for name, rendition in pairs:
        if not isinstance(rendition, dict):
            continue
        href = _str(_get(rendition, "href", "url"))
        if not href:
            continue
        renditions.append(
            Rendition(
                href=href,
                content_type=_str(_get(rendition, "contenttype", "contentType", "mimetype")),
                width=_int(rendition.get("width")),
                height=_int(rendition.get("height")),
                size=_int(_get(rendition, "sizeinbytes", "sizeInBytes")),
                name=_str(name),
            )
        )
    return renditions


_ALT_ROLES = ("alt", "alttext", "alternativetext")


def _picture(obj: dict) -> WirePicture:
    """A picture item, or an association: the credit falls back to the sending agency."""
    descriptions = _descriptions(obj)
    caption = descriptions.get("caption") or _standfirst(descriptions)
    credit = descriptions.get("creditline") or _str(
        _get(obj, "copyrightholder", "copyrightHolder", "source")
    )
    return WirePicture(
        guid=_str(_get(obj, "uri", "guid", "id")),
        headline=_headlines(obj)[0],
        caption=caption or bodies.plain_text(_str(_get(obj, "body_text"))),
        credit=credit,
        byline=_str(_get(obj, "byline", "by")),
        alt_text=next((descriptions[r] for r in _ALT_ROLES if descriptions.get(r)), ""),
        renditions=_renditions(obj.get("renditions")),
    )


def _associations(obj: dict) -> list[WirePicture]:
    associations = obj.get("associations")
    if isinstance(associations, dict):
        entries = list(associations.values())
    elif isinstance(associations, list):
        entries = associations
    else:
        return []
    pictures = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        kind = _str(entry.get("type")).lower()
        renditions = _renditions(entry.get("renditions"))
        has_image = any(r.content_type.startswith("image") for r in renditions)
        if kind in ("picture", "graphic") or (not kind and has_image):
            pictures.append(_picture(entry))
    return pictures


def _event_dates(obj: dict, item: WireItem) -> None:
    """Event dates are kept as sent (and checked): free text is warned about, not guessed."""
    details = _get(obj, "eventDetails", "eventdetails")
    dates = details.get("dates") if isinstance(details, dict) else None
    if isinstance(dates, dict):
        for key, value in dates.items():
            if isinstance(value, str):
                normalise.date_field(
                    value, f"eventDetails.dates.{key}", item.warnings, item.raw_dates
                )
