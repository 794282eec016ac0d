"""One frozen configuration object; the only place that reads the environment or a config file.

Where a value comes from, the later winning: the defaults below (folders relative to the
working directory: `./seeds`, `./index`), a config file (`$SEARCHAPP_CONFIG`, else
`searchapp.toml` in the working directory when there is one), SEARCHAPP_* environment
variables, then the caller's overrides (command-line flags). Nothing is ever looked up
in the folder the package is installed in.

A config file holds any of the field names below as top-level keys; relative paths in it
are relative to the file's own folder:

    corpus_dir = "/data/reports"
    index_dir = "index"
    threads = 16
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from .errors import SearchAppError

CONFIG_FILE = "searchapp.toml"  # read from the working directory when present
CONFIG_ENV = "SEARCHAPP_CONFIG"  # names a config file elsewhere (then it must exist)
ENV_FIELDS = {
    "SEARCHAPP_CORPUS": "corpus_dir",
    "SEARCHAPP_INDEX": "index_dir",
    "SEARCHAPP_USER_DICT": "user_dict",
    "SEARCHAPP_INDEX_PROCS": "index_procs",
    "SEARCHAPP_THREADS": "threads",
    "SEARCHAPP_BACKEND": "backend",
    "SEARCHAPP_SOLR_URL": "solr_url",
    "SEARCHAPP_SOLR_COLLECTION": "solr_collection",
    "SEARCHAPP_BASE_URL": "base_url",
    "SEARCHAPP_DATA": "data_dir",
    "SEARCHAPP_READING": "reading",
    "SEARCHAPP_SECURE_COOKIES": "secure_cookies",
    "SEARCHAPP_MAX_UPLOAD_MB": "max_upload_mb",
    "SEARCHAPP_MAX_UPLOAD_FILES": "max_upload_files",
}
PATH_FIELDS = ("corpus_dir", "index_dir", "user_dict", "data_dir")
TEXT_FIELDS = ("backend", "solr_url", "solr_collection", "base_url", "reading")
FLAG_FIELDS = ("secure_cookies",)
BACKENDS = ("embedded", "solr")
READING = ("auto", "open", "sign-in")  # who may search: see Config.reading
FLAG_WORDS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class BadConfig(SearchAppError):
    """A config file or SEARCHAPP_* variable that cannot be used."""


@dataclass(frozen=True)
class Config:
    """Paths and limits shared by the indexer, the query engine and the front ends."""

    corpus_dir: Path = Path("seeds")
    index_dir: Path = Path("index")
    user_dict: Path | None = None  # extra words for jieba, one a line
    page_size: int = 10
    max_page_size: int = 100
    max_query_chars: int = 200
    index_procs: int = field(default_factory=lambda: min(2, os.cpu_count() or 1))
    threads: int = 8  # web: waitress's worker threads (engines are shared by all of them)
    backend: str = "embedded"  # or "solr": a SolrCloud collection instead of index_dir
    solr_url: str = ""  # e.g. http://127.0.0.1:8983/solr
    solr_collection: str = "searchapp"
    base_url: str = ""  # e.g. https://search.example.gov.cn: exported permalinks are absolute
    # the office service (accounts, corrections, jobs, trash): never inside index or
    # corpus; by default `data/` beside the index folder (./data for ./index)
    data_dir: Path | None = None
    # "open": anyone may search; "sign-in": readers must sign in; "auto": open when the
    # server listens on a loopback address only, sign-in otherwise
    reading: str = "auto"
    secure_cookies: bool = False  # behind https: the session cookie is sent over https only
    max_upload_mb: int = 50  # per file
    max_upload_files: int = 20  # per upload

    def __post_init__(self) -> None:
        if self.data_dir is None:
            object.__setattr__(self, "data_dir", self.index_dir.parent / "data")
        if self.reading not in READING:
            raise BadConfig(
                f"未知的 reading 设置 “{self.reading}”", hint="可选：auto、open、sign-in"
            )
        if self.backend not in BACKENDS:
            raise BadConfig(f"未知的后端 “{self.backend}”", hint="可选：embedded、solr")
        if self.backend == "solr" and not self.solr_url:
            raise BadConfig(
                "使用 Solr 后端需要 Solr 的地址",
                hint="--solr-url http://主机:8983/solr，或环境变量 SEARCHAPP_SOLR_URL",
            )

    @property
    def data_folder(self) -> Path:
        """The office service's folder (data_dir, made definite in __post_init__)."""
        assert self.data_dir is not None
        return self.data_dir

    @classmethod
    def from_env(cls, **overrides: object) -> Config:
        """Build a Config from the config file and SEARCHAPP_* variables, then apply overrides.

        Overrides that are None are ignored (a flag that was not given).
        """
        values = read_config_file(config_file_path(os.environ))
        values.update(read_environment(os.environ))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def config_file_path(env: Mapping[str, str]) -> Path | None:
    """The config file to read: $SEARCHAPP_CONFIG, else ./searchapp.toml if it exists."""
    if env.get(CONFIG_ENV):
        path = Path(env[CONFIG_ENV])
        if not path.is_file():
            raise BadConfig(f"找不到配置文件 {path}", hint=f"请检查环境变量 {CONFIG_ENV}")
        return path
    local = Path(CONFIG_FILE)
    return local if local.is_file() else None


def read_config_file(path: Path | None) -> dict[str, Any]:
    """Config fields from a TOML file; relative paths are taken from the file's folder."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise BadConfig(f"无法读取配置文件 {path}：{exc}") from exc
    types = {f.name: f.type for f in fields(Config)}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in types:
            raise BadConfig(
                f"配置文件 {path} 中有未知的设置 “{key}”", hint="可用的设置：" + "、".join(types)
            )
        if key in PATH_FIELDS:
            if not isinstance(value, str) or not value:
                raise BadConfig(f"配置文件 {path} 中 {key} 应是一个路径（字符串）")
            values[key] = path.absolute().parent / Path(value).expanduser()
        elif key in TEXT_FIELDS:
            if not isinstance(value, str):
                raise BadConfig(f"配置文件 {path} 中 {key} 应是文字（字符串）")
            values[key] = value
        elif key in FLAG_FIELDS:
            values[key] = check_flag(value, f"配置文件 {path} 中的 {key}")
        else:
            values[key] = check_count(value, f"配置文件 {path} 中的 {key}")
    return values


def read_environment(env: Mapping[str, str]) -> dict[str, Any]:
    """Config fields from SEARCHAPP_* variables; relative paths are from the working folder."""
    values: dict[str, Any] = {}
    for name, key in ENV_FIELDS.items():
        if name not in env:
            continue
        if key in PATH_FIELDS:
            values[key] = Path(env[name]).expanduser()
        elif key in TEXT_FIELDS:
            values[key] = env[name]
        elif key in FLAG_FIELDS:
            values[key] = check_flag(env[name], f"环境变量 {name}")
        else:
            values[key] = check_count(env[name], f"环境变量 {name}")
    return values


def check_count(value: object, where: str) -> int:
    """A positive whole number, from TOML or from the text of a variable."""
    number = value
    if isinstance(value, str) and value.strip().isdigit():
        number = int(value)
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise BadConfig(f"{where} 应是正整数，而不是 “{value}”")
    return number


def check_flag(value: object, where: str) -> bool:
    """A yes/no setting: a TOML boolean, or 1/0, true/false, yes/no as text."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in FLAG_WORDS:
        return FLAG_WORDS[value.strip().lower()]
    raise BadConfig(f"{where} 应是 yes 或 no，而不是 “{value}”")
