"""IPTC NewsML 1.x, as AFP and the agencies that followed it send it.

AFP uses the DTD-era form without a namespace; NordicIR the XML-Schema form in
`http://iptc.org/std/NewsML/2003-10-10/`: elements are matched by local name, so both read
the same. Each `NewsItem` is one WireItem:

* identity `urn:newsml:{ProviderId}:{DateId}:{NewsItemId}` (the PublicIdentifier without its
  revision), version and `sequence` from `RevisionId`;
* status from `NewsManagement/Status` through the shared table, plus NewsML 1's own
  "Embargoed", read as usable with an embargo: the `StatusWillChange` time, or
  `embargo_pending` when no time is given;
* the text from nested `NewsComponent`s: NewsLines (headline, byline, dateline, AFP's
  AdvisoryLine → `ednote`), AFP's reporters from `Creator/Party`, the NITF (or HTML, or
  plain text) of `DataContent`; Belga-style roles (Title, Lead, Body, Caption, Picture,
  Video) decide what each component is;
* when components repeat the story in several languages (Belga sends nl and fr in one
  item), the first language is read and the others are named in a warning.

Partial updates (`Update="A"` or `"U"`, which patch an earlier revision) are refused:
applying a patch to an item Broadsheet may not hold would publish a fragment.
"""

from lxml import etree

from . import bodies, conventions, normalise
from .items import Block, Kind, Rendition, Status, Subject, Unreadable, WireItem, WirePicture
from .safexml import XML_LANG, child, children, lname, text

FORMAT = "newsml-1"

_PICTURE_ROLES = {"picture", "photo", "graphic", "image-group"}
_VIDEO_ROLES = {"video", "audio"}
_TITLE_ROLES = {"title", "headline"}
_LEAD_ROLES = {"subheadline", "lead", "abstract", "summary", "teaser", "intro"}
_SKIPPED_ROLES = {"stylesheet", "logo"}
_SUBJECT_TAGS = {"subject", "subjectmatter", "subjectdetail"}
_IMAGE_FORMATS = ("jpeg", "jpg", "png", "gif", "tiff", "webp")
_VIDEO_FORMATS = ("mpeg", "mp4", "mov", "quicktime", "avi", "wmv", "flv", "mp3", "wav")


