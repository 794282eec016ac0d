"""End to end in headless Chromium: search, facets, permalinks, clipboard, re-index.

The real app is served by waitress on 127.0.0.1 in a background thread; Playwright
drives Debian's /usr/bin/chromium (it never downloads a browser). Screenshots of the
main pages land in test-output/ for a human to look at.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import waitress
from flask import Flask

from searchapp.config import Config
from searchapp.embedded.indexer import build_index
from searchapp.web import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
SCREENSHOTS = PROJECT_ROOT / "test-output"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

pytestmark = pytest.mark.browser

if not CHROMIUM.exists():
    reason = f"{CHROMIUM} is missing (install Debian's chromium: make browser)"
    if os.environ.get("CI"):
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=True)

from playwright.sync_api import (  # noqa: E402  (after the skip: CI fails, laptops skip)
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    sync_playwright,
)

# --- the server and the browser -------------------------------------------------------------


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve `app` with waitress on a free port of 127.0.0.1; yield its base URL."""
    channels: dict[int, Any] = {}
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4, map=channels)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:

        def close_all() -> None:  # runs in the server's own loop thread
            for channel in list(channels.values()):
                channel.close()

        server.trigger.pull_trigger(close_all)
        thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        assert not thread.is_alive()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def base_url(seed_config: Config) -> Iterator[str]:
    with serve(create_app(seed_config)) as url:
        yield url


@contextmanager
def open_context(browser: Browser, base: str, **options: Any) -> Iterator[BrowserContext]:
    """A browser context that may use the clipboard and records page errors."""
    context = browser.new_context(locale="zh-CN", **({"viewport": DESKTOP} | options))
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    try:
        yield context
    finally:
        context.close()
    assert errors == [], errors  # CSP violations and script errors show up here


@pytest.fixture()
def context(browser: Browser, base_url: str) -> Iterator[BrowserContext]:
    with open_context(browser, base_url) as context:
        yield context


