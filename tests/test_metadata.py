"""Issuers, places in the hierarchy, document types and years (searchapp.metadata)."""

from __future__ import annotations

from pathlib import Path

import pytest

from searchapp.documents import load_corpus, load_file
from searchapp.metadata import (
    Placement,
    classify_doc_type,
    detect_year,
    load_gazetteer,
    place_document,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
SEEDS = PROJECT_ROOT / "seeds"
REALWORLD = PROJECT_ROOT / "tests" / "data" / "realworld"
HAILAR = PROJECT_ROOT.parent / "shared" / "realworld" / "hailar"

# What documents.detect_town returned for the seeds (no sidecar) before this module existed.
SEED_TOWNS = {
    ("000_40916b3ed7792af0.txt", 0): "潭头镇",
    ("001_d2fc8c44b527f0e4.txt", 1): "横沥镇",
    ("001_d2fc8c44b527f0e4.txt", 2): "六镇镇",
    ("001_d2fc8c44b527f0e4.txt", 3): "泥溪镇",
    ("001_d2fc8c44b527f0e4.txt", 4): "平湖镇",
    ("001_d2fc8c44b527f0e4.txt", 5): "濮院镇",
    ("002_728e3c0284a2da64.txt", 0): "潭头镇",
    ("003_f1a93c3b717acfa9.txt", 0): "杨集镇",
    ("004_16ba917e33522699.txt", 0): "涌山镇",
}
SEED_TYPES = {"002_728e3c0284a2da64.txt": "乡村振兴工作报告"}  # the rest: 政府工作报告


def place(head: str = "", title: str = "政府工作报告", text: str = "", path: str = "a.txt"):
    """Place a report given only the parts a test cares about."""
    return place_document(title, head, text or head, path)


def file_documents(path: Path, root: Path) -> list[tuple[str, str, str, object]]:
    """(title, head, text, document) for each report of a file, as build_document sees it."""
    report, docs = load_file(path, root, {})
    assert report.status == "indexed", report
    result = []
    for doc in docs:
        text = "\n".join(p.text for p in doc.paragraphs)
        result.append((doc.title, text[:1500], text, doc))
    return result


# --- the dataset -----------------------------------------------------------------------------


def test_dataset_has_every_province_and_resolves_abbreviations():
    gazetteer = load_gazetteer()
    provinces = {d.name for ds in gazetteer.names.values() for d in ds if d.level == "province"}
    assert {"内蒙古自治区", "北京市", "贵州省", "新疆维吾尔自治区", "香港特别行政区"} <= provinces
    assert len(provinces) == 34
    (qdn,) = gazetteer.names["黔东南州"]
    assert (qdn.name, qdn.level, qdn.province, qdn.adcode) == (
        "黔东南苗族侗族自治州",
        "city",
        "贵州省",
        "522600",
    )
    (hailar,) = gazetteer.names["海拉尔区"]
    assert (hailar.province, hailar.city, hailar.adcode) == ("内蒙古自治区", "呼伦贝尔市", "150702")
    # the dataset's placeholders (市辖区, 县 under 直辖市) are not cities
    assert not any(d.level == "city" for d in gazetteer.names.get("市辖区", ()))
    assert load_gazetteer() is gazetteer  # loaded once


# --- issuers at every level ------------------------------------------------------------------


def test_meeting_line_in_brackets_names_a_prefecture():
    got = place("政府工作报告\n（2024年1月31日在黔东南州第十五届人民代表大会第四次会议上）")
    assert got == Placement(
        issuer="黔东南州人民政府",
        name="黔东南州",
        level="city",
        province="贵州省",
        city="黔东南苗族侗族自治州",
        adcode="522600",
        source="text",
    )


def test_meeting_line_after_a_dash_names_a_city():
    got = place("——2024年1月13日在马鞍山市第十七届人民代表大会第四次会议上\n各位代表：")
    assert (got.level, got.name, got.city, got.province) == (
        "city",
        "马鞍山市",
        "马鞍山市",
        "安徽省",
    )
    assert got.issuer == "马鞍山市人民政府"


def test_meeting_line_broken_over_two_lines():
    got = place("——2026年1月26日在广东省第十四届\n人民代表大会第五次会议上")
    assert (got.level, got.province, got.issuer) == ("province", "广东省", "广东省人民政府")


def test_bare_level_word_takes_its_place_from_the_title():
    got = place(
        "各位代表：\n现在，我代表市人民政府，向大会报告工作。", title="2023年遵义市政府工作报告"
    )
    assert (got.level, got.name, got.province, got.source) == ("city", "遵义市", "贵州省", "title")
    got = place("现在，我代表市人民政府，向大会报告工作。", path="贵州省/遵义市/报告.txt")
    assert (got.name, got.issuer, got.source) == ("遵义市", "遵义市人民政府", "text")


def test_bare_level_word_alone_gives_the_level_and_no_place():
    got = place("自治区人民政府主席 包钢\n现在，我代表自治区人民政府向大会报告工作")
    assert (got.level, got.name, got.province, got.issuer) == ("province", "", "", "自治区人民政府")
    got = place("自治区人民政府主席 包钢", title="2026年内蒙古自治区政府工作报告")
    assert (got.level, got.province, got.adcode) == ("province", "内蒙古自治区", "150000")


def test_signature_line_names_a_county():
    got = place("政 府 工 作 报 告\n海拉尔区人民政府区长　　张天喜\n各位代表：")
    assert (got.level, got.county, got.city, got.province) == (
        "county",
        "海拉尔区",
        "呼伦贝尔市",
        "内蒙古自治区",
    )
    assert got.issuer == "海拉尔区人民政府"


def test_issuer_lines_county_government_and_town_party_committee():
    got = place("湄潭县人民政府\n2023年12月30日")
    assert (got.level, got.county, got.city, got.issuer) == (
        "county",
        "湄潭县",
        "遵义市",
        "湄潭县人民政府",
    )
    got = place("中共城关乡委员会\n关于2023年工作的报告")
    assert (got.level, got.name, got.town, got.issuer) == (
        "town",
        "城关乡",
        "城关乡",
        "中共城关乡委员会",
    )


def test_town_gains_the_county_the_text_names():
    text = "——2024年1月在城关镇第十届人民代表大会第三次会议上\n在中共栾川县委的坚强领导下"
    got = place(text)
    assert (got.level, got.town, got.county, got.city, got.province) == (
        "town",
        "城关镇",
        "栾川县",
        "洛阳市",
        "河南省",
    )
    assert got.adcode == ""  # a town's own code is not in the dataset


def test_street_office_under_a_district_of_a_municipality():
    title = "上海市奉贤区人民政府头桥街道办事处关于印发《头桥街道实施方案》的通知"
    got = place(title=title)
    assert (got.level, got.town, got.county, got.city, got.province, got.issuer) == (
        "town",
        "头桥街道",
        "奉贤区",
        "",
        "上海市",
        "上海市奉贤区人民政府头桥街道办事处",
    )


def test_title_names_the_issuer():
    got = place(title="2023年遵义市政府工作报告")
    assert (got.level, got.issuer, got.source) == ("city", "遵义市人民政府", "title")
    got = place(title="横沥镇2023年政府工作报告")
    assert (got.level, got.name, got.issuer) == ("town", "横沥镇", "横沥镇人民政府")


@pytest.mark.parametrize(
    ("head", "level", "written", "full", "province"),
    [
        (
            "在鄂温克族自治旗第十七届人民代表大会",
            "county",
            "鄂温克族自治旗",
            "鄂温克族自治旗",
            "内蒙古自治区",
        ),
        ("鄂温克旗人民政府旗长 张三", "county", "鄂温克旗", "鄂温克族自治旗", "内蒙古自治区"),
        ("在阿拉善盟第十届人民代表大会", "city", "阿拉善盟", "阿拉善盟", "内蒙古自治区"),
        ("在阿克苏地区第十届人民代表大会", "city", "阿克苏地区", "阿克苏地区", "新疆维吾尔自治区"),
        ("在乐平市第十届人民代表大会", "county", "乐平市", "乐平市", "江西省"),
        ("在重庆市第六届人民代表大会", "province", "重庆市", "重庆市", "重庆市"),
    ],
)
def test_every_kind_of_division(head, level, written, full, province):
    got = place(f"——2024年1月{head}第三次会议上" if head.startswith("在") else head)
    assert (got.level, got.name, got.province) == (level, written, province)
    assert {"county": got.county, "city": got.city, "province": got.province}[level] == full


def test_national_reports():
    got = place("——2024年3月5日在第十四届全国人民代表大会第二次会议上\n我代表国务院")
    assert (got.level, got.issuer, got.name) == ("national", "国务院", "全国")
    got = place(title="2025年中华人民共和国国务院政府工作报告")
    assert (got.level, got.source) == ("national", "title")


# --- departments -----------------------------------------------------------------------------


def test_department_with_its_place_in_the_title():
    got = place(title="遵义市发展和改革委员会2023年工作总结")
    assert (got.issuer, got.level, got.city, got.province) == (
        "遵义市发展和改革委员会",
        "city",
        "遵义市",
        "贵州省",
    )
    got = place(title="上海市奉贤区农业农村委员会关于进一步规范我区设施农用地管理的通知")
    assert (got.issuer, got.level, got.county, got.province) == (
        "上海市奉贤区农业农村委员会",
        "county",
        "奉贤区",
        "上海市",
    )


def test_department_of_a_bare_level_takes_the_place_from_the_path():
    got = place(title="县农业农村局2024年工作要点", path="贵州省/遵义市/湄潭县/要点.docx")
    assert (got.issuer, got.level, got.county, got.city) == (
        "湄潭县农业农村局",
        "county",
        "湄潭县",
        "遵义市",
    )


def test_department_of_an_unnamed_place_keeps_its_level_only():
    got = place(title="市发展和改革委员会2023年工作总结")
    assert (got.issuer, got.level, got.name, got.city, got.province) == (
        "市发展和改革委员会",
        "city",
        "",
        "",
        "",
    )


def test_party_office_is_the_issuer():
    got = place(title="中共上海市黄浦区委办公室关于印发《实施细则》的通知")
    assert (got.issuer, got.county, got.province) == (
        "中共上海市黄浦区委办公室",
        "黄浦区",
        "上海市",
    )


# --- file and folder names -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["遵义.txt", "2023_遵义市_政府工作报告.docx", "贵州省/遵义市/政府工作报告.txt"]
)
def test_path_fallbacks(path):
    got = place("各位代表：\n过去的一年，我们迎难而上。", path=path)
    assert (got.level, got.name, got.city, got.province, got.source) == (
        "city",
        "遵义市",
        "遵义市",
        "贵州省",
        "path",
    )


