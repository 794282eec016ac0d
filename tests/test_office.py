"""The office service through HTTP: roles, CSRF, sign-in, uploads, corrections, trash.

Each test builds its own corpus, index and office database in a temporary folder
(office_fixture.py); the background job thread runs the builds as the server would.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from office_fixture import CORPUS, csrf, make_docx, make_office
from werkzeug.test import EnvironBuilder

from searchapp.build import index_corpus
from searchapp.cli import main
from searchapp.office import accounts, db, library, overrides

PHRASE = "蓝莓产业示范园"
REPORT = make_docx("青山镇2024年政府工作报告", f"过去一年，青山镇建成{PHRASE}，带动农户增收。")


def upload(office, client, files, headers=None):
    """POST the files as multipart `files`; the request's body is closed even when the
    server refuses it unread (the test client spools a large body to a temporary file)."""
    builder = EnvironBuilder(
        path="/api/documents",
        method="POST",
        data={"files": [(io.BytesIO(content), name) for name, content in files]},
        headers=office.headers(client) if headers is None else headers,
        content_type="multipart/form-data",
    )
    environ = builder.get_environ()
    try:
        return client.open(environ)
    finally:
        environ["wsgi.input"].close()
        builder.close()


def uploaded_doc(office) -> str:
    client = office.client("ed")
    response = upload(office, client, [("青山镇.docx", REPORT)])
    assert response.status_code == 202, response.text
    office.wait()
    hits = office.search(PHRASE)["hits"]
    assert len(hits) == 1
    return hits[0]["doc_id"]


# --- roles and credentials ------------------------------------------------------------------


def test_every_write_is_refused_without_credentials_and_to_a_reader(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = office.search("三清两建")["hits"][0]["doc_id"]
    anonymous = office.app.test_client()
    reader = office.client("re")
    with db.connect(office.config.data_folder) as conn:
        token = accounts.new_token(conn, "re")
    writes = [
        ("post", "/api/documents"),
        ("patch", f"/api/doc/{doc_id}"),
        ("delete", f"/api/doc/{doc_id}"),
        ("post", f"/doc/{doc_id}/correct"),
        ("post", f"/doc/{doc_id}/remove"),
        ("post", "/manage/upload"),
        ("post", "/manage/trash/1/restore"),
        ("post", "/manage/audit/1/revert"),
    ]
    for method, path in writes:
        response = getattr(anonymous, method)(path, json={"town": "x"})
        assert response.status_code == 401 if path.startswith("/api/") else (401, 302), path
        response = getattr(reader, method)(path, json={"town": "x"}, headers=office.headers(reader))
        assert response.status_code == 403, path
        auth = {"Authorization": f"Bearer {token}"}
        response = getattr(anonymous, method)(path, json={"town": "x"}, headers=auth)
        assert response.status_code == 403, path
    assert anonymous.get("/api/jobs/1").status_code == 401
    assert reader.get("/manage").status_code == 403
    assert office.search("三清两建")["hits"][0]["town"] == "青山镇"  # nothing changed
    assert not (office.config.corpus_dir / "uploads").exists()


def test_a_bad_or_revoked_token_is_401(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    client = office.app.test_client()
    with db.connect(office.config.data_folder) as conn:
        token = accounts.new_token(conn, "ed")
        assert (
            client.get("/api/jobs/1", headers={"Authorization": f"Bearer {token}"}).status_code
            == 404
        )
        accounts.revoke_token(conn, accounts.list_tokens(conn, "ed")[0]["id"])  # type: ignore[arg-type]
    for sent in (token, "sa_forged", "x" * 5000):
        response = client.get("/api/jobs/1", headers={"Authorization": f"Bearer {sent}"})
        assert response.status_code == 401
    with db.connect(office.config.data_folder) as conn:
        stored = conn.execute("SELECT token_hash FROM tokens").fetchall()
    assert all(token not in row[0] for row in stored)


def test_writes_with_a_session_need_its_csrf_token(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = office.search("三清两建")["hits"][0]["doc_id"]
    editor = office.client("ed")
    for headers in ({}, {"X-CSRF-Token": "forged"}):
        response = editor.patch(f"/api/doc/{doc_id}", json={"town": "x"}, headers=headers)
        assert response.status_code == 403
        response = editor.post(f"/doc/{doc_id}/correct", data={"town": "x"}, headers=headers)
        assert response.status_code == 403
    # another session's token is not this session's
    other = office.client("ed")
    response = editor.patch(f"/api/doc/{doc_id}", json={"town": "x"}, headers=office.headers(other))
    assert response.status_code == 403
    # the sign-in form itself is checked too
    response = office.app.test_client().post("/login", data={"name": "ed", "password": "x"})
    assert response.status_code == 403
    assert office.search("三清两建")["hits"][0]["town"] == "青山镇"


def test_sign_in_tells_nothing_about_names_and_is_rate_limited(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    client = office.app.test_client()
    token = csrf(client.get("/login").text)
    answers = []
    for name in ("ed", "nobody"):
        response = client.post(
            "/login", data={"name": name, "password": "wrong!", "csrf_token": token}
        )
        page = response.text.replace(f'value="{name}"', 'value=""')
        answers.append((response.status_code, page))
    assert answers[0] == answers[1] and answers[0][0] == 401
    for _ in range(4):
        client.post("/login", data={"name": "ed", "password": "wrong!", "csrf_token": token})
    form = {"name": "ed", "password": "editor password 1", "csrf_token": token}
    response = client.post("/login", data=form)
    assert response.status_code == 429  # even the right password waits now
    assert office.app.test_client().get("/manage").status_code == 302  # still not signed in


def test_sessions_end_on_sign_out_and_on_a_new_password(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    editor = office.client("ed")
    assert editor.get("/manage").status_code == 200
    cookie = editor.get_cookie("searchapp_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"
    with db.connect(office.config.data_folder) as conn:
        accounts.set_password(conn, "ed", "a new long password")
    assert editor.get("/manage").status_code == 302
    editor = office.client("ed") if False else office.app.test_client()
    token = csrf(editor.get("/login").text)
    editor.post(
        "/login", data={"name": "ed", "password": "a new long password", "csrf_token": token}
    )
    assert editor.get("/manage").status_code == 200
    editor.post("/logout", data={"csrf_token": csrf(editor.get("/manage").text)})
    assert editor.get("/manage").status_code == 302


def test_login_goes_back_only_to_this_site(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    client = office.app.test_client()
    token = csrf(client.get("/login").text)
    for target, expected in (
        ("/trend?q=x", "/trend?q=x"),
        ("//evil.example", "/search"),
        ("https://evil.example/", "/search"),
    ):
        form = {"name": "re", "password": "reader password 1", "csrf_token": token, "next": target}
        response = client.post("/login", data=form)
        assert response.headers["Location"] == expected
        token = csrf(client.get("/manage").text if False else client.get("/login").text)


def test_reading_needs_a_sign_in_off_loopback(tmp_path: Path):
    office = make_office(tmp_path, CORPUS, host="0.0.0.0")
    anonymous = office.app.test_client()
    response = anonymous.get("/search?q=三清两建")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login?next=")
    assert anonymous.get("/api/search?q=三清两建").status_code == 401
    assert anonymous.get("/healthz").status_code == 200
    reader = office.client("re")
    assert reader.get("/api/search?q=三清两建").json["total"] == 1


# --- uploads ------------------------------------------------------------------------------


def test_an_uploaded_docx_is_found_and_the_same_content_is_not_stored_twice(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    editor = office.client("ed")
    response = upload(office, editor, [("青山镇.docx", REPORT), ("假的.pdf", b"not a pdf at all")])
    assert response.status_code == 202
    job = response.json["job"]
    office.wait()
    state = editor.get(f"/api/jobs/{job}").json
    assert state["state"] == "done"
    fates = {f["name"]: f for f in state["files"]}
    assert fates["青山镇.docx"]["status"] == "indexed" and fates["青山镇.docx"]["paragraphs"] >= 1
    assert fates["假的.pdf"]["status"] == "skipped" and fates["假的.pdf"]["reason"] == "corrupt"
    assert office.search(PHRASE)["total"] == 1
    again = upload(office, editor, [("again.docx", REPORT)])
    assert again.status_code == 200 and again.json["job"] is None
    assert again.json["files"][0]["status"] == "duplicate"
    assert again.json["files"][0]["path"] == "uploads/青山镇.docx"
    assert sorted(p.name for p in (office.config.corpus_dir / "uploads").iterdir()) == [
        "假的.pdf",
        "青山镇.docx",
    ]


@pytest.mark.parametrize(
    "name",
    [
        "../../escape.txt",
        "/etc/passwd.txt",
        "..\\..\\win.txt",
        ".hidden.txt",
        "a/../../b.txt",
        "\x00nul.txt",
        "con<>:|?*.txt",
        "..",
        "报告 2024.TXT",
    ],
)
def test_upload_names_never_leave_the_uploads_folder(tmp_path: Path, name: str):
    office = make_office(tmp_path, CORPUS)
    editor = office.client("ed")
    response = upload(office, editor, [(name, f"某镇报告\n{name}独有的一句话。\n".encode())])
    if Path(name).suffix.lower() != ".txt":
        assert response.json["files"][0]["status"] == "rejected"
        return
    saved = response.json["files"][0]
    assert saved["status"] == "saved", saved
    path = (office.config.corpus_dir / saved["path"]).resolve()
    assert path.parent == (office.config.corpus_dir / "uploads").resolve()
    assert not path.name.startswith(".") and path.is_file()
    office.wait()


def test_a_name_taken_is_never_overwritten(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    editor = office.client("ed")
    upload(office, editor, [("同名.txt", "甲镇报告\n第一份的内容。\n".encode())])
    second = upload(office, editor, [("同名.txt", "乙镇报告\n第二份的内容。\n".encode())])
    assert second.json["files"][0]["path"] == "uploads/同名-2.txt"
    uploads = office.config.corpus_dir / "uploads"
    assert "第一份" in (uploads / "同名.txt").read_text("utf-8")
    office.wait()


def test_oversized_and_too_many_files_are_413_and_nothing_is_stored(tmp_path: Path):
    office = make_office(tmp_path, CORPUS, max_upload_mb=1, max_upload_files=3)
    editor = office.client("ed")
    big = upload(
        office, editor, [("small.txt", "小文件\n内容。\n".encode()), ("big.txt", b"x" * (2 << 20))]
    )
    assert big.status_code == 413 and "big.txt" in big.json["error"]
    many = upload(
        office, editor, [(f"{n}.txt", f"第{n}份\n内容{n}。\n".encode()) for n in range(4)]
    )
    assert many.status_code == 413 and "3" in many.json["error"]
    huge = upload(office, editor, [(f"{n}.txt", b"y" * (900 << 10)) for n in range(5)])
    assert huge.status_code == 413
    assert not (office.config.corpus_dir / "uploads").exists() or not any(
        (office.config.corpus_dir / "uploads").iterdir()
    )
    page = editor.post("/manage/upload", data={"csrf_token": csrf(editor.get("/manage").text)})
    assert page.status_code == 400  # no file: a message, not a 500


def test_a_docx_zip_bomb_is_skipped_with_its_reason(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(io.BytesIO(REPORT)) as real:
            for item in real.infolist():
                archive.writestr(item, real.read(item))
        archive.writestr("word/media/zeros.bin", b"\0" * (300 << 20))
    editor = office.client("ed")
    response = upload(office, editor, [("bomb.docx", bomb.getvalue())])
    assert len(bomb.getvalue()) < 1 << 20
    office.wait()
    fate = editor.get(f"/api/jobs/{response.json['job']}").json["files"][0]
    assert fate["status"] == "skipped" and fate["reason"] == "corrupt"
    assert "zip bomb" in fate["message"]
    assert office.search("三清两建")["total"] == 1  # the rest of the corpus is served


def test_two_editors_uploading_at_once_lose_nothing(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    clients = [office.client("ed"), office.client("ad")]
    headers = [office.headers(c) for c in clients]
    results: list[int] = []

    def send(n: int) -> None:
        for k in range(3):
            text = f"第{n}{k}镇报告\n独有词语甲{n}乙{k}丙出现在这里。\n".encode()
            response = upload(office, clients[n], [(f"r{n}{k}.txt", text)], headers[n])
            results.append(response.status_code)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    office.wait()
    assert results == [202] * 6
    for n in range(2):
        for k in range(3):
            assert office.search(f"独有词语甲{n}乙{k}丙")["total"] == 1, (n, k)


# --- corrections --------------------------------------------------------------------------


def test_a_correction_holds_through_incremental_and_full_rebuilds(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = uploaded_doc(office)
    editor = office.client("ed")
    response = editor.patch(
        f"/api/doc/{doc_id}",
        json={"town": "绿水镇", "type": "乡镇政府工作报告", "year": 2025},
        headers=office.headers(editor),
    )
    assert response.status_code == 200 and set(response.json["changed"]) >= {"town", "year"}
    office.wait()
    hit = office.search(PHRASE, town="绿水镇")["hits"][0]
    assert hit["town"] == "绿水镇" and hit["year"] == 2025
    index_corpus(office.config, rebuild=True)
    assert office.search(PHRASE, town="绿水镇")["total"] == 1
    assert office.search(PHRASE, town="青山镇")["total"] == 0
    # a renamed file keeps its correction (keyed by content, not path)
    uploads = office.config.corpus_dir / "uploads"
    (uploads / "青山镇.docx").rename(uploads / "renamed.docx")
    index_corpus(office.config)
    assert office.search(PHRASE)["hits"][0]["town"] == "绿水镇"
    with db.connect(office.config.data_folder) as conn:
        trail = [r for r in db.audit_trail(conn) if r["action"] == "correct"]
    town = next(r for r in trail if r["field"] == "town")
    assert (town["user"], town["old"], town["new"]) == ("ed", "青山镇", "绿水镇")


def test_an_incremental_build_rereads_only_the_corrected_file(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = uploaded_doc(office)
    editor = office.client("ed")
    editor.patch(f"/api/doc/{doc_id}", json={"town": "绿水镇"}, headers=office.headers(editor))
    office.wait()
    report = index_corpus(office.config)
    assert report.mode == "unchanged"
    with db.connect(office.config.data_folder) as conn:
        conn.execute("UPDATE overrides SET value = '白云镇'")
    report = index_corpus(office.config)
    assert report.updated == ["uploads/青山镇.docx"] and report.added == []


def test_bad_corrections_get_a_message(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = office.search("三清两建")["hits"][0]["doc_id"]
    editor = office.client("ed")
    headers = office.headers(editor)
    for body in (
        {"colour": "red"},
        {"year": "二〇二四"},
        {"date": "2024-13-45"},
        {"town": ""},
        {"town": "镇" * 300},
        {"town": ["a"]},
        [],
        {},
    ):
        response = editor.patch(f"/api/doc/{doc_id}", json=body, headers=headers)
        assert response.status_code == 400 and response.json["error"], body
    response = editor.patch(
        f"/api/doc/{doc_id}", data="{not json", headers=headers, content_type="application/json"
    )
    assert response.status_code == 400
    assert (
        editor.patch("/api/doc/nosuchdoc", json={"town": "x"}, headers=headers).status_code == 404
    )


def test_an_admin_reverts_a_correction(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = office.search("三清两建")["hits"][0]["doc_id"]
    editor = office.client("ed")
    editor.patch(f"/api/doc/{doc_id}", json={"town": "绿水镇"}, headers=office.headers(editor))
    editor.patch(f"/api/doc/{doc_id}", json={"town": "白云镇"}, headers=office.headers(editor))
    office.wait()
    admin = office.client("ad")
    page = admin.get("/manage/audit")
    assert page.status_code == 200 and "白云镇" in page.text
    assert editor.get("/manage/audit").status_code == 403
    with db.connect(office.config.data_folder) as conn:
        last = max(r["id"] for r in db.audit_trail(conn) if r["action"] == "correct")
        first = min(r["id"] for r in db.audit_trail(conn) if r["action"] == "correct")
    token = csrf(page.text)
    admin.post(f"/manage/audit/{last}/revert", data={"csrf_token": token})
    office.wait()
    assert office.search("三清两建")["hits"][0]["town"] == "绿水镇"
    admin.post(f"/manage/audit/{first}/revert", data={"csrf_token": token})
    office.wait()
    assert office.search("三清两建")["hits"][0]["town"] == "青山镇"  # as detected
    with db.connect(office.config.data_folder) as conn:
        assert overrides.entries(conn) == {}


# --- remove and restore -------------------------------------------------------------------


def test_a_removed_report_answers_410_until_it_is_restored(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = uploaded_doc(office)
    editor = office.client("ed")
    response = editor.delete(f"/api/doc/{doc_id}", headers=office.headers(editor))
    assert response.status_code == 200 and response.json["removed"] == [doc_id]
    for path in (f"/doc/{doc_id}", f"/api/doc/{doc_id}", f"/doc/{doc_id}/source"):
        answer = office.app.test_client().get(path)
        assert answer.status_code == 410, path
    assert "ed" in office.app.test_client().get(f"/doc/{doc_id}").text
    office.wait()
    assert office.search(PHRASE)["total"] == 0
    assert not (office.config.corpus_dir / "uploads" / "青山镇.docx").exists()
    with db.connect(office.config.data_folder) as conn:
        trash = library.trash_list(conn)
    assert len(trash) == 1 and trash[0]["source"] == "uploads/青山镇.docx"
    token = csrf(editor.get("/manage").text)
    editor.post(f"/manage/trash/{trash[0]['id']}/restore", data={"csrf_token": token})
    office.wait()
    assert office.search(PHRASE)["hits"][0]["doc_id"] == doc_id  # the same permalink
    assert office.app.test_client().get(f"/doc/{doc_id}").status_code == 200


def test_the_remove_form_needs_its_confirmation(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    doc_id = office.search("三清两建")["hits"][0]["doc_id"]
    editor = office.client("ed")
    token = csrf(editor.get(f"/doc/{doc_id}").text)
    editor.post(f"/doc/{doc_id}/remove", data={"csrf_token": token})
    assert editor.get(f"/doc/{doc_id}").status_code == 200
    editor.post(f"/doc/{doc_id}/remove", data={"csrf_token": token, "confirm": "yes"})
    assert editor.get(f"/doc/{doc_id}").status_code == 410


# --- the command line ---------------------------------------------------------------------


def test_users_commands(tmp_path: Path):
    runner = CliRunner()
    data = ["--data", str(tmp_path / "data")]
    result = runner.invoke(
        main,
        ["users", "add", "zhang", "--role", "editor", "--password-stdin", *data],
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        main, ["users", "add", "zhang", "--password-stdin", *data], input="another one\n"
    )
    assert result.exit_code != 0 and "已存在" in result.output
    short = runner.invoke(main, ["users", "add", "li", "--password-stdin", *data], input="short\n")
    assert short.exit_code != 0
    token = runner.invoke(main, ["users", "token", "zhang", *data]).output.strip()
    assert token.startswith("sa_")
    listed = json.loads(runner.invoke(main, ["users", "list", "--json", *data]).output)
    assert listed == [
        {"name": "zhang", "role": "editor", "created_at": listed[0]["created_at"], "tokens": 1}
    ]
    tokens = runner.invoke(main, ["users", "tokens", *data]).output
    assert token not in tokens and token[:9] in tokens
    assert runner.invoke(main, ["users", "revoke", "1", *data]).exit_code == 0
    assert (
        runner.invoke(
            main,
            ["users", "passwd", "zhang", "--password-stdin", *data],
            input="a newer password\n",
        ).exit_code
        == 0
    )
    assert runner.invoke(main, ["users", "remove", "zhang", *data]).exit_code == 0
    assert runner.invoke(main, ["users", "remove", "zhang", *data]).exit_code != 0
    with db.connect(tmp_path / "data") as conn:
        stored = conn.execute("SELECT * FROM users").fetchall()
        assert stored == []
        assert accounts.authenticate(conn, "zhang", "a newer password") is None


def test_the_openapi_document_names_the_office_endpoints(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    spec = office.app.test_client().get("/api/openapi.json").json
    assert set(spec["paths"]["/api/doc/{doc_id}"]) == {"get", "patch", "delete"}
    assert "post" in spec["paths"]["/api/documents"]
    assert "202" in spec["paths"]["/api/documents"]["post"]["responses"]
    assert "get" in spec["paths"]["/api/jobs/{job_id}"]
    assert {"bearer", "session"} <= set(spec["components"]["securitySchemes"])


@pytest.mark.solr
def test_the_solr_backend_applies_corrections_and_removals(tmp_path: Path, solr_cluster):
    from solr_fixture import new_collection

    office = make_office(
        tmp_path,
        CORPUS,
        backend="solr",
        solr_url=solr_cluster.solr_url,
        solr_collection=new_collection("office"),
    )
    doc_id = uploaded_doc(office)
    editor = office.client("ed")
    response = editor.patch(
        f"/api/doc/{doc_id}", json={"town": "绿水镇"}, headers=office.headers(editor)
    )
    assert response.status_code == 200
    office.wait()
    assert office.search(PHRASE, town="绿水镇")["total"] == 1
    index_corpus(office.config, rebuild=True)
    assert office.search(PHRASE, town="绿水镇")["total"] == 1
    assert office.search(PHRASE, town="青山镇")["total"] == 0
    editor.delete(f"/api/doc/{doc_id}", headers=office.headers(editor))
    office.wait()
    assert office.search(PHRASE)["total"] == 0
    assert office.app.test_client().get(f"/doc/{doc_id}").status_code == 410


def test_jobs_a_stopped_server_left_run_at_the_next_start(tmp_path: Path):
    from searchapp.office import jobs
    from searchapp.web import create_app

    office = make_office(tmp_path, CORPUS)
    (office.config.corpus_dir / "新的.txt").write_text(
        "白云镇报告\n独有的新句子在这里。\n", "utf-8"
    )
    with db.connect(office.config.data_folder) as conn:
        queued = jobs.queue(conn, "upload", "ed", [{"name": "新的.txt", "path": "新的.txt"}])
        running = jobs.queue(conn, "upload", "ed", [])
        conn.execute("UPDATE jobs SET state = 'running' WHERE id = ?", (running,))
    app = create_app(office.config)  # a restart
    assert app.extensions["searchapp-office"].runner.wait_idle(60)
    with db.connect(office.config.data_folder) as conn:
        assert jobs.get_job(conn, queued)["files"][0]["status"] == "indexed"  # type: ignore[index]
        interrupted = jobs.get_job(conn, running)
    assert interrupted is not None and interrupted["state"] == "failed" and interrupted["error"]
    assert office.search("独有的新句子")["total"] == 1


def test_an_anonymous_search_sets_no_cookie(tmp_path: Path):
    office = make_office(tmp_path, CORPUS)
    client = office.app.test_client()
    for path in ("/", "/search?q=三清两建", "/api/search?q=三清两建", "/status"):
        response = client.get(path)
        assert response.status_code == 200 and "Set-Cookie" not in response.headers, path
    assert "Set-Cookie" in client.get("/login").headers  # its form's CSRF token
