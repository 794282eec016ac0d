"""No report is ever lost: hostile file shapes, long paragraphs, real reports from outside.

A file that holds text always gives paragraphs, none longer than MAX_PARAGRAPH, and
nothing but white space and the site's own header/footer lines is dropped.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st

from searchapp import documents
from searchapp.documents import (
    MAX_PARAGRAPH,
    MIN_PIECE,
    SENTENCE_CUT,
    Document,
    FileReport,
    load_file,
    split_long_paragraph,
)
from searchapp.readers import split_lines

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
REALWORLD = PROJECT_ROOT.parent / "shared" / "realworld"

SENTENCES = (
    "全镇上下坚持以习近平新时代中国特色社会主义思想为指导，全面推进乡村振兴战略。",
    "深化商事制度改革，新增注册市场主体一千二百户，企业开办时间压缩至一个工作日。",
    "畅通信访举报渠道，办结群众举报事项三百一十件，办结率百分之百。",
    "推进政务文档电子化，建成档案数字化平台，实现文档网上查阅和下载。",
    "新建高标准农田三千亩，培育家庭农场十二家，发展特色茶叶种植基地两处；",
    "完成村组道路硬化二十公里，新建文化广场五个，实现自来水入户全覆盖！",
    "群众说：“路修好了，日子更有奔头了。”",
    "我们要问：发展为了谁？发展依靠谁？",
)


def report_text(chars: int, *, lead: str = "") -> str:
    """A report body of at least `chars` characters, every sentence numbered, no line breaks."""
    parts = [lead]
    n = 0
    while sum(map(len, parts)) < chars:
        n += 1
        parts.append(f"第{n}项，{SENTENCES[n % len(SENTENCES)]}")
    return "".join(parts)


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


def load(path: Path) -> tuple[FileReport, list[Document]]:
    return load_file(path, path.parent, {})


def paragraph_texts(docs: list[Document]) -> list[str]:
    return [p.text for d in docs for p in d.paragraphs]


def assert_kept_whole(report: FileReport, docs: list[Document], text: str) -> list[str]:
    """The file is indexed, no paragraph is too long and no character is lost."""
    assert report.status == "indexed", (report.reason, report.message)
    texts = paragraph_texts(docs)
    assert report.paragraphs == len(texts) >= 1
    assert max(map(len, texts)) <= MAX_PARAGRAPH
    assert compact("".join(texts)) == compact(text)
    return texts


def write_docx(path: Path, paragraphs: list[str], *, breaks: bool = False) -> Path:
    """A .docx of the given paragraphs; with breaks, one paragraph with line breaks between."""
    import docx

    document = docx.Document()
    if breaks:
        paragraph = document.add_paragraph()
        for n, text in enumerate(paragraphs):
            run = paragraph.add_run(text)
            if n + 1 < len(paragraphs):
                run.add_break()
    else:
        for text in paragraphs:
            document.add_paragraph(text)
    document.save(str(path))
    return path


# --- one line ---------------------------------------------------------------------------------


def test_report_saved_as_one_line_is_split_at_sentence_ends(tmp_path: Path) -> None:
    text = report_text(
        15_000, lead="某镇2024年政府工作报告各位代表：现在，我代表镇人民政府向大会报告工作。"
    )
    path = tmp_path / "one-line.txt"
    path.write_text(text, encoding="utf-8")
    texts = assert_kept_whole(*load(path), text)
    assert len(texts) >= 15_000 // MAX_PARAGRAPH
    for piece in texts[:-1]:
        assert SENTENCE_CUT.search(piece[-3:]), piece[-20:]  # cut after a sentence end
        assert MIN_PIECE <= len(piece) <= 600  # near the target, not at the hard limit
    assert any("注册" in t for t in texts) and any("举报" in t for t in texts)


def test_docx_whose_text_is_one_paragraph(tmp_path: Path) -> None:
    text = report_text(15_000)
    texts = assert_kept_whole(*load(write_docx(tmp_path / "one.docx", [text])), text)
    assert len(texts) >= 15


def test_docx_with_line_breaks_inside_one_paragraph(tmp_path: Path) -> None:
    lines = ["一、工作回顾", SENTENCES[1], SENTENCES[2], "二、工作安排", SENTENCES[3]]
    path = write_docx(tmp_path / "soft.docx", lines, breaks=True)
    texts = assert_kept_whole(*load(path), "".join(lines))
    assert texts == lines  # each soft break parts the paragraph


def test_gbk_file_of_one_line(tmp_path: Path) -> None:
    text = report_text(9_000)
    path = tmp_path / "gbk.txt"
    path.write_bytes(text.encode("gbk"))
    assert_kept_whole(*load(path), text)


def test_one_line_between_a_sites_header_and_footer(tmp_path: Path) -> None:
    text = report_text(5_000)
    header = ["下载本文档 VIP会员专享", "回到顶部"]
    footer = ["本站文档均由用户上传，付费下载后仅供参考", "联系客服"]
    path = tmp_path / "scraped.txt"
    path.write_text("\n".join([*header, text, *footer]), encoding="utf-8")
    assert_kept_whole(*load(path), text)


def test_report_lines_with_site_words_at_the_edges_are_kept(tmp_path: Path) -> None:
    lines = [
        "关于规范文档下载和注册登录管理的通知",  # site words, short, first line: still the title
        SENTENCES[0],
        "加强版权保护，严厉打击侵权盗版，畅通举报渠道。",  # site words, short, last line
    ]
    path = tmp_path / "edges.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert assert_kept_whole(*load(path), "".join(lines)) == lines


def test_a_file_of_site_lines_only_is_kept_rather_than_lost(tmp_path: Path) -> None:
    lines = ["VIP会员专享", "联系客服", "回到顶部"]
    path = tmp_path / "chrome.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    assert_kept_whole(*load(path), "".join(lines))


# --- no punctuation, odd separators, many short lines --------------------------------------------


def test_no_punctuation_at_all(tmp_path: Path) -> None:
    text = compact(re.sub(r"[^\u4e00-\u9fff]", "", report_text(4_000)))
    path = tmp_path / "bare.txt"
    path.write_text(text, encoding="utf-8")
    texts = assert_kept_whole(*load(path), text)
    assert len(texts) == -(-len(text) // MAX_PARAGRAPH)  # cut at the hard limit, as few as can be


def test_only_full_width_spaces_between_paragraphs(tmp_path: Path) -> None:
    runs = [re.sub(r"[^\u4e00-\u9fff]", "", s) * 3 for s in SENTENCES] * 4
    text = "\u3000\u3000" + "\u3000\u3000".join(runs)
    path = tmp_path / "spaces.txt"
    path.write_text(text, encoding="utf-8")
    texts = assert_kept_whole(*load(path), text)
    assert all(t in runs or "\u3000" in t for t in texts)
    assert all(not t.startswith("\u3000") and not t.endswith("\u3000") for t in texts)


def test_mixed_line_ends(tmp_path: Path) -> None:
    lines = [report_text(300 + 40 * n)[: 300 + 40 * n] for n in range(6)]
    data = lines[0] + "\r\n" + lines[1] + "\r" + lines[2] + "\n" + lines[3] + "\r\n\r\n"
    data += lines[4] + "\n\r" + lines[5]
    path = tmp_path / "mixed.txt"
    path.write_bytes(data.encode("utf-8"))
    assert assert_kept_whole(*load(path), "".join(lines)) == lines


def test_a_heading_per_line(tmp_path: Path) -> None:
    lines = [f"第{n}部分发展产业" if n % 2 else f"加快推进第{n}项重点工作" for n in range(1, 201)]
    path = tmp_path / "headings.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    texts = assert_kept_whole(*load(path), "".join(lines))
    assert max(map(len, texts)) <= documents.WRAPPED_HEADING_MAX  # not joined into one heading


def test_paragraph_ids_of_split_pieces_are_stable(tmp_path: Path) -> None:
    text = report_text(6_000)
    path = tmp_path / "r.txt"
    path.write_text(text, encoding="utf-8")
    first = [p.para_id for d in load(path)[1] for p in d.paragraphs]
    path.write_text("新增的开头一段。\n" + text, encoding="utf-8")
    second = [p.para_id for d in load(path)[1] for p in d.paragraphs]
    assert first == second[1:]


# --- splitting, as a function ---------------------------------------------------------------------


def test_split_keeps_closing_quotes_with_their_sentence() -> None:
    pieces = split_long_paragraph("他说：“路修好了！”大家都笑了" * 150)
    assert len(pieces) > 2
    assert all(p.endswith("！”") for p in pieces[:-1])


def test_split_falls_back_to_commas() -> None:
    pieces = split_long_paragraph("推进乡村振兴，" * 400)
    assert all(p.endswith("，") and len(p) <= 500 for p in pieces)


def test_paragraph_of_at_most_the_limit_stays_whole() -> None:
    text = report_text(MAX_PARAGRAPH)[:MAX_PARAGRAPH]
    assert split_long_paragraph(text) == [text]
    assert len(split_long_paragraph(text + "甲")) > 1


# --- our own errors are not the user's ------------------------------------------------------------


def test_a_bug_in_parsing_propagates(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[Document]:
        raise ZeroDivisionError("a bug in searchapp")

    monkeypatch.setattr(documents, "parse_source", broken)
    path = tmp_path / "ok.txt"
    path.write_text(report_text(400), encoding="utf-8")
    with pytest.raises(ZeroDivisionError):
        load(path)


def test_a_library_failure_is_still_a_corrupt_file(tmp_path: Path) -> None:
    data = write_docx(tmp_path / "whole.docx", [report_text(2_000)]).read_bytes()
    path = tmp_path / "cut.docx"
    path.write_bytes(data[: len(data) // 2])
    report, docs = load(path)
    assert (report.status, report.reason, docs) == ("skipped", "corrupt", [])


def test_a_file_that_cannot_be_opened_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def denied(path: Path, ocr: object = None) -> object:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(documents, "read_source", denied)
    path = tmp_path / "locked.txt"
    path.write_text(report_text(400), encoding="utf-8")
    report, docs = load(path)
    assert (report.status, report.reason, docs) == ("skipped", "unreadable", [])
    assert "Permission denied" in report.message


def test_a_bad_sidecar_year_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("某镇2023年工作总结\n" + report_text(400), encoding="utf-8")
    report, docs = load_file(path, tmp_path, {"r.txt": {"year": "二〇二三"}})
    assert report.status == "indexed" and docs[0].year == 2023


# --- real reports from outside ----------------------------------------------------------------------


def test_real_gbk_reports_with_long_lines() -> None:
    folder = REALWORLD / "hailar"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not there (CI has shared/ beside the checkout)")
    files = sorted(folder.glob("*.txt"))
    assert len(files) >= 8
    for path in files:
        text = path.read_bytes().decode("gb18030")
        report, docs = load(path)
        assert_kept_whole(report, docs, text)
        (doc,) = docs
        first = next(line for line in split_lines(text) if line.strip())
        if compact(first) == "政府工作报告":  # spaced out: 政 府 工 作 报 告
            assert doc.title == "政府工作报告"
            assert doc.paragraphs[0].text.strip() == first.strip()
            assert not doc.paragraphs[0].is_heading


# --- property: whatever the shape, nothing is lost ------------------------------------------------

# Characters of report text: no 目录, 报告 or 各位代表 (a compilation's marks, whose title
# pages are dropped by design) and none of the site lines' own characters besides the
# words that reports use too (注册, 举报, 文档, 下载).
HAN = "乡村振兴推进产业发展建设农田道路水利生态环境治理民生就业教育医疗养老旅游经济增长收入提高完成实施项目资金企业服务群众安全基层组织工作年月日镇区县市一二三四五六七八九十"
WEAK_SITE_WORDS = ("注册", "举报", "文档", "下载")
PUNCTUATION = ("。", "！", "？", "；", "，", "、", "：", "“", "”", "（", "）")
SHAPES = {
    "one line": ("", " ", "\u3000\u3000", *PUNCTUATION),
    "no punctuation": ("", "\n", "\r\n", " "),
    "full-width spaces": ("\u3000", "\u3000\u3000", "\u3000\u3000\u3000\u3000"),
    "mixed line ends": ("\n", "\r\n", "\r", "\n\n", "。\n", "。\r", "；\r\n", "\u3000\u3000"),
    "heading per line": ("\n", "\r\n"),
}
SITE_HEADER = ("VIP会员专享", "回到顶部")
SITE_FOOTER = ("本站资料仅供参考，付费后可下载", "联系客服", "搜索资料 我的下载 会员中心")


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("shapes")


def make_source_text(chars: int) -> str:
    """A fixed pseudo-random run of HAN and weak site words that bodies are cut from."""
    rng = random.Random(11)
    words = [*HAN, *WEAK_SITE_WORDS]
    return "".join(rng.choice(words) for _ in range(chars))


SOURCE_TEXT = make_source_text(6000)


@st.composite
def shaped_reports(draw: st.DrawFn) -> tuple[str, str, str]:
    """(shape, body, file text): a body of > 300 Han characters, maybe inside site lines.

    The body is stretches of SOURCE_TEXT (1–200 characters; 1–12 for a heading per
    line) joined by the shape's separators, up to a drawn length of 301–5000 characters.
    """
    shape = draw(st.sampled_from(sorted(SHAPES)))
    longest = 12 if shape == "heading per line" else 200
    separators = SHAPES[shape] if shape == "heading per line" else ("", "", *SHAPES[shape])
    target = draw(st.integers(301, 5000))
    body = ""
    while len(re.findall(r"[\u4e00-\u9fff]", body)) <= 300 or len(body) < target:
        start = draw(st.integers(0, len(SOURCE_TEXT) - longest))
        body += SOURCE_TEXT[start : start + draw(st.integers(1, longest))]
        body += draw(st.sampled_from(separators))
    # a stretch cut to a bare site word on a line of its own at the edge (下载 out of
    # …查阅和下载。) is a page's button as far as anyone can tell: not a report's text
    assume(not any(documents.has_site_mark(line) for line in re.split(r"[\r\n]+", body)))
    header = draw(st.lists(st.sampled_from(SITE_HEADER), max_size=2))
    footer = draw(st.lists(st.sampled_from(SITE_FOOTER), max_size=3))
    text = "\n".join([*header, body, *footer])
    return shape, body, text


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shaped_reports(), st.sampled_from(["utf-8", "gbk"]))
def test_any_shape_gives_paragraphs_and_loses_nothing(
    workdir: Path, report: tuple[str, str, str], encoding: str
) -> None:
    shape, body, text = report
    note(f"shape: {shape}")
    path = workdir / f"report-{encoding}.txt"
    path.write_bytes(text.encode(encoding))
    loaded, docs = load(path)
    assert_kept_whole(loaded, docs, body)
    assert paragraph_texts(load(path)[1]) == paragraph_texts(docs)  # deterministic


def test_a_one_line_report_is_searchable_paragraph_by_paragraph(tmp_path: Path) -> None:
    from searchapp.embedded.indexer import build_index
    from searchapp.engine import open_engine
    from searchapp.results import SearchRequest
    from searchapp.search import run_search

    text = report_text(15_000, lead="某镇2024年政府工作报告各位代表：")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "one-line.txt").write_text(text, encoding="utf-8")
    write_docx(corpus / "one-line.docx", [text])
    report = build_index(corpus, tmp_path / "index")
    assert {(f.path, f.status) for f in report.files} == {
        ("one-line.txt", "indexed"),
        ("one-line.docx", "indexed"),
    }
    engine = open_engine(tmp_path / "index")
    try:
        page = run_search(engine, SearchRequest(q="第200项，", mode="phrase", all=True))
        assert page.total == 2  # one paragraph in each file, not the whole report
        assert all("第200项，" in hit.text and len(hit.text) <= 600 for hit in page.hits)
    finally:
        engine.close()
