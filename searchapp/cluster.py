"""A local SolrCloud for development and tests: ZooKeeper and N Solr nodes, one process each.

The processes run the launcher in `solr/` (`searchapp.ClusterNode`, built by `make solr`
into `solr/target/`: compiled classes and the class path of Solr's jars). Everything a
cluster writes lives in its folder:

    DIR/cluster.json      solr_url, zk_host, nodes [{url, pid, port, home, log}], zk {...}
    DIR/zk/, DIR/zk.log   ZooKeeper's data and log
    DIR/node-1/, DIR/node-1.log, ...   each node's solr home and log

Every process is detached (its own session), binds 127.0.0.1 and survives the command that
started it; `stop_cluster` ends them (SIGTERM, then SIGKILL), and only processes whose
command line is this launcher's with this folder. Starting a stopped folder again reuses
its ports, so its collections come back.

Collections API helpers (`upload_configset`, `create_collection`, ...) talk to any Solr 9
over HTTP with urllib; they work on a production cluster as well.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import click

from .errors import ClusterError

log = logging.getLogger(__name__)

SOLR_DIR = Path(__file__).resolve().parent.parent / "solr"  # the checkout's launcher project
CONFIGSET_DIR = Path(__file__).resolve().parent / "solr" / "configset"  # package data
MAIN_CLASS = "searchapp.ClusterNode"
CLUSTER_FILE = "cluster.json"
BUILD_HINT = "在项目目录运行 make solr（安装 JDK 与 Maven，并从 Maven Central 取得 Solr 的 jar）"
# Small heaps for 2-core development machines; C1 only: a node starts in ~9 s instead of ~13 s.
JAVA_OPTIONS = ("-Xmx384m", "-Xss1m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1")
START_TIMEOUT = 180.0
STOP_TIMEOUT = 30.0


# --- cluster description ----------------------------------------------------------------------


@dataclass(frozen=True)
class NodeInfo:
    """One Solr node of a local cluster."""

    url: str  # http://127.0.0.1:PORT/solr
    pid: int
    port: int
    home: str  # solr home folder
    log: str  # log file

    @property
    def node_name(self) -> str:
        """Solr's name for the node, as in live_nodes: 127.0.0.1:PORT_solr."""
        return f"127.0.0.1:{self.port}_solr"


@dataclass(frozen=True)
class ZooKeeperInfo:
    """The cluster's ZooKeeper server."""

    host: str  # 127.0.0.1:PORT
    pid: int
    port: int
    data: str
    log: str


@dataclass(frozen=True)
class ClusterInfo:
    """What `start_cluster` started; written to DIR/cluster.json."""

    directory: Path
    solr_url: str
    zk_host: str
    nodes: tuple[NodeInfo, ...]
    zk: ZooKeeperInfo
    started: float = field(default=0.0)  # seconds since the epoch
    launcher: tuple[str, ...] = ()  # java, its options, main class: a node's command before its own

    def to_json(self) -> dict[str, Any]:
        """The cluster.json object (solr_url, zk_host and nodes first)."""
        return {
            "solr_url": self.solr_url,
            "zk_host": self.zk_host,
            "nodes": [asdict(node) for node in self.nodes],
            "zk": asdict(self.zk),
            "started": self.started,
            "launcher": list(self.launcher),
        }

    @classmethod
    def from_json(cls, directory: Path, data: Mapping[str, Any]) -> ClusterInfo:
        """Read a cluster.json object."""
        return cls(
            directory=directory,
            solr_url=data["solr_url"],
            zk_host=data["zk_host"],
            nodes=tuple(NodeInfo(**node) for node in data["nodes"]),
            zk=ZooKeeperInfo(**data["zk"]),
            started=float(data.get("started", 0.0)),
            launcher=tuple(data.get("launcher", ())),
        )


@dataclass(frozen=True)
class ClusterStatus:
    """Which of a cluster's processes run, and which nodes Solr reports live."""

    info: ClusterInfo
    zk_running: bool
    nodes_running: tuple[bool, ...]
    live_nodes: tuple[str, ...] | None  # None: no node answered

    @property
    def healthy(self) -> bool:
        """ZooKeeper and every node run, and every node is live in the cluster."""
        live = set(self.live_nodes or ())
        return (
            self.zk_running
            and all(self.nodes_running)
            and all(node.node_name in live for node in self.info.nodes)
        )


