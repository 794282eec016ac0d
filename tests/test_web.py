"""The web front end through Flask's test client: pages, JSON twins, errors, safety."""

from __future__ import annotations

import importlib
import json
import re
import shutil
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from searchapp.config import Config
from searchapp.embedded import build_index
from searchapp.highlight import term_spans
from searchapp.results import DocumentView
from searchapp.web import create_app
from searchapp.web.documents import source_path
from searchapp.web.links import page_window
from searchapp.web.matches import cite_head, quote_for

SEEDS = Path(__file__).resolve().parent.parent / "seeds"

XSS_SCRIPT = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'
XSS_TEMPLATE = "{{ 7*191191 }}"
XSS_EVALUATED = str(7 * 191191)  # not "49": a page showing the time 16:49 held that


@pytest.fixture(scope="module")
def app(seed_config: Config) -> Flask:
    return create_app(seed_config, {"TESTING": True})


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


def get_html(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    return response.get_data(as_text=True)


def get_json(client: FlaskClient, url: str, status: int = 200) -> Any:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/json"
    return response.get_json()


class Elements(HTMLParser):
    """Every start tag with its attributes, to check a page without a browser."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.tags
            if t == tag and all(a.get(k.rstrip("_")) == v for k, v in attrs.items())
        ]

    def with_class(self, name: str) -> list[tuple[str, dict[str, str]]]:
        return [(t, a) for t, a in self.tags if name in a.get("class", "").split()]


# --- the application ------------------------------------------------------------------------


def test_factory_never_debug_and_uses_the_packaged_templates(seed_config: Config):
    app = create_app(seed_config, {"DEBUG": True, "TESTING": True})
    assert app.debug is False
    # the installed package searchapp.templates (the checkout's templates/ when editable)
    folder = Path(app.template_folder or "")
    assert folder == Path(importlib.import_module("searchapp.templates").__file__ or "").parent
    assert (folder / "base.html").is_file()
    assert app.static_folder and (Path(app.static_folder) / "app.css").is_file()
    assert set(app.blueprints) == {
        "search",
        "documents",
        "similar",
        "status",
        "api",
        "export",
        "trend",
        "auth",
        "manage",
    }


def test_home_page_is_chinese_self_contained_and_helpful(client: FlaskClient):
    html = get_html(client, "/")
    assert '<html lang="zh-CN">' in html
    for example in ("三清两建", '"乡村振兴"', "town:潭头镇"):
        assert example in html
    page = Elements(html)
    radios = page.find("input", type="radio", name="mode")
    assert [r["value"] for r in radios] == ["keyword", "phrase", "fuzzy"]
    for label in ("关键词", "精确短语", "模糊"):
        assert label in html
    resources = [a.get("src") or a.get("href") for t, a in page.tags if t in {"script", "link"}]
    assert resources and all(r.startswith("/static/") for r in resources)


def test_static_assets_have_no_external_references(app: Flask, client: FlaskClient):
    for name, mimetype in (("app.css", "text/css"), ("app.js", "text/javascript")):
        response = client.get(f"/static/{name}")
        body = response.get_data()
        response.close()
        assert response.status_code == 200 and response.mimetype == mimetype
        assert body == (Path(app.static_folder or "") / name).read_bytes()
        assert not re.search(r"https?://|@import|url\(", body.decode("utf-8")), name
    with client.get("/static/app.css") as response:
        assert "mark {" in response.get_data(as_text=True)  # the highlight style is served


def test_security_headers(client: FlaskClient):
    response = client.get("/")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- search ---------------------------------------------------------------------------------


def test_search_shows_highlighted_hits_with_metadata(client: FlaskClient):
    html = get_html(client, "/search?q=三清两建")
    assert '<strong class="total">5</strong>' in html
    page = Elements(html)
    hits = page.with_class("hit")
    assert len(hits) == 5
    assert html.count("<mark>三清两建</mark>") >= 5
    assert "潭头镇" in html and "乡村振兴工作报告" in html
    assert page.with_class("section-path")
    first = hits[0][1]
    assert re.fullmatch(r"http://localhost/doc/\w+#p\w+", first["data-permalink"])
    assert first["data-cite"].startswith("《")
    assert "三清两建" in first["data-cite"] and first["data-cite"].endswith(first["data-permalink"])
    links = [a["href"] for a in page.find("a") if a.get("href", "").startswith("/doc/")]
    assert links and all("q=" in href and "#p" in href for href in links)


def test_facets_narrow_and_chips_remove(client: FlaskClient):
    page = Elements(get_html(client, "/search?q=乡村振兴"))
    towns = page.find("a", **{"data-facet": "town"})
    assert len(towns) > 1
    tantou = next(a for a in towns if a["data-value"] == "潭头镇")
    narrowed = get_html(client, tantou["href"])
    assert '<strong class="total">11</strong>' in narrowed
    narrowed_page = Elements(narrowed)
    assert all(h["data-cite"].count("潭头镇") for _, h in narrowed_page.with_class("hit"))
    selected = [
        a for a in narrowed_page.find("a", **{"data-facet": "town"}) if a["data-value"] == "潭头镇"
    ]
    assert "is-selected" in selected[0]["class"]
    # the other towns stay visible, with their counts, to be added as alternatives
    assert len(narrowed_page.find("a", **{"data-facet": "town"})) == len(towns)
    chips = [a for t, a in narrowed_page.with_class("chip")]
    assert len(chips) == 1
    assert "town=" not in chips[0]["href"]
    assert '<strong class="total">38</strong>' in get_html(client, chips[0]["href"])


def test_filters_combine(client: FlaskClient):
    html = get_html(client, "/search?q=乡村振兴&town=潭头镇&year=2022")
    assert '<strong class="total">8</strong>' in html
    page = Elements(html)
    assert len(page.with_class("chip")) == 2
    assert page.with_class("chip-clear")
    api = get_json(client, "/api/search?q=乡村振兴&town=潭头镇&year=2022")
    assert api["total"] == 8
    assert api["filters"] == {"town": ["潭头镇"], "year": ["2022"]}


def test_modes(client: FlaskClient):
    phrase = get_json(client, "/api/search?q=三清两建&mode=phrase")
    assert phrase["mode"] == "phrase" and phrase["total"] == 5
    fuzzy_html = get_html(client, "/search?q=三清两见&mode=fuzzy")
    assert "相似度" in fuzzy_html and "<mark>三清两建</mark>" in fuzzy_html
    assert Elements(fuzzy_html).find("input", type="radio", value="fuzzy", checked="")
    fuzzy = get_json(client, "/api/search?q=三清两见&mode=fuzzy")
    phrase_keys = {(h["doc_id"], h["para_id"]) for h in phrase["hits"]}
    assert phrase_keys <= {(h["doc_id"], h["para_id"]) for h in fuzzy["hits"]}


def test_pagination_and_clamping(client: FlaskClient):
    first = get_json(client, "/api/search?q=乡村振兴&size=10")
    assert first["pages"] == 4
    second = get_json(client, "/api/search?q=乡村振兴&size=10&page=2")
    assert {h["para_id"] for h in first["hits"]}.isdisjoint(h["para_id"] for h in second["hits"])
    html = get_html(client, "/search?q=乡村振兴&page=2")
    assert 'aria-current="page">2</span>' in html
    assert 'rel="prev"' in html and 'rel="next"' in html
    last = get_html(client, "/search?q=乡村振兴&page=999999")
    assert 'aria-current="page">4</span>' in last
    assert 'aria-current="page">1</span>' in get_html(client, "/search?q=乡村振兴&page=-3")
    big = get_json(client, "/api/search?q=乡村振兴&size=100000")
    assert big["page_size"] == 100 and len(big["hits"]) == 38


def test_page_window():
    assert page_window(1, 1) == [1]
    assert page_window(5, 20) == [1, None, 3, 4, 5, 6, 7, None, 20]
    assert page_window(2, 4) == [1, 2, 3, 4]


def test_by_town_view(client: FlaskClient):
    api = get_json(client, "/api/search?q=乡村振兴")
    html = get_html(client, "/search?q=乡村振兴&view=towns")
    page = Elements(html)
    groups = page.with_class("town-group")
    assert [a["data-town"] for _, a in groups] == list(api["facets"]["town"])
    for town, count in api["facets"]["town"].items():
        assert f'<h2 class="town-name">{town}</h2>' in html
        assert f'<span class="town-count">{count} 段</span>' in html
    assert html.count('<details class="town-more">') == sum(
        1 for n in api["facets"]["town"].values() if n > 1
    )
    # the best paragraph of each town comes first
    best = api["hits"][0]
    assert html.index(best["para_id"]) < html.index("town-more")


def test_by_town_view_with_a_town_typed_in_the_query(client: FlaskClient):
    html = get_html(client, "/search?q=乡村振兴+town:潭头镇+town:平湖镇&view=towns")
    page = Elements(html)
    assert [a["data-town"] for _, a in page.with_class("town-group")] == ["潭头镇", "平湖镇"]


def test_zero_results_say_what_was_searched_and_how_to_widen(client: FlaskClient):
    html = get_html(client, "/search?q=量子纠缠&mode=phrase&town=潭头镇")
    assert "没有找到匹配的段落" in html
    assert "量子纠缠" in html and "潭头镇" in html and "精确短语" in html
    page = Elements(html)
    widen = [a["href"] for a in page.find("a") if "q=" in a.get("href", "")]
    assert any("mode=fuzzy" in h for h in widen)
    assert any("town=" not in h and "mode=phrase" in h for h in widen)


def test_suggestions_link_to_a_new_search(client: FlaskClient):
    api = get_json(client, "/api/search?q=三清两见")
    assert api["suggestions"], "the engine proposes corpus terms for a query with few hits"
    html = get_html(client, "/search?q=三清两见")
    term = api["suggestions"][0]["term"]
    assert "你是不是要找" in html
    assert any(a["href"] == f"/search?q={quote(term)}" for a in Elements(html).find("a"))


def test_notices_are_shown(client: FlaskClient):
    html = get_html(client, '/search?q="三清两建')
    assert "引号没有配对" in html


def test_filters_only_browse(client: FlaskClient):
    html = get_html(client, "/search?town=涌山镇")
    assert "全部段落" in html
    hits = Elements(html).with_class("hit")
    api = get_json(client, "/api/search?town=涌山镇")
    assert len(hits) == len(api["hits"]) == min(api["total"], 10) > 0
    assert {h["town"] for h in api["hits"]} == {"涌山镇"}
    assert api["facets"]["town"] == {"涌山镇": api["total"]}


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/search?q=x&page=abc", "page"),
        ("/search?q=x&size=1.5", "size"),
        ("/search?q=x&mode=boolean", "检索方式"),
        ("/search?q=x&view=grid", "视图"),
        ("/search?q=" + "很" * 201, "查询太长"),
        ("/search?q=x&" + "&".join(f"town={i}" for i in range(21)), "太多"),
        ("/search?q=x&town=" + "镇" * 101, "太长"),
    ],
)
def test_malformed_parameters_are_400_with_a_message(client: FlaskClient, url: str, message: str):
    html = get_html(client, url, status=400)
    assert message in html
    api = get_json(client, url.replace("/search", "/api/search"), status=400)
    assert message in api["error"] and "hint" in api


@pytest.mark.parametrize(
    "q",
    ['"', "“", "OR", "NOT", "-", ":", "town:", "(((", "*", "?", "\\", "%", "\x00", "a" * 200, "　"],
)
def test_odd_queries_are_never_an_error(client: FlaskClient, q: str):
    for mode in ("keyword", "phrase", "fuzzy"):
        response = client.get("/search", query_string={"q": q, "mode": mode})
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        data = get_json(client, f"/api/search?{urlencode({'q': q, 'mode': mode})}")
        assert data["mode"] == mode and len(data["hits"]) == min(data["total"], 10)
        # the page shows what the engine found: the same total, or the no-result advice
        if data["total"]:
            assert f'<strong class="total">{data["total"]}</strong>' in html
        else:
            assert "没有找到匹配的段落" in html or (not q.strip() and 'class="welcome"' in html)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    q=st.text(max_size=30),
    mode=st.sampled_from(["keyword", "phrase", "fuzzy"]),
    town=st.lists(st.text(max_size=8), max_size=3),
    page=st.integers(min_value=-(10**12), max_value=10**12).map(str),
    view=st.sampled_from(["list", "towns"]),
)
def test_no_query_a_user_can_type_gives_a_500(
    app: Flask, q: str, mode: str, town: list[str], page: str, view: str
):
    client = app.test_client()
    args = {"q": q, "mode": mode, "town": town, "page": page, "view": view}
    for url in ("/search", "/api/search"):
        response = client.get(url, query_string=args)
        assert response.status_code in {200, 400}, response.get_data(as_text=True)[:300]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(q=st.text(max_size=30), mode=st.text(max_size=8))
def test_no_query_carried_to_a_document_gives_a_500(app: Flask, q: str, mode: str):
    client = app.test_client()
    hit = client.get("/api/search?q=三清两建").get_json()["hits"][0]
    response = client.get(f"/doc/{hit['doc_id']}", query_string={"q": q, "mode": mode})
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    html = response.get_data(as_text=True)
    assert escape(hit["title"]) in html and f'id="{hit["para_id"]}"' in html


# --- documents ------------------------------------------------------------------------------


def first_hit(client: FlaskClient, q: str) -> dict[str, Any]:
    hit: dict[str, Any] = get_json(client, f"/api/search?q={q}")["hits"][0]
    return hit


def test_document_page(client: FlaskClient):
    hit = first_hit(client, "三清两建")
    doc = get_json(client, f"/api/doc/{hit['doc_id']}")
    html = get_html(client, f"/doc/{hit['doc_id']}")
    page = Elements(html)
    assert doc["title"] in html and doc["town"] in html and doc["source"] in html
    paras = page.with_class("para")
    assert [a["id"] for _, a in paras] == [p["para_id"] for p in doc["paragraphs"]]
    toc = [a["href"] for a in page.find("a") if a.get("href", "").startswith("#p")]
    headings = [p["para_id"] for p in doc["paragraphs"] if p["heading"]]
    assert toc[: len(headings)] == [f"#{h}" for h in headings]  # the table of contents
    assert "<mark>" not in html
    assert 'id="fragment-missing"' in html and "该段落在新版本中已变更" in html
    for _, attrs in paras:
        assert attrs["data-permalink"] == f"http://localhost/doc/{doc['doc_id']}#{attrs['id']}"


def test_document_page_marks_every_match_of_the_query(client: FlaskClient):
    hit = first_hit(client, "三清两建")
    doc = get_json(client, f"/api/doc/{hit['doc_id']}")
    html = get_html(client, f"/doc/{hit['doc_id']}?q=三清两建")
    expected = sum(p["text"].count("三清两建") for p in doc["paragraphs"])
    assert html.count("<mark>三清两建</mark>") == expected > 1
    assert f"共 <strong>{expected}</strong> 处匹配" in html
    assert 'data-match="next"' in html
    back = [attrs["href"] for _, attrs in Elements(html).with_class("back-link")]
    assert back == ["/search?q=%E4%B8%89%E6%B8%85%E4%B8%A4%E5%BB%BA"]
    fuzzy = get_html(client, f"/doc/{hit['doc_id']}?q=三清两见&mode=fuzzy")
    assert "<mark>" in fuzzy


def test_unknown_document_is_a_404_page(client: FlaskClient):
    html = get_html(client, "/doc/doesnotexist", status=404)
    assert "没有找到这份文档" in html
    assert get_json(client, "/api/doc/doesnotexist", status=404)["error"] == "没有找到这份文档"
    assert "没有找到这份文档" in get_html(client, "/doc/" + "x" * 500, status=404)


def test_source_download(client: FlaskClient, seed_config: Config):
    hit = first_hit(client, "三清两建")
    with client.get(f"/doc/{hit['doc_id']}/source") as response:
        assert response.status_code == 200
        assert "attachment" in response.headers["Content-Disposition"]
        assert response.data == (seed_config.corpus_dir / hit["source"]).read_bytes()


def test_source_path_stays_inside_the_corpus(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "secret.txt").write_text("secret", encoding="utf-8")
    (corpus / "link.txt").symlink_to(tmp_path / "secret.txt")

    def doc(source: str) -> DocumentView:
        return DocumentView("d", "t", "镇", "", None, "", "", source, [])

    assert source_path(corpus, doc("a.txt")) == (corpus / "a.txt").resolve()
    for bad in ("../secret.txt", "link.txt", "/etc/passwd", "missing.txt", "", "."):
        assert source_path(corpus, doc(bad)) is None, bad


def test_source_comes_from_the_corpus_the_index_was_built_from(make_index, tmp_path: Path):
    config = make_index({"a.txt": "某某镇2023年政府工作报告\n各位代表：\n三清两建\n"})
    elsewhere = Config(corpus_dir=tmp_path / "other", index_dir=config.index_dir)
    client = create_app(elsewhere, {"TESTING": True}).test_client()
    doc_id = client.get("/api/search?q=三清两建").get_json()["hits"][0]["doc_id"]
    with client.get(f"/doc/{doc_id}/source") as response:
        assert response.status_code == 200 and "三清两建" in response.get_data(as_text=True)


def test_missing_source_file_is_a_404(make_index):
    config = make_index({"a.txt": "某某镇2023年政府工作报告\n各位代表：\n三清两建\n"})
    app = create_app(config, {"TESTING": True})
    client = app.test_client()
    doc_id = get_json(client, "/api/search?q=三清两建")["hits"][0]["doc_id"]
    (config.corpus_dir / "a.txt").unlink()
    html = get_html(client, f"/doc/{doc_id}", status=200)
    assert "已不在语料目录中" in html
    assert "已不在语料目录中" in get_html(client, f"/doc/{doc_id}/source", status=404)


# --- JSON API, health, status ---------------------------------------------------------------


def test_api_search_is_the_engine_json(client: FlaskClient):
    data = get_json(client, "/api/search?q=三清两建")
    assert list(data) == [
        "query",
        "mode",
        "total",
        "page",
        "page_size",
        "pages",
        "filters",
        "hits",
        "facets",
        "notices",
        "suggestions",
        "elapsed_ms",
        "try_fuzzy",
    ]
    assert data["total"] == 5
    assert data["facets"]["town"] == {"潭头镇": 5}
    assert "<mark>三清两建</mark>" in data["hits"][0]["snippet"]


def test_api_errors_are_json(client: FlaskClient):
    data = get_json(client, "/api/search?q=x&mode=nope", status=400)
    assert set(data) == {"error", "hint", "status"} and data["status"] == 400
    assert get_json(client, "/api/nothing-here", status=404)["status"] == 404
    response = client.post("/api/search")
    assert response.status_code == 405 and response.get_json()["status"] == 405


def test_healthz_and_status(client: FlaskClient, seed_config: Config):
    health = get_json(client, "/healthz")
    assert health["status"] == "ok"
    assert health["generation"].startswith("g-")
    assert health["documents"] == 9 and health["paragraphs"] > 300
    html = get_html(client, "/status")
    assert health["generation"] in html
    for path in sorted(p.name for p in seed_config.corpus_dir.glob("*.txt")):
        assert path in html
    status = get_json(client, "/api/status")
    assert {f["status"] for f in status["files"]} == {"indexed"}


def test_status_reports_skipped_files(make_index):
    config = make_index(
        {
            "a.txt": "某某镇2023年政府工作报告\n各位代表：\n三清两建\n",
            "notes.xyz": "not a report",
            "empty.txt": "",
        }
    )
    client = create_app(config, {"TESTING": True}).test_client()
    html = get_html(client, "/status")
    assert html.count("已跳过") == 2 and "已收录" in html
    assert "unsupported" in html
    files = {f["path"]: f for f in get_json(client, "/api/status")["files"]}
    assert files["notes.xyz"]["status"] == "skipped"
    assert files["a.txt"]["documents"] == 1


def test_openapi_description(client: FlaskClient):
    spec = get_json(client, "/api/openapi.json")
    assert spec["openapi"].startswith("3.")
    assert {"/api/search", "/api/doc/{doc_id}", "/api/similar", "/healthz"} <= set(spec["paths"])


def test_missing_index_is_a_503(tmp_path: Path):
    app = create_app(Config(corpus_dir=tmp_path, index_dir=tmp_path / "none"), {"TESTING": True})
    client = app.test_client()
    html = get_html(client, "/search?q=x", status=503)
    assert "索引暂不可用" in html
    assert get_json(client, "/healthz", status=503)["hint"]


# --- re-index without restart ---------------------------------------------------------------


def test_reindex_is_picked_up_without_restart(make_index):
    config = make_index({"a.txt": "某某镇2023年政府工作报告\n各位代表：\n三清两建工作扎实。\n"})
    app = create_app(config, {"TESTING": True})
    client = app.test_client()
    before = get_json(client, "/healthz")
    assert get_json(client, "/api/search?q=三变改革")["total"] == 0
    (config.corpus_dir / "b.txt").write_text(
        "另一镇2023年政府工作报告\n各位代表：\n三变改革成效明显。\n", encoding="utf-8"
    )
    build_index(config.corpus_dir, config.index_dir, procs=1)
    after = get_json(client, "/healthz")
    assert after["generation"] != before["generation"]
    assert get_json(client, "/api/search?q=三变改革")["total"] == 1
    assert get_json(client, "/api/search?q=三清两建")["total"] == 1


# --- safety ---------------------------------------------------------------------------------


@pytest.fixture()
def hostile(make_index) -> FlaskClient:
    config = make_index(
        {
            "a.txt": "某某镇2023年政府工作报告\n各位代表：\n"
            f"{XSS_SCRIPT} 三清两建 {XSS_TEMPLATE}\n"
            f"（一）{XSS_ATTR}三清两建\n",
            f"b{XSS_ATTR}.txt": f"某某镇2022年政府工作报告\n各位代表：\n三清两建 {XSS_SCRIPT}\n",
        }
    )
    return create_app(config, {"TESTING": True}).test_client()


def assert_inert(html: str) -> None:
    assert XSS_SCRIPT not in html
    assert "<img" not in html
    assert "onerror=alert(1)>" not in html.replace("onerror=alert(1)&gt;", "")
    assert XSS_EVALUATED not in html
    assert Elements(html).find("script") == [{"src": "/static/app.js", "defer": ""}]


def test_documents_and_queries_cannot_inject_markup(hostile: FlaskClient):
    html = get_html(hostile, "/search?q=三清两建")
    assert_inert(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert XSS_TEMPLATE in html
    towns = get_html(hostile, "/search?q=三清两建&view=towns")
    assert_inert(towns)
    for q in (XSS_SCRIPT, XSS_ATTR, XSS_TEMPLATE):
        for mode in ("keyword", "phrase", "fuzzy"):
            for view in ("list", "towns"):
                args = {"q": q, "mode": mode, "view": view}
                response = hostile.get("/search", query_string=args)
                assert response.status_code == 200
                assert_inert(response.get_data(as_text=True))
        response = hostile.get("/search", query_string={"q": q, "town": q, "year": q})
        assert response.status_code == 200
        assert_inert(response.get_data(as_text=True))
        response = hostile.get("/search", query_string={"q": q, "mode": q})
        assert response.status_code == 400
        assert_inert(response.get_data(as_text=True))
    hits = get_json(hostile, "/api/search?q=三清两建")["hits"]
    for doc_id in {h["doc_id"] for h in hits}:
        for q in ("三清两建", XSS_SCRIPT, XSS_ATTR):
            response = hostile.get(f"/doc/{doc_id}", query_string={"q": q})
            assert response.status_code == 200
            assert_inert(response.get_data(as_text=True))
    assert_inert(get_html(hostile, "/status"))
    assert_inert(get_html(hostile, "/doc/" + XSS_ATTR.replace("/", ""), status=404))


def test_marked_text_is_escaped_inside_and_around_the_mark(hostile: FlaskClient):
    html = get_html(hostile, f"/search?q={XSS_SCRIPT}&mode=phrase")
    assert "<mark>&lt;script&gt;alert(1)&lt;/script&gt;</mark>" in html


# --- helpers --------------------------------------------------------------------------------


def test_quote_and_citation_helpers():
    assert (
        cite_head("报告", "潭头镇", ["一、回顾", "（二）三清两建"])
        == "《报告》（潭头镇，（二）三清两建）："
    )
    assert cite_head("报告", "", []) == "《报告》："
    short = "推进三清两建。"
    assert quote_for(short, [(2, 6)]) == short
    long = "甲" * 100 + "。乙乙三清两建乙乙。" + "丙" * 100 + "。"
    assert quote_for(long, [(105, 109)]) == "乙乙三清两建乙乙。"


def test_paragraph_spans_mark_words_only_when_all_are_present():
    needles = [("三清两建", ["三清", "两建"])]
    assert term_spans("三清两建", needles) == [(0, 4)]
    assert term_spans("三清工作和两建工作", needles) == [(0, 2), (5, 7)]
    assert term_spans("只有三清", needles) == []


def test_similar_page_and_api(seed_config):
    from searchapp.web import create_app

    client = create_app(seed_config).test_client()
    page = client.get("/similar?text=积极做好脱贫攻坚与乡村振兴有效衔接，持续优化营商环境。")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "相似表述" in html and "<mark>深度融合</mark>" in html
    data = client.get("/api/similar?text=持续优化营商环境").get_json()
    assert data["sentences"][0]["similarity"] == 100.0
    empty = get_html(client, "/similar")
    assert Elements(empty).find("textarea", name="text") and "similar-summary" not in empty
    assert "太长" in get_html(client, "/similar?text=" + "长" * 2000, status=400)
    assert "没有找到这个段落" in get_html(client, "/similar?doc=nope&para=nope", status=404)


def test_similar_for_a_paragraph_leaves_out_its_report(seed_config):
    from searchapp.web import create_app

    client = create_app(seed_config).test_client()
    hit = client.get("/api/search?q=三清两建").get_json()["hits"][0]
    html = client.get("/search?q=三清两建").get_data(as_text=True)
    assert f"/similar?doc={hit['doc_id']}&amp;para={hit['para_id']}" in html
    data = client.get(f"/api/similar?doc={hit['doc_id']}&para={hit['para_id']}").get_json()
    assert hit["doc_id"] not in {s["doc_id"] for s in data["sentences"]}


def test_one_engine_per_generation(tmp_path):
    """Requests share the live generation's engine; a re-index gives a new engine, and
    the old one is dropped once requests let go of it."""
    import gc
    import weakref

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index = tmp_path / "index"
    build_index(corpus, index)
    app = create_app(Config(corpus_dir=corpus, index_dir=index), {"TESTING": True})
    client = app.test_client()
    store = app.extensions["searchapp"]
    assert client.get("/api/search?q=三清两建").get_json()["total"] == 5
    first = store.live()
    client.get("/api/search?q=乡村振兴")
    assert store.live() is first  # reused, not reopened
    (corpus / "new.txt").write_text("新镇2023年政府工作报告\n各位代表：\n推进三清两建。\n", "utf-8")
    build_index(corpus, index)
    assert client.get("/api/search?q=三清两建").get_json()["total"] == 6
    second = store.live()
    assert second is not first and second.path != first.path
    old = weakref.ref(first)
    del first
    gc.collect()
    assert old() is None  # nothing keeps the retired generation's engine alive


def test_requests_go_on_while_a_new_generation_opens(tmp_path):
    """While one request opens a new generation's engine, others use the previous one."""
    import threading

    from searchapp.web import store as store_module

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    index = tmp_path / "index"
    build_index(corpus, index)
    store = store_module.EngineStore(index)
    old = store.live()
    (corpus / "new.txt").write_text("新镇2023年政府工作报告\n各位代表：\n推进三清两建。\n", "utf-8")
    build_index(corpus, index)
    opening = threading.Event()
    release = threading.Event()
    real_engine = store_module.EmbeddedEngine

    def slow_engine(path):
        opening.set()
        release.wait(10)
        return real_engine(path)

    store_module.EmbeddedEngine = slow_engine  # type: ignore[misc, assignment]
    try:
        opener = threading.Thread(target=store.live)
        opener.start()
        assert opening.wait(10)
        assert store.live() is old  # not blocked by the opening generation
        release.set()
        opener.join(10)
    finally:
        store_module.EmbeddedEngine = real_engine  # type: ignore[misc]
    assert store.live() is not old


def test_api_towns(seed_config):
    client = create_app(seed_config, {"TESTING": True}).test_client()
    data = client.get("/api/towns?q=三清两建&mode=phrase").get_json()
    assert data["total"] == 5
    (town,) = data["towns"]
    assert (town["town"], town["paragraphs"], town["occurrences"]) == ("潭头镇", 5, 7)
    assert {r["year"] for r in town["reports"]} == {2022, 2023}
    assert "三清两建" in town["best"]["text"]
    spec = client.get("/api/openapi.json").get_json()
    assert "/api/towns" in spec["paths"]


def test_api_towns_best_paragraphs_for_the_first_towns_only(seed_config):
    client = create_app(seed_config, {"TESTING": True}).test_client()
    every = client.get("/api/towns?q=发展&best=all").get_json()
    two = client.get("/api/towns?q=发展&best=2").get_json()
    assert len(every["towns"]) > 2 and all(t["best"] for t in every["towns"])
    assert two["total"] == every["total"]
    assert [t["best"] for t in two["towns"][:2]] == [t["best"] for t in every["towns"][:2]]
    assert all(t["best"] is None for t in two["towns"][2:])
    for got, want in zip(two["towns"], every["towns"], strict=True):
        assert {k: v for k, v in got.items() if k != "best"} == {
            k: v for k, v in want.items() if k != "best"
        }
    for bad in ("x", "-1", "2.5"):
        answer = client.get(f"/api/towns?q=发展&best={bad}")
        assert answer.status_code == 400 and "best" in answer.get_json()["error"]


def twenty_five_towns() -> dict[str, str]:
    names = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥天地玄"
    return {
        f"{c}山镇2023年政府工作报告.txt": f"{c}山镇2023年政府工作报告\n\n一、主要工作\n\n"
        + "我们推进垃圾分类，改善人居环境。" * (1 + i % 3)
        for i, c in enumerate(names)
    }


def test_api_towns_default_is_the_best_of_twenty_towns(make_index):
    """Issue 22 part 2: best defaults to 20 (what the towns view shows); best=all gives
    every town's; a town beyond the first 20 has best null, its counts unchanged."""
    client = create_app(make_index(twenty_five_towns()), {"TESTING": True}).test_client()
    default = client.get("/api/towns?q=垃圾分类").get_json()
    every = client.get("/api/towns?q=垃圾分类&best=ALL").get_json()
    assert len(default["towns"]) == len(every["towns"]) == 25
    assert [t["best"] is not None for t in default["towns"]] == [True] * 20 + [False] * 5
    assert all(t["best"] for t in every["towns"])
    assert default["towns"][:20] == every["towns"][:20]
    for got, want in zip(default["towns"][20:], every["towns"][20:], strict=True):
        assert got == {**want, "best": None}
    assert client.get("/api/towns?q=垃圾分类&best=20").get_json() == default
    spec = client.get("/api/openapi.json").get_json()
    (best,) = [p for p in spec["paths"]["/api/towns"]["get"]["parameters"] if p["name"] == "best"]
    assert best["schema"]["default"] == 20


def test_export_every_hit_of_the_page_search(seed_config):
    import csv
    import io

    import openpyxl

    client = create_app(seed_config, {"TESTING": True}).test_client()
    total = client.get("/api/search?q=乡村振兴&year=2022-2023").get_json()["total"]
    response = client.get("/export?q=乡村振兴&year=2022-2023&format=csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel and WPS read UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["镇", "地方", "省"] and len(rows) == total + 1
    assert all("乡村振兴" in row[11] for row in rows[1:])
    assert all(row[12].startswith("http://localhost/doc/") for row in rows[1:])
    with client.get("/export?q=乡村振兴&year=2022-2023&format=xlsx") as xlsx:
        sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet.max_row == total + 1 and sheet.freeze_panes == "B2"
    assert "未知的导出格式" in get_html(client, "/export?q=乡村振兴&format=pdf", status=400)
    assert client.get("/export").status_code == 400


def test_trend_page_chart_and_tables(seed_config):
    client = create_app(seed_config, {"TESTING": True}).test_client()
    html = get_html(client, "/trend?q=三清两建")
    assert "<svg" in html and "潭头镇" in html
    data = client.get("/api/trend?q=三清两建&mode=phrase").get_json()
    assert [y["year"] for y in data["years"]] == [2022, 2023]
    cell = "/search?q=%E4%B8%89%E6%B8%85%E4%B8%A4%E5%BB%BA&amp;mode=phrase&amp;town=%E6%BD%AD%E5%A4%B4%E9%95%87&amp;year=2022"
    assert cell in html  # a cell opens its town's paragraphs of that year
    table = client.get("/trend/table?q=三清两建&format=csv").get_data().decode("utf-8-sig")
    assert table.splitlines()[0] == "镇,始于,2022,2023,合计"
    assert table.splitlines()[1] == "潭头镇,2022,4,1,5"
    hostile = get_html(client, "/trend?q=<script>alert(1)</script>")
    assert "<script>alert(1)" not in hostile and "&lt;script&gt;" in hostile
    assert "没有找到" in hostile


def test_api_json_survives_a_lone_surrogate(seed_config):
    """orjson refuses a lone surrogate (a title from a metadata sidecar may hold one): the
    answer falls back to escaped JSON instead of a 500."""
    app = create_app(seed_config)
    with app.test_request_context():
        answer = app.json.response({"title": "报告\ud800", "n": [1, 2]})
    assert json.loads(answer.get_data()) == {"title": "报告\ud800", "n": [1, 2]}
    assert app.json.loads(app.json.dumps({"a": "镇"})) == {"a": "镇"}


def test_the_heap_is_handed_back_after_a_large_answer_only(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
):
    """An export (streamed) returns freed memory once it has been sent (memory.py); a
    quick search or a static file does not pay for a trim."""
    calls: list[str] = []
    monkeypatch.setattr("searchapp.web.release_after_answer", lambda _: calls.append("trim"))
    for url in ("/api/search?q=乡村振兴", "/static/app.css", "/search?q=乡村振兴"):
        with client.get(url) as answer:
            assert answer.status_code == 200, url
    assert calls == []
    with client.get("/export?q=乡村振兴&format=csv") as answer:
        assert answer.status_code == 200
        answer.get_data()
        assert calls == []  # not while the download is being written
    assert calls == ["trim"]


def test_a_trim_returns_freed_heap_and_runs_at_most_once_an_interval():
    from searchapp.memory import Releaser, malloc_trim

    if malloc_trim() is None:
        pytest.skip("no glibc malloc_trim here")

    def anonymous_mb() -> int:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1]) // 1024 for line in fh if line.startswith("RssAnon"))

    chunks = [bytes(1000) + bytes([i % 256]) for i in range(150_000)]  # malloc'd, not pymalloc
    pin = bytes(2000)  # above them: the heap's top cannot shrink on its own
    held = anonymous_mb()
    del chunks
    assert Releaser(interval=0.0)() is True
    assert anonymous_mb() < held - 100  # the ~150 MB freed went back to the system
    release = Releaser(interval=60.0)
    assert release() is True
    assert release() is False  # within the interval
    assert pin