def test_text_wins_over_the_path():
    got = place("——2024年1月在湄潭县第十届人民代表大会第三次会议上", path="遵义.txt")
    assert (got.level, got.county, got.source) == ("county", "湄潭县", "text")


def test_nothing_anywhere_gives_an_empty_placement():
    assert place("各位代表：\n过去的一年，我们迎难而上。", path="report.txt") == Placement()


# --- shared names: no guess --------------------------------------------------------------------

MEETING = "——2024年1月10日在朝阳区第十届人民代表大会第三次会议上\n各位代表："


def test_shared_county_name_without_other_clues_leaves_the_upper_levels_empty():
    got = place(MEETING)
    assert (got.level, got.name, got.county) == ("county", "朝阳区", "朝阳区")
    assert (got.province, got.city, got.adcode) == ("", "", "")


@pytest.mark.parametrize(
    ("extra", "path", "province", "city", "adcode"),
    [
        ("\n北京市朝阳区人民政府", "a.txt", "北京市", "", "110105"),
        ("", "吉林省/长春市/a.txt", "吉林省", "长春市", "220104"),
        ("\n建设长春市现代化都市圈", "a.txt", "吉林省", "长春市", "220104"),
    ],
)
def test_shared_county_name_settled_by_the_province_or_city_named(
    extra, path, province, city, adcode
):
    got = place(MEETING + extra, path=path)
    assert (got.province, got.city, got.adcode) == (province, city, adcode)


