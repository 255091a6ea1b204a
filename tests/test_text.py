"""Tests for graph.text: encoding detection, chapter and paragraph splitting."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.text import ChapterText, TextError, decode, paragraphs, split_chapters

CORPUS = Path("/work/shared/corpus")

SAMPLE = (
    "第一回　灵根育孕源流出　心性修持大道生\n"
    "话说天下大势，分久必合，合久必分。他们来到这里，说了一些话。\n"
    "我们在这个国家里，有很多的人，他也是其中之一。\n"
    "第二回　悟彻菩提真妙理　断魔归本合元神\n"
    "这一年，孙悟空到了山中，看见一个老人在路上走来。\n"
)


def titles(chapters: list[ChapterText]) -> list[str]:
    return [c.title for c in chapters]


def split(*lines: str, **kwargs: int) -> list[ChapterText]:
    return split_chapters("\n".join(lines), **kwargs)


# ---------------------------------------------------------------- decode


def test_it_decodes_plain_utf8() -> None:
    assert decode(SAMPLE.encode("utf-8")) == (SAMPLE, "utf-8")


def test_it_detects_utf8_with_bom_and_drops_the_bom() -> None:
    assert decode(SAMPLE.encode("utf-8-sig")) == (SAMPLE, "utf-8-sig")


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
def test_it_detects_utf16_with_either_byte_order_mark(codec: str) -> None:
    bom = b"" if codec == "utf-16" else ("\ufeff".encode(codec))
    assert decode(bom + SAMPLE.encode(codec)) == (SAMPLE, "utf-16")


def test_it_detects_gb18030() -> None:
    assert decode(SAMPLE.encode("gb18030")) == (SAMPLE, "gb18030")


def test_it_detects_gbk_bytes_as_gb18030() -> None:
    assert decode(SAMPLE.encode("gbk")) == (SAMPLE, "gb18030")


def test_it_detects_big5_although_gb18030_also_decodes_it() -> None:
    traditional = (
        "第一回　靈根育孕源流出\n話說天下大勢，分久必合，合久必分。他們來到這裡，說了一些話。\n"
        "我們在這個國家裡，有很多的人，他也是其中之一。這一年，他到了山中。\n"
    )
    data = traditional.encode("big5")
    data.decode("gb18030")  # the trap: this does not fail
    assert decode(data) == (traditional, "big5")


def test_it_normalises_windows_and_old_mac_newlines() -> None:
    text, _ = decode("第一章 甲\r\n他来了。\r第二段。\r\n".encode())
    assert text == "第一章 甲\n他来了。\n第二段。\n"


def test_a_forced_encoding_is_used_and_reported_by_its_codec_name() -> None:
    assert decode(SAMPLE.encode("gbk"), encoding="GBK") == (SAMPLE, "gbk")
    assert decode(SAMPLE.encode("utf-8-sig"), encoding="utf8") == (SAMPLE, "utf-8")


def test_a_forced_encoding_that_cannot_decode_is_refused() -> None:
    with pytest.raises(TextError, match="无法用 utf-8"):
        decode(SAMPLE.encode("gb18030"), encoding="utf-8")


@pytest.mark.parametrize("name", ["no-such-codec", "base64"])
def test_an_unknown_or_non_text_forced_encoding_is_refused(name: str) -> None:
    with pytest.raises(TextError, match="未知的文件编码"):
        decode(b"YWJj", encoding=name)


def test_binary_data_is_refused() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    with pytest.raises(TextError, match="二进制"):
        decode(png)


def test_text_full_of_control_characters_is_refused() -> None:
    with pytest.raises(TextError, match="二进制"):
        decode(b"\x01\x02\x03abc\x04\x05\x06" * 100)


@pytest.mark.parametrize("data", [b"", b"   \n\r\n\t", "\ufeff\u3000\n".encode("utf-8-sig")])
def test_empty_or_blank_input_is_refused(data: bytes) -> None:
    with pytest.raises(TextError, match="文件为空"):
        decode(data)


def test_a_file_cut_inside_its_last_character_still_decodes() -> None:
    assert decode(SAMPLE.encode() + "话".encode()[:2]) == (SAMPLE, "utf-8")
    assert decode(SAMPLE.encode("gb18030") + "话".encode("gb18030")[:1])[1] == "gb18030"


def test_a_stray_bad_byte_in_a_long_utf8_file_is_replaced() -> None:
    half = (SAMPLE * 20).encode()
    text, name = decode(half + b"\xff" + half)
    assert name == "utf-8"
    assert text.count("\ufffd") == 1


def test_undecodable_garbage_is_refused() -> None:
    garbage = bytes((i * 37 + 128) % 256 for i in range(5000)).replace(b"\x00", b"\xff")
    with pytest.raises(TextError, match="无法识别文件编码"):
        decode(garbage)


def test_error_messages_are_one_line_of_chinese() -> None:
    with pytest.raises(TextError) as caught:
        decode(b"\x00\x01binary")
    message = str(caught.value)
    assert "\n" not in message and any("\u4e00" <= c <= "\u9fff" for c in message)


# ---------------------------------------------------------------- headings


@pytest.mark.parametrize(
    "heading",
    [
        "第一章 风起",
        "第十二章：风起",
        "第一百零二章:风起",
        "第两千零一章　风起",
        "第一〇二章 风起",
        "第一万章 大结局",
        "第12章 风起",
        "第１２章 风起",
        "第三回　灵根育孕源流出　心性修持大道生",
        "第五节 风起",
        "第一章",
        "第一章风起",
        "　　第三章 风起",
        "    第三章 风起",
        "第一卷 风起 第一章 少年",
        "第一卷第一章",
        "上卷 第一章 少年",
        "卷一 第三回 风起",
        "第一章 喂，你是谁",
        "序章",
        "序章 开端",
        "楔子",
        "引子：风起",
        "序言",
        "尾声",
        "后记",
        "番外",
        "番外一 少年时",
        "番外2：后来",
        "番外篇 风起",
    ],
)
def test_it_recognises_heading_variant(heading: str) -> None:
    chapters = split("前面的话。", heading, "正文第一段。", "第二章 下一章", "正文。")
    assert titles(chapters) == [heading.strip(), "第二章 下一章"]
    assert chapters[0].text == "正文第一段。"


@pytest.mark.parametrize(
    "line",
    [
        "第四回中，既将薛家母子在荣府内寓居等事略已表明，…",
        "第四回 中，既将薛家母子在荣府内寓居等事略已表明，…",
        "第三日包管有十万枝箭。只不可又教公瑾得知；若彼知之，吾计败矣！",
        "第二回合，他败下阵来。",
        "第一章写得很好。第二章写得更好。",
        "第一名虞育德，南直隶常熟县人。",
        "后记得当年的事。",
        "楔子，是木工的东西。",
        "上卷起袖子就干。",
        "第一章" + "很长的标题" * 10,
    ],
)
def test_a_body_sentence_that_starts_like_a_heading_is_not_one(line: str) -> None:
    chapters = split("第一章 开端", "他来了。", line, "他走了。")
    assert titles(chapters) == ["第一章 开端"]
    assert chapters[0].text == f"他来了。\n{line}\n他走了。"


def test_a_volume_line_is_not_a_chapter_and_its_text_joins_the_next_chapter() -> None:
    chapters = split(
        "第一卷 风起",
        "第一章 少年",
        "甲。",
        "第二卷 云涌",
        "本卷讲的是后来的事。",
        "第二章 青年",
        "乙。",
    )
    assert titles(chapters) == ["第一章 少年", "第二章 青年"]
    assert chapters[1].text == "本卷讲的是后来的事。\n乙。"


def test_volume_lines_become_chapters_when_there_are_no_chapter_headings() -> None:
    chapters = split("上卷", "甲。", "下卷 归来", "乙。")
    assert [(c.number, c.title, c.text) for c in chapters] == [
        (1, "上卷", "甲。"),
        (2, "下卷 归来", "乙。"),
    ]


def test_short_front_matter_is_dropped() -> None:
    chapters = split("西游记", "吴承恩 著", "第一回 开端", "正文。")
    assert [(c.number, c.title, c.text) for c in chapters] == [(1, "第一回 开端", "正文。")]


def test_long_front_matter_becomes_a_preface_chapter() -> None:
    preface = "这是一篇很长的序言。" * 100  # 1000 chars, more than a third of 2700
    chapters = split(preface, "第一回 开端", "正文。", max_part_chars=2700)
    assert titles(chapters) == ["前言", "第一回 开端"]
    assert chapters[0].text == preface


def test_download_site_noise_lines_are_dropped() -> None:
    chapters = split(
        "第一章 风起",
        "本章字数:3021",
        "本章字数：3021 更新时间：2012-01-01 12:00:00",
        "更新时间 2012-01-01",
        "------章节内容开始-------",
        "手机阅读请访问 m.example.com",
        "www.example.com",
        "https://www.example.com/book/1.html",
        "他说：更新时间到了，快走。",
        "本章字数太多了，他想。",
    )
    assert chapters[0].text == "他说：更新时间到了，快走。\n本章字数太多了，他想。"


def test_a_repeated_heading_does_not_create_an_empty_chapter() -> None:
    chapters = split(
        "第一章 风起", "第一章 风起", "甲。", "第二章 云涌", "本章字数：12", "第二章 云涌", "乙。"
    )
    assert [(c.number, c.title, c.text) for c in chapters] == [
        (1, "第一章 风起", "甲。"),
        (2, "第二章 云涌", "乙。"),
    ]


def test_bodies_are_stripped_paragraphs_without_blank_lines() -> None:
    chapters = split("第一章 风起", "", "　　甲。  ", "\t", "  乙。\u3000", "")
    assert chapters[0].text == "甲。\n乙。"
    assert paragraphs(chapters[0].text) == ["甲。", "乙。"]


def test_paragraphs_drop_blank_lines_and_surrounding_space() -> None:
    assert paragraphs("\u3000\u3000甲。\n\n  乙。 \n") == ["甲。", "乙。"]


# ---------------------------------------------------------------- headless text


def test_headless_text_is_split_at_paragraph_boundaries_within_the_limit() -> None:
    paras = [f"第{i}段" + "字" * (i % 7 * 10 + 5) + "。" for i in range(200)]
    parts = split_chapters("\n".join(paras), max_part_chars=300)
    assert len(parts) > 1
    assert titles(parts) == [f"第{i}部分" for i in range(1, len(parts) + 1)]
    assert all(len(p.text) <= 300 for p in parts)
    assert [q for p in parts for q in paragraphs(p.text)] == paras


def test_a_giant_paragraph_is_cut_at_sentence_ends() -> None:
    sentence = "他说：“这是一句话！”" + "甲" * 30 + "。"
    parts = split_chapters(sentence * 20, max_part_chars=100)
    assert all(len(p.text) <= 100 for p in parts)
    assert all(
        p.text.endswith(("。", "！”")) for p in parts
    )  # a closing quote stays with its sentence
    assert "".join(p.text for p in parts).replace("\n", "") == sentence * 20


def test_a_giant_paragraph_without_sentence_ends_is_hard_cut() -> None:
    parts = split_chapters("字" * 250, max_part_chars=100)
    assert [len(p.text) for p in parts] == [100, 100, 50]


def test_a_five_million_character_gb18030_text_is_decoded_and_split() -> None:
    # (How fast: bench/pipeline.py measures it; the suite asserts no wall-clock times.)
    chapter = "第{}章 标题\n" + ("他们来到这里，说了一些话。" * 20 + "\n") * 30
    text = "".join(chapter.format(i) for i in range(1, 650))
    assert len(text) > 5_000_000
    decoded, name = decode(text.encode("gb18030"))
    chapters = split_chapters(decoded)
    assert name == "gb18030" and len(chapters) == 649
    assert chapters[-1].title.startswith("第649章") and decoded == text


# ---------------------------------------------------------------- the real corpus


def corpus_file(name: str) -> bytes:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus file {path} is missing")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("name", "count"),
    [("xiyouji.txt", 100), ("sanguo.txt", 120), ("hongloumeng.txt", 120), ("rulinwaishi.txt", 56)],
)
def test_corpus_novel_has_the_expected_number_of_chapters(name: str, count: int) -> None:
    text, encoding = decode(corpus_file(name))
    chapters = split_chapters(text)
    assert encoding == "utf-8"
    assert [c.number for c in chapters] == list(range(1, count + 1))
    assert all("回" in c.title and c.text for c in chapters)


def test_hongloumeng_chapter_five_keeps_its_opening_sentence_about_chapter_four() -> None:
    chapters = split_chapters(decode(corpus_file("hongloumeng.txt"))[0])
    assert chapters[4].title.startswith("第五回")
    assert chapters[4].text.startswith("第四回中，")


def test_xiyouji_appendix_stays_inside_chapter_eight() -> None:
    chapters = split_chapters(decode(corpus_file("xiyouji.txt"))[0])
    assert chapters[7].title.startswith("第八回")
    assert "附录　陈光蕊赴任逢灾　江流僧复仇报本" in chapters[7].text


def test_the_gb18030_xiyouji_gives_the_same_chapters_as_the_utf8_one() -> None:
    text, encoding = decode(corpus_file("encodings/xiyouji.gb18030.txt"))
    assert encoding == "gb18030"
    assert split_chapters(text) == split_chapters(decode(corpus_file("xiyouji.txt"))[0])
