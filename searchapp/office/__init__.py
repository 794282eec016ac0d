"""The office service: what a shared server adds to the search over one corpus.

    db.py         the SQLite database in the data folder (never in the index or the corpus)
    accounts.py   users, roles, hashed passwords and API tokens
    overrides.py  corrections of a report's metadata, keyed by content, with their audit trail
    library.py    uploads into the corpus, the trash, and removed reports' notices
    jobs.py       background index runs, one at a time, with each file's fate

web/ and cli.py call these; none of them imports Flask or click.
"""

from . import accounts, db, jobs, library, overrides, service

__all__ = ["accounts", "db", "jobs", "library", "overrides", "service"]
