"""Names of a paragraph's fields, shared by every engine and front end.

Each backend stores one record per paragraph under these names (the embedded Whoosh
index and a Solr collection alike); filters and facets use them too.
"""

from __future__ import annotations

KEY = "key"  # "<doc_id>/<para_id>", unique
DOC_ID = "doc_id"
PARA_ID = "para_id"
SOURCE = "source"
ORDINAL = "ordinal"
SORT_KEY = "sort_key"  # document order: source path, report, paragraph
TITLE = "title"
TOWN = "town"
PLACE = "place"
YEAR = "year"
DOC_TYPE = "doc_type"
DATE = "date"
SECTION = "section"
HEADING = "heading"
TEXT = "text"
WORDS = "words"
FILE_HASH = "file_hash"

FACET_FIELDS = (TOWN, YEAR, DOC_TYPE)

# query-language filter names → field names
FILTER_NAMES = {"town": TOWN, "year": YEAR, "type": DOC_TYPE, "doc_type": DOC_TYPE}
