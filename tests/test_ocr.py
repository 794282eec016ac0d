"""Scanned reports: PDFs without a text layer and page images, read by Tesseract.

The pages are made here (tests/scans.py: grey, turned a little, speckled) and OCR'd
for real; the index is built once for the module. Recognition rates on the seeds are
measured by benchmarks/ocr.py, not asserted here.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scans import render_pages, save_pdf

from searchapp import ocr
from searchapp.config import Config
from searchapp.documents import FileReport
from searchapp.embedded import build_index, read_meta
from searchapp.embedded.indexer import current_generation
from searchapp.engine import Engine, open_engine
from searchapp.indexing import OCR_CACHE, IndexReport
from searchapp.ocr import Ocr, compact_ranges, is_noise, skew_angle, tsv_lines
from searchapp.readers import cjk_punctuation, join_lines, pdf_paragraphs, read_source
from searchapp.results import SearchRequest
from searchapp.search import run_search
from searchapp.web import create_app

if ocr.unavailable():  # CI must have it (make test installs it); a laptop may skip
    reason = f"OCR: {ocr.unavailable()} (make ocr installs it)"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

QINGSHAN = [
    "青山镇二〇二四年政府工作报告",
    "过去一年，全镇上下坚持以人民为中心的发展思想，扎实推进乡村振兴，全面完成了镇人代会确定的各项目标任务。",
    "我们深入开展三清两建行动，清理村庄垃圾一千二百吨，拆除危旧房屋八十六间，新建村级文化广场五个。",
    "人居环境持续改善。全镇建成农村公厕三十二座，生活污水治理覆盖率达到百分之八十五，群众满意度明显提升。",
    "今年我们将继续巩固拓展脱贫攻坚成果，发展壮大村级集体经济，让全镇人民过上更加美好的生活。",
]
BAISHUI = [
    "白水镇关于人居环境整治工作的报告",
    "今年以来，白水镇把垃圾分类作为民生实事来抓，在全镇十四个行政村推行垃圾分类和资源化利用。",
    "我们组织党员干部带头参与村庄清洁行动，累计发动群众八千余人次，清理沟渠河道四十五公里。",
]
MIXED_TEXT = "红岩镇2024年工作要点\n各村要抓好冬春农田水利建设，确保灌溉用水。\n"
MIXED_SCAN = ["红岩镇将新建高标准农田三千亩，完善田间道路和灌排设施，提高粮食综合生产能力。"]


def scanned_pdf(path: Path, paragraphs: list[str], seed: int = 1) -> Path:
    """An image-only PDF of the paragraphs, one or more pages."""
    return save_pdf(render_pages(paragraphs, seed=seed), path)


def scanned_png(path: Path, paragraphs: list[str], seed: int = 2) -> Path:
    (page,) = render_pages(paragraphs, angle=-1.2, seed=seed)
    page.image.save(path)
    return path


def mixed_pdf(path: Path) -> Path:
    """Page 1 with a text layer, page 2 a scanned image."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    pdf = canvas.Canvas(str(path), pagesize=(595, 842))
    pdf.setFont("STSong-Light", 12)
    for n, line in enumerate(MIXED_TEXT.splitlines()):
        pdf.drawString(72, 760 - n * 24, line)
    pdf.showPage()
    (page,) = render_pages(MIXED_SCAN, seed=3)
    pdf.drawImage(ImageReader(page.image), 0, 0, width=595, height=842)
    pdf.showPage()
    pdf.save()
    return path


def ocr_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True)
    assert len(render_pages(QINGSHAN * 3)) == 2
    scanned_pdf(folder / "qingshan-scan.pdf", QINGSHAN * 3)  # two pages
    scanned_png(folder / "baishui-page.png", BAISHUI)
    mixed_pdf(folder / "hongyan-mixed.pdf")
    (folder / "damaged.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (folder / "typed.txt").write_text(
        "绿水镇2024年政府工作报告\n各位代表：\n我们推进三清两建，村容村貌焕然一新。\n", "utf-8"
    )
    return folder


