"""The search page's parameters, each checked; what is wrong is ignored with a note."""

from dataclasses import dataclass
from datetime import date

from django import forms

from .services import MAX_QUERY_LENGTH, Filters

# Dates outside these years are typing mistakes (a year 0002, a year 20260), and some
# would overflow when the day is turned into a time in the newsroom's zone.
EARLIEST = date(1800, 1, 1)
LATEST = date(2999, 12, 31)

KIND_CHOICES = [("", "All stories"), ("article", "Articles"), ("blog", "Blog posts")]
SORT_CHOICES = [("relevance", "Relevance"), ("newest", "Newest first")]


class QueryField(forms.CharField):
    """The words typed: never refused. Control characters (a NUL byte in a pasted or
    forged address) become spaces before Django's validators see them, so the rest
    of the query is still searched; the length is capped by the search itself, which
    says so on the page."""

    def to_python(self, value):
        value = super().to_python(value)
        return "".join(" " if ord(c) < 32 or ord(c) == 127 else c for c in value).strip()


class SearchForm(forms.Form):
    """?q=&section=&type=&from=&to=&sort=&page=, as readers and links send them.

    The fields are added by name in __init__ because "from" is a Python keyword. The
    section's choices are the site's top-level sections, by slug.
    """

    def __init__(self, data=None, *, sections, **kwargs):
        super().__init__(data, **kwargs)
        self.sections = {section.slug: section for section in sections}
        date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        self.fields.update(
            {
                "q": QueryField(
                    required=False,
                    label="Search for",
                    widget=forms.TextInput(attrs={"type": "search", "maxlength": MAX_QUERY_LENGTH}),
                ),
                "section": forms.ChoiceField(
                    required=False,
                    label="Section",
                    choices=[("", "All sections")]
                    + [(section.slug, section.title) for section in sections],
                ),
                "type": forms.ChoiceField(required=False, label="Type", choices=KIND_CHOICES),
                "from": forms.DateField(required=False, label="From", widget=date_widget),
                "to": forms.DateField(required=False, label="To", widget=date_widget),
                "sort": forms.ChoiceField(required=False, label="Sort", choices=SORT_CHOICES),
                "page": forms.IntegerField(required=False, min_value=1),
            }
        )

    def clean(self):
        cleaned = super().clean()
        for name in ("from", "to"):
            day = cleaned.get(name)
            if day and not EARLIEST <= day <= LATEST:
                self.add_error(name, "That date is too far from today to search.")
        return cleaned

    def read(self) -> "SearchRequest":
        """What the valid parameters ask for, the defaults standing in for invalid ones,
        and a note for the reader about each one ignored."""
        self.is_valid()
        cleaned = self.cleaned_data
        notes = []
        for name in self.errors:
            typed = str(self.data.get(name, ""))
            notes.append(IGNORED[name].format(typed[:40] + ("…" if len(typed) > 40 else "")))
        published_from, published_to = cleaned.get("from"), cleaned.get("to")
        if published_from and published_to and published_from > published_to:
            published_from, published_to = published_to, published_from
            notes.append("The dates were the wrong way round, so they were swapped.")
        filters = Filters(
            section=self.sections.get(cleaned.get("section") or ""),
            kind=cleaned.get("type") or "",
            published_from=published_from,
            published_to=published_to,
            sort=cleaned.get("sort") or "relevance",
        )
        return SearchRequest(
            text=cleaned.get("q") or "",
            filters=filters,
            page_number=cleaned.get("page"),
            notes=notes,
        )


@dataclass
class SearchRequest:
    text: str
    filters: Filters
    page_number: int | None
    notes: list[str]

    def parameters(self, text: str) -> dict[str, str]:
        """The query string of this search (with `text`, as searched), without the page
        number: what the form shows again and what page links carry."""
        filters = self.filters
        values = {
            "q": text,
            "section": filters.section.slug if filters.section else "",
            "type": filters.kind,
            "from": filters.published_from.isoformat() if filters.published_from else "",
            "to": filters.published_to.isoformat() if filters.published_to else "",
            "sort": "" if filters.sort == "relevance" else filters.sort,
        }
        return {name: value for name, value in values.items() if value}


IGNORED = {
    "q": "Your search could not be read, so nothing was searched.",
    "section": "There is no section “{}”, so all sections were searched.",
    "type": "“{}” is not a kind of story, so articles and blog posts were searched.",
    "from": "“{}” is not a date that could be used (write it as YYYY-MM-DD), so it was ignored.",
    "to": "“{}” is not a date that could be used (write it as YYYY-MM-DD), so it was ignored.",
    "sort": "“{}” is not a way to sort, so the most relevant results come first.",
    "page": "“{}” is not a page number, so this is the first page.",
}
