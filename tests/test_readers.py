"""Reading real-world files: encodings, .docx, .pdf, saved web pages and Markdown.

Every fixture is generated into tmp_path: binary test files are not committed.
"""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from searchapp.errors import UnreadableFile
from searchapp.readers import (
    SUPPORTED_SUFFIXES,
    Block,
    decode_text,
    is_supported,
    join_lines,
    read_source,
)

REPORT_LINES = [
    "青山镇2023年政府工作报告",
    "各位代表：",
    "一、主要工作成效",
    "全镇上下全面推进乡村振兴战略，农村人居环境整治取得明显成效。",
    "（一）基础设施建设",
    "完成村组道路硬化二十公里，新建文化广场五个。",
]
TRADITIONAL = "「鄉村振興戰略」全面推進，農村人居環境整治取得明顯成效，群眾獲得感持續增強。"


def texts(blocks: list[Block]) -> list[str]:
    """The non-empty texts of blocks."""
    return [b.text.strip() for b in blocks if b.text.strip()]


def headings(blocks: list[Block]) -> list[tuple[int, str]]:
    """(level, text) of the heading blocks."""
    return [(b.heading_level, b.text) for b in blocks if b.heading_level is not None]


def write(path: Path, data: bytes) -> Path:
    """Write bytes to a file and return its path."""
    path.write_bytes(data)
    return path


# --- plain text and encodings ----------------------------------------------------------------


@pytest.mark.parametrize("encoding", ["gb18030", "gbk", "gb2312"])
def test_gb_family_is_read_as_gb18030(tmp_path: Path, encoding: str) -> None:
    path = write(tmp_path / "report.txt", "\n".join(REPORT_LINES).encode(encoding))
    source = read_source(path)
    assert texts(source.blocks) == REPORT_LINES
    assert source.encoding == "gb18030"
    assert not source.structured
    assert source.warnings == []


def test_gb18030_four_byte_characters(tmp_path: Path) -> None:
    text = "䶮镇（GB18030 才有的字：𠀀）召开人民代表大会。"
    source = read_source(write(tmp_path / "a.txt", text.encode("gb18030")))
    assert texts(source.blocks) == [text]


def test_big5_traditional_text(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "tw.txt", TRADITIONAL.encode("big5")))
    assert texts(source.blocks) == [TRADITIONAL]
    assert source.encoding == "big5"


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("「鄉村振興戰略」", "big5"),
        ("鄉村振興戰略", "big5"),
        ("發展經濟", "big5"),
        ("乡村振兴战略", "gbk"),
        ("发展经济", "gbk"),
        ("盈余", "gbk"),
    ],
)
def test_short_samples_that_both_codecs_decode(text: str, encoding: str) -> None:
    data = text.encode(encoding)
    other = "gb18030" if encoding == "big5" else "big5"
    data.decode(other)  # the point of the test: both decode without error
    decoded, chosen, _ = decode_text(data, "sample")
    assert decoded == text
    assert chosen == ("big5" if encoding == "big5" else "gb18030")


def test_utf8_bom_and_crlf(tmp_path: Path) -> None:
    data = "\ufeff" + "\r\n".join(REPORT_LINES) + "\r\n"
    source = read_source(write(tmp_path / "bom.txt", data.encode("utf-8")))
    assert texts(source.blocks) == REPORT_LINES
    assert not source.blocks[0].text.startswith("\ufeff")
    assert source.encoding == "utf-8"


def test_cr_only_line_ends(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "mac.text", "\r".join(REPORT_LINES).encode("utf-8")))
    assert texts(source.blocks) == REPORT_LINES


