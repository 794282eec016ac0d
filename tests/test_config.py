"""Where the configuration comes from: defaults, config file, environment, flags."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from searchapp.config import BadConfig, Config


@pytest.fixture(autouse=True)
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run each test in an empty working folder with no SEARCHAPP_* variable set."""
    for name in list(os.environ):
        if name.startswith("SEARCHAPP_"):
            monkeypatch.delenv(name)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_defaults_are_relative_to_the_working_folder(empty_folder: Path):
    config = Config.from_env()
    assert (config.corpus_dir, config.index_dir) == (Path("seeds"), Path("index"))
    assert config.index_dir.resolve() == empty_folder / "index"  # not the install folder
    assert config.user_dict is None
    assert (config.threads, config.backend) == (8, "embedded")


def test_config_file_in_the_working_folder(empty_folder: Path):
    (empty_folder / "searchapp.toml").write_text(
        'corpus_dir = "reports"\nindex_dir = "/srv/index"\nthreads = 16\npage_size = 20\n',
        encoding="utf-8",
    )
    config = Config.from_env()
    assert config.corpus_dir == empty_folder / "reports"
    assert config.index_dir == Path("/srv/index")
    assert (config.threads, config.page_size) == (16, 20)


def test_config_file_named_by_the_environment(
    tmp_path: Path, empty_folder: Path, monkeypatch: pytest.MonkeyPatch
):
    (empty_folder / "searchapp.toml").write_text("threads = 3\n", encoding="utf-8")
    elsewhere = tmp_path / "etc" / "search.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text('index_dir = "idx"\nuser_dict = "words.txt"\n', encoding="utf-8")
    monkeypatch.setenv("SEARCHAPP_CONFIG", str(elsewhere))
    config = Config.from_env()
    assert config.index_dir == tmp_path / "etc" / "idx"  # relative to the file's folder
    assert config.user_dict == tmp_path / "etc" / "words.txt"
    assert config.threads == 8  # the working folder's file is not read then


def test_environment_beats_the_file_and_flags_beat_both(
    empty_folder: Path, monkeypatch: pytest.MonkeyPatch
):
    (empty_folder / "searchapp.toml").write_text(
        'index_dir = "from-file"\ncorpus_dir = "from-file"\nthreads = 2\n', encoding="utf-8"
    )
    monkeypatch.setenv("SEARCHAPP_INDEX", "from-env")
    monkeypatch.setenv("SEARCHAPP_CORPUS", "from-env")
    monkeypatch.setenv("SEARCHAPP_THREADS", "4")
    monkeypatch.setenv("SEARCHAPP_INDEX_PROCS", "1")
    config = Config.from_env(corpus_dir=Path("from-flag"), index_dir=None, threads=None)
    assert config.corpus_dir == Path("from-flag")
    assert config.index_dir == Path("from-env")  # a flag that was not given (None) is no value
    assert (config.threads, config.index_procs) == (4, 1)


def test_backend_from_file_environment_and_flags(
    empty_folder: Path, monkeypatch: pytest.MonkeyPatch
):
    (empty_folder / "searchapp.toml").write_text(
        'backend = "solr"\nsolr_url = "http://127.0.0.1:1/solr"\n', encoding="utf-8"
    )
    config = Config.from_env()
    assert (config.backend, config.solr_url, config.solr_collection) == (
        "solr",
        "http://127.0.0.1:1/solr",
        "searchapp",
    )
    monkeypatch.setenv("SEARCHAPP_SOLR_COLLECTION", "reports")
    assert Config.from_env(backend="embedded").solr_collection == "reports"
    with pytest.raises(BadConfig, match="未知的后端"):
        Config.from_env(backend="elastic")
    monkeypatch.delenv("SEARCHAPP_SOLR_COLLECTION")
    (empty_folder / "searchapp.toml").write_text('backend = "solr"\n', encoding="utf-8")
    with pytest.raises(BadConfig, match="Solr 的地址"):
        Config.from_env()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 1\n", "未知的设置 “colour”"),
        ("threads = 0\n", "threads 应是正整数"),
        ('threads = "many"\n', "threads 应是正整数"),
        ("threads = true\n", "threads 应是正整数"),
        ("index_dir = 3\n", "index_dir 应是一个路径"),
        ("index_dir = \n", "无法读取配置文件"),
    ],
)
def test_a_bad_config_file_says_what_is_wrong(empty_folder: Path, text: str, message: str):
    (empty_folder / "searchapp.toml").write_text(text, encoding="utf-8")
    with pytest.raises(BadConfig, match=message) as info:
        Config.from_env()
    assert "searchapp.toml" in str(info.value)


def test_bad_environment_values_say_what_is_wrong(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SEARCHAPP_THREADS", "lots")
    with pytest.raises(BadConfig, match="SEARCHAPP_THREADS 应是正整数"):
        Config.from_env()
    monkeypatch.delenv("SEARCHAPP_THREADS")
    monkeypatch.setenv("SEARCHAPP_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(BadConfig, match="找不到配置文件"):
        Config.from_env()
