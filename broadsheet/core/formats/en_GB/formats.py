"""How dates read everywhere readers and editors see them: `{{ value|date }}` and
`{{ value|date:"DATETIME_FORMAT" }}` print these, so every page says "1 Dec 2026" and
"1 Dec 2026, 08:23" the same way. Long forms ("Tuesday 1 December 2026") are for headings.
"""

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
