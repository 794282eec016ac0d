"""HTTP to a SolrCloud collection: form-encoded POSTs, fail-over between live nodes, clear errors.

Every request of the Solr backend goes through `SolrClient`. Parameters travel in the
request body (queries with hundreds of keys do not fit in a URL). A node that refuses the
connection is skipped for the next live node of the cluster (read from CLUSTERSTATUS when
the client opens); when none answers, `BackendUnavailable` says so in Chinese — never a
traceback. Searches are sent with `shards.tolerant=true`: a shard without a live replica
then gives an answer marked `partialResults`, which the engine reports instead of
presenting a short count as complete.

Authentication: a cluster with Solr's BasicAuthPlugin is reached by giving the credentials
in the URL, `http://user:password@host:8983/solr` (percent-encode `@`, `:` and `/` in
them). The client strips them from the addresses it keeps and sends them as an
`Authorization: Basic …` header on every request, to every node; they appear in no log
line and no error message (`redact_url` shows such a URL with the password masked).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from typing import Any

from ..cluster import solr_error_message, split_credentials
from ..errors import BackendUnavailable, IndexMissing

log = logging.getLogger(__name__)

Params = Sequence[tuple[str, str | int | float]]
HINT = "请检查 Solr 集群是否在运行、--solr-url 是否正确（searchapp cluster status --dir …）"
UPDATE_TRIES = 6  # an update refused while a shard elects a new leader is tried again
UPDATE_PAUSE = 2.0  # seconds before the first retry (doubling, up to ~1 minute in all)
AUTH_HINT = (
    "Solr 集群要求认证：在地址中给出用户名与密码，如 --solr-url http://用户:密码@主机:8983/solr"
    "（用户名或密码中的 @ : / 写作 %40 %3A %2F），并确认该用户有权访问此集合"
)


class AuthenticationFailed(BackendUnavailable):
    """Solr refused the credentials (or wants some): trying again would not help."""


class SolrClient:
    """One collection of a SolrCloud, reached through any of its live nodes; thread-safe."""

    def __init__(self, solr_url: str, collection: str, timeout: float = 30.0) -> None:
        base, self._authorization = split_credentials(solr_url)
        self.urls = [base]
        self.collection = collection
        self.timeout = timeout
        self._lock = threading.Lock()

    def discover_nodes(self) -> None:
        """Add the cluster's other live nodes as fail-over addresses (the given one first)."""
        status = self.admin("/admin/collections", [("action", "CLUSTERSTATUS")])
        for name in status.get("cluster", {}).get("live_nodes", []):
            url = node_url(name, self.urls[0])
            if url not in self.urls:
                self.urls.append(url)

    # --- requests -------------------------------------------------------------------------

    def select(self, params: Params, handler: str = "/select") -> dict[str, Any]:
        """A search request on the collection (shards.tolerant, JSON answer)."""
        return self.call(f"/{self.collection}{handler}", [*params, ("shards.tolerant", "true")])

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
            except AuthenticationFailed:
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
    ) -> dict[str, Any]:
        """POST to `path` on the first node that accepts the connection; its JSON answer."""
        pairs = [(k, str(v)) for k, v in params] + [("wt", "json")]
        if body is None:
            data, query = urllib.parse.urlencode(pairs).encode("utf-8"), ""
        else:
            data, query = body, "?" + urllib.parse.urlencode(pairs)
        reasons = []
        for base in list(self.urls):
            request = urllib.request.Request(f"{base}{path}{query}", data=data, method="POST")
            request.add_header("Content-Type", content_type)
            if self._authorization:
                request.add_header("Authorization", self._authorization)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                error = self.http_error(exc, path)
                if exc.code in (500, 503) and "proxy" in str(error) and len(self.urls) > 1:
                    # the node forwarded to one that just died (its cluster state lags)
                    reasons.append(f"{base}：{error}")
                    log.warning("Solr node %s could not forward (%s); trying the next", base, error)
                    self.demote(base)
                    continue
                raise error from exc
            except TimeoutError as exc:
                raise BackendUnavailable(
                    f"Solr {base} 在 {self.timeout:.0f} 秒内没有回答（{path}）", hint=HINT
                ) from exc
            except (urllib.error.URLError, OSError) as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, TimeoutError):
                    raise BackendUnavailable(
                        f"Solr {base} 在 {self.timeout:.0f} 秒内没有回答（{path}）", hint=HINT
                    ) from exc
                reasons.append(f"{base}：{reason}")
                log.warning("Solr node %s unreachable (%s); trying the next", base, reason)
                self.demote(base)
        raise BackendUnavailable(f"无法连接 Solr（{'；'.join(reasons)}）", hint=HINT)

    def demote(self, base: str) -> None:
        """Try a node that refused a connection last from now on."""
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
        return BackendUnavailable(f"Solr 返回 {exc.code}（{path}）：{message}", hint=HINT)


def node_url(node_name: str, like: str) -> str:
    """A live node's base URL from its name (127.0.0.1:8983_solr), with `like`'s scheme."""
    host, _, context = node_name.partition("_")
    scheme = like.split("://", 1)[0] if "://" in like else "http"
    return f"{scheme}://{host}/{urllib.parse.unquote(context) or 'solr'}"


def is_partial(response: dict[str, Any]) -> bool:
    """Whether a shard did not answer (shards.tolerant gave a partial result)."""
    header = response.get("responseHeader", {})
    return bool(header.get("partialResults")) or bool(header.get("partialResultsDetails"))
