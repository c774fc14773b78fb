"""IPTC NewsML-G2: a `newsMessage` with one or more items, or a bare item.

Each `newsItem`, `packageItem` or `conceptItem` becomes one WireItem (the item, not the
message, is the unit of ingest). Elements are matched by local name, case-insensitively, so
namespaces, prefixes (Reuters' `ns0:`) and BusinessDesk's `<ednote>` do not matter.

* Text items: the body comes from `inlineXML` (NITF or XHTML, whatever the content type
  claims: the root element decides) or `inlineData` (text, or HTML inside CDATA as ANSA
  sends it, which is sanitised like any HTML).
* Picture items: `kind=PICTURE`, and the photo itself is `pictures[0]`, its renditions from
  `remoteContent`, caption from a `description` with a caption role, credit from
  `creditline`.
* Packages: `kind=PACKAGE`, `members` from `groupSet/group/itemRef` (guid, version, the
  group's role).
* Concept items (IPTC concepts, STT events), video and other items: `kind=OTHER`.
* A bare `contentMeta` (IPTC's LISTING_28 fragment) is read as `kind=OTHER` with a guid
  derived from its content, and a warning.

`sequence` is the integer `version` (the schema default 1 when absent; Reuters' versions
are large opaque numbers, compared as integers).
"""

import hashlib

from lxml import etree

from . import bodies, conventions, normalise
from .items import Kind, MemberRef, Rendition, Status, Subject, Unreadable, WireItem, WirePicture
from .safexml import XML_LANG, child, children, lname, local, text

FORMAT = "newsml-g2"
ROOTS = {"newsmessage", "newsitem", "packageitem", "conceptitem", "knowledgeitem",
         "planningitem", "contentmeta"}  # fmt: skip
_ITEMS = {"newsitem", "packageitem", "conceptitem", "knowledgeitem", "planningitem"}
_OTHER_ITEMS = {"conceptitem", "knowledgeitem", "planningitem"}
_ITEM_CLASSES = {"text": Kind.TEXT, "picture": Kind.PICTURE, "composite": Kind.PACKAGE}
_KILL_SIGNALS = {"edstat:d"}  # Reuters: "deleted", sent with stat:canceled
# IPTC's own signal, by QCode or URI, and Reuters' "corrected".
_CORRECTION_SIGNALS = {
    "sig:correction",
    "http://cv.iptc.org/newscodes/signal/correction",
    "edstat:c",
}
# STT deletes an item only through a private signal, leaving pubStatus usable. Read as a
# kill: unpublishing by mistake is recoverable, publishing a withdrawn item is not.
_DELETE_SIGNALS = {"sttinstruct:remove"}
_REPLACE_SIGNALS = {"tt_sig:replace"}


def _qcode(element: etree._Element) -> str:
    return (element.get("qcode") or element.get("uri") or element.get("literal") or "").strip()


def _names(element: etree._Element) -> list[tuple[str, str]]:
    return [(name.get(XML_LANG, ""), text(name)) for name in children(element, "name")]


def _label(element: etree._Element | None, lang: str) -> str:
    """A concept's label: its `name` in the item's language, else its literal."""
    if element is None:
        return ""
    return normalise.pick_label(_names(element), lang) or (element.get("literal") or "").strip()


def read(root: etree._Element, warnings: list[str]) -> list[WireItem]:
    """All items of a parsed NewsML-G2 document."""
    name = lname(root)
    sender = ""
    if name == "contentmeta":
        return [_fragment(root, warnings)]
    if name == "newsmessage":
        header = child(root, "header")
        sender = text(child(header, "sender"))
        elements = [el for item_set in children(root, "itemset") for el in item_set]
        elements = [el for el in elements if lname(el) in _ITEMS]
    else:
        elements = [root]
    items: list[WireItem] = []
    skipped: list[str] = []
    for element in elements:
        guid = (element.get("guid") or "").strip()
        if not guid:
            skipped.append(f"A {local(element.tag)} without a guid was skipped")
            continue
        try:
            items.append(_item(element, guid, sender, list(warnings)))
        except Unreadable as error:
            raise Unreadable(f"{local(element.tag)} {guid}: {error.reason}") from None
    if not items:
        reason = "; ".join(skipped) if skipped else "no newsItem, packageItem or conceptItem"
        raise Unreadable(f"NewsML-G2 {local(root.tag)} carries no readable item ({reason})")
    for item in items:
        item.warnings.extend(skipped)
    return items


def _check_catalog(element: etree._Element, guid: str) -> None:
    """Before G2 2.30 a catalog was mandatory: QCodes mean nothing without one."""
    standard = (element.get("standardversion") or "").strip()
    if child(element, "catalogref") is not None or child(element, "catalog") is not None:
        return
    major, _, minor = standard.partition(".")
    if major.isdigit() and minor.isdigit() and (int(major), int(minor)) < (2, 30):
        raise Unreadable(
            f"no catalogRef, which NewsML-G2 {standard} requires (optional only from 2.30): "
            "its QCodes cannot be resolved"
        )