@pytest.mark.parametrize("content", [b"", b"   \r\n\t\n", "　\n　".encode()])
def test_empty_files(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(UnreadableFile) as info:
        read_source(write(tmp_path / "empty.txt", content))
    assert info.value.reason == "empty"


def test_random_bytes_are_not_text(tmp_path: Path) -> None:
    data = random.Random(5).randbytes(4000)
    with pytest.raises(UnreadableFile) as info:
        read_source(write(tmp_path / "noise.txt", data))
    assert info.value.reason in {"binary", "undecodable"}


def test_random_bytes_without_nul_are_undecodable(tmp_path: Path) -> None:
    data = bytes(b or 1 for b in random.Random(7).randbytes(4000))
    with pytest.raises(UnreadableFile) as info:
        read_source(write(tmp_path / "noise.txt", data))
    assert info.value.reason == "undecodable"
    assert "noise.txt" in info.value.message


def test_half_utf8_then_garbage_is_undecodable(tmp_path: Path) -> None:
    good = ("\n".join(REPORT_LINES) * 5).encode("utf-8")
    garbage = bytes(b | 0x80 for b in random.Random(3).randbytes(len(good)))
    with pytest.raises(UnreadableFile) as info:
        read_source(write(tmp_path / "half.txt", good + garbage))
    assert info.value.reason == "undecodable"
    assert info.value.hint


def test_tiny_loss_is_replaced_with_a_warning(tmp_path: Path) -> None:
    good = "\n".join(REPORT_LINES * 100).encode("utf-8")
    data = good[:3000] + b"\xff" + good[3000:]  # one stray byte in ~3,500 characters
    source = read_source(write(tmp_path / "stray.txt", data))
    assert source.encoding == "utf-8"
    assert len(source.warnings) == 1
    assert "1 个字符无法解码" in source.warnings[0]
    assert sum(b.text.count("\ufffd") for b in source.blocks) == 1


def test_utf16_with_bom(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "u16.txt", "\n".join(REPORT_LINES).encode("utf-16")))
    assert texts(source.blocks) == REPORT_LINES


def test_join_lines_spaces_only_between_latin_words() -> None:
    assert join_lines(["全面推进乡村", "振兴战略"]) == "全面推进乡村振兴战略"
    assert join_lines(["rural", "revitalisation"]) == "rural revitalisation"
    assert join_lines(["GDP", "增长6%"]) == "GDP增长6%"


def test_unsupported_suffix(tmp_path: Path) -> None:
    path = write(tmp_path / "sheet.xlsx", b"PK\x03\x04")
    assert not is_supported(path)
    with pytest.raises(UnreadableFile) as info:
        read_source(path)
    assert info.value.reason == "unsupported"


def test_supported_suffixes() -> None:
    for suffix in (".txt", ".text", ".md", ".html", ".htm", ".docx", ".pdf"):
        assert suffix in SUPPORTED_SUFFIXES
        assert is_supported(Path(f"x{suffix.upper()}"))
    assert not is_supported(Path("x.doc"))


# --- Markdown --------------------------------------------------------------------------------

MARKDOWN = """\
# 青山镇2023年工作总结

各位代表：

## 一、主要工作成效

全镇上下**全面推进**乡村振兴战略，
农村人居环境整治取得明显成效。

- 新建高标准农田三千亩
- 培育[家庭农场](https://example.org)十二家

### （一）基础设施建设

| 项目 | 数量 |
| --- | --- |
| 道路硬化 | 二十公里 |
"""


def test_markdown_headings_paragraphs_and_lists(tmp_path: Path) -> None:
    path = tmp_path / "summary.md"
    path.write_text(MARKDOWN, encoding="utf-8")
    source = read_source(path)
    assert source.structured
    assert source.title_hint == "青山镇2023年工作总结"
    assert headings(source.blocks) == [
        (1, "青山镇2023年工作总结"),
        (2, "一、主要工作成效"),
        (3, "（一）基础设施建设"),
    ]
    body = texts(source.blocks)
    assert "全镇上下全面推进乡村振兴战略，农村人居环境整治取得明显成效。" in body
    assert "新建高标准农田三千亩" in body
    assert "培育家庭农场十二家" in body
    assert "道路硬化 | 二十公里" in body