class Counted:
    """Tesseract runs, counted (Ocr.read_page wrapped)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.pages = 0
        original = Ocr.read_page

        def read_page(ocr_self: Ocr, *args: Any) -> Any:
            self.pages += 1
            return original(ocr_self, *args)

        monkeypatch.setattr(Ocr, "read_page", read_page)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Config, IndexReport, int]]:
    root = tmp_path_factory.mktemp("ocr")
    corpus = ocr_corpus(root / "corpus")
    config = Config(corpus_dir=corpus, index_dir=root / "index", index_procs=1)
    with pytest.MonkeyPatch.context() as patch:
        counted = Counted(patch)
        report = build_index(corpus, config.index_dir, procs=1)
    yield config, report, counted.pages


@pytest.fixture(scope="module")
def engine(built: tuple[Config, IndexReport, int]) -> Iterator[Engine]:
    engine = open_engine(built[0].index_dir)
    yield engine
    engine.close()


def file_report(report: IndexReport, path: str) -> FileReport:
    (found,) = [f for f in report.files if f.path == path]
    return found


def search(engine: Engine, q: str, mode: str = "phrase") -> Any:
    return run_search(engine, SearchRequest(q=q, mode=mode, page_size=50))


# --- indexing ---------------------------------------------------------------------------------


def test_scanned_files_are_indexed_with_pages_and_confidence(built: tuple[Any, ...]) -> None:
    _, report, pages = built
    scan = file_report(report, "qingshan-scan.pdf")
    assert scan.status == "indexed" and scan.ocr_pages == 2 and scan.ocr_confidence > 70
    image = file_report(report, "baishui-page.png")
    assert image.status == "indexed" and image.ocr_pages == 1 and image.ocr_confidence > 70
    mixed = file_report(report, "hongyan-mixed.pdf")
    assert mixed.status == "indexed" and mixed.ocr_pages == 1  # page 1 has a text layer
    assert file_report(report, "typed.txt").ocr_pages == 0
    assert pages == 4  # every scanned page once, the text page never
    assert {f.path for f in report.scanned} == {
        "qingshan-scan.pdf",
        "baishui-page.png",
        "hongyan-mixed.pdf",
    }


def test_a_damaged_image_is_reported_and_nothing_else_is_lost(built: tuple[Any, ...]) -> None:
    _, report, _ = built
    damaged = file_report(report, "damaged.png")
    assert damaged.status == "skipped" and damaged.reason == "corrupt"
    assert "damaged.png" in damaged.message and "image" in damaged.message
    assert [f.path for f in report.files if f.status == "indexed"] == [
        "baishui-page.png",
        "hongyan-mixed.pdf",
        "qingshan-scan.pdf",
        "typed.txt",
    ]


def test_lines_are_joined_into_the_paragraphs_set_on_the_page(built: tuple[Any, ...]) -> None:
    config, _, _ = built
    source = read_source(config.corpus_dir / "baishui-page.png", Ocr(config.index_dir / OCR_CACHE))
    assert len(source.blocks) == len(BAISHUI)  # no break inside a paragraph, none lost
    for block, truth in zip(source.blocks, BAISHUI, strict=True):
        assert similar(block.text, truth) > 0.9, (block.text, truth)
    assert "，" in source.blocks[1].text and "," not in source.blocks[1].text


def similar(a: str, b: str) -> float:
    from rapidfuzz.distance import Levenshtein

    return 1 - Levenshtein.distance(a, b) / max(len(a), len(b))


def test_a_mixed_pdf_keeps_its_text_layer_and_reads_its_scanned_page(engine: Engine) -> None:
    typed = search(engine, "冬春农田水利建设").hits
    scanned = search(engine, "高标准农田", mode="keyword").hits
    assert [h.source for h in typed] == ["hongyan-mixed.pdf"]
    assert [h.source for h in scanned] == ["hongyan-mixed.pdf"]
    assert typed[0].doc_id == scanned[0].doc_id


# --- search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phrase", "source"),
    [
        ("三清两建行动", "qingshan-scan.pdf"),
        ("农村公厕", "qingshan-scan.pdf"),
        ("垃圾分类", "baishui-page.png"),
        ("村庄清洁行动", "baishui-page.png"),
    ],
)
def test_ocr_text_is_found_and_marked(engine: Engine, phrase: str, source: str) -> None:
    hits = search(engine, phrase).hits
    assert source in {h.source for h in hits}
    assert all(h.ocr == (h.source != "typed.txt") for h in hits)
    assert all(phrase in h.text for h in hits)


def test_typed_text_is_not_marked(engine: Engine) -> None:
    (hit,) = search(engine, "村容村貌").hits
    assert hit.source == "typed.txt" and hit.ocr is False


def test_fuzzy_mode_finds_a_sentence_with_a_misread_character(engine: Engine) -> None:
    sentence = "累计发动群众八千余人次，清理沟渠河道四十五公里"
    wrong = sentence.replace("沟渠", "沟果")  # a misread character, as OCR makes them
    hits = search(engine, wrong, mode="fuzzy").hits
    assert hits and hits[0].source == "baishui-page.png"


def test_few_exact_hits_suggest_fuzzy_mode_when_the_index_holds_ocr_text(
    built: tuple[Any, ...], engine: Engine
) -> None:
    config = built[0]
    assert read_meta(current_generation(config.index_dir))["ocr_files"] == 3
    page = search(engine, "清理沟果河道")
    assert page.total == 0 and page.try_fuzzy and any("模糊" in n for n in page.notices)
    assert not search(engine, "清理沟渠河道", mode="fuzzy").try_fuzzy


def test_the_web_shows_the_mark_the_notice_and_the_ocr_files(built: tuple[Any, ...]) -> None:
    client = create_app(built[0], {"TESTING": True}).test_client()
    data = client.get("/api/search", query_string={"q": "垃圾分类"}).get_json()
    assert data["hits"] and all(hit["ocr"] for hit in data["hits"])
    html = client.get("/search", query_string={"q": "垃圾分类"}).get_data(as_text=True)
    assert 'class="badge-ocr"' in html
    html = client.get("/search", query_string={"q": "清理沟果河道"}).get_data(as_text=True)
    assert "扫描件识别" in html and "mode=fuzzy" in html  # the notice; the empty state's link
    html = client.get("/search", query_string={"q": "村庄清洁行动"}).get_data(as_text=True)
    assert 'class="notice try-fuzzy"' in html  # few hits: a link beside the notice
    status = client.get("/api/status").get_json()
    pages = {f["path"]: f["ocr_pages"] for f in status["files"]}
    assert pages["qingshan-scan.pdf"] == 2 and pages["typed.txt"] == 0
    html = client.get("/status").get_data(as_text=True)
    assert "OCR 识别 3" in html and "平均置信度" in html


# --- the cache --------------------------------------------------------------------------------


def test_a_rebuild_and_an_update_never_ocr_a_file_twice(
    built: tuple[Any, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = built[0]
    index = tmp_path / "index"
    shutil.copytree(config.index_dir / OCR_CACHE, index / OCR_CACHE)  # the cache, not the index
    counted = Counted(monkeypatch)
    first = build_index(config.corpus_dir, index, procs=2, rebuild=True)
    assert counted.pages == 0
    assert first.paragraphs == built[1].paragraphs
    corpus = tmp_path / "corpus"
    shutil.copytree(config.corpus_dir, corpus)
    scanned_png(corpus / "another.png", BAISHUI[:2], seed=9)
    build_index(corpus, index, procs=1)  # a new corpus folder: a full build
    assert counted.pages == 1  # only the new page
    shutil.copy(corpus / "another.png", corpus / "copy-of-another.png")
    update = build_index(corpus, index, procs=1)
    assert update.mode == "incremental" and update.added == ["copy-of-another.png"]
    assert counted.pages == 1  # the same content under another name: from the cache


def test_without_tesseract_scans_are_reported_and_read_once_it_is_installed(
    built: tuple[Any, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = built[0]
    index = tmp_path / "index"
    with monkeypatch.context() as patch:
        patch.setattr(ocr, "unavailable", lambda: "Tesseract is not installed")
        report = build_index(config.corpus_dir, index, procs=1)
    image = file_report(report, "baishui-page.png")
    scan = file_report(report, "qingshan-scan.pdf")
    mixed = file_report(report, "hongyan-mixed.pdf")
    assert image.status == scan.status == "skipped"
    assert image.reason == scan.reason == "no-ocr"
    assert "Tesseract" in image.message and "Tesseract" in scan.message
    assert mixed.status == "indexed" and mixed.ocr_pages == 0
    assert any("pages 2 not read" in w for w in mixed.warnings)
    assert file_report(report, "typed.txt").status == "indexed"
    shutil.copytree(config.index_dir / OCR_CACHE, index / OCR_CACHE)
    again = build_index(config.corpus_dir, index, procs=1)
    assert again.mode == "incremental"
    # read again: the files that waited for OCR (the damaged image is found damaged now)
    assert set(again.updated) == {"baishui-page.png", "qingshan-scan.pdf", "damaged.png"}
    assert file_report(again, "damaged.png").reason == "corrupt"
    assert file_report(again, "qingshan-scan.pdf").ocr_pages == 2


# --- pieces -----------------------------------------------------------------------------------


def test_tesseract_words_become_lines_and_speckles_are_dropped() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"
    rows = [
        "5\t1\t1\t1\t1\t1\t100\t200\t300\t40\t95.5\t推进乡村",
        "5\t1\t1\t1\t1\t2\t410\t200\t90\t40\t91.0\t振兴,",
        "5\t1\t1\t1\t2\t1\t100\t260\t200\t40\t93.0\tGDP",
        "5\t1\t1\t1\t2\t2\t310\t260\t80\t40\t93.0\t增长",
        "5\t1\t2\t1\t1\t1\t900\t900\t10\t10\t55.0\tO",  # a speckle
        "4\t1\t1\t1\t1\t0\t100\t200\t400\t40\t-1\t",
    ]
    lines = tsv_lines("\n".join([header, *rows]), page=1, points=0.5)
    assert [line.words for line in lines] == [("推进乡村", "振兴,"), ("GDP", "增长")]
    first = lines[0]
    assert (first.x0, first.x1, first.top, first.bottom) == (50.0, 250.0, -100.0, -120.0)
    assert 91 < first.confidence < 95.5
    assert is_noise("O", 90) and is_noise("..", 99) and not is_noise("12", 90)
    assert not is_noise("乡", 90) and is_noise("乡", 20)


def test_punctuation_numbers_and_page_lists() -> None:
    assert (
        cjk_punctuation("推进乡村振兴,加快发展;目标:(一)") == "推进乡村振兴，加快发展；目标：（一）"
    )
    assert cjk_punctuation("GDP 3.5, up 2%") == "GDP 3.5, up 2%"
    assert join_lines(["生产总值207.", "45亿元"]) == "生产总值207.45亿元"
    assert join_lines(["增长2", "0%"]) == "增长20%"
    assert join_lines(["rural", "revitalisation"]) == "rural revitalisation"
    assert compact_ranges([7, 1, 2, 3, 9, 10]) == "1-3,7,9-10"


@pytest.mark.parametrize("angle", [-2.0, 1.4])
def test_a_turned_page_is_levelled(angle: float) -> None:
    (page,) = render_pages(QINGSHAN, angle=angle, speckles=0.5)
    assert abs(skew_angle(page.image) + angle) <= 0.3


def test_ragged_ocr_lines_run_on_but_text_layers_keep_their_rules() -> None:
    from searchapp.readers import PdfLine

    def line(text: str, top: float, x0: float = 72, x1: float = 520) -> PdfLine:
        return PdfLine(text, 1, x0, x1, -top, -top - 14)

    lines = [
        line("第一段的第一行，内容到这里", 100, x0=100),
        line("第一段的第二行，没有到行末", 120, x1=460),  # a little short, mid-sentence
        line("第一段的第三行，到此结束。", 140, x1=300),
        line("第二段缩进开头", 160, x0=100),
    ]
    assert pdf_paragraphs(lines, ragged=True) == [
        "第一段的第一行，内容到这里第一段的第二行，没有到行末第一段的第三行，到此结束。",
        "第二段缩进开头",
    ]
    assert len(pdf_paragraphs(lines)) == 3  # a text layer: a short line ends its paragraph
    flush = [line("句号在行末。", 100, x0=100), line("还是同一段。", 120, x1=300)]
    assert pdf_paragraphs(flush, ragged=True) == ["句号在行末。还是同一段。"]
    assert len(pdf_paragraphs(flush)) == 2


# --- the Solr backend -------------------------------------------------------------------------


@pytest.mark.solr
def test_solr_holds_the_same_ocr_text_and_marks(
    built: tuple[Any, ...], engine: Engine, solr_cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from solr_fixture import new_collection

    from searchapp.solr import index_solr, open_solr_engine

    config = built[0]
    counted = Counted(monkeypatch)
    name = new_collection("ocr")
    cache = Ocr(cache_dir=config.index_dir / OCR_CACHE)
    report = index_solr(config.corpus_dir, solr_cluster.solr_url, name, procs=1, ocr=cache)
    assert counted.pages == 0  # the embedded build's OCR, from the cache
    assert {f.path: f.ocr_pages for f in report.files} == {
        f.path: f.ocr_pages for f in built[1].files
    }
    solr = open_solr_engine(solr_cluster.solr_url, name)
    try:
        for phrase in ("垃圾分类", "三清两建", "村容村貌", "高标准农田"):
            marks = {(h.source, h.ocr) for h in search(solr, phrase).hits}
            assert marks == {(h.source, h.ocr) for h in search(engine, phrase).hits}, phrase
        assert search(solr, "清理沟果河道").try_fuzzy
    finally:
        solr.close()


def test_straight_quotes_beside_chinese_become_curly() -> None:
    from searchapp.readers import curly_quotes

    assert curly_quotes('开展"三清两建"行动') == "开展“三清两建”行动"
    assert curly_quotes('从"二十条""新十条"到"乙类乙管"') == "从“二十条”“新十条”到“乙类乙管”"
    assert curly_quotes('从“二十条"到') == "从“二十条”到"  # after a curly one: the other
    assert curly_quotes('say "hello" to 乡镇') == 'say "hello" to 乡镇'


def test_the_build_report_lists_the_files_read_by_ocr(built: tuple[Any, ...]) -> None:
    from searchapp.cli import format_index_report

    text = format_index_report(built[1])
    assert "files read by OCR: 3" in text
    assert "qingshan-scan.pdf: 2 pages, mean confidence" in text
    assert "damaged.png: corrupt" in text
    assert built[1].to_dict()["ocr_files"] == 3
