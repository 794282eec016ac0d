"""In headless Chromium: results for an email (tick hits, 复制所选) and the trend chart
under the app's Content-Security-Policy.

Reuses test_browser.py's server and browser set-up (waitress on 127.0.0.1, Debian's
/usr/bin/chromium, contexts that fail on any console error or CSP violation).
Screenshots land in test-output/.
"""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path
from typing import Any

import lxml.html
import openpyxl
import pytest
import test_browser
from flask import Flask
from test_browser import (
    Browser,
    BrowserContext,
    Page,
    expect,
    expect_marked_paragraph,
    has_class,
    open_context,
    screenshot,
    serve,
)

from searchapp.chart import YearPoint, trend_svg
from searchapp.web import add_security_headers, create_app

pytestmark = pytest.mark.browser

# test_browser's fixtures, shared: Chromium once per module, the seed app on 127.0.0.1
browser = test_browser.browser
base_url = test_browser.base_url
context = test_browser.context

READ_CLIPBOARD = """async () => {
  const out = {};
  for (const item of await navigator.clipboard.read()) {
    for (const type of item.types) out[type] = await (await item.getType(type)).text();
  }
  return out;
}"""


def read_clipboard(page: Page) -> dict[str, str]:
    """Every format on the clipboard, read in the page: {mime type: text}."""
    formats: dict[str, str] = page.evaluate(READ_CLIPBOARD)
    return formats


def tick(page: Page, count: int) -> list[dict[str, Any]]:
    """Tick the first `count` hits; return their data attributes."""
    hits = page.locator(".hit")
    picked = []
    for i in range(count):
        hit = hits.nth(i)
        hit.locator(".hit-check").check()
        expect(hit).to_have_class(has_class("is-picked"))
        picked.append(
            {name: hit.get_attribute(f"data-{name}") for name in ("title", "town", "year")}
            | {"permalink": hit.get_attribute("data-permalink")}
        )
    return picked


def check_copied_list(formats: dict[str, str], picked: list[dict[str, Any]], base: str) -> None:
    """The HTML and the plain text on the clipboard hold the picked hits, in order."""
    assert {"text/html", "text/plain"} <= formats.keys()
    root = lxml.html.fromstring(formats["text/html"])
    items = root.xpath("//ol/li")
    assert len(items) == len(picked)
    for item, hit in zip(items, picked, strict=True):
        links = item.xpath(".//a")
        assert links[0].text_content() == f"《{hit['title']}》"
        assert all(a.get("href") == hit["permalink"] for a in links)
        assert hit["permalink"].startswith(base + "/doc/")
        assert links[-1].text_content() == hit["permalink"]
        assert hit["town"] in item.text_content() and f"{hit['year']}年" in item.text_content()
        marks = item.xpath(".//mark")
        assert marks and marks[0].text_content() == "三清两建"
        assert all(m.xpath("./b") for m in marks)  # bold too: Word and Outlook ignore <mark>
        assert not item.xpath(".//*[@onerror or @onclick] | .//img | .//script")
    text = formats["text/plain"]
    assert "<mark>" not in text
    entries = text.split("\n\n")
    assert len(entries) == len(picked)
    for n, (entry, hit) in enumerate(zip(entries, picked, strict=True), start=1):
        head, quote, link = entry.split("\n")
        assert head.startswith(f"{n}. 《{hit['title']}》") and hit["town"] in head
        assert quote.startswith("“") and quote.endswith("”") and "三清两建" in quote
        assert link == hit["permalink"]


def test_tick_three_hits_and_copy_them_for_an_email(context: BrowserContext, base_url: str):
    page = context.new_page()
    page.goto(base_url + "/search?q=三清两建")
    bar = page.locator("[data-pick-bar]")
    expect(bar).to_be_visible()
    copy = bar.get_by_role("button", name="复制所选")
    expect(copy).to_be_disabled()

    picked = tick(page, 3)
    expect(bar.locator(".pick-count")).to_have_text("已选 3 条")
    assert page.locator("[data-pick-all]").evaluate("box => box.indeterminate")
    screenshot(page, "email-ticked")
    copy.click()
    expect(page.locator(".toast")).to_have_text("已复制 3 条")
    check_copied_list(read_clipboard(page), picked, base_url)

    other = context.new_page()  # a copied link opens its paragraph, marked
    other.goto(picked[1]["permalink"])
    para_id = picked[1]["permalink"].split("#")[1]
    expect_marked_paragraph(other, para_id)

    all_box = page.get_by_role("checkbox", name="全选")
    all_box.check()
    total = page.locator(".hit").count()
    expect(bar.locator(".pick-count")).to_have_text(f"已选 {total} 条")
    expect(page.locator(".hit.is-picked")).to_have_count(total)
    all_box.uncheck()
    expect(page.locator(".hit-check:checked")).to_have_count(0)
    expect(copy).to_be_disabled()


def test_copy_without_clipboard_item_uses_the_copy_command(context: BrowserContext, base_url: str):
    page = context.new_page()
    page.add_init_script("delete window.ClipboardItem;")
    page.goto(base_url + "/search?q=三清两建&view=towns")
    assert page.evaluate("typeof window.ClipboardItem") == "undefined"
    page.locator("details.town-more > summary").first.click()  # the town's other hits
    picked = tick(page, 2)
    page.get_by_role("button", name="复制所选").click()
    expect(page.locator(".toast")).to_have_text("已复制 2 条")
    check_copied_list(read_clipboard(page), picked, base_url)
    expect(page.locator(".copy-buffer")).to_have_count(0)  # the helper is gone