def read_cluster(directory: Path) -> ClusterInfo | None:
    """The cluster described by DIR/cluster.json, or None when there is none."""
    path = directory / CLUSTER_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ClusterError(f"{path} 无法读取：{exc}", hint=f"删除 {directory} 后重新启动") from exc
    try:
        return ClusterInfo.from_json(directory, data)
    except (KeyError, TypeError) as exc:
        raise ClusterError(f"{path} 不是集群描述文件", hint=f"删除 {directory} 后重新启动") from exc


def write_cluster(info: ClusterInfo) -> None:
    """Write DIR/cluster.json atomically."""
    path = info.directory / CLUSTER_FILE
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(info.to_json(), indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


# --- launcher and processes -------------------------------------------------------------------


def find_java() -> str:
    """The `java` executable on PATH."""
    java = shutil.which("java")
    if java is None:
        raise ClusterError("找不到 Java（java 不在 PATH 上）", hint=BUILD_HINT)
    return java


def launcher_classpath(solr_dir: Path = SOLR_DIR) -> str:
    """The class path of the built launcher: its classes, then Solr's jars."""
    classes = solr_dir / "target" / "classes"
    listing = solr_dir / "target" / "classpath.txt"
    if not (classes / "searchapp" / "ClusterNode.class").is_file() or not listing.is_file():
        raise ClusterError(f"Solr 启动器尚未构建（{solr_dir / 'target'} 中没有）", hint=BUILD_HINT)
    jars = listing.read_text(encoding="utf-8").strip()
    missing = [jar for jar in jars.split(os.pathsep) if jar and not Path(jar).is_file()]
    if missing:
        raise ClusterError(f"缺少 {len(missing)} 个 Solr jar（如 {missing[0]}）", hint=BUILD_HINT)
    return os.pathsep.join([str(classes), jars])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether 127.0.0.1:port can be bound now (by a server: TIME_WAIT connections allowed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


# Processes this interpreter started, kept so that they are reaped (no zombies) once they end.
_children: dict[int, subprocess.Popen[bytes]] = {}


def spawn(command: Sequence[str], log_path: Path) -> int:
    """Start a detached process (own session) writing to log_path; return its pid."""
    with log_path.open("ab") as out:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            close_fds=True,
        )
    _children[process.pid] = process
    log.info("started pid %d: %s", process.pid, " ".join(command[-6:]))
    return process.pid


def process_running(pid: int) -> bool:
    """Whether the process runs (an ended child is reaped; a zombie counts as ended)."""
    child = _children.get(pid)
    if child is not None and child.poll() is not None:
        del _children[pid]
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def owns_process(pid: int, directory: Path) -> bool:
    """Whether pid runs this launcher for the cluster in `directory` (never end anything else)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return process_running(pid) and pid in _children
    words = [arg.decode(errors="replace") for arg in argv]
    return MAIN_CLASS in words and any(str(directory) in word for word in words)


def end_processes(pids: Sequence[int], directory: Path, timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM the cluster's processes among pids, wait, then SIGKILL what is left."""
    ours = [pid for pid in pids if process_running(pid) and owns_process(pid, directory)]
    for pid in ours:
        signal_process(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(process_running(pid) for pid in ours):
        time.sleep(0.1)
    for pid in ours:
        if process_running(pid):
            log.warning("pid %d did not stop within %.0f s: SIGKILL", pid, timeout)
            signal_process(pid, signal.SIGKILL)
    for pid in ours:
        wait_until_ended(pid, 10.0)


def signal_process(pid: int, signum: int) -> None:
    """Send a signal; a process that has just ended is no error."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def wait_until_ended(pid: int, timeout: float) -> bool:
    """Wait until the process has ended; False on time-out."""
    deadline = time.monotonic() + timeout
    while process_running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def log_tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log file (for error messages)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    kept = [line for line in text.splitlines() if not line.lstrip().startswith("at ")]
    return "\n".join(kept[-lines:])


# --- start, stop, status ----------------------------------------------------------------------


def start_cluster(
    directory: Path,
    nodes: int = 3,
    *,
    solr_dir: Path = SOLR_DIR,
    java_options: Sequence[str] = JAVA_OPTIONS,
    timeout: float = START_TIMEOUT,
) -> ClusterInfo:
    """Start ZooKeeper and `nodes` Solr nodes for `directory`; return once every node is live.

    A folder whose cluster was stopped starts again on the same ports (its collections come
    back). Raises ClusterError when Java or the launcher is missing, a process fails to start
    (with the tail of its log), or the cluster is not live within `timeout` seconds; then
    whatever was started is stopped again.
    """
    if nodes < 1:
        raise ClusterError(f"节点数必须至少为 1（收到 {nodes}）")
    directory = directory.resolve()
    java = find_java()
    classpath = launcher_classpath(solr_dir)
    previous = read_cluster(directory)
    if previous is not None and any_running(previous):
        raise ClusterError(
            f"{directory} 的集群已在运行（{previous.solr_url}）",
            hint=f"先停止：searchapp cluster stop --dir {directory}",
        )
    directory.mkdir(parents=True, exist_ok=True)
    argfile = directory / "java.args"  # keeps the long class path out of `ps`
    argfile.write_text(f'-cp "{classpath}"\n', encoding="utf-8")
    base = [java, *java_options, f"-Dsolr.log.dir={directory}", f"@{argfile}", MAIN_CLASS]
    zk_port, node_ports = choose_ports(previous, nodes)

    zk_log = directory / "zk.log"
    zk = ZooKeeperInfo(
        host=f"127.0.0.1:{zk_port}",
        pid=spawn([*base, "zk", "--port", str(zk_port), "--dir", str(directory / "zk")], zk_log),
        port=zk_port,
        data=str(directory / "zk"),
        log=str(zk_log),
    )
    info = ClusterInfo(directory, "", zk.host, (), zk, time.time(), tuple(base))
    write_cluster(info)  # from here on, stop_cluster can end what was started
    deadline = time.monotonic() + timeout
    try:
        wait_for_zookeeper(zk, deadline)
        started = []
        for number, port in enumerate(node_ports, start=1):
            home = directory / f"node-{number}"
            node_log = directory / f"node-{number}.log"
            pid = spawn(node_command(base, port, zk.host, home), node_log)
            started.append(
                NodeInfo(f"http://127.0.0.1:{port}/solr", pid, port, str(home), str(node_log))
            )
            info = replace(info, solr_url=started[0].url, nodes=tuple(started))
            write_cluster(info)
        for node in info.nodes:
            wait_for_node(node, deadline)
        wait_for_live_nodes(info, deadline)
    except BaseException:
        stop_cluster(directory)
        raise
    log.info("cluster of %d nodes live at %s", nodes, info.solr_url)
    return info


def node_command(launcher: Sequence[str], port: int, zk_host: str, home: Path) -> list[str]:
    """The command line of one Solr node."""
    return [*launcher, "solr", "--port", str(port), "--zk", zk_host, "--home", str(home)]


def choose_ports(previous: ClusterInfo | None, nodes: int) -> tuple[int, list[int]]:
    """The ports of a stopped cluster in the same folder (so it comes back), else free ones."""
    if previous is None:
        return free_port(), [free_port() for _ in range(nodes)]
    zk_port = previous.zk.port
    node_ports = [node.port for node in previous.nodes[:nodes]]
    node_ports += [free_port() for _ in range(nodes - len(node_ports))]
    busy = [port for port in [zk_port, *node_ports] if not port_is_free(port)]
    if busy:
        raise ClusterError(
            f"{previous.directory} 的集群曾用的端口 {busy[0]} 已被占用",
            hint=f"释放该端口，或删除 {previous.directory} 后重新启动",
        )
    return zk_port, node_ports


def any_running(info: ClusterInfo) -> bool:
    """Whether any process of the cluster still runs."""
    pids = [info.zk.pid, *(node.pid for node in info.nodes)]
    return any(process_running(pid) and owns_process(pid, info.directory) for pid in pids)


def wait_for_zookeeper(zk: ZooKeeperInfo, deadline: float) -> None:
    """Wait until ZooKeeper answers `ruok` with `imok`."""
    while True:
        if not process_running(zk.pid):
            raise ClusterError(f"ZooKeeper 未能启动：\n{log_tail(Path(zk.log))}")
        if zookeeper_ok(zk.port):
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"ZooKeeper 未在规定时间内启动（日志：{zk.log}）")
        time.sleep(0.2)


def zookeeper_ok(port: int) -> bool:
    """Whether the ZooKeeper server on 127.0.0.1:port is serving."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(b"ruok")
            return sock.recv(16) == b"imok"
    except OSError:
        return False


def wait_for_node(node: NodeInfo, deadline: float) -> None:
    """Wait until a node answers /admin/info/system."""
    while True:
        if not process_running(node.pid):
            raise ClusterError(f"Solr 节点 {node.url} 未能启动：\n{log_tail(Path(node.log))}")
        try:
            solr_get(node.url, "/admin/info/system", timeout=5)
            return
        except ClusterError:
            pass
        if time.monotonic() > deadline:
            raise ClusterError(f"Solr 节点 {node.url} 未在规定时间内启动（日志：{node.log}）")
        time.sleep(0.3)


def wait_for_live_nodes(info: ClusterInfo, deadline: float) -> None:
    """Wait until the cluster state lists every node as live."""
    wanted = {node.node_name for node in info.nodes}
    while True:
        live = set(live_nodes(info.solr_url))
        if wanted <= live:
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"节点未全部加入集群：缺 {sorted(wanted - live)}")
        time.sleep(0.3)


def stop_cluster(directory: Path, timeout: float = STOP_TIMEOUT) -> None:
    """Stop every process of the cluster in `directory` (nodes, then ZooKeeper). Idempotent.

    cluster.json and the data stay, so `start_cluster` can start the same cluster again.
    """
    directory = directory.resolve()
    info = read_cluster(directory)
    if info is None:
        return
    end_processes([node.pid for node in info.nodes], directory, timeout)
    end_processes([info.zk.pid], directory, timeout)
    log.info("cluster in %s stopped", directory)


def cluster_status(directory: Path) -> ClusterStatus:
    """Which processes of the cluster in `directory` run and which nodes are live."""
    directory = directory.resolve()
    info = read_cluster(directory)
    if info is None:
        raise ClusterError(
            f"{directory} 中没有集群（缺 {CLUSTER_FILE}）",
            hint=f"启动一个：searchapp cluster start --dir {directory}",
        )
    running = tuple(process_running(node.pid) for node in info.nodes)
    live: tuple[str, ...] | None = None
    for node, up in zip(info.nodes, running, strict=True):
        if not up:
            continue
        try:
            live = tuple(sorted(live_nodes(node.url)))
            break
        except ClusterError:
            continue
    return ClusterStatus(info, process_running(info.zk.pid), running, live)


def kill_node(info: ClusterInfo, index: int) -> NodeInfo:
    """Kill node `index` (0-based) with SIGKILL, as a crash would; return it once it is gone."""
    info = read_cluster(info.directory) or info  # the pids as they are now, after restarts
    node = info.nodes[index]
    if process_running(node.pid) and owns_process(node.pid, info.directory):
        signal_process(node.pid, signal.SIGKILL)
        if not wait_until_ended(node.pid, 10.0):
            raise ClusterError(f"节点 {node.url}（pid {node.pid}）未能结束")
    return node


def restart_node(info: ClusterInfo, index: int, timeout: float = START_TIMEOUT) -> ClusterInfo:
    """Start node `index` (0-based) again after it ended (same port and home); wait until live.

    Returns the cluster with the node's new pid (cluster.json is rewritten).
    """
    # cluster.json, not the caller's copy: another node restarted since that copy was read
    # keeps its new pid there (a stale copy written back would orphan that process)
    info = read_cluster(info.directory) or info
    node = info.nodes[index]
    if process_running(node.pid) and owns_process(node.pid, info.directory):
        raise ClusterError(f"节点 {node.url} 仍在运行（pid {node.pid}）")
    if not info.launcher:
        raise ClusterError(f"{info.directory / CLUSTER_FILE} 中没有启动命令", hint="重新启动集群")
    home = Path(node.home)
    pid = spawn(node_command(info.launcher, node.port, info.zk_host, home), Path(node.log))
    restarted = replace(node, pid=pid)
    nodes = list(info.nodes)
    nodes[index] = restarted
    info = replace(info, nodes=tuple(nodes))
    write_cluster(info)
    deadline = time.monotonic() + timeout
    wait_for_node(restarted, deadline)
    wait_for_live_nodes(info, deadline)
    return info


# --- Solr HTTP API ----------------------------------------------------------------------------


def solr_request(
    base_url: str,
    path: str,
    params: Mapping[str, str | int] | Sequence[tuple[str, str | int]] = (),
    *,
    body: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Call a Solr endpoint (GET, or POST when there is a body) and return its JSON answer.

    Raises ClusterError with Solr's own message when Solr answers with an error, and when it
    cannot be reached.
    """
    pairs = list(params.items()) if isinstance(params, Mapping) else list(params)
    query = urllib.parse.urlencode([*pairs, ("wt", "json")])
    base, authorization = split_credentials(base_url)  # user:password@ → a Basic header
    url = f"{base}{path}?{query}"
    request = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET")
    if authorization:
        request.add_header("Authorization", authorization)
    if body is not None:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        raise ClusterError(f"Solr 返回 {exc.code}（{path}）：{solr_error_message(exc)}") from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ClusterError(f"无法连接 Solr {redact_url(base_url)}：{reason}") from exc


def split_credentials(solr_url: str) -> tuple[str, str | None]:
    """A Solr URL without `user:password@`, and the Basic `Authorization` header value the
    credentials give (None when the URL has none)."""
    parts = urllib.parse.urlsplit(solr_url.strip().rstrip("/"))
    if parts.username is None and parts.password is None:
        return solr_url.strip().rstrip("/"), None
    user = urllib.parse.unquote(parts.username or "")
    password = urllib.parse.unquote(parts.password or "")
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return urllib.parse.urlunsplit(parts._replace(netloc=host_part(parts))), f"Basic {token}"


def redact_url(solr_url: str) -> str:
    """A Solr URL fit to show or log: the password, if any, replaced by ***."""
    parts = urllib.parse.urlsplit(solr_url)
    if parts.password is None:
        return solr_url
    user = parts.username or ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}:***@{host_part(parts)}"))


def host_part(parts: urllib.parse.SplitResult) -> str:
    """host[:port] of a URL, without credentials (IPv6 hosts in brackets)."""
    return parts.netloc.rpartition("@")[2]


def solr_get(
    base_url: str, path: str, timeout: float = 60.0, **params: str | int
) -> dict[str, Any]:
    """GET a Solr endpoint with query parameters; its JSON answer."""
    return solr_request(base_url, path, params, timeout=timeout)


def solr_error_message(exc: urllib.error.HTTPError) -> str:
    """Solr's error message from an error response (its JSON `error.msg` when there is one)."""
    try:
        text = exc.read().decode("utf-8", errors="replace")
    except OSError:
        return str(exc.reason)
    try:
        return str(json.loads(text)["error"]["msg"])
    except (ValueError, KeyError, TypeError):
        return text.strip()[:500] or str(exc.reason)


def live_nodes(solr_url: str) -> list[str]:
    """The node names (127.0.0.1:PORT_solr) that ZooKeeper lists as live."""
    status = solr_get(solr_url, "/admin/collections", action="CLUSTERSTATUS", timeout=10)
    return list(status["cluster"]["live_nodes"])


def configset_zip(folder: Path) -> bytes:
    """A zip of a configset folder (`folder/conf/` or `folder` itself), files at the top level."""
    conf = folder / "conf" if (folder / "conf").is_dir() else folder
    if not (conf / "solrconfig.xml").is_file():
        raise ClusterError(f"{folder} 不是 Solr 配置集（缺 solrconfig.xml）")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(conf.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(conf).as_posix())
    return buffer.getvalue()


def upload_configset(solr_url: str, name: str, folder: Path = CONFIGSET_DIR) -> None:
    """Upload (or replace) the configset `name` from a folder through the Configsets API."""
    solr_request(
        solr_url,
        "/admin/configs",
        {"action": "UPLOAD", "name": name, "overwrite": "true", "cleanup": "true"},
        body=configset_zip(folder),
        content_type="application/octet-stream",
    )


def list_configsets(solr_url: str) -> list[str]:
    """The names of the configsets in the cluster."""
    return list(solr_get(solr_url, "/admin/configs", action="LIST")["configSets"])


def create_collection(
    solr_url: str,
    name: str,
    configset: str,
    shards: int = 1,
    replicas: int = 1,
    timeout: float = 120.0,
) -> None:
    """Create a collection (`shards` × `replicas` NRT replicas) and wait until it is active."""
    solr_request(
        solr_url,
        "/admin/collections",
        {
            "action": "CREATE",
            "name": name,
            "collection.configName": configset,
            "numShards": shards,
            "replicationFactor": replicas,
            "waitForFinalState": "true",
        },
        timeout=timeout,
    )


def wait_for_collection(solr_url: str, name: str, timeout: float = 120.0) -> None:
    """Wait until every replica of the collection is active on a live node."""
    deadline = time.monotonic() + timeout
    while True:
        status = solr_get(solr_url, "/admin/collections", action="CLUSTERSTATUS", collection=name)
        live = set(status["cluster"]["live_nodes"])
        shards = status["cluster"]["collections"][name]["shards"]
        replicas = [replica for shard in shards.values() for replica in shard["replicas"].values()]
        if all(r["state"] == "active" and r["node_name"] in live for r in replicas):
            return
        if time.monotonic() > deadline:
            raise ClusterError(f"集合 {name} 的副本未在规定时间内全部恢复")
        time.sleep(0.5)


def list_collections(solr_url: str) -> list[str]:
    """The names of the collections in the cluster."""
    return list(solr_get(solr_url, "/admin/collections", action="LIST")["collections"])


def delete_collection(solr_url: str, name: str) -> None:
    """Delete a collection."""
    solr_get(solr_url, "/admin/collections", action="DELETE", name=name, timeout=120)


def list_aliases(solr_url: str) -> dict[str, str]:
    """Each alias of the cluster and the collection(s) it names (comma-separated)."""
    return dict(solr_get(solr_url, "/admin/collections", action="LISTALIASES").get("aliases", {}))


def create_alias(solr_url: str, name: str, collection: str) -> None:
    """Point an alias at a collection: a new alias, or an existing one switched in one
    ZooKeeper write (a search reaches the old collection or the new one, never neither)."""
    solr_get(
        solr_url, "/admin/collections", action="CREATEALIAS", name=name, collections=collection
    )


def collection_state(status: dict[str, Any], name: str) -> dict[str, Any]:
    """A collection's entry of a CLUSTERSTATUS answer, `name` a collection or an alias."""
    cluster = status["cluster"]
    collections = cluster.get("collections", {})
    if name in collections:
        return collections[name]
    target = cluster.get("aliases", {}).get(name, "")
    if target in collections:
        return collections[target]
    raise ClusterError(f"Solr 集群中没有集合 {name}")


# --- command line -----------------------------------------------------------------------------


def dir_option(func: Any) -> Any:
    return click.option(
        "--dir",
        "directory",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="The cluster's folder (cluster.json, logs, data).",
    )(func)


@click.group("cluster")
def cluster_group() -> None:
    """A local SolrCloud (ZooKeeper + Solr nodes on 127.0.0.1) for development and tests.

    Example: searchapp cluster start --nodes 3 --dir /tmp/sc
    """


@cluster_group.command("start")
@click.option(
    "--nodes", type=click.IntRange(min=1), default=3, show_default=True, help="Solr nodes."
)
@dir_option
@click.option(
    "--solr-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=SOLR_DIR,
    show_default=True,
    help="The launcher project, built by `make solr`.",
)
def start_command(nodes: int, directory: Path, solr_dir: Path) -> None:
    """Start ZooKeeper and N Solr nodes, each its own process; wait until all are live.

    Example: searchapp cluster start --nodes 3 --dir /tmp/sc
    """
    started = time.monotonic()
    try:
        info = start_cluster(directory, nodes, solr_dir=solr_dir)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"SolrCloud: {info.solr_url}  ZooKeeper: {info.zk_host}")
    for node in info.nodes:
        click.echo(f"  {node.url}  pid {node.pid}  log {node.log}")
    click.echo(f"{len(info.nodes)} 个节点已就绪（{time.monotonic() - started:.1f} s）")
    click.echo(f"停止：searchapp cluster stop --dir {info.directory}")


@cluster_group.command("stop")
@dir_option
def stop_command(directory: Path) -> None:
    """Stop every process of the cluster (data and cluster.json stay). Safe to repeat.

    Example: searchapp cluster stop --dir /tmp/sc
    """
    try:
        stop_cluster(directory)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{directory} 的集群已停止")


@cluster_group.command("status")
@dir_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
def status_command(directory: Path, as_json: bool) -> None:
    """Show which processes run and which nodes are live; exit 1 unless all are.

    Example: searchapp cluster status --dir /tmp/sc --json
    """
    try:
        status = cluster_status(directory)
    except ClusterError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        data = status.info.to_json()
        data.update(
            healthy=status.healthy,
            zk_running=status.zk_running,
            nodes_running=list(status.nodes_running),
            live_nodes=None if status.live_nodes is None else list(status.live_nodes),
        )
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        live = set(status.live_nodes or ())
        click.echo(f"ZooKeeper {status.info.zk_host}: {'运行' if status.zk_running else '已停止'}")
        for node, running in zip(status.info.nodes, status.nodes_running, strict=True):
            state = "live" if node.node_name in live else ("运行" if running else "已停止")
            click.echo(f"  {node.url}  pid {node.pid}: {state}")
    if not status.healthy:
        raise SystemExit(1)
