"""Reading reports: compilations, site junk, metadata, sections and ids."""

from __future__ import annotations

from pathlib import Path

from searchapp.documents import (
    is_junk_line,
    load_corpus,
    make_para_ids,
    parse_source,
)
from searchapp.readers import Block, SourceText

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout
SEEDS = PROJECT_ROOT / "seeds"


def seed_documents():
    return [d for _, docs in load_corpus(SEEDS) for d in docs]


def source(text: str) -> SourceText:
    return SourceText(blocks=[Block(line) for line in text.split("\n")])


def test_compilation_is_split_into_the_reports_it_holds():
    docs = [d for d in seed_documents() if d.source.startswith("001_")]
    assert [d.town for d in docs] == ["横沥镇", "六镇镇", "泥溪镇", "平湖镇", "濮院镇"]
    assert all(d.year == 2023 and d.doc_type == "政府工作报告" for d in docs)
    assert docs[0].title == "横沥镇2023年政府工作报告"
    texts = "\n".join(p.text for d in docs for p in d.paragraphs)
    for junk in ("水口镇", "盛泽镇", "联系客服", "VIP", "电脑桌面", "会员中心", "汇编"):
        assert junk not in texts
    assert "目录" not in [p.text for d in docs for p in d.paragraphs]
    # the last report ends where the site's footer starts
    assert docs[-1].paragraphs[-1].text.startswith("(五)以人为本")


def test_compilation_rules_are_generic():
    text = "\n".join(
        [
            "下载本文档 VIP会员专享",
            "乡镇报告合集(2篇)",
            "目 录",
            "1.甲镇2024年政府工作报告 3",
            "2.乙乡2024年政府工作报告 9",
            "3.丙镇2024年政府工作报告 15",
            "甲镇2024年政府工作报告",
            "各位代表：",
            "现在，我代表甲镇人民政府向大会报告工作。",
            "一、2023年工作回顾",
            "甲镇的工作很好。",
            "乙乡2024年政府工作报告",
            "各位代表：",
            "乙乡的工作也很好。",
            "本站文档均由用户上传，付费下载后仅供参考",
            "联系客服",
        ]
    )
    docs = parse_source(source(text), "c.txt")
    assert [d.title for d in docs] == ["甲镇2024年政府工作报告", "乙乡2024年政府工作报告"]
    assert [d.town for d in docs] == ["甲镇", "乙乡"]
    assert docs[1].paragraphs[-1].text == "乙乡的工作也很好。"
    assert docs[0].paragraphs[-1].section == ("一、2023年工作回顾",)


def test_single_report_keeps_mentions_of_site_words_in_its_body():
    text = "政府工作报告\n各位代表：\n推进文档下载服务，方便会员单位。\n谢谢大家！"
    (doc,) = parse_source(source(text), "a.txt")
    assert [p.text for p in doc.paragraphs][-2:] == [
        "推进文档下载服务，方便会员单位。",
        "谢谢大家！",
    ]


def test_seed_metadata():
    docs = {d.source[:3] + (f"#{d.part}" if d.part else ""): d for d in seed_documents()}
    assert docs["000"].town == "潭头镇" and docs["000"].year == 2023
    assert docs["002"].title == "关于潭头镇2022年推进实施乡村振兴战略进展情况工作情况的报告"
    assert docs["002"].doc_type == "乡村振兴工作报告"
    assert docs["002"].place == "栾川县" and docs["002"].date == "2022-12-23"
    assert docs["003"].town == "杨集镇" and docs["003"].date == "2022-11-28"
    assert docs["004"].town == "涌山镇" and docs["004"].place == "乐平市"  # sidecar


def test_county_report_is_about_the_county():
    text = "政府工作报告\n各位代表：\n现在，我代表北京市人民政府，向大会报告工作。"
    (doc,) = parse_source(source(text), "bj.txt")
    assert doc.town == "北京市"


def test_unknown_town_stays_unknown():
    (doc,) = parse_source(source("工作总结\n今年工作取得进展。"), "x.txt")
    assert doc.town == "未知"