def test_every_shared_county_name_is_left_unplaced():
    """Brute force over the dataset: no county name two divisions share gets a province."""
    gazetteer = load_gazetteer()
    shared = sorted(
        name
        for name, divisions in gazetteer.names.items()
        if len({d.province for d in divisions if d.level == "county" and d.last == 2024}) > 1
        and all(d.level == "county" for d in divisions)
    )
    assert len(shared) > 20
    for name in shared:
        got = place(f"——2024年1月在{name}第十届人民代表大会第三次会议上\n各位代表：")
        assert (got.level, got.province, got.adcode) == ("county", "", ""), name


def test_every_unique_county_is_placed_under_its_city():
    gazetteer = load_gazetteer()
    unique = sorted(
        (
            divisions[0]
            for divisions in gazetteer.names.values()
            if len(divisions) == 1 and divisions[0].level == "county" and divisions[0].last == 2024
        ),
        key=lambda division: division.adcode,
    )
    assert len(unique) > 1000
    for division in unique[::25]:
        head = f"——2024年1月在{division.name}第十届人民代表大会第三次会议上"
        got = place(head)
        assert (got.county, got.city, got.province, got.adcode) == (
            division.name,
            division.city,
            division.province,
            division.adcode,
        ), division


def test_a_report_is_read_with_the_divisions_of_its_year():
    got = place("——2014年1月在崇明县第十五届人民代表大会第三次会议上")
    assert (got.county, got.province, got.adcode) == ("崇明县", "上海市", "310230")


