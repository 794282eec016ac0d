"""The command line: index report, search output and the --json contract."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from searchapp.cli import main
from searchapp.config import Config


def test_every_command_has_help_with_an_example():
    runner = CliRunner()
    for name, command in main.commands.items():
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help and "Example:" in command.help, name


def test_index_reports_files(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("某镇2023年政府工作报告\n各位代表：\n推进三清两建。\n", "utf-8")
    (corpus / "empty.txt").write_text("", "utf-8")
    (corpus / "picture.png").write_bytes(b"\x89PNG")
    args = ["index", "--corpus", str(corpus), "--index", str(tmp_path / "index")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1  # empty.txt could not be read
    assert "files indexed: 1" in result.output
    assert "empty.txt: empty" in result.output and "picture.png: unsupported" in result.output
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
