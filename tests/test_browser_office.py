"""In headless Chromium: the office service (issue 20) as its users meet it.

Sign-in and sign-out, an upload with its progress and each file's fate, a correction of
a report's metadata (it survives a full rebuild), removal to the trash with the 410
permalink and the restore, what a reader may not do, and sign-in before reading.

Reuses test_browser.py's server and browser set-up (waitress on 127.0.0.1, Debian's
/usr/bin/chromium once per module). Each test has its own copy of the seed corpus, its
own index and office database, and its own app. Screenshots land in test-output/.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import docx
import pytest
import test_browser
from conftest import SEEDS
from flask import Flask
from test_browser import (
    DESKTOP,
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    expect,
    has_class,
    screenshot,
    serve,
)

from searchapp.build import index_corpus
from searchapp.config import Config
from searchapp.office import accounts, db
from searchapp.web import create_app

pytestmark = pytest.mark.browser

browser = test_browser.browser  # Chromium once per module

USERS = {  # name → (role, password)
    "ed": ("editor", "editor password 1"),
    "ad": ("admin", "admin password 1"),
    "re": ("reader", "reader password 1"),
}
PHRASE = "蓝莓产业示范园"  # in the uploaded report only, never in the seeds
REPORT = "青山镇报告.docx"
LOGIN_ERROR = "用户名或密码不对"
IDLE_SECONDS = 60


def make_docx() -> bytes:
    """A small report of 青山镇 as a Word file, holding PHRASE."""
    document = docx.Document()
    document.add_heading("青山镇2024年政府工作报告", 0)
    document.add_paragraph("各位代表：")
    document.add_paragraph(f"过去一年，青山镇建成{PHRASE}，带动三百户群众增收。")
    document.add_paragraph("新的一年，我们将继续推进乡村振兴。")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


DOCX = make_docx()
DOCX_FILE = {
    "name": REPORT,
    "mimeType": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "buffer": DOCX,
}
FAKE_PDF = {"name": "报告.pdf", "mimeType": "application/pdf", "buffer": "这不是PDF".encode()}


# --- the office, served ---------------------------------------------------------------------


@dataclass
class Site:
    config: Config
    app: Flask
    base: str

    def wait_idle(self) -> None:
        """Every index job queued so far has run."""
        assert self.app.extensions["searchapp-office"].runner.wait_idle(IDLE_SECONDS)

    def search(self, q: str, **params: str) -> dict[str, Any]:
        """/api/search for the phrase, outside the browser (reading is open)."""
        query = urlencode({"q": q, "mode": "phrase", **params})
        with urllib.request.urlopen(f"{self.base}/api/search?{query}", timeout=10) as response:
            found: dict[str, Any] = json.load(response)
        return found


@contextmanager
def office(root: Path, host: str | None = None) -> Iterator[Site]:
    """The seed corpus indexed in `root`, USERS added, the app served on 127.0.0.1.

    `host` is the address the app is told it listens on ("0.0.0.0": reading needs a
    sign-in); the server itself stays on the loopback address."""
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    for path in corpus.iterdir():
        path.chmod(0o644)
    config = Config(corpus_dir=corpus, index_dir=root / "index", index_procs=1)
    index_corpus(config)
    with db.connect(config.data_folder) as conn:
        for name, (role, password) in USERS.items():
            accounts.add_user(conn, name, role, password)
    app = create_app(config, host=host)
    try:
        with serve(app) as base:
            yield Site(config, app, base)
    finally:
        app.extensions["searchapp-office"].runner.stop()


@contextmanager
def watched_context(
    browser: Browser, allow_status: tuple[int, ...] = ()
) -> Iterator[BrowserContext]:
    """test_browser.open_context's watch: any console error or page error fails the test,
    except Chromium's "Failed to load resource" line for a page answered with one of
    `allow_status` (the 401 of a failed sign-in, a 403, a 410 the test asks for)."""
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP)
    allowed = [
        re.compile(rf"^Failed to load resource: the server responded with a status of {s} ")
        for s in allow_status
    ]
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not any(p.match(message.text) for p in allowed):
            errors.append(message.text)

    context.on("console", on_console)
    context.on("weberror", lambda error: errors.append(str(error.error)))
    try:
        yield context
    finally:
        context.close()
    assert errors == [], errors  # CSP violations and script errors show up here


# --- what users do --------------------------------------------------------------------------


def sign_in(page: Page, base: str, name: str, password: str | None = None) -> None:
    """Fill in the sign-in form (the page must be /login, or it is opened)."""
    if "/login" not in page.url:
        page.goto(base + "/login")
    form = page.locator("form.login-form")
    form.locator("input[name=name]").fill(name)
    form.locator("input[name=password]").fill(password or USERS[name][1])
    form.locator("button[type=submit]").click()


def signed_in_page(context: BrowserContext, site: Site, name: str) -> Page:
    page = context.new_page()
    sign_in(page, site.base, name)
    expect(page.locator(".user-name")).to_have_text(name)
    return page


def upload(page: Page, site: Site, files: list[dict[str, Any]]) -> None:
    """Pick `files` in /manage's upload zone; wait until the job is done."""
    page.goto(site.base + "/manage")
    page.locator(".upload-form input[type=file][name=files]").set_input_files(files)
    progress = page.locator(".upload-progress")
    expect(progress).to_be_visible()
    expect(progress).to_have_attribute("data-state", "done", timeout=IDLE_SECONDS * 1000)
    expect(page.locator(".job-files tbody tr")).to_have_count(len(files))