def screenshot(page: Page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def expect_marked_paragraph(page: Page, para_id: str) -> None:
    """The paragraph is the :target, carries the marked class, and is on screen."""
    target = page.locator(f'[id="{para_id}"]')
    expect(target).to_have_class(has_class("is-target"))
    expect(target).to_be_in_viewport()
    assert page.evaluate("document.querySelector(':target')?.id") == para_id
    expect(page.locator("#fragment-missing")).to_be_hidden()


def has_class(name: str) -> re.Pattern[str]:
    return re.compile(rf"(^|\s){name}(\s|$)")


def clipboard(page: Page) -> str:
    text: str = page.evaluate("navigator.clipboard.readText()")
    return text


# --- scenarios ------------------------------------------------------------------------------


def test_search_facet_open_copy_and_share(context: BrowserContext, base_url: str):
    page = context.new_page()
    page.goto(base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    page.get_by_role("searchbox", name="检索词").fill("三清两建")
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?**")

    marks = page.locator(".hit .snippet mark")
    expect(marks.first).to_have_text("三清两建")
    assert marks.count() >= 5
    expect(page.locator(".total")).to_have_text("5")
    town = page.locator('.facet a[data-facet="town"][data-value="潭头镇"]')
    expect(town).to_contain_text("5")

    town.click()
    page.wait_for_url("**town=**")
    expect(page.locator(".chip")).to_contain_text("潭头镇")
    expect(town).to_have_class(has_class("is-selected"))
    screenshot(page, "search")

    first = page.locator(".hit").first
    permalink = first.get_attribute("data-permalink") or ""
    doc_path, para_id = permalink.removeprefix(base_url).split("#")
    first.locator(".hit-actions").get_by_role("button", name="复制链接").click()
    expect(page.locator(".toast")).to_have_text("已复制链接")
    assert clipboard(page) == f"{base_url}{doc_path}#{para_id}"

    first.locator(".hit-title a").click()
    page.wait_for_url(f"**{doc_path}?q=*#{para_id}")
    expect_marked_paragraph(page, para_id)
    expect(page.locator(".doc-body mark").first).to_have_text("三清两建")
    expect(page.locator(".match-bar")).to_contain_text("处匹配")
    screenshot(page, "document")

    target = page.locator(f'[id="{para_id}"]')
    target.get_by_role("button", name="复制链接").click()
    link = clipboard(page)
    assert link == f"{base_url}{doc_path}#{para_id}"
    target.get_by_role("button", name="复制引用").click()
    expect(page.locator(".toast")).to_have_text("已复制引用")
    citation = clipboard(page)
    assert citation.startswith("《") and "（潭头镇" in citation and citation.endswith("” " + link)

    fresh = context.new_page()
    fresh.goto(link)
    expect_marked_paragraph(fresh, para_id)
    expect(fresh.locator(".doc-body mark")).to_have_count(0)  # a plain link marks no query


def test_match_navigation_and_changed_paragraphs(context: BrowserContext, base_url: str):
    hit = get_json(base_url + "/api/search?q=%E4%B8%89%E6%B8%85%E4%B8%A4%E5%BB%BA")["hits"][0]
    page = context.new_page()
    page.goto(f"{base_url}/doc/{hit['doc_id']}?q=三清两建")
    total = page.locator(".doc-body mark").count()
    assert total > 1
    expect(page.locator(".match-pos")).to_have_text(f"1 / {total}")
    page.get_by_role("button", name="下一处匹配").click()
    expect(page.locator(".match-pos")).to_have_text(f"2 / {total}")
    expect(page.locator("mark.is-current")).to_have_count(1)
    expect(page.locator("mark.is-current")).to_be_in_viewport()
    page.get_by_role("button", name="上一处匹配").click()
    page.get_by_role("button", name="上一处匹配").click()
    expect(page.locator(".match-pos")).to_have_text(f"{total} / {total}")

    page.goto(f"{base_url}/doc/{hit['doc_id']}#p0000000000")
    expect(page.locator("#fragment-missing")).to_be_visible()
    expect(page.locator("#fragment-missing")).to_contain_text("该段落在新版本中已变更")


def test_by_town_view(context: BrowserContext, base_url: str):
    page = context.new_page()
    page.goto(base_url + "/search?q=乡村振兴")
    page.get_by_role("link", name="按镇分组").click()
    page.wait_for_url("**view=towns**")
    groups = page.locator(".town-group")
    expect(groups.first.locator(".town-name")).to_have_text("潭头镇")
    expect(groups.first.locator(".town-count")).to_have_text("11 段")
    assert groups.count() == 8
    screenshot(page, "by-town")
    more = groups.first.locator("details.town-more")
    expect(more.locator(".hit").first).to_be_hidden()
    more.locator("summary").click()
    expect(more.locator(".hit").first).to_be_visible()
    expect(more.locator(".hit mark").first).to_be_visible()


def test_similar_wording_from_a_draft_and_from_a_hit(context: BrowserContext, base_url: str):
    page = context.new_page()
    page.goto(base_url + "/")
    page.get_by_role("link", name="相似表述").first.click()
    page.get_by_role("textbox", name="要比对的文字").fill(
        "积极做好脱贫攻坚与乡村振兴有效衔接，持续优化营商环境。"
    )
    page.get_by_role("button", name="查找相似表述").click()
    page.wait_for_url("**/similar?text=**")
    towns = page.locator(".similar-town")
    assert towns.count() >= 3
    expect(page.locator(".similar-sentence mark").first).to_be_visible()
    screenshot(page, "similar")

    page.goto(base_url + "/search?q=三清两建")
    page.locator(".hit").first.get_by_role("link", name="相似表述").click()
    page.wait_for_url("**/similar?doc=**")
    expect(page.locator(".similar-summary")).to_contain_text("不含本报告")


def test_phone_width(browser: Browser, base_url: str):
    with open_context(browser, base_url, viewport=PHONE, is_mobile=True) as context:
        page = context.new_page()
        page.goto(base_url + "/search?q=三清两建")
        facets = page.locator("details.facets")
        expect(facets).not_to_have_attribute("open", "")
        expect(page.locator(".hit").first).to_be_in_viewport()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"]  # nothing wider than the screen
        screenshot(page, "phone-search")
        page.get_by_text("筛选", exact=True).click()
        expect(page.locator('.facet a[data-value="潭头镇"]')).to_be_visible()
        page.get_by_role("radio", name="精确短语").click()  # a new mode re-runs the search
        page.wait_for_url("**mode=phrase**")
        expect(page.locator(".total")).to_have_text("5")


def test_links_survive_a_rebuild(browser: Browser, tmp_path: Path):
    corpus = tmp_path / "corpus"
    shutil.copytree(PROJECT_ROOT / "seeds", corpus)
    for path in corpus.iterdir():
        path.chmod(0o644)
    config = Config(corpus_dir=corpus, index_dir=tmp_path / "index", index_procs=1)
    build_index(corpus, config.index_dir, procs=1)
    with serve(create_app(config)) as base, open_context(browser, base) as context:
        hits = get_json(base + "/api/search?q=%E4%B8%89%E6%B8%85%E4%B8%A4%E5%BB%BA")["hits"]
        hit = max(hits, key=lambda h: h["ordinal"])  # far down its document
        link = f"{base}{hit['url']}"
        page = context.new_page()
        page.goto(link)
        expect_marked_paragraph(page, hit["para_id"])
        before = get_json(base + "/healthz")["generation"]

        build_index(corpus, config.index_dir, procs=1, rebuild=True)
        assert get_json(base + "/healthz")["generation"] != before
        again = context.new_page()
        again.goto(link)
        expect_marked_paragraph(again, hit["para_id"])
        expect(again.locator(f'[id="{hit["para_id"]}"]')).to_contain_text("三清两建")

        # once the paragraph itself is edited, its old link says so
        source = corpus / hit["source"]
        text = source.read_text(encoding="utf-8")
        assert hit["text"] in text
        source.write_text(text.replace(hit["text"], hit["text"] + "（已修订）"), encoding="utf-8")
        build_index(corpus, config.index_dir, procs=1)
        edited = context.new_page()
        edited.goto(link)
        expect(edited.locator("#fragment-missing")).to_be_visible()


def test_hostile_text_stays_text(browser: Browser, make_index):
    config = make_index(
        {
            "a.txt": "某某镇2023年政府工作报告\n各位代表：\n"
            "<script>alert(1)</script> 三清两建 {{ 7*7 }}\n"
            '（一）"><img src=x onerror=alert(1)>三清两建\n'
        }
    )
    with serve(create_app(config)) as base, open_context(browser, base) as context:
        dialogs: list[str] = []
        page = context.new_page()
        page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(base + "/search?q=三清两建")
        expect(page.locator(".hit")).to_have_count(2)
        expect(page.locator(".hit").first).to_contain_text("三清两建")
        expect(page.locator(".results")).to_contain_text("<script>alert(1)</script>")
        expect(page.locator(".results")).to_contain_text("{{ 7*7 }}")
        page.locator(".hit-title a").first.click()
        expect(page.locator(".doc-body")).to_contain_text('"><img src=x onerror=alert(1)>')
        page.goto(base + "/search?q=" + '"><img src=x onerror=alert(1)>' + "&mode=phrase")
        expect(page.locator(".search-input")).to_have_value('"><img src=x onerror=alert(1)>')
        assert page.locator("img").count() == 0
        assert dialogs == []


def test_a_scanned_page_is_found_marked_and_fuzzy_mode_is_offered(browser: Browser, make_index):
    import io

    from scans import render_pages

    from searchapp import ocr

    if ocr.unavailable():
        pytest.skip(f"OCR: {ocr.unavailable()} (make ocr installs it)")
    paragraphs = [
        "白水镇关于人居环境整治工作的报告",
        "今年以来，白水镇把垃圾分类作为民生实事来抓，在全镇十四个行政村推行垃圾分类。",
        "我们组织党员干部带头参与村庄清洁行动，清理沟渠河道四十五公里。",
    ]
    (scan,) = render_pages(paragraphs, seed=5)
    png = io.BytesIO()
    scan.image.save(png, format="PNG")
    config = make_index(
        {"baishui.png": png.getvalue(), "typed.txt": "绿水镇2024年工作报告\n推进垃圾分类。\n"}
    )
    with serve(create_app(config)) as base, open_context(browser, base) as context:
        page = context.new_page()
        page.goto(base + "/search?q=垃圾分类")
        scanned = page.locator(".hit", has_text="行政村")
        expect(scanned.locator(".badge-ocr")).to_be_visible()
        expect(page.locator(".hit", has_text="绿水镇").locator(".badge-ocr")).to_have_count(0)
        page.goto(base + "/search?q=清理沟果河道")  # a character OCR might misread
        expect(page.locator(".hit")).to_have_count(0)
        page.get_by_role("link", name="改用模糊检索").click()
        page.wait_for_url("**mode=fuzzy**")
        expect(page.locator(".hit").first).to_contain_text("清理沟渠河道")
        page.goto(base + "/status")
        expect(page.locator(".file-path", has_text="baishui.png")).to_be_visible()
        expect(page.locator("tr", has_text="baishui.png")).to_contain_text("平均置信度")
