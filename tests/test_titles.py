"""Tests for graph.titles: a book's title from its text, its file name as a last resort."""

from __future__ import annotations

import pytest

from graph.text import decode
from graph.titles import book_title, title_in_file_name, title_in_text

BODY = "第一回　宴桃园豪杰三结义\n话说天下大势，分久必合，合久必分。\n"


@pytest.mark.parametrize(
    ("top", "title"),
    [
        ("《三国演义》\n", "三国演义"),
        ("《三国演义》 罗贯中 著\n", "三国演义"),
        ("\ufeff  《三国演义》作者：罗贯中\n\n", "三国演义"),
        ("书名：三国演义\n作者：罗贯中\n", "三国演义"),
        ("書名: 《三國演義》\n", "三國演義"),
        ("七剑十三侠\n作者：唐芸洲（清）\n\n序\n尝见稗官小说记载剑仙侠客之流。\n", "七剑十三侠"),
        ("啼笑姻缘\n作者：张恨水\n\n", "啼笑姻缘"),
        ("三国演义 作者：罗贯中\n", "三国演义"),
        ("三国演义\n\n", "三国演义"),  # a bare line right above the first heading
    ],
)
def test_it_reads_the_title_the_text_states(top: str, title: str) -> None:
    assert title_in_text(top + BODY) == title
    assert book_title(top + BODY, "sanguo.txt") == title


@pytest.mark.parametrize(
    "top",
    [
        "",  # the text starts with its first heading
        "词曰：\n\n滚滚长江东逝水，浪花淘尽英雄。\n\n",  # a poem, then the heading
        "目录\n",  # a section name is not a title
        "话说天下大势\n分久必合\n",  # two bare lines that are prose
        "此开卷第一回也。作者自云曾历过一番梦幻之后，故将真事隐去，而借通灵说此《石头记》一书也。\n",
    ],
)
def test_it_finds_no_title_in_a_text_that_states_none(top: str) -> None:
    assert title_in_text(top + BODY) is None


def test_a_first_line_far_above_the_heading_is_prose_not_a_title() -> None:
    text = "天下大势\n" + "话说天下大势，分久必合，合久必分。\n" * 3 + BODY
    assert title_in_text(text) is None


@pytest.mark.parametrize(
    ("file_name", "title"),
    [
        ("sanguo.txt", "sanguo"),
        ("《三国演义》作者：罗贯中.txt", "三国演义"),
        ("三国演义 作者：罗贯中.txt", "三国演义"),
        ("三国演义_作者：罗贯中.TXT", "三国演义"),
        ("三国演义.txt", "三国演义"),
        ("no-extension", "no-extension"),
    ],
)
def test_the_file_name_gives_the_title_as_a_last_resort(file_name: str, title: str) -> None:
    assert title_in_file_name(file_name) == title
    assert book_title(BODY, file_name) == title


def test_a_title_in_the_text_wins_over_the_file_name() -> None:
    assert book_title("《三国演义》\n" + BODY, "《三国志》.txt") == "三国演义"


def test_the_corpus_files_get_their_stated_titles_or_their_file_names(corpus) -> None:
    expected = {"qijian.txt": "七剑十三侠", "tixiao.txt": "啼笑姻缘", "sanguo.txt": "sanguo",
                "xiyouji.txt": "xiyouji", "hongloumeng.txt": "hongloumeng",
                "rulinwaishi.txt": "rulinwaishi"}  # fmt: skip
    for name, title in expected.items():
        text, _ = decode((corpus / name).read_bytes())
        assert book_title(text, name) == title, name