# --- traditional and full-width text ----------------------------------------------------------


def test_traditional_and_full_width_text():
    got = place("（２０２４年1月31日在黔東南州第十五屆人民代表大會第四次會議上）")
    assert (got.name, got.city, got.adcode) == ("黔东南州", "黔东南苗族侗族自治州", "522600")
    got = place("內蒙古自治區人民政府主席　包鋼")
    assert (got.level, got.province) == ("province", "内蒙古自治区")


# --- the seeds and the real-world files ------------------------------------------------------


def seed_placements() -> list[tuple[str, int, Placement, object]]:
    result = []
    for path in sorted(SEEDS.glob("*.txt")):
        for title, head, text, doc in file_documents(path, SEEDS):
            result.append((path.name, doc.part, place_document(title, head, text, path.name), doc))
    return result


def test_seed_towns_keep_their_names_and_gain_the_town_level():
    placements = seed_placements()
    assert {(name, part): p.name for name, part, p, _ in placements} == SEED_TOWNS
    assert all(p.level == "town" and p.town == p.name for _, _, p, _ in placements)
    assert all(p.issuer for _, _, p, _ in placements)


def test_seed_town_gains_the_county_its_text_names():
    placements = {name: p for name, part, p, _ in seed_placements()}
    tantou = placements["002_728e3c0284a2da64.txt"]  # addressed to 中共栾川县委
    assert (tantou.county, tantou.city, tantou.province) == ("栾川县", "洛阳市", "河南省")
    assert tantou.issuer == "中共潭头镇委员会"


def test_seed_types_are_kept():
    for name, _, _, doc in seed_placements():
        text = "\n".join(p.text for p in doc.paragraphs)
        assert classify_doc_type(doc.title, text) == SEED_TYPES.get(name, "政府工作报告")


