"""The command line: index report, search output and the --json contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from searchapp.cli import main
from searchapp.config import Config
from searchapp.errors import IndexIncompatible


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    commands = [([name], command) for name, command in main.commands.items()]
    for names, command in commands:
        result = runner.invoke(main, [*names, "--help"])
        assert result.exit_code == 0, names
        assert command.help and "Example:" in command.help, names
        for sub, subcommand in getattr(command, "commands", {}).items():
            commands.append(([*names, sub], subcommand))


def test_index_reports_files(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("某镇2023年政府工作报告\n各位代表：\n推进三清两建。\n", "utf-8")
    (corpus / "empty.txt").write_text("", "utf-8")
    (corpus / "picture.gif").write_bytes(b"\x89PNG")
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1  # empty.txt could not be read
    assert "files indexed: 1" in result.output
    assert "empty.txt: empty" in result.output and "picture.gif: unsupported" in result.output
    result = CliRunner().invoke(main, [*args, "--json"])
    data = json.loads(result.output)
    assert data["mode"] == "unchanged" and data["documents"] == 1 and data["failed"] == 1


def test_search_json_contract(seed_config: Config):
    args = ["search", "三清两建", "--json", "--all", "--index", str(seed_config.index_dir)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["query"] == "三清两建" and data["mode"] == "keyword"
    assert data["total"] == len(data["hits"]) == 5
    assert data["facets"]["town"] == {"潭头镇": 5}
    for hit in data["hits"]:
        assert "<mark>三清两建</mark>" in hit["snippet"]
        assert "三清两建" in hit["text"]
        assert hit["url"] == f"/doc/{hit['doc_id']}#{hit['para_id']}"


def test_search_by_town_for_people(seed_config: Config):
    args = [
        "search",
        "乡村振兴",
        "--by-town",
        "--limit",
        "20",
        "--index",
        str(seed_config.index_dir),
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0
    assert "【乡村振兴】" in result.output and "== 潭头镇" in result.output


def test_search_without_index_says_what_to_do(tmp_path: Path):
    result = CliRunner().invoke(main, ["search", "x", "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "searchapp index" in result.output


def test_serve_rebuilds_an_index_this_version_cannot_read(tmp_path: Path):
    from searchapp.cli import ensure_index
    from searchapp.embedded.indexer import META_NAME, build_index, current_generation, open_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("某镇2023年政府工作报告\n各位代表：\n推进三清两建。\n", "utf-8")
    config = Config(corpus_dir=corpus, index_dir=tmp_path / "index", index_procs=1)
    ensure_index(config)  # none yet: built
    meta_path = current_generation(config.index_dir) / META_NAME  # type: ignore[operator]
    meta = json.loads(meta_path.read_text("utf-8"))
    meta["analysis_version"] = 0
    meta_path.write_text(json.dumps(meta), "utf-8")
    ensure_index(config)  # incompatible, built from this corpus: rebuilt
    open_index(config.index_dir)
    other = Config(corpus_dir=tmp_path, index_dir=config.index_dir, index_procs=1)
    build_index(corpus, config.index_dir)
    meta_path = current_generation(config.index_dir) / META_NAME  # type: ignore[operator]
    meta = json.loads(meta_path.read_text("utf-8")) | {"analysis_version": 0}
    meta_path.write_text(json.dumps(meta), "utf-8")
    with pytest.raises(IndexIncompatible, match="--rebuild"):  # another corpus: not replaced
        ensure_index(other)


def test_towns_json_best_defaults_to_twenty_towns(make_index):
    """`searchapp towns --json` as /api/towns: the best paragraph of 20 towns unless
    `--best all` (or N); a bad value is a usage error, not a traceback."""
    from test_web import twenty_five_towns

    index = ["--index", str(make_index(twenty_five_towns()).index_dir)]
    runner = CliRunner()

    def towns(*extra: str) -> list[dict]:
        result = runner.invoke(main, ["towns", "垃圾分类", "--json", *extra, *index])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["towns"]

    default, every = towns(), towns("--best", "all")
    assert sum(t["best"] is not None for t in default) == 20
    assert len(every) == 25 and all(t["best"] for t in every)
    assert [t["best"] is not None for t in towns("--best", "3")] == [True] * 3 + [False] * 22
    bad = runner.invoke(main, ["towns", "垃圾分类", "--json", "--best", "many", *index])
    assert bad.exit_code != 0 and "best" in bad.output and "Traceback" not in bad.output