def test_section_paths_follow_the_headings():
    text = "\n".join(
        [
            "某镇2023年政府工作报告",
            "各位代表：",
            "一、2022年工作回顾",
            "（一）产业发展",
            "产业发展很快。",
            "（二）民生保障",
            "民生保障有力。",
            "二、2023年工作安排",
            "继续努力。",
        ]
    )
    (doc,) = parse_source(source(text), "s.txt")
    sections = {p.text: p.section for p in doc.paragraphs}
    assert sections["产业发展很快。"] == ("一、2022年工作回顾", "（一）产业发展")
    assert sections["民生保障有力。"] == ("一、2022年工作回顾", "（二）民生保障")
    assert sections["继续努力。"] == ("二、2023年工作安排",)


def test_paragraph_ids_survive_edits_elsewhere():
    before = make_para_ids(["甲。", "乙。", "丙。"])
    after = make_para_ids(["新的开头。", "甲。", "丙。", "乙。"])
    assert set(before) <= set(after)
    assert make_para_ids(["同。", "同。"])[1].endswith("-2")


def test_doc_ids_depend_only_on_the_file(tmp_path: Path):
    first = {d.doc_id for d in seed_documents()}
    assert len(first) == 9
    assert {d.doc_id for d in seed_documents()} == first


def test_junk_lines():
    assert is_junk_line("联系客服")
    assert is_junk_line("1、当您付费下载文档后,您只拥有了使用权限")
    assert not is_junk_line("推进全镇工作再上新台阶。")


def test_a_long_line_is_never_junk_whatever_its_words():
    line = "深化商事制度改革，新增注册市场主体，畅通举报渠道，推进文档电子化。" * 5
    assert len(line) > 120 and not is_junk_line(line)
    (doc,) = parse_source(source(f"VIP会员专享\n{line}\n联系客服"), "one.txt")
    assert [p.text for p in doc.paragraphs] == [line]


def test_news_site_toolbar_and_breadcrumbs_before_the_title_are_dropped():
    toolbar = ["下载", "打印", "全屏", "收藏", "【字号：", "加大", "还原", "减小", "】"]
    crumbs = ["您的位置:", "首页", ">"]
    body = [
        "云南要闻",
        "2026年政府工作报告",
        "各位代表：",
        "现在，我代表省人民政府向大会报告工作。",
    ]
    (doc,) = parse_source(source("\n".join(toolbar + crumbs + body)), "news.txt")
    assert [p.text for p in doc.paragraphs] == body
    (doc,) = parse_source(source("\n".join([*body, "打印", "收藏"])), "tail.txt")
    assert [p.text for p in doc.paragraphs] == body


def test_site_words_without_a_site_mark_are_report_text():
    lines = ["下载", "关于规范文档下载和注册登录的通知", "各位代表：", "加强版权保护，打击侵权。"]
    (doc,) = parse_source(source("\n".join(lines)), "plain.txt")
    assert [p.text for p in doc.paragraphs] == lines[1:]  # only the toolbar's 下载 goes


def test_pieces_of_a_cut_paragraph_name_their_author_paragraph():
    """A paragraph over MAX_PARAGRAPH becomes pieces that keep their own ids (permalinks)
    and name their author paragraph (fields.BLOCK, PIECE, PIECES); the others are
    author paragraphs of one piece."""
    from searchapp import fields as F
    from searchapp.documents import MAX_PARAGRAPH, split_long_paragraph
    from searchapp.indexing import paragraph_fields

    long = "推进垃圾分类工作，改善农村面貌。" * 100  # 1,600 characters
    text = f"工作总结\n开头一段。\n{long}\n结尾一段。"
    (doc,) = parse_source(source(text), "cut.txt")
    pieces = split_long_paragraph(long)
    assert len(long) > MAX_PARAGRAPH and len(pieces) > 1
    assert [p.text for p in doc.paragraphs] == ["工作总结", "开头一段。", *pieces, "结尾一段。"]
    assert [(p.piece, p.pieces) for p in doc.paragraphs] == [
        (0, 1),
        (0, 1),
        *((n, len(pieces)) for n in range(len(pieces))),
        (0, 1),
    ]
    assert [p.para_id for p in doc.paragraphs][2:-1] == make_para_ids(pieces)
    rows = list(paragraph_fields(doc, "hash"))
    first = rows[2][F.KEY]
    assert [r[F.BLOCK] for r in rows] == [
        rows[0][F.KEY],
        rows[1][F.KEY],
        *[first] * len(pieces),
        rows[-1][F.KEY],
    ]
    assert [(r[F.PIECE], r[F.PIECES]) for r in rows] == [
        (p.piece, p.pieces) for p in doc.paragraphs
    ]
    assert len({r[F.BLOCK] for r in rows}) == 4