def _formal(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return (element.get("FormalName") or "").strip()


def read(root: etree._Element, warnings: list[str]) -> list[WireItem]:
    """All NewsItems of a parsed NewsML 1.x document."""
    news_items = children(root, "newsitem")
    if not news_items:
        raise Unreadable("NewsML 1.x document without a NewsItem")
    items = []
    for position, news_item in enumerate(news_items, start=1):
        try:
            items.append(_item(news_item, list(warnings)))
        except Unreadable as error:
            raise Unreadable(f"NewsItem {position}: {error.reason}") from None
    return items


def _identity(news_item: etree._Element, item: WireItem) -> etree._Element | None:
    identifier = child(child(news_item, "identification"), "newsidentifier")
    provider = text(child(identifier, "providerid"))
    date_id = text(child(identifier, "dateid"))
    item_id = text(child(identifier, "newsitemid"))
    public = text(child(identifier, "publicidentifier"))
    if provider and date_id and item_id:
        item.guid = f"urn:newsml:{provider}:{date_id}:{item_id}"
    elif public.count(":") >= 5:
        item.guid = public.rsplit(":", 1)[0]
    else:
        # TASS sends only a ProviderId; its own id sits in a <guid> or the component Duid.
        own = next((text(el) for el in news_item.iter() if lname(el) == "guid" and text(el)), "")
        component = child(news_item, "newscomponent")
        own = own or (component.get("Duid", "").strip() if component is not None else "")
        if not (provider and own):
            raise Unreadable("no NewsIdentifier (ProviderId, DateId, NewsItemId) to identify it")
        item.guid = f"urn:newsml:{provider}:{date_id}:{own}"
        item.warnings.append(f"Incomplete NewsIdentifier: the id was built from {own!r}")
    item.provider = provider
    return identifier


def _revision(identifier: etree._Element | None, item: WireItem) -> None:
    revision = child(identifier, "revisionid")
    if revision is None:
        item.warnings.append("No RevisionId: sequence left at 0")
        return
    update = (revision.get("Update") or "N").strip().upper()
    if update in ("A", "U"):
        raise Unreadable(
            f"a partial update (RevisionId Update={update!r}) that patches revision "
            f"{revision.get('PreviousRevision', '?')}: only complete items (Update='N') are read"
        )
    item.version = text(revision)
    if item.version.isdigit():
        item.sequence = int(item.version)
    else:
        item.warnings.append(f"RevisionId {item.version!r} is not an integer; sequence left at 0")


def _management(management: etree._Element | None, item: WireItem) -> None:
    if management is None:
        item.warnings.append("No NewsManagement: status read as usable")
        return
    item.first_created = normalise.date_field(
        text(child(management, "firstcreated")), "FirstCreated", item.warnings, item.raw_dates
    )
    item.version_created = normalise.date_field(
        text(child(management, "thisrevisioncreated")),
        "ThisRevisionCreated",
        item.warnings,
        item.raw_dates,
    )
    urgency = child(management, "urgency")
    if urgency is not None:
        item.urgency = normalise.urgency(_formal(urgency) or text(urgency), item.warnings)
    status_element = child(management, "status")
    status = _formal(status_element) or text(status_element)
    if not status:
        item.warnings.append("No Status: read as usable (the NewsML default)")
        return
    if status.lower() == "embargoed":
        item.status = Status.USABLE
        change = child(management, "statuswillchange")
        moment = text(child(change, "dateandtime"))
        future = _formal(child(change, "futurestatus")) or "Usable"
        if moment:
            item.embargo = normalise.date_field(
                moment, "StatusWillChange", item.warnings, item.raw_dates
            )
        if item.embargo is None:
            item.embargo_pending = True
        if future.lower() != "usable":
            item.status = normalise.status(future, "StatusWillChange/FutureStatus")
        return
    item.status = normalise.status(status, "NewsManagement/Status")


class _Collected:
    """What the component walk finds, in document order (the outer components first)."""

    def __init__(self) -> None:
        self.headlines: list[str] = []
        self.subheadlines: list[str] = []
        self.bylines: list[str] = []
        self.datelines: list[str] = []
        self.creditlines: list[str] = []
        self.sluglines: list[str] = []
        self.advisories: list[str] = []
        self.creators: list[str] = []
        self.providers: list[str] = []
        self.languages: list[str] = []
        self.subjects: list[Subject] = []
        self.topic_names: dict[str, list[tuple[str, str]]] = {}
        self.located: list[str] = []
        self.titles: list[str] = []
        self.leads: list[str] = []
        self.body: list[Block] = []
        self.contact: list[Block] = []
        self.pictures: dict[int, WirePicture] = {}
        self.has_video = False
        self.nitf_titles: list[str] = []
        self.other_languages: list[str] = []


def _item(news_item: etree._Element, warnings: list[str]) -> WireItem:
    item = WireItem(format=FORMAT, guid="", warnings=warnings)
    identifier = _identity(news_item, item)
    _revision(identifier, item)
    _management(child(news_item, "newsmanagement"), item)

    found = _Collected()
    primary = normalise.language(news_item.get(XML_LANG))
    for component in children(news_item, "newscomponent"):
        primary = primary or normalise.language(component.get(XML_LANG))
        _walk(component, found, primary, "", None)
    item.language = primary or next((lang for lang in found.languages if lang), "")
    if found.other_languages:
        others = ", ".join(sorted(set(found.other_languages)))
        item.warnings.append(f"Also carries a version in {others}: only {item.language} was read")

    item.headline = _first(found.headlines) or _first(found.titles) or _first(found.nitf_titles)
    item.standfirst = _first(found.subheadlines) or _first(found.leads)
    item.dateline = normalise.dateline(_first(found.datelines))
    item.creditline = _first(found.creditlines)
    item.slugline = _first(found.sluglines) or text(
        child(child(news_item, "identification"), "namelabel")
    )
    item.located = _first(found.located)
    item.provider = _first(found.providers) or item.provider
    item.ednote = "\n".join(found.advisories)
    if warning := normalise.embargo_warning(item.ednote, "advisory line"):
        item.warnings.append(warning)
    byline = _first(found.bylines)
    if not byline:
        creators = [name for name in found.creators if not conventions.is_signoff(name)]
        byline = " and ".join(dict.fromkeys(creators))
    item.byline = byline

    seen: set[tuple[str, str]] = set()
    for subject in found.subjects:
        if (subject.code, subject.kind) in seen:
            continue
        seen.add((subject.code, subject.kind))
        if subject.kind == "subject" and subject.code in found.topic_names:
            label = normalise.pick_label(found.topic_names[subject.code], item.language)
            subject = Subject(subject.code, subject.scheme, label, subject.kind)
        item.subjects.append(subject)

    pictures = [p for p in found.pictures.values() if p.renditions]
    item.pictures = pictures
    if found.body:
        item.kind = Kind.TEXT
    elif found.has_video:
        item.kind = Kind.OTHER
    elif pictures:
        item.kind = Kind.PICTURE
    item.body = found.body + found.contact
    conventions.finish_text(item)
    return item


def _first(values: list[str]) -> str:
    return next((value for value in values if value), "")


def _walk(
    component: etree._Element,
    found: _Collected,
    primary: str,
    inherited_role: str,
    picture_key: int | None,
) -> None:
    lang = normalise.language(component.get(XML_LANG))
    if lang and primary and lang.split("-")[0] != primary.split("-")[0]:
        found.other_languages.append(lang)
        return
    role = normalise.code_part(_formal(child(component, "role"))).lower()
    component_class = ""
    descriptive = child(component, "descriptivemetadata")
    if descriptive is None:
        descriptive = child(component, "descriptivemetada")  # TASS's misspelling
    for prop in children(descriptive, "property"):
        if prop.get("FormalName") == "ComponentClass":
            component_class = (prop.get("Value") or "").strip().lower()
    if role in _SKIPPED_ROLES:
        return
    if role in _VIDEO_ROLES or component_class in ("video", "audio"):
        found.has_video = True
        picture_key = -1  # inside a video: nothing here is the story's text or photo
    elif role in _PICTURE_ROLES:
        picture_key = id(component)
        found.pictures.setdefault(picture_key, WirePicture())
    role = role or inherited_role

    in_video = picture_key == -1
    _news_lines(child(component, "newslines"), found, picture_key)
    _administrative(child(component, "administrativemetadata"), found)
    _descriptive(descriptive, found, primary)
    for topic_set in children(component, "topicset"):
        _topics(topic_set, found)

    for content_item in children(component, "contentitem"):
        _content_item(content_item, role, found, picture_key, in_video, component, component_class)
    for node in children(component, "newscomponent"):
        _walk(node, found, primary, role, picture_key)


def _news_lines(lines: etree._Element | None, found: _Collected, picture_key: int | None) -> None:
    if lines is None:
        return
    if picture_key is not None:
        picture = found.pictures.get(picture_key)
        if picture is not None:
            picture.headline = picture.headline or text(child(lines, "headline"))
            picture.credit = picture.credit or text(child(lines, "creditline"))
            picture.byline = picture.byline or text(child(lines, "byline"))
        return
    for node in lines:
        name = lname(node)
        if name == "headline":
            found.headlines.append(text(node))
        elif name == "subheadline":
            found.subheadlines.append(text(node))
        elif name == "byline":
            found.bylines.append(text(node))
        elif name == "dateline":
            found.datelines.append(text(node))
        elif name == "creditline":
            found.creditlines.append(text(node))
        elif name == "slugline":
            found.sluglines.append(text(node))
        elif name == "keywordline":
            word = text(node)
            if word:
                found.subjects.append(Subject(word, "keyword", word, "keyword"))
        elif name == "newsline":
            kind = _formal(child(node, "newslinetype")).lower()
            line = text(child(node, "newslinetext"))
            if kind == "advisoryline" and line:
                found.advisories.append(line)


def _administrative(admin: etree._Element | None, found: _Collected) -> None:
    if admin is None:
        return
    for party in children(child(admin, "provider"), "party"):
        found.providers.append(_formal(party))
    for party in children(child(admin, "creator"), "party"):
        if (party.get("Topic") or "").strip().upper() != "EDITOR":
            found.creators.append(_formal(party))


def _descriptive(descriptive: etree._Element | None, found: _Collected, primary: str) -> None:
    if descriptive is None:
        return
    for element in descriptive.iter():
        name = lname(element)
        if name == "language":
            found.languages.append(normalise.language(_formal(element)))
        elif name in _SUBJECT_TAGS:
            code = _formal(element)
            if code:
                # Only eight digits are an IPTC Subject Code; other codes are the sender's.
                scheme = normalise.SUBJECT_CODES if len(code) == 8 and code.isdigit() else ""
                found.subjects.append(Subject(code, scheme, "", "subject"))
        elif name == "genre":
            code = _formal(element)
            if code:
                found.subjects.append(Subject(code, "", code, "genre"))
        elif name == "location":
            if element.get("HowPresent", "Origin") == "Origin":
                found.located.append(_place(element))
        elif name == "property" and element.getparent() is descriptive:
            formal, value = element.get("FormalName", ""), (element.get("Value") or "").strip()
            if formal == "Keyword" and value:
                found.subjects.append(Subject(value, "keyword", value, "keyword"))
            elif formal == "City" and value:
                found.located.append(value)


def _place(location: etree._Element) -> str:
    values = {p.get("FormalName", ""): (p.get("Value") or "").strip() for p in location}
    return values.get("City") or values.get("Area") or values.get("Country") or ""


def _topics(topic_set: etree._Element, found: _Collected) -> None:
    for topic in children(topic_set, "topic"):
        code = text(child(topic, "formalname"))
        names = [
            (d.get(XML_LANG, ""), text(d))
            for d in children(topic, "description")
            if d.get("Variant") == "Name"
        ]
        if code and names:
            found.topic_names[code] = names


def _int(value: str | None) -> int | None:
    value = (value or "").strip()
    return int(value) if value.isdigit() else None


def _content_item(
    content_item: etree._Element,
    role: str,
    found: _Collected,
    picture_key: int | None,
    in_video: bool,
    component: etree._Element,
    component_class: str,
) -> None:
    href = (content_item.get("Href") or "").strip()
    media = _formal(child(content_item, "mediatype")).lower()
    mime = _formal(child(content_item, "mimetype")).lower()
    fmt = _formal(child(content_item, "format")).lower()
    if (
        media in ("video", "audio")
        or mime.startswith(("video", "audio"))
        or (href and fmt.startswith(_VIDEO_FORMATS))
    ):
        found.has_video = True
        return
    is_image = media in ("photo", "image", "graphic") or mime.startswith("image")
    is_image = is_image or component_class == "image" or fmt.startswith(_IMAGE_FORMATS)
    if href and is_image:
        if in_video:
            return
        key = picture_key if picture_key is not None else id(component)
        picture = found.pictures.setdefault(key, WirePicture())
        props = {}
        characteristics = child(content_item, "characteristics")
        for prop in children(characteristics, "property"):
            props[prop.get("FormalName", "")] = prop.get("Value")
        picture.renditions.append(
            Rendition(
                href=href,
                content_type=mime or (f"image/{fmt.split()[0]}" if fmt else ""),
                width=_int(props.get("Width") or props.get("PixelWidth")),
                height=_int(props.get("Height") or props.get("PixelHeight")),
                size=_int(text(child(characteristics, "sizeinbytes"))),
                name=role,
            )
        )
        return
    data = child(content_item, "datacontent")
    if data is None or in_video:
        return
    if picture_key is not None:
        picture = found.pictures[picture_key]
        if role in _TITLE_ROLES:
            picture.headline = picture.headline or text(data)
        elif role in ("caption", "body", "description"):
            picture.caption = picture.caption or text(data)
        return
    if role in _TITLE_ROLES:
        found.titles.append(text(data))
    elif role in _LEAD_ROLES:
        found.leads.append(bodies.plain_text(text(data)))
    elif role == "caption":
        return
    elif role == "contact":
        found.contact.extend(_data_blocks(data, found))
    elif mime in ("application/pdf",) or fmt in ("css",):
        return
    else:
        found.body.extend(_data_blocks(data, found))


def _data_blocks(data: etree._Element, found: _Collected) -> list[Block]:
    """Body blocks from DataContent: NITF, XHTML, bare paragraphs, or text."""
    elements = [child for child in data if isinstance(child.tag, str)]
    if not elements:
        return bodies.text_blocks(data.text or "")
    first = elements[0]
    if lname(first) == "nitf":
        found.nitf_titles.append(text(child(child(first, "head"), "title")))
        content = child(child(first, "body"), "body.content")
        return bodies.element_blocks(content if content is not None else first)
    if len(elements) == 1 and not (data.text or "").strip():
        return bodies.element_blocks(first)
    return bodies.element_blocks(data)