def _schemes(element: etree._Element) -> dict[str, str]:
    """Aliases declared in an inline catalog, on top of the local IPTC copy."""
    schemes = dict(normalise.SCHEMES)
    for catalog in children(element, "catalog"):
        for scheme in children(catalog, "scheme"):
            alias, uri = scheme.get("alias"), scheme.get("uri")
            if alias and uri:
                schemes[alias.strip()] = uri.strip()
    return schemes


def _item(element: etree._Element, guid: str, sender: str, warnings: list[str]) -> WireItem:
    element_name = lname(element)
    _check_catalog(element, guid)
    item_meta = child(element, "itemmeta")
    if item_meta is None:
        raise Unreadable("no itemMeta (itemClass, provider and versionCreated are required)")
    content_meta = child(element, "contentmeta")

    version = (element.get("version") or "").strip() or "1"
    item = WireItem(format=FORMAT, guid=guid, version=version, warnings=warnings)
    if version.isdigit():
        item.sequence = int(version)
    else:
        item.warnings.append(f"version {version!r} is not an integer; sequence left at 0")

    language = ""
    language_element = child(content_meta, "language")
    if language_element is not None:
        language = normalise.language(language_element.get("tag"))
    item.language = language or normalise.language(element.get(XML_LANG))
    if not item.language:
        # IPTC's photo example marks only its headline and caption: that is the language.
        marked = [n for n in children(content_meta, "headline") if n.get(XML_LANG)]
        item.language = normalise.language(marked[0].get(XML_LANG)) if marked else ""

    status_text = "stat:usable"  # the schema default
    ednotes: list[str] = []
    for node in item_meta:
        name = lname(node)
        if name == "itemclass":
            item_class = normalise.code_part(_qcode(node)).lower()
            if element_name == "packageitem":
                item.kind = Kind.PACKAGE
            elif element_name in _OTHER_ITEMS:
                item.kind = Kind.OTHER
            else:
                item.kind = _ITEM_CLASSES.get(item_class, Kind.OTHER)
        elif name == "provider":
            item.provider = (
                (node.get("literal") or "").strip()
                or normalise.pick_label(_names(node), item.language)
                or normalise.code_part(_qcode(node))
            )
        elif name == "versioncreated":
            item.version_created = normalise.date_field(
                node.text, "versionCreated", item.warnings, item.raw_dates
            )
        elif name == "firstcreated":
            item.first_created = normalise.date_field(
                node.text, "firstCreated", item.warnings, item.raw_dates
            )
        elif name == "embargoed":
            _embargo(item, node.text)
        elif name == "pubstatus":
            status_text = _qcode(node) or status_text
        elif name == "signal":
            code = _qcode(node)
            if code:
                item.signals.append(code)
        elif name == "ednote":
            note = text(node)
            if note:
                ednotes.append(note)
        elif name == "expires":
            _expires(item, node)
        elif name == "title" and not item.headline:
            item.headline = text(node)
    if element_name == "packageitem":
        item.kind = Kind.PACKAGE
    elif element_name in _OTHER_ITEMS:
        item.kind = Kind.OTHER
    item.status = normalise.status(status_text, "pubStatus")
    item.ednote = "\n".join(ednotes)
    if warning := normalise.embargo_warning(item.ednote, "edNote"):
        item.warnings.append(warning)
    item.provider = item.provider or sender

    picture = WirePicture(guid=guid)
    _content_meta(item, content_meta, picture, _schemes(element))
    if element_name == "conceptitem":
        _concept(item, child(element, "concept"))
    nitf_byline = _content_set(item, child(element, "contentset"), picture)
    if element_name == "packageitem":
        _members(item, child(element, "groupset"))
    _signals(item, content_meta)

    if item.kind == Kind.PICTURE:
        picture.headline = picture.headline or item.headline
        picture.credit = picture.credit or item.creditline
        picture.byline = picture.byline or item.byline
        item.pictures.insert(0, picture)
    elif item.kind == Kind.TEXT:
        _finish_text(item, nitf_byline)
    return item


def _embargo(item: WireItem, raw: str | None) -> None:
    value = (raw or "").strip()
    if not value:
        # DateTimeOrNullPropType: empty means "embargoed, time not yet given". Hold it.
        item.embargo_pending = True
        return
    item.embargo = normalise.date_field(value, "embargoed", item.warnings, item.raw_dates)
    if item.embargo is None:
        item.embargo_pending = True


