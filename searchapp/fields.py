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
OCR = "ocr"  # "1" (Solr: true) when the report's text was read by OCR, wholly or in part
# the author's paragraph: one over documents.MAX_PARAGRAPH characters is indexed as
# pieces of about 450 (each its own record, para_id and permalink); in paragraph scope
# a query matches the pieces of one author paragraph as one unit (plan.py)
BLOCK = "block"  # the author paragraph's name, unique in an index: its first piece's KEY
PIECE = "piece"  # this record's 0-based place among the pieces of its author paragraph
PIECES = "pieces"  # how many pieces the author paragraph has (1: not cut)
# the issuing body and its place in the hierarchy of administrative divisions
ISSUER = "issuer"
LEVEL = "level"  # national, province, city, county, town, or ""
PROVINCE = "province"
CITY = "city"
COUNTY = "county"
# columns for filters and sorting
SECTION_KEY = "section_key"  # the section path joined by SECTION_SEPARATOR
SORT_DATE = "sort_date"  # the report's date, else its year as YYYY-00-00, else ""
SECTION_SEPARATOR = "\x1f"

# what every paragraph of a report shares
REPORT_FIELDS = (
    DOC_ID,
    SOURCE,
    FILE_HASH,
    TITLE,
    TOWN,
    PLACE,
    YEAR,
    DOC_TYPE,
    DATE,
    SORT_DATE,
    ISSUER,
    LEVEL,
    PROVINCE,
    CITY,
    COUNTY,
    OCR,
)

FACET_FIELDS = (TOWN, YEAR, DOC_TYPE)  # the facets every search returns (a JSON contract)
PLACE_FACETS = (PROVINCE, CITY, COUNTY, LEVEL)  # returned too, narrowing by the hierarchy
# the `section` facet counts hits under the corpus's recurring headings (工作回顾, 下一步工作 …)
COLUMNS = (*FACET_FIELDS, *PLACE_FACETS)

# query-language filter names → field names
FILTER_NAMES = {
    "town": TOWN,
    "year": YEAR,
    "type": DOC_TYPE,
    "doc_type": DOC_TYPE,
    "province": PROVINCE,
    "city": CITY,
    "county": COUNTY,
    "level": LEVEL,
    "section": SECTION,  # a substring of any heading above the paragraph
}