@pytest.mark.skipif(
    not HAILAR.is_dir(), reason="../shared/realworld/hailar is not beside the checkout"
)
@pytest.mark.parametrize("year", range(2012, 2020))
def test_hailar_reports_are_placed_and_dated(year):
    ((title, head, text, doc),) = file_documents(HAILAR / f"{year}.txt", HAILAR)
    got = place_document(title, head, text, f"hailar/{year}.txt")
    assert (got.level, got.name, got.county, got.city, got.province, got.adcode) == (
        "county",
        "海拉尔区",
        "海拉尔区",
        "呼伦贝尔市",
        "内蒙古自治区",
        "150702",
    )
    assert got.issuer.endswith("海拉尔区人民政府")  # 2019: 呼伦贝尔市海拉尔区人民政府
    assert detect_year(title, doc.date, head, text) == year  # the file is named by its year
    assert classify_doc_type(title, text) == "政府工作报告"


def expected_rows() -> list[list[str]]:
    lines = (REALWORLD / "expected.tsv").read_text(encoding="utf-8").splitlines()
    rows = [line.split("\t") for line in lines[1:] if line.strip() and not line.startswith("#")]
    return [row for row in rows if not row[0].startswith("shared:")]


def test_real_documents_match_what_a_reader_says():
    """Issuer level and places, year and type against expected.tsv: at least 95 % each."""
    misses: dict[str, list[str]] = {"place": [], "year": [], "type": []}
    rows = expected_rows()
    assert len(rows) >= 50
    for path, _title, issuer, *places, year, doc_type in rows:
        ((title, head, text, doc),) = file_documents(REALWORLD / path, REALWORLD)
        got = place_document(title, head, text, path)
        found = [got.level, got.province, got.city, got.county, got.town]
        if found != places or not got.issuer:
            misses["place"].append(f"{path}: {found} {got.issuer} != {places} {issuer}")
        kind = classify_doc_type(title, text)
        if detect_year(title, doc.date, head, text, kind) != int(year):
            misses["year"].append(f"{path}: {detect_year(title, doc.date, head, text, kind)}")
        if classify_doc_type(title, text) != doc_type:
            misses["type"].append(f"{path}: {classify_doc_type(title, text)} != {doc_type}")
    for name, missed in misses.items():
        assert len(missed) <= 0.05 * len(rows), (name, missed)


# --- types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("2023年遵义市政府工作报告", "政府工作报告"),
        ("2026年四川省人民政府工作报告", "政府工作报告"),
        ("2022年政府工作报告及2023年工作计划", "政府工作报告"),
        ("关于潭头镇2022年推进实施乡村振兴战略进展情况工作情况的报告", "乡村振兴工作报告"),
        ("县农业农村局2023年工作总结", "工作总结"),
        ("2024年工作计划", "工作计划"),
        ("湄潭县2024年工作要点", "工作要点"),
        ("潭头镇人居环境整治实施方案", "实施方案"),
        ("关于印发《头桥街道建设用地减量化工作实施方案（2025年—2027年）》的通知", "通知"),
        ("上海市奉贤区人民政府关于促进本区停车资源共享利用的实施意见", "意见"),
        ("在全县经济工作会议上的讲话", "讲话"),
        ("关于2023年财政预算执行情况的报告", "工作报告"),
        ("2023年工作总结及2024年工作计划", "工作计划"),
        ("政府工作報告", "政府工作报告"),
        ("2023年工作總結", "工作总结"),
    ],
)
def test_type_from_the_title(title, kind):
    assert classify_doc_type(title, "") == kind


def test_type_from_the_opening_when_the_title_says_nothing():
    text = "——2017年2月11日在海拉尔区第十四届人民代表大会第六次会议上\n现在,我代表海拉尔区人民政府向大会作工作报告"
    assert classify_doc_type("海拉尔区人民政府代区长杨国宏", text) == "政府工作报告"
    assert classify_doc_type("海拉尔区", "过去的一年") == "其他"