def _expires(item: WireItem, element: etree._Element) -> None:
    constraint = (element.get("pubconstraint") or "").strip()
    key = f"expires[{constraint}]" if constraint else "expires"
    moment = normalise.date_field(element.text, key, item.warnings, item.raw_dates)
    # Several takedown dates (per channel): keep the earliest, the safe one.
    if moment and (item.expires is None or moment < item.expires):
        item.expires = moment


def _content_meta(
    item: WireItem, meta: etree._Element | None, picture: WirePicture, schemes: dict[str, str]
) -> None:
    if meta is None:
        return
    lang = item.language
    headlines: list[tuple[str, str, str]] = []
    descriptions: list[tuple[str, str]] = []
    creators: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add_subject(subject: Subject) -> None:
        if subject.code and (subject.code, subject.kind) not in seen:
            seen.add((subject.code, subject.kind))
            item.subjects.append(subject)

    for node in meta:
        name = lname(node)
        if name == "headline":
            headlines.append((node.get("role") or "", node.get("rank") or "", text(node)))
        elif name == "description":
            descriptions.append((normalise.code_part(node.get("role") or "").lower(), text(node)))
        elif name == "by":
            item.byline = item.byline or text(node)
        elif name == "creditline":
            item.creditline = item.creditline or text(node)
        elif name == "dateline":
            item.dateline = item.dateline or normalise.dateline(text(node))
        elif name == "located":
            item.located = item.located or _label(node, lang)
        elif name == "slugline":
            item.slugline = item.slugline or text(node)
        elif name == "urgency":
            item.urgency = normalise.urgency(text(node), item.warnings)
        elif name in ("creator", "contributor"):
            creators.append((node.get("role") or "", _label(node, lang)))
        elif name == "subject":
            code = _qcode(node)
            label = _label(node, lang)
            prefix = code.split(":", 1)[0] if ":" in code and "/" not in code else ""
            scheme = schemes.get(prefix, prefix)
            kind = normalise.subject_kind(code, scheme, node.get("type") or "")
            add_subject(Subject(code=code or label, scheme=scheme, name=label, kind=kind))
        elif name == "genre":
            code = _qcode(node)
            prefix = code.split(":", 1)[0] if ":" in code else ""
            add_subject(Subject(code, schemes.get(prefix, prefix), _label(node, lang), "genre"))
        elif name == "keyword":
            word = text(node)
            add_subject(Subject(word, "keyword", word, "keyword"))

    main = [h for h in headlines if not h[0] or normalise.code_part(h[0]).lower() == "main"]
    main.sort(key=lambda h: int(h[1]) if h[1].isdigit() else 1)
    subs = [h for h in headlines if "sub" in h[0].lower()]
    chosen = main[0] if main else (headlines[0] if headlines and not subs else None)
    if chosen:
        item.headline = chosen[2]
    abstracts = [t for role, t in descriptions if t and role not in ("caption", "alternativetext")]
    if abstracts:
        item.standfirst = abstracts[0]
    elif subs and subs[0][2]:
        item.standfirst = subs[0][2]

    captions = [t for role, t in descriptions if t and role == "caption"]
    picture.caption = captions[0] if captions else ""
    alts = [t for role, t in descriptions if t and role == "alternativetext"]
    picture.alt_text = alts[0] if alts else ""
    if item.kind == Kind.PICTURE:
        picture.caption = picture.caption or next((t for _, t in descriptions if t), "")
        photographers = [n for role, n in creators if "photographer" in role.lower() and n]
        picture.byline = item.byline or (photographers or [n for _, n in creators if n] or [""])[0]
        item.standfirst = ""


def _concept(item: WireItem, concept: etree._Element | None) -> None:
    """Concept items (IPTC concepts, STT events) are kept: their name is the headline."""
    if concept is None:
        return
    item.headline = _label(concept, item.language) or item.headline
    definitions = [(d.get(XML_LANG, ""), text(d)) for d in children(concept, "definition")]
    item.standfirst = normalise.pick_label(definitions, item.language)


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _rendition(element: etree._Element) -> Rendition:
    return Rendition(
        href=(element.get("href") or element.get("residref") or "").strip(),
        content_type=(element.get("contenttype") or "").strip(),
        width=_int(element.get("width")),
        height=_int(element.get("height")),
        size=_int(element.get("size")),
        name=normalise.code_part(element.get("rendition") or ""),
    )