def test_txt_is_not_markdown(tmp_path: Path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text("# 不是标题\n- 不是列表", encoding="utf-8")
    source = read_source(path)
    assert texts(source.blocks) == ["# 不是标题", "- 不是列表"]
    assert not source.structured


# --- .docx -----------------------------------------------------------------------------------


def make_docx(path: Path) -> Path:
    """A report with a title, headings in English and Chinese style names, and a table."""
    import docx

    document = docx.Document()
    document.core_properties.title = "青山镇2023年政府工作报告"
    document.add_heading("青山镇2023年政府工作报告", level=0)
    document.add_paragraph("各位代表：")
    document.add_heading("一、主要工作成效", level=1)
    document.add_paragraph("全镇上下全面推进乡村振兴战略，农村人居环境整治取得明显成效。")
    document.add_heading("（一）基础设施建设", level=2)
    document.add_paragraph("完成村组道路硬化二十公里，新建文化广场五个。")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["指标", "2022年", "2023年"], ["道路硬化", "12公里", "20公里"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    merged = table.cell(2, 0).merge(table.cell(2, 2))
    merged.text = "数据来源：镇统计站"
    chinese = document.styles.add_style("标题 3", docx.enum.style.WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("1.道路", style=chinese)
    document.add_paragraph("二、下一步工作打算").style = document.styles["Heading 1"]
    document.add_paragraph("巩固拓展脱贫攻坚成果。")
    document.save(str(path))
    return path


def test_docx_headings_table_and_title(tmp_path: Path) -> None:
    source = read_source(make_docx(tmp_path / "report.docx"))
    assert source.structured
    assert source.title_hint == "青山镇2023年政府工作报告"
    assert headings(source.blocks) == [
        (1, "一、主要工作成效"),
        (2, "（一）基础设施建设"),
        (3, "1.道路"),
        (1, "二、下一步工作打算"),
    ]
    body = texts(source.blocks)
    assert body[:2] == ["青山镇2023年政府工作报告", "各位代表："]
    assert "指标 | 2022年 | 2023年" in body
    assert "道路硬化 | 12公里 | 20公里" in body
    assert "数据来源：镇统计站" in body  # a merged row counts once
    assert body.index("完成村组道路硬化二十公里，新建文化广场五个。") < body.index(
        "指标 | 2022年 | 2023年"
    )


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_docx_is_corrupt(tmp_path: Path, keep: float) -> None:
    data = make_docx(tmp_path / "whole.docx").read_bytes()
    path = write(tmp_path / "cut.docx", data[: int(len(data) * keep)])
    with pytest.raises(UnreadableFile) as info:
        read_source(path)
    assert info.value.reason == "corrupt"
    assert "cut.docx" in info.value.message


def test_docx_missing_its_document_part_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "hollow.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    with pytest.raises(UnreadableFile) as info:
        read_source(path)
    assert info.value.reason == "corrupt"


def test_old_doc_named_docx(tmp_path: Path) -> None:
    path = write(tmp_path / "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))
    with pytest.raises(UnreadableFile) as info:
        read_source(path)
    assert info.value.reason == "unsupported"


# --- .pdf ------------------------------------------------------------------------------------

PDF_PARAGRAPHS = [
    "一、主要工作成效",
    "2023年，全镇上下坚持以习近平新时代中国特色社会主义思想为指导，全面推进乡村振兴战略，"
    "农村人居环境整治取得明显成效，村集体经济收入稳步增长，群众的获得感幸福感安全感持续增强。",
    "我们坚持产业兴旺这一重点，新建高标准农田三千亩，培育家庭农场十二家，发展特色茶叶种植基地两处，"
    "带动农户增收致富，全年农村居民人均可支配收入增长百分之八点五。",
    "二、下一步工作打算",
    "2024年，我们将继续巩固拓展脱贫攻坚成果，推动乡村产业、人才、文化、生态、组织全面振兴，"
    "加快补齐基础设施短板，完善农村公共服务体系，为建设美丽青山而努力奋斗。",
]


def make_pdf(path: Path, paragraphs: list[str], lines_per_page: int = 7) -> Path:
    """A report drawn line by line: wrapped, indented, with a running header and page numbers.

    The lines flow on to the next page, so sentences are carried over page breaks.
    """
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    width, height = A4
    size, per_line, left = 12, 30, 72
    lines = []  # (indented, text)
    for paragraph in paragraphs:
        text = "　　" + paragraph  # two full-width spaces: the usual first-line indent
        for start in range(0, len(text), per_line):
            lines.append((start == 0, text[start : start + per_line].lstrip("　")))
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle("青山镇2023年政府工作报告")
    for number, first in enumerate(range(0, len(lines), lines_per_page), start=1):
        pdf.setFont("STSong-Light", 9)
        pdf.drawCentredString(width / 2, height - 40, "青山镇人民政府文件")
        pdf.drawCentredString(width / 2, 30, f"- {number} -")
        pdf.setFont("STSong-Light", size)
        y = height - 90
        for indented, text in lines[first : first + lines_per_page]:
            pdf.drawString(left + (size * 2 if indented else 0), y, text)
            y -= size * 1.6
        pdf.showPage()
    pdf.save()
    return path


def test_pdf_paragraphs_without_headers_and_page_numbers(tmp_path: Path) -> None:
    source = read_source(make_pdf(tmp_path / "report.pdf", PDF_PARAGRAPHS))
    assert not source.structured
    assert texts(source.blocks) == PDF_PARAGRAPHS
    assert source.title_hint == "青山镇2023年政府工作报告"


def test_pdf_sentence_carried_over_a_page_break(tmp_path: Path) -> None:
    source = read_source(make_pdf(tmp_path / "carry.pdf", PDF_PARAGRAPHS * 2, lines_per_page=5))
    body = texts(source.blocks)
    assert body == PDF_PARAGRAPHS * 2
    assert not any("青山镇人民政府文件" in text for text in body)


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "scan.pdf"
    pdf = canvas.Canvas(str(path))
    pdf.rect(72, 72, 300, 500, fill=1)
    pdf.showPage()
    pdf.save()
    with pytest.raises(UnreadableFile) as info:
        read_source(path)
    assert info.value.reason == "no-text"
    assert "scanned" in info.value.message
    assert "OCR" in str(info.value)


@pytest.mark.parametrize("content", [b"%PDF-1.4\n%garbage", b"not a pdf at all", b"%PDF-1.7\n"])
def test_corrupt_pdf(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(UnreadableFile) as info:
        read_source(write(tmp_path / "bad.pdf", content))
    assert info.value.reason in {"corrupt", "no-text"}


def test_truncated_pdf_is_corrupt_or_partial(tmp_path: Path) -> None:
    data = make_pdf(tmp_path / "whole.pdf", PDF_PARAGRAPHS).read_bytes()
    path = write(tmp_path / "cut.pdf", data[: len(data) // 3])
    try:
        source = read_source(path)
    except UnreadableFile as exc:
        assert exc.reason in {"corrupt", "no-text"}
    else:
        assert texts(source.blocks)


# --- .html -----------------------------------------------------------------------------------

ARTICLE = [
    "各位代表：",
    "2023年，全镇上下坚持以习近平新时代中国特色社会主义思想为指导，全面推进乡村振兴战略，农村人居环境整治取得明显成效。",
    "我们坚持产业兴旺这一重点，新建高标准农田三千亩，培育家庭农场十二家，发展特色茶叶种植基地两处。",
    "完成村组道路硬化二十公里，新建文化广场五个，实现自来水入户全覆盖，群众的获得感持续增强。",
    "2024年，我们将继续巩固拓展脱贫攻坚成果，推动乡村全面振兴，为建设美丽青山而努力奋斗。",
]
PAGE = f"""<!DOCTYPE html>
<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">
<title>关于2023年乡村振兴工作情况的报告_政务公开_青山镇人民政府</title>
<script>var _hmt = _hmt || []; document.write("统计代码");</script>
<style>.nav {{ color: red }}</style></head>
<body>
<div class="header"><div class="logo">青山镇人民政府</div>
<ul class="nav"><li><a href="/">首页</a></li><li><a href="/jggk">机构概况</a></li>
<li><a href="/zwgk">政务公开</a></li><li><a href="/hdjl">互动交流</a></li></ul></div>
<div class="location">当前位置：<a href="/">首页</a> &gt; <a href="/zwgk">政务公开</a> &gt; 工作报告</div>
<div class="main"><div class="article">
<h1>关于2023年乡村振兴工作情况的报告</h1>
<div class="info">发布时间：2024-01-15 来源：青山镇党政办 浏览次数：123</div>
<div class="content">
<p>{ARTICLE[0]}</p>
<h2>一、主要工作成效</h2>
<p>　　{ARTICLE[1]}</p>
<p>　　{ARTICLE[2]}</p>
<h3>（一）基础设施建设</h3>
<p>　　{ARTICLE[3]}</p>
<h2>二、下一步工作打算</h2>
<p>　　{ARTICLE[4]}</p>
</div></div>
<div class="share">分享到：微信 微博</div></div>
<div class="footer"><p>版权所有：青山镇人民政府 | <a href="/lxwm">联系我们</a> | 网站地图</p>
<p>ICP备案号：豫ICP备12345678号</p></div>
<script>console.log("页脚脚本");</script>
</body></html>
"""
SITE_WORDS = ("首页", "机构概况", "当前位置", "版权所有", "ICP", "联系我们", "统计代码", "页脚脚本")


def test_html_article_from_a_gbk_page(tmp_path: Path) -> None:
    source = read_source(write(tmp_path / "page.html", PAGE.encode("gbk")))
    assert source.structured
    assert source.encoding == "gb18030"
    assert source.title_hint == "关于2023年乡村振兴工作情况的报告"
    body = texts(source.blocks)
    assert [t for t in body if t in ARTICLE] == ARTICLE
    assert headings(source.blocks) == [
        (2, "一、主要工作成效"),
        (3, "（一）基础设施建设"),
        (2, "二、下一步工作打算"),
    ]
    assert not [t for t in body if any(word in t for word in SITE_WORDS)]


def test_html_title_from_title_tag_without_h1(tmp_path: Path) -> None:
    page = PAGE.replace("<h1>关于2023年乡村振兴工作情况的报告</h1>", "")
    source = read_source(write(tmp_path / "page.htm", page.encode("utf-8")))
    assert source.title_hint == "关于2023年乡村振兴工作情况的报告"


def test_html_with_a_wrong_charset_declaration(tmp_path: Path) -> None:
    page = PAGE.replace("charset=gb2312", "charset=utf-8")
    source = read_source(write(tmp_path / "page.html", page.encode("gb18030")))
    assert source.encoding == "gb18030"
    assert ARTICLE[1] in texts(source.blocks)


def test_html_without_an_article_keeps_its_text(tmp_path: Path) -> None:
    page = "<html><body><div>青山镇召开人民代表大会</div></body></html>"
    source = read_source(write(tmp_path / "tiny.html", page.encode("utf-8")))
    assert "青山镇召开人民代表大会" in texts(source.blocks)


def test_html_with_only_markup_is_empty(tmp_path: Path) -> None:
    page = "<html><head><script>var a = 1;</script></head><body></body></html>"
    with pytest.raises(UnreadableFile) as info:
        read_source(write(tmp_path / "blank.html", page.encode("utf-8")))
    assert info.value.reason == "empty"


# --- hostile files ---------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".docx", ".pdf", ".html", ".md", ".txt"])
def test_damaged_files_never_crash(tmp_path: Path, suffix: str) -> None:
    """Flipped bytes give text or UnreadableFile, never a library's own exception."""
    good = tmp_path / f"good{suffix}"
    if suffix == ".docx":
        make_docx(good)
    elif suffix == ".pdf":
        make_pdf(good, PDF_PARAGRAPHS)
    else:
        good.write_bytes((PAGE if suffix == ".html" else MARKDOWN).encode("gbk"))
    data = good.read_bytes()
    original = set(texts(read_source(good).blocks))
    rng = random.Random(suffix)
    outcomes = []
    for attempt in range(8):
        damaged = bytearray(data)
        for _ in range(1 + attempt * 4):
            at = rng.randrange(len(damaged))
            damaged[at] = (damaged[at] + rng.randrange(1, 256)) % 256  # always another byte
        path = write(tmp_path / f"bad{attempt}{suffix}", bytes(damaged))
        try:
            source = read_source(path)
        except UnreadableFile as exc:
            assert path.name in exc.message
            outcomes.append(exc.reason)
        else:  # read despite the damage: text, most of it the original's
            assert all(isinstance(b.text, str) for b in source.blocks)
            assert original & set(texts(source.blocks))
            outcomes.append("read")
    allowed = {"read", "corrupt", "no-text", "empty", "undecodable", "binary"}
    assert len(outcomes) == 8 and set(outcomes) <= allowed, outcomes


# --- end to end ------------------------------------------------------------------------------


def test_indexer_reads_every_format(tmp_path: Path) -> None:
    from searchapp.embedded.indexer import build_index
    from searchapp.engine import open_engine
    from searchapp.results import SearchRequest
    from searchapp.search import run_search

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus / "gb.txt", "\n".join(REPORT_LINES).encode("gb18030"))
    write(corpus / "tw.txt", TRADITIONAL.encode("big5"))
    make_docx(corpus / "report.docx")
    make_pdf(corpus / "report.pdf", PDF_PARAGRAPHS)
    write(corpus / "page.html", PAGE.encode("gbk"))
    (corpus / "summary.md").write_text(MARKDOWN, encoding="utf-8")
    write(corpus / "empty.txt", b"")
    write(corpus / "noise.txt", bytes(b or 1 for b in random.Random(7).randbytes(4000)))
    write(corpus / "cut.docx", (corpus / "report.docx").read_bytes()[:2000])
    write(corpus / "sheet.xlsx", b"PK")

    report = build_index(corpus, tmp_path / "index")
    status = {f.path: (f.status, f.reason) for f in report.files}
    assert status == {
        "gb.txt": ("indexed", ""),
        "tw.txt": ("indexed", ""),
        "report.docx": ("indexed", ""),
        "report.pdf": ("indexed", ""),
        "page.html": ("indexed", ""),
        "summary.md": ("indexed", ""),
        "empty.txt": ("skipped", "empty"),
        "noise.txt": ("skipped", "undecodable"),
        "cut.docx": ("skipped", "corrupt"),
        "sheet.xlsx": ("skipped", "unsupported"),
    }

    engine = open_engine(tmp_path / "index")
    try:

        def total(phrase: str) -> int:
            return run_search(engine, SearchRequest(q=phrase, mode="phrase", all=True)).total

        assert total("村集体经济收入稳步增长") == 1  # the PDF, its line wraps joined
        assert total("培育家庭农场十二家") == 3  # PDF, web page, Markdown
        assert total("数据来源：镇统计站") == 1  # the .docx table
        assert total("群眾獲得感持續增強") == 1  # Big5
        assert total("完成村组道路硬化二十公里") == 3  # GB18030 text, .docx, web page
        assert total("版权所有") == 0
        assert total("青山镇人民政府文件") == 0
    finally:
        engine.close()