# --- years ---------------------------------------------------------------------------------------


def test_year_from_the_title_then_the_date():
    assert detect_year("2023年遵义市政府工作报告", "2024-01-05", "", "") == 2023
    assert detect_year("政府工作报告", "2019-03-04", "", "一、2018年工作回顾") == 2019


def test_a_report_about_last_year_gets_its_meetings_year():
    head = "政府工作报告\n——2019年1月20日在呼伦贝尔市海拉尔区第十五届人民代表大会第三次会议上，回顾2018年"
    text = head + "\n一、2018年工作回顾\n2018年，我们……" + "2018年" * 20
    assert detect_year("政府工作报告", None, head, text) == 2019


def test_year_without_any_date_is_the_year_planned_for():
    text = "一、2022年工作回顾\n2022年是……\n二、2023年主要工作"
    assert detect_year("政府工作报告", None, "", text) == 2023


# --- wired into documents.build_document ---------------------------------------------------


def test_documents_carry_the_placement(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "贵州省").mkdir(parents=True)
    (corpus / "贵州省" / "报告.txt").write_text(
        "2023年遵义市政府工作报告\n各位代表：\n现在，我代表市人民政府向大会报告工作。\n过去一年很好。",
        encoding="utf-8",
    )
    ((report, (doc,)),) = list(load_corpus(corpus))
    assert report.status == "indexed"
    assert (doc.town, doc.place, doc.level, doc.province, doc.city, doc.county) == (
        "遵义市",
        "贵州省",
        "city",
        "贵州省",
        "遵义市",
        "",
    )
    assert (doc.issuer, doc.adcode, doc.doc_type, doc.year) == (
        "遵义市人民政府",
        "520300",
        "政府工作报告",
        2023,
    )


def test_seed_documents_keep_town_and_place_and_gain_the_level():
    docs = {d.source[:3]: d for _, ds in load_corpus(SEEDS) for d in ds}
    assert (docs["002"].town, docs["002"].place, docs["002"].level) == ("潭头镇", "栾川县", "town")
    assert (docs["002"].county, docs["002"].province) == ("栾川县", "河南省")
    assert (docs["004"].town, docs["004"].place) == ("涌山镇", "乐平市")  # the sidecar's


@pytest.mark.skipif(
    not HAILAR.is_dir(), reason="../shared/realworld/hailar is not beside the checkout"
)
def test_county_report_shows_the_chain_above_it():
    _, (doc,) = load_file(HAILAR / "2012.txt", HAILAR, {})
    assert (doc.town, doc.place, doc.level, doc.adcode) == (
        "海拉尔区",
        "内蒙古自治区呼伦贝尔市",
        "county",
        "150702",
    )