def _content_set(item: WireItem, content_set: etree._Element | None, picture: WirePicture) -> str:
    """Body and renditions; returns a NITF byline, if the body had one."""
    nitf_byline = ""
    if content_set is None:
        return nitf_byline
    for node in content_set:
        name = lname(node)
        if name == "remotecontent":
            rendition = _rendition(node)
            if item.kind == Kind.PICTURE:
                picture.renditions.append(rendition)
            elif item.kind == Kind.TEXT and rendition.content_type.startswith("image"):
                # ANSA ships the story's photo inside the text item.
                item.pictures.append(WirePicture(renditions=[rendition]))
        elif item.body or item.kind != Kind.TEXT:
            continue
        elif name == "inlinexml":
            content = next((c for c in node if isinstance(c.tag, str)), None)
            if content is None:
                item.body = bodies.text_blocks(node.text or "")
                continue
            if lname(content) == "nitf":
                _nitf_head(item, content)
            nitf_byline = _body_byline(content)
            item.body = bodies.element_blocks(content)
        elif name == "inlinedata":
            item.body = bodies.text_blocks(node.text or "")
    return nitf_byline


def _nitf_head(item: WireItem, nitf: etree._Element) -> None:
    """NITF repeats the headline in its head: a fallback when contentMeta has none."""
    body_head = child(child(nitf, "body"), "body.head")
    headline = text(child(child(body_head, "hedline"), "hl1"))
    headline = headline or text(child(child(nitf, "head"), "title"))
    if not item.headline and headline:
        item.headline = headline


def _body_byline(content: etree._Element) -> str:
    """A byline element inside the body (NITF body.head, TT's BYLINE), joined by spaces.

    Spaces matter: BusinessDesk writes <byline>By<person>…</person></byline>.
    """
    for element in content.iter():
        if local(element.tag).lower() == "byline":
            return " ".join(" ".join(p.split()) for p in element.itertext() if p.strip())
    return ""


def _members(item: WireItem, group_set: etree._Element | None) -> None:
    if group_set is None:
        return
    for group in children(group_set, "group"):
        # "grpRole:Main" (Reuters) and "group:main" (IPTC) are the same role: keep the code.
        role = normalise.code_part(group.get("role") or "").lower()
        for ref in children(group, "itemref"):
            guid = (ref.get("residref") or ref.get("href") or "").strip()
            if not guid:
                continue
            class_element = child(ref, "itemclass")
            item_class = "" if class_element is None else _qcode(class_element)
            version = (ref.get("version") or "").strip()
            item.members.append(
                MemberRef(guid, version, role, normalise.code_part(item_class).lower())
            )


def _signals(item: WireItem, content_meta: etree._Element | None) -> None:
    codes = {code.lower() for code in item.signals}
    if codes & _CORRECTION_SIGNALS:
        item.correction = True
    if codes & _KILL_SIGNALS and item.status != Status.CANCELED:
        item.status = Status.CANCELED
        item.warnings.append("Reuters signal edStat:D (deleted) read as a kill")
    if codes & _DELETE_SIGNALS and item.status != Status.CANCELED:
        item.status = Status.CANCELED
        item.warnings.append(
            "STT private signal sttinstruct:remove read as a kill (pubStatus said usable)"
        )
    if codes & _REPLACE_SIGNALS:
        _tt_replaces(item, content_meta)


def _tt_replaces(item: WireItem, content_meta: etree._Element | None) -> None:
    """TT names the replaced item in altId "tt:refuno"; its guid ends in that number."""
    alt_ids = {
        normalise.code_part(alt.get("type") or "").lower(): text(alt)
        for alt in children(content_meta, "altid")
    }
    own, replaced = alt_ids.get("uno", ""), alt_ids.get("refuno", "")
    if own and replaced and item.guid.endswith(own):
        item.replaces.append(item.guid[: -len(own)] + replaced)
    elif replaced:
        item.replaces.append(replaced)
    else:
        item.warnings.append("tt_sig:replace without a tt:refuno altId: replaced item unknown")


def _finish_text(item: WireItem, nitf_byline: str) -> None:
    item.headline, corrected = normalise.corrected_headline(item.headline)
    item.correction = item.correction or corrected
    # The slugline ("US-SYRIA-CRISIS-ASSAD") is a desk label, never a stand-in headline.
    conventions.finish_text(item, body_byline=nitf_byline)


def _fragment(meta: etree._Element, warnings: list[str]) -> WireItem:
    """A bare contentMeta: no item around it, so no guid; one is derived from its content."""
    digest = hashlib.sha256(etree.tostring(meta, method="c14n")).hexdigest()[:32]
    item = WireItem(format=FORMAT, guid=f"urn:sha256:{digest}", kind=Kind.OTHER, warnings=warnings)
    item.warnings.append(
        "A bare contentMeta fragment, not an item: no guid (derived from its content), "
        "no version and no status; kept aside, never an article"
    )
    language = child(meta, "language")
    item.language = normalise.language(language.get("tag") if language is not None else "")
    _content_meta(item, meta, WirePicture(), dict(normalise.SCHEMES))
    date = child(meta, "contentcreated")
    if date is not None:
        item.first_created = normalise.date_field(
            date.text, "contentCreated", item.warnings, item.raw_dates
        )
    return item
