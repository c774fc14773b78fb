"""Being found: feeds, sitemaps, robots.txt, structured data and social cards.

Everything here reads stories through `news`' one read layer (`for_readers`), so nothing
that is not live and public ever leaves the site by these doors.
"""
