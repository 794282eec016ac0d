"""searchapp: full-text search over Chinese policy documents.

The package reads as the pipeline:
documents (readers, documents) → analysis → index (schema, indexer) → query
(query, highlight, fuzzy) → front ends (cli, web).
"""

__version__ = "0.1.0"
