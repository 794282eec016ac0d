"""Exceptions named after their condition; each message says what to do."""


class SearchAppError(Exception):
    """Base class: an error a user can understand and act on."""

    status = 400

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class QueryError(SearchAppError):
    """The query text cannot be understood."""


class IndexMissing(SearchAppError):
    """There is no index at the configured location."""

    status = 503


class IndexIncompatible(SearchAppError):
    """The index was built with other analysis settings than this program uses."""

    status = 503


class IndexLocked(SearchAppError):
    """Another indexer is writing to the index."""

    status = 409


class UnreadableFile(SearchAppError):
    """A source file cannot be turned into text; `reason` is a short code."""

    def __init__(self, message: str, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.reason = reason


class NotFound(SearchAppError):
    """A document or paragraph id that the index does not hold."""

    status = 404


class ClusterError(SearchAppError):
    """A local SolrCloud cannot be started, reached or stopped, or Solr refused a request."""

    status = 503


class BackendUnavailable(SearchAppError):
    """The search backend (a Solr cluster) cannot be reached or cannot answer."""

    status = 503


class IncompleteResults(BackendUnavailable):
    """Part of the index (a shard with no live replica) did not answer: a count would be short."""


class Unauthorized(SearchAppError):
    """No credentials, or credentials that do not hold: sign in, or send an API token."""

    status = 401


class Forbidden(SearchAppError):
    """Signed in, but with a role too small for this."""

    status = 403


class Gone(SearchAppError):
    """A report that was removed (it may be restored from the trash)."""

    status = 410


class TooManyRequests(SearchAppError):
    """Too many attempts in a short time (sign-in)."""

    status = 429