def file_row(page: Page, name: str) -> Any:
    return page.locator(".job-files tbody tr", has=page.locator("td", has_text=name))


def uploaded_report(page: Page, site: Site) -> str:
    """Upload the report as an editor; its doc id."""
    upload(page, site, [DOCX_FILE])
    expect(file_row(page, REPORT)).to_have_class(has_class("job-file-indexed"))
    site.wait_idle()
    (hit,) = site.search(PHRASE)["hits"]
    doc_id: str = hit["doc_id"]
    return doc_id


def open_edit(page: Page, site: Site, doc_id: str) -> Any:
    """The report's page with its 更正信息 opened; the <details>."""
    page.goto(f"{site.base}/doc/{doc_id}")
    edit = page.locator("details.doc-edit")
    expect(edit.locator("form.correct-form")).to_be_hidden()
    edit.locator("summary", has_text="更正信息").click()
    expect(edit).to_have_attribute("open", "")
    expect(edit.locator("form.correct-form")).to_be_visible()
    return edit


def search_page(page: Page, site: Site, q: str) -> None:
    page.goto(f"{site.base}/search?q={quote(q)}&mode=phrase")


# --- scenarios ------------------------------------------------------------------------------


def test_sign_in_and_out(browser: Browser, tmp_path: Path):
    with office(tmp_path) as site, watched_context(browser, allow_status=(401,)) as context:
        page = context.new_page()
        page.goto(site.base + "/")
        expect(page.locator(".user-name")).to_have_count(0)
        page.locator(".signin-link").click()
        page.wait_for_url(re.compile(r"/login\?next=/$"))

        sign_in(page, site.base, "ed", "not the password")
        expect(page.locator(".login-error")).to_have_text(LOGIN_ERROR)
        expect(page.locator("input[name=name]")).to_have_value("ed")
        expect(page.locator("input[name=password]")).to_have_value("")
        sign_in(page, site.base, "nobody", USERS["ed"][1])
        expect(page.locator(".login-error")).to_have_text(LOGIN_ERROR)  # no hint who exists
        screenshot(page, "office-login-error")

        sign_in(page, site.base, "ed")
        page.wait_for_url(re.compile(r"/(search)?$"))
        expect(page.locator(".login-error")).to_have_count(0)
        expect(page.locator(".search-input")).to_be_visible()
        expect(page.locator(".user-name")).to_have_text("ed")
        nav = page.locator(".header-nav")
        expect(nav.get_by_role("link", name="文档管理")).to_be_visible()
        expect(nav.get_by_role("link", name="修改记录")).to_have_count(0)  # admins only
        nav.get_by_role("link", name="文档管理").click()
        page.wait_for_url("**/manage")

        nav.get_by_role("button", name="退出").click()
        page.wait_for_url(re.compile(r"/(search)?$"))
        expect(page.locator(".user-name")).to_have_count(0)
        expect(page.locator(".signin-link")).to_be_visible()
        expect(nav.get_by_role("link", name="文档管理")).to_have_count(0)
        page.goto(site.base + "/manage")  # signed out: editors' pages ask for a sign-in
        page.wait_for_url(re.compile(r"/login\?next=/manage$"))