def test_copied_html_keeps_hostile_text_as_text(browser: Browser, make_index):
    config = make_index(
        {
            "a.txt": "某某镇2023年政府工作报告\n各位代表：\n"
            '"><img src=x onerror=alert(1)> 三清两建 <b>粗</b>\n',
            "b.txt": "另一镇2022年政府工作报告\n各位代表：\n<script>alert(2)</script>三清两建\n",
        }
    )
    with serve(create_app(config)) as base, open_context(browser, base) as context:
        page = context.new_page()
        page.goto(base + "/search?q=三清两建")
        picked = tick(page, 2)
        page.get_by_role("button", name="复制所选").click()
        expect(page.locator(".toast")).to_have_text("已复制 2 条")
        formats = read_clipboard(page)
        check_copied_list(formats, picked, base)
        root = lxml.html.fromstring(formats["text/html"])
        quotes = " ".join(p.text_content() for p in root.xpath("//li/p[2]"))
        assert '"><img src=x onerror=alert(1)>' in quotes and "<b>粗</b>" in quotes
        assert "<script>alert(2)</script>" in quotes
        assert not root.xpath("//img | //script | //b[not(parent::mark)]")
        assert '"><img src=x onerror=alert(1)>' in formats["text/plain"]


def test_result_page_links_exports_and_the_trend(context: BrowserContext, base_url: str):
    page = context.new_page()
    page.goto(base_url + "/search?q=三清两建&view=towns")
    tools = page.locator(".result-tools")
    expect(tools).to_contain_text("导出全部 5 段")
    with page.expect_download() as csv_download:
        tools.get_by_role("link", name="CSV").click()
    data = Path(csv_download.value.path()).read_bytes()
    assert data.startswith(codecs.BOM_UTF8)
    table = list(csv.reader(io.StringIO(data[3:].decode("utf-8"), newline="")))
    assert table[0][0] == "镇" and len(table) == 1 + 5
    assert all(row[-1].startswith(base_url + "/doc/") for row in table[1:])
    with page.expect_download() as xlsx_download:
        tools.get_by_role("link", name="Excel").click()
    assert xlsx_download.value.suggested_filename == "三清两建-检索结果.xlsx"
    sheet = openpyxl.load_workbook(io.BytesIO(Path(xlsx_download.value.path()).read_bytes())).active
    assert sheet.max_row == 1 + 5 and sheet["A2"].value == "潭头镇"

    tools.get_by_role("link", name="逐年趋势与分布").click()
    page.wait_for_url("**/trend?q=**")
    expect(page.locator("svg.trend-chart rect.bar").first).to_be_attached()
    screenshot(page, "trend-page")


def test_page_without_scripts_shows_no_dead_controls(browser: Browser, base_url: str):
    context = browser.new_context(java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(base_url + "/search?q=三清两建")
        expect(page.locator(".hit").first).to_be_visible()
        expect(page.locator("[data-pick-bar]")).to_be_hidden()
        expect(page.locator(".hit-pick").first).to_be_hidden()
        expect(page.locator(".hit-title a").first).to_be_visible()
    finally:
        context.close()


# --- the trend chart under the CSP -----------------------------------------------------------

SERIES = [YearPoint(2019, 1, 1, 2), YearPoint(2021, 4, 3, 9), YearPoint(2022, 7, 5, 16)]


def chart_app() -> Flask:
    """A page with the chart inline, served with the app's security headers."""
    app = Flask(__name__)

    @app.get("/chart")
    def chart() -> str:
        svg = trend_svg(SERIES, title="“三清两建”<script>alert(1)</script>")
        return f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><link rel="icon" href="data:,"><body>{svg}</body></html>'

    app.after_request(add_security_headers)
    return app


WATCH_CSP = """window.violations = [];
document.addEventListener('securitypolicyviolation', e => window.violations.push(e.violatedDirective));"""


def test_trend_chart_draws_under_the_csp(browser: Browser):
    with (
        serve(chart_app()) as base,
        open_context(browser, base, viewport={"width": 700, "height": 300}) as ctx,
    ):
        page = ctx.new_page()
        page.add_init_script(WATCH_CSP)
        page.goto(base + "/chart")
        assert "style-src 'self'" in csp_header(page)
        bars = page.locator("svg.trend-chart rect.bar")
        expect(bars).to_have_count(4)  # 2019, 2020 (zero), 2021, 2022
        fill = bars.first.evaluate("rect => getComputedStyle(rect).fill")
        assert fill == "rgb(31, 95, 191)"  # presentation attributes apply under the CSP
        box = page.locator("svg.trend-chart").bounding_box()
        assert box and (box["width"], box["height"]) == (640, 240)
        assert page.evaluate("window.violations") == []
        assert page.evaluate("document.querySelectorAll('script').length") == 0
        screenshot(page, "trend-chart")

    # the check can fail: a style attribute is refused, and reported, under the same CSP
    with serve(chart_app()) as base:
        plain = browser.new_context()
        try:
            page = plain.new_page()
            page.add_init_script(WATCH_CSP)
            page.goto(base + "/chart")
            page.evaluate("document.querySelector('rect.bar').setAttribute('style', 'fill: red')")
            page.wait_for_function("window.violations.length > 0")
            fill = page.locator("rect.bar").first.evaluate("r => getComputedStyle(r).fill")
            assert fill == "rgb(31, 95, 191)"
        finally:
            plain.close()


def csp_header(page: Page) -> str:
    """The page's Content-Security-Policy header, fetched again from the server."""
    header: str = page.evaluate(
        "fetch(location.href).then(r => r.headers.get('content-security-policy'))"
    )
    return header