def test_sidecar_overrides_the_new_fields(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("政府工作报告\n各位代表：\n过去一年很好。", encoding="utf-8")
    (corpus / "metadata.toml").write_text(
        '["a.txt"]\ntown = "潭头镇"\nlevel = "town"\ncounty = "栾川县"\ncity = "洛阳市"\n'
        'province = "河南省"\nissuer = "潭头镇人民政府"\nadcode = "410324"\n',
        encoding="utf-8",
    )
    ((_, (doc,)),) = list(load_corpus(corpus))
    assert (doc.town, doc.level, doc.county, doc.city, doc.province) == (
        "潭头镇",
        "town",
        "栾川县",
        "洛阳市",
        "河南省",
    )
    assert (doc.issuer, doc.adcode) == ("潭头镇人民政府", "410324")


def test_a_notice_is_dated_by_its_issue_not_by_a_period_in_its_title():
    title = "关于印发《头桥街道建设用地减量化工作实施方案（2025年—2027年）》的通知"
    text = "各居委会：\n现将方案印发给你们。\n头桥街道办事处\n二○二四年十二月十九日"
    assert detect_year(title, None, text, text, "通知") == 2024
    text = "---\n文号: 青农委〔2024〕80号\n---\n4．本细则自2023年4月7日起参照实施。"
    assert detect_year("关于印发《细则》的通知", None, text, text, "通知") == 2024
    assert detect_year("2025年工作计划", None, text, text, "工作计划") == 2025  # a report


def test_gazetteer_cache_gives_the_dataset_divisions(tmp_path: Path, monkeypatch) -> None:
    """The divisions kept in the user's cache are those read from the dataset; a damaged
    or foreign cache file is read past, and an unwritable cache folder only costs time."""
    from searchapp import metadata

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    truth = metadata.read_divisions(metadata.dataset_path())
    metadata.load_gazetteer.cache_clear()
    try:
        fresh = metadata.load_gazetteer()
        cache = metadata.gazetteer_cache(metadata.dataset_path())
        assert cache is not None and cache.parent == tmp_path / "cache" / "searchapp"
        assert metadata.read_cached_divisions(cache) == truth
        metadata.load_gazetteer.cache_clear()
        assert metadata.load_gazetteer() == fresh  # now read from the cache
        for damage in ("[[1, 2]]", "{", "[]", '[["a", "county", "1", "p", "", "", "x", 3]]'):
            cache.write_text(damage, encoding="utf-8")
            assert metadata.read_cached_divisions(cache) is None
            metadata.load_gazetteer.cache_clear()
            assert metadata.load_gazetteer() == fresh
            assert metadata.read_cached_divisions(cache) == truth  # written again
        blocked = tmp_path / "file"
        blocked.write_text("", encoding="utf-8")
        monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))  # a file where a folder should be
        metadata.load_gazetteer.cache_clear()
        assert metadata.load_gazetteer() == fresh
    finally:
        metadata.load_gazetteer.cache_clear()


# Issue 22 part 3: a work report without title or date is the year it plans for.
REVIEWS_2023 = {
    "numbered review, plan heading": "一、2023年主要工作\n2023年，全镇实现生产总值10亿元，比2022年增长5%。\n二、2024年工作安排\n2024年，继续推进乡村振兴。",
    "review heading taken for the title": "2023年工作回顾\n2023年全镇实现生产总值10亿元，2022年打下的基础得到巩固。\n2024年工作计划\n抓好以下工作。",
    "yearless plan": "一、2023年主要工作\n2023年新建道路10公里，较2022年多5公里。2023年完成投资。\n二、下一步工作打算\n一是继续推进产业发展。",
    "main work twice": "一、2023年主要工作\n2023年全镇完成投资。2022年、2023年连续两年获评先进。\n二、2024年主要工作\n抓好产业发展。",
    "review only": "（一）2023年工作回顾\n2023年，全镇上下团结奋斗，比2021年、2022年都好。2023年是关键一年。",
}


@pytest.mark.parametrize("shape", sorted(REVIEWS_2023))
def test_an_undated_report_is_the_year_it_plans_for(shape: str):
    text = REVIEWS_2023[shape]
    first = text.splitlines()[0]
    for title in ("a", first):  # saved as a.txt, or its first heading taken for the title
        assert detect_year(title, None, text[:300], text, "其他") == 2024, (shape, title)


def test_a_summary_and_a_plan_keep_their_own_years():
    summary = (
        "2023年工作总结\n一、2023年工作完成情况\n全镇完成投资。\n二、2024年工作打算\n抓好产业。"
    )
    assert detect_year("2023年工作总结", None, summary, summary, "工作总结") == 2023
    plan = "2024年工作要点\n一、2024年重点任务\n抓好产业发展。"
    assert detect_year("2024年工作要点", None, plan, plan, "工作要点") == 2024
    dated = "政府工作报告\n一、2023年工作回顾\n二、2024年工作安排"
    assert detect_year("政府工作报告", "2023-12-30", dated, dated) == 2023  # its date wins