def test_upload_shows_progress_and_each_files_fate(browser: Browser, tmp_path: Path):
    with office(tmp_path) as site, watched_context(browser) as context:  # no console errors
        page = signed_in_page(context, site, "ed")
        assert site.search(PHRASE)["total"] == 0
        upload(page, site, [DOCX_FILE, FAKE_PDF])

        docx_row = file_row(page, REPORT)
        expect(docx_row).to_have_class(has_class("job-file-indexed"))
        expect(docx_row.locator("td").nth(1)).to_have_text("已收录")
        pdf_row = file_row(page, "报告.pdf")
        expect(pdf_row).to_have_class(has_class("job-file-skipped"))
        expect(pdf_row.locator("td").nth(1)).to_have_text("已跳过")
        expect(pdf_row.locator("td").nth(2)).not_to_be_empty()  # why it was skipped
        expect(page.locator(".job-text")).to_contain_text("完成")
        bar = page.locator("progress.job-bar")
        assert bar.evaluate("bar => bar.value === bar.max && bar.max > 0")
        screenshot(page, "office-manage-upload", full_page=True)

        site.wait_idle()
        search_page(page, site, PHRASE)
        hit = page.locator(".hit")
        expect(hit).to_have_count(1)
        expect(hit.locator(".snippet mark")).to_have_text(PHRASE)
        expect(hit).to_contain_text("青山镇")

        # the same content again, under its own name and another: stored once
        upload(page, site, [DOCX_FILE, DOCX_FILE | {"name": "青山镇报告（副本）.docx"}])
        rows = page.locator(".job-files tbody tr")
        for n, sent in enumerate([DOCX_FILE["name"], "青山镇报告（副本）.docx"]):
            row = rows.nth(n)  # the name sent; the message names the file already held
            expect(row.locator("td").nth(0)).to_have_text(sent)
            expect(row).to_have_class(has_class("job-file-duplicate"))
            expect(row.locator("td").nth(1)).to_have_text("重复")
            expect(row.locator("td").nth(2)).to_contain_text(f"uploads/{REPORT}")
        page.reload()
        expect(page.locator("tr.job-row")).to_have_count(1)  # no job for duplicates
        assert site.search(PHRASE)["total"] == 1
        uploads = sorted(p.name for p in (site.config.corpus_dir / "uploads").iterdir())
        assert uploads == ["报告.pdf", REPORT]


def test_correction_shows_in_search_and_survives_a_rebuild(browser: Browser, tmp_path: Path):
    with office(tmp_path) as site, watched_context(browser) as context:
        page = signed_in_page(context, site, "ed")
        doc_id = uploaded_report(page, site)
        edit = open_edit(page, site, doc_id)
        town = edit.locator("form.correct-form input[name=town]")
        expect(town).to_have_value("青山镇")
        screenshot(page, "office-document-edit", full_page=True)

        town.fill("绿水镇")
        edit.get_by_role("button", name="保存更正").click()
        page.wait_for_url(f"**/doc/{doc_id}?job=*")
        expect(page.locator(".flash")).to_contain_text("已更正地名")
        site.wait_idle()

        search_page(page, site, PHRASE)
        hit = page.locator(".hit")
        expect(hit).to_have_count(1)
        expect(hit.locator(".meta-town")).to_have_text("绿水镇")
        assert hit.get_attribute("data-town") == "绿水镇"
        page.goto(f"{site.base}/doc/{doc_id}")
        expect(page.locator(".doc-meta")).to_contain_text("绿水镇")

        index_corpus(site.config, rebuild=True)  # a full build applies the correction too
        found = site.search(PHRASE, town="绿水镇")
        assert found["total"] == 1 and found["hits"][0]["doc_id"] == doc_id
        assert found["hits"][0]["town"] == "绿水镇"
        assert site.search(PHRASE, town="青山镇")["total"] == 0


def test_delete_to_the_trash_and_restore(browser: Browser, tmp_path: Path):
    with office(tmp_path) as site, watched_context(browser, allow_status=(410,)) as context:
        page = signed_in_page(context, site, "ed")
        doc_id = uploaded_report(page, site)
        edit = open_edit(page, site, doc_id)
        remove = edit.locator("form.remove-form")
        remove.get_by_label("确认删除").check()
        remove.get_by_role("button", name="删除这份报告").click()
        page.wait_for_url("**/manage?job=*")
        expect(page.locator(".flash")).to_contain_text("回收站")
        site.wait_idle()

        response = page.goto(f"{site.base}/doc/{doc_id}")
        assert response is not None and response.status == 410
        expect(page.locator("main")).to_contain_text("由 ed 删除")
        assert site.search(PHRASE)["total"] == 0
        search_page(page, site, PHRASE)
        expect(page.locator(".hit")).to_have_count(0)
        assert not (site.config.corpus_dir / "uploads" / REPORT).exists()

        page.goto(site.base + "/manage")
        row = page.locator("tr.trash-row", has_text=f"uploads/{REPORT}")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("青山镇2024年政府工作报告")
        row.locator(".restore-button").click()
        page.wait_for_url("**/manage?job=*")
        expect(page.locator(".flash")).to_contain_text("已恢复")
        expect(page.locator("tr.trash-row")).to_have_count(0)
        site.wait_idle()

        search_page(page, site, PHRASE)
        expect(page.locator(".hit")).to_have_count(1)
        page.locator(".hit-title a").click()
        page.wait_for_url(f"**/doc/{doc_id}?*")
        expect(page.locator(".doc-body")).to_contain_text(PHRASE)

        # the permalink itself answers again, in the same browser that saw the 410 (an
        # error page is sent no-store, so the browser asks the server again)
        response = page.goto(f"{site.base}/doc/{doc_id}")
        assert response is not None and response.status == 200
        expect(page.locator(".doc-body")).to_contain_text(PHRASE)


