"""Fixtures for the machine-readable outputs: feeds, sitemaps, structured data."""

from pathlib import Path

import pytest
import xmlschema

# Sitemaps: the published XSDs (schemas/README.md says where each came from) ----------

SITEMAP_SCHEMAS = Path(__file__).resolve().parent / "schemas"


@pytest.fixture(scope="session")
def urlset_schema():
    """sitemap.xsd with Google's news extension loaded beside it.

    sitemap.xsd lets a <url> hold elements of other namespaces (`xsd:any ##other`, with
    strict processing): each must match a declaration the validator has loaded. Alone it
    refuses every news:news element; loaded as one set with the news schema, each news
    element is checked against Google's declaration of it.
    """
    return xmlschema.XMLSchema(
        [str(SITEMAP_SCHEMAS / "sitemap.xsd"), str(SITEMAP_SCHEMAS / "sitemap-news.xsd")]
    )


@pytest.fixture(scope="session")
def siteindex_schema():
    return xmlschema.XMLSchema(str(SITEMAP_SCHEMAS / "siteindex.xsd"))
