"""HTTP to a SolrCloud collection: form-encoded POSTs, fail-over between live nodes, clear errors.

Every request of the Solr backend goes through `SolrClient`. Parameters travel in the
request body (queries with hundreds of keys do not fit in a URL). A node that refuses the
connection, does not answer within the timeout, or answers 5xx is skipped for the next
node of the cluster; the node list is read from CLUSTERSTATUS when the client connects and
again every NODES_TTL seconds and whenever every known node failed (a cluster grows,
nodes move). When none answers, `BackendUnavailable` says so in Chinese — never a
traceback. `connect` also checks Solr's version: below MIN_SOLR the backend's queries
(JSON facets, the configset) would fail in ways no message explains. Searches are sent
with `shards.tolerant=true`: a shard without a live replica then gives an answer marked
`partialResults`, which the engine reports instead of presenting a short count as
complete.

Authentication: a cluster with Solr's BasicAuthPlugin is reached by giving the credentials
in the URL, `http://user:password@host:8983/solr` (percent-encode `@`, `:` and `/` in
them). The client strips them from the addresses it keeps and sends them as an
`Authorization: Basic …` header on every request, to every node; they appear in no log
line and no error message (`redact_url` shows such a URL with the password masked).
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..cluster import solr_error_message, split_credentials
from ..errors import BackendUnavailable, IncompleteResults, IndexMissing

log = logging.getLogger(__name__)

Params = Sequence[tuple[str, str | int | float]]
HINT = "请检查 Solr 集群是否在运行、--solr-url 是否正确（searchapp cluster status --dir …）"
UPDATE_TRIES = 6  # an update refused while a shard elects a new leader is tried again
UPDATE_PAUSE = 2.0  # seconds before the first retry (doubling, up to ~1 minute in all)
NODES_TTL = 60.0  # seconds between reads of the cluster's live nodes
RETRIED = (500, 502, 503, 504)  # answers after which another node is tried
MIN_SOLR = (9, 0)  # the oldest Solr the configset and the queries are written for
PARTIAL_NOTICE = "部分索引分片暂时无法访问，结果不完整：总数与分面只计入可访问的分片"
AUTH_HINT = (
    "Solr 集群要求认证：在地址中给出用户名与密码，如 --solr-url http://用户:密码@主机:8983/solr"
    "（用户名或密码中的 @ : / 写作 %40 %3A %2F），并确认该用户有权访问此集合"
)


class AuthenticationFailed(BackendUnavailable):
    """Solr refused the credentials (or wants some): trying again would not help."""


class RequestRefused(BackendUnavailable):
    """Solr refused the request itself (a 4xx answer such as 400): sending it again, to
    this node or another, would get the same answer."""


class SolrTooOld(BackendUnavailable):
    """The cluster runs a Solr older than MIN_SOLR."""


class SolrClient:
    """One collection of a SolrCloud, reached through any of its live nodes; thread-safe."""

    def __init__(self, solr_url: str, collection: str, timeout: float = 30.0) -> None:
        base, self._authorization = split_credentials(solr_url)
        self.urls = [base]
        self.collection = collection
        self.timeout = timeout
        self._lock = threading.Lock()
        self._discovered = 0.0  # monotonic time of the last node list read; 0: never
        self.version = ""

    def connect(self) -> None:
        """Read the live nodes and check Solr's version (SolrTooOld below MIN_SOLR)."""
        self.discover_nodes()
        self.check_version()

    def discover_nodes(self) -> None:
        """Make the cluster's live nodes the fail-over addresses, in their present order
        (the given one first); nodes no longer live go last, not away: they may return."""
        status = self.call("/admin/collections", [("action", "CLUSTERSTATUS")], refresh=False)
        live = [node_url(n, self.urls[0]) for n in status.get("cluster", {}).get("live_nodes", [])]
        with self._lock:
            self._discovered = time.monotonic()
            if live:
                kept = [u for u in self.urls if u in live]
                gone = [u for u in self.urls if u not in live]
                self.urls = kept + [u for u in live if u not in kept] + gone

    def check_version(self) -> None:
        """Solr's version from a node's system info; SolrTooOld below MIN_SOLR."""
        info = self.call("/admin/info/system", [], refresh=False)
        version = str(info.get("lucene", {}).get("solr-spec-version", ""))
        self.version = version
        if version and parse_version(version) < MIN_SOLR:
            raise SolrTooOld(
                f"Solr {version} 低于 searchapp 支持的版本 {'.'.join(map(str, MIN_SOLR))}",
                hint="请升级 Solr 集群，或改用内置引擎（--backend embedded）",
            )

    def refresh_nodes(self) -> bool:
        """Read the node list again (best effort); True when it was read."""
        try:
            self.discover_nodes()
        except BackendUnavailable as exc:
            log.warning("could not read the cluster's live nodes: %s", exc.message)
            return False
        return True

    # --- requests -------------------------------------------------------------------------

    def select(self, params: Params, handler: str = "/select") -> dict[str, Any]:
        """A search request on the collection (shards.tolerant, JSON answer)."""
        return self.call(f"/{self.collection}{handler}", [*params, ("shards.tolerant", "true")])

    def stream(self, params: Params, batch: int = 1000) -> Iterator[dict[str, Any]]:
        """Every document of a sorted search (the sort ends with the key), a page of `batch`
        at a time via cursorMark; IncompleteResults when a shard did not answer. The next
        page is asked for as soon as a page arrives, so Solr finds it while the caller
        works through this one."""
        pool = ThreadPoolExecutor(1, thread_name_prefix="solr-cursor")
        try:
            cursor = "*"
            ahead = pool.submit(self.select, [*params, ("rows", str(batch)), ("cursorMark", "*")])
            while True:
                found = ahead.result()
                check_complete(found)
                docs = found["response"]["docs"]
                following = found.get("nextCursorMark", cursor)
                last = following == cursor or len(docs) < batch  # a short page is the last
                if not last:
                    page = [*params, ("rows", str(batch)), ("cursorMark", following)]
                    ahead = pool.submit(self.select, page)
                yield from docs
                if last:
                    return
                cursor = following
        finally:
            pool.shutdown(wait=False, cancel_futures=True)

    def get(self, params: Params) -> dict[str, Any]:
        """Real-time get (/get): documents by key, committed or not."""
        return self.call(f"/{self.collection}/get", params)

    def admin(self, path: str, params: Params) -> dict[str, Any]:
        """A request to a cluster-wide API such as /admin/collections."""
        return self.call(path, params)

    def update(self, body: bytes, params: Params = (), tries: int = UPDATE_TRIES) -> dict[str, Any]:
        """Send JSON update commands (adds, deletes, commit); tried again while the cluster
        recovers (a node down, a leader being elected)."""
        pause = UPDATE_PAUSE
        for attempt in range(1, tries + 1):
            try:
                return self.call(
                    f"/{self.collection}/update", params, body=body, content_type="application/json"
                )
            except (AuthenticationFailed, RequestRefused):
                raise
            except BackendUnavailable as exc:
                if attempt == tries:
                    raise BackendUnavailable(
                        f"写入 Solr 集合 {self.collection} 失败：{exc.message}",
                        hint="集群恢复后重新运行索引命令，会从中断处继续（不丢失、不重复）",
                    ) from exc
                log.warning("update refused (%s); trying again in %.0f s", exc.message, pause)
                time.sleep(pause)
                pause *= 2
        raise AssertionError("unreachable")

    def call(
        self,
        path: str,
        params: Params,
        *,
        body: bytes | None = None,
        content_type: str = "application/x-www-form-urlencoded",
        refresh: bool = True,
    ) -> dict[str, Any]:
        """POST to `path` on the first node that answers; its JSON answer. A node that
        cannot be reached, times out or answers 5xx is tried last from then on; when every
        node failed, the node list is read again and the new nodes are tried."""
        pairs = [(k, str(v)) for k, v in params] + [("wt", "json")]
        if body is None:
            data, query = urllib.parse.urlencode(pairs).encode("utf-8"), ""
        else:
            data, query = body, "?" + urllib.parse.urlencode(pairs)
        if refresh and time.monotonic() - self._discovered > NODES_TTL and self._discovered:
            self.refresh_nodes()
        reasons: list[str] = []
        tried: set[str] = set()
        last: Exception | None = None
        for attempt in range(2):
            for base in [u for u in list(self.urls) if u not in tried]:
                tried.add(base)
                try:
                    return self.post(f"{base}{path}{query}", data, content_type)
                except urllib.error.HTTPError as exc:
                    error = self.http_error(exc, path)
                    if exc.code not in RETRIED:
                        raise error from exc
                    last, reason = error, str(error)
                except (TimeoutError, urllib.error.URLError, OSError) as exc:
                    cause = getattr(exc, "reason", exc)
                    if isinstance(cause, TimeoutError) or isinstance(exc, TimeoutError):
                        reason = f"{self.timeout:g} 秒内没有回答"
                    else:
                        reason = str(cause)
                    last = None
                reasons.append(f"{base}：{reason}")
                log.warning("Solr node %s failed (%s); trying the next", base, reason)
                self.demote(base)
            if attempt or not refresh or not self.refresh_nodes():
                break
        if last is not None and len(reasons) == 1:
            raise last
        raise BackendUnavailable(f"无法连接 Solr（{path}；{'；'.join(reasons)}）", hint=HINT)

    def post(self, url: str, data: bytes, content_type: str) -> dict[str, Any]:
        request = urllib.request.Request(url, data=data, method="POST")
        request.add_header("Content-Type", content_type)
        if self._authorization:
            request.add_header("Authorization", self._authorization)
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            return json.loads(response.read())

    def demote(self, base: str) -> None:
        """Try a node that failed last from now on."""
        with self._lock:
            if base in self.urls and len(self.urls) > 1:
                self.urls.remove(base)
                self.urls.append(base)

    def http_error(self, exc: urllib.error.HTTPError, path: str) -> Exception:
        """The error to raise for an HTTP error answer."""
        message = solr_error_message(exc)
        if exc.code == 401:
            refused = (
                "拒绝了所给的用户名与密码"
                if self._authorization
                else "要求认证，但地址中没有用户名与密码"
            )
            return AuthenticationFailed(f"Solr {refused}（401，{path}）", hint=AUTH_HINT)
        if exc.code == 403:
            return AuthenticationFailed(f"Solr 拒绝了此用户的访问（403，{path}）", hint=AUTH_HINT)
        if exc.code == 404 and self.collection in path:
            return IndexMissing(
                f"Solr 中没有集合 {self.collection}",
                hint=f"先建立索引：searchapp index --backend solr --collection {self.collection}",
            )
        if 400 <= exc.code < 500:
            return RequestRefused(f"Solr 拒绝了请求 {exc.code}（{path}）：{message}", hint=HINT)
        return BackendUnavailable(f"Solr 返回 {exc.code}（{path}）：{message}", hint=HINT)


def node_url(node_name: str, like: str) -> str:
    """A live node's base URL from its name (127.0.0.1:8983_solr), with `like`'s scheme."""
    host, _, context = node_name.partition("_")
    scheme = like.split("://", 1)[0] if "://" in like else "http"
    return f"{scheme}://{host}/{urllib.parse.unquote(context) or 'solr'}"


def parse_version(version: str) -> tuple[int, ...]:
    """(9, 10, 1) of "9.10.1" (a suffix such as -SNAPSHOT ignored)."""
    numbers = []
    for part in version.split("."):
        digits = "".join(itertools.takewhile(str.isdigit, part))
        if not digits:
            break
        numbers.append(int(digits))
    return tuple(numbers)


def check_complete(response: dict[str, Any]) -> None:
    """IncompleteResults when a shard did not answer the search."""
    if is_partial(response):
        raise IncompleteResults(
            PARTIAL_NOTICE, hint="请稍后重试，或检查集群：searchapp cluster status"
        )


def is_partial(response: dict[str, Any]) -> bool:
    """Whether a shard did not answer (shards.tolerant gave a partial result)."""
    header = response.get("responseHeader", {})
    return bool(header.get("partialResults")) or bool(header.get("partialResultsDetails"))