def test_a_gone_permalink_is_not_cached_for_ever(browser: Browser, tmp_path: Path):
    with office(tmp_path) as site, watched_context(browser, allow_status=(410,)) as context:
        page = signed_in_page(context, site, "ed")
        doc_id = site.search("三清两建")["hits"][0]["doc_id"]
        edit = open_edit(page, site, doc_id)
        edit.get_by_label("确认删除").check()
        edit.get_by_role("button", name="删除这份报告").click()
        page.wait_for_url("**/manage?job=*")
        response = page.goto(f"{site.base}/doc/{doc_id}")
        assert response is not None and response.status == 410
        cache = response.headers.get("cache-control", "")
        assert "no-store" in cache, cache


def test_a_reader_cannot_edit(browser: Browser, tmp_path: Path):
    with office(tmp_path) as site:
        with watched_context(browser, allow_status=(403,)) as context:
            page = signed_in_page(context, site, "re")
            nav = page.locator(".header-nav")
            expect(nav.get_by_role("link", name="文档管理")).to_have_count(0)
            expect(nav.get_by_role("link", name="修改记录")).to_have_count(0)

            search_page(page, site, "三清两建")
            page.locator(".hit-title a").first.click()
            page.wait_for_url("**/doc/**")
            expect(page.locator(".doc-body")).to_be_visible()
            expect(page.locator("details.doc-edit")).to_have_count(0)
            expect(page.get_by_text("更正信息")).to_have_count(0)
            doc_id = page.url.split("/doc/")[1].split("?")[0]

            response = page.goto(site.base + "/manage")
            assert response is not None and response.status == 403
            token = page.locator("meta[name=csrf-token]").get_attribute("content") or ""
            patch = page.request.patch(
                f"{site.base}/api/doc/{doc_id}",
                data={"town": "绿水镇"},
                headers={"X-CSRF-Token": token, "Accept": "application/json"},
            )
            assert patch.status == 403  # signed in, the right token, the wrong role

        with watched_context(browser) as context:  # an admin sees both links
            page = signed_in_page(context, site, "ad")
            nav = page.locator(".header-nav")
            expect(nav.get_by_role("link", name="文档管理")).to_be_visible()
            nav.get_by_role("link", name="修改记录").click()
            page.wait_for_url("**/manage/audit")


def test_sign_in_first_when_reading_is_not_open(browser: Browser, tmp_path: Path):
    with (
        office(tmp_path, host="0.0.0.0") as site,
        watched_context(browser, allow_status=(401,)) as context,
    ):
        with pytest.raises(urllib.error.HTTPError) as refused:
            site.search("三清两建")
        assert refused.value.code == 401

        page = context.new_page()
        page.goto(site.base + "/")
        page.wait_for_url(re.compile(r"/login\?next=/$"))
        expect(page.locator("form.login-form")).to_be_visible()

        page.goto(f"{site.base}/search?q={quote('三清两建')}&mode=phrase")
        page.wait_for_url(re.compile(r"/login\?next=/search\?q"))
        sign_in(page, site.base, "re", "wrong password")
        expect(page.locator(".login-error")).to_have_text(LOGIN_ERROR)
        sign_in(page, site.base, "re")  # the page asked for, after a failed try too
        page.wait_for_url("**/search?q=*&mode=phrase")
        expect(page.locator(".user-name")).to_have_text("re")
        expect(page.locator(".total")).to_have_text("5")

        page.goto(site.base + "/")
        expect(page.locator(".search-input")).to_be_visible()
        assert "/login" not in page.url
