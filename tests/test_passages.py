"""Cutting chapters into passages (graph.passages)."""

from __future__ import annotations

import re

import pytest

from graph.passages import MAX_CHARS, TARGET_CHARS, cut

SENTENCE = "他走到门前，轻轻敲了三下。"  # 13 characters
BODY = "\n".join(
    [
        SENTENCE * 10,  # 130 characters
        "“你来了？”门里有人问道。" + SENTENCE * 5,
        "  " + SENTENCE * 30 + "  ",  # 390 characters with stray spaces
        "短句。",
    ]
)


def test_it_gives_offsets_that_find_each_passage_in_its_chapter() -> None:
    pieces = cut(BODY)
    assert len(pieces) > 2
    for piece in pieces:
        assert BODY[piece.offset : piece.offset + len(piece.text)] == piece.text
    assert [p.offset for p in pieces] == sorted(p.offset for p in pieces)


def test_it_loses_nothing_but_whitespace() -> None:
    joined = "".join(p.text for p in cut(BODY))
    assert re.sub(r"\s", "", joined) == re.sub(r"\s", "", BODY)


def test_it_ends_every_passage_at_a_sentence_end() -> None:
    for piece in cut(BODY):
        assert piece.text[-1] in "。？”", piece.text[-10:]
        assert piece.text == piece.text.strip()


def test_it_keeps_passages_to_a_few_hundred_characters() -> None:
    lengths = [len(p.text) for p in cut(BODY * 5)]
    assert max(lengths) <= TARGET_CHARS
    assert sum(lengths) / len(lengths) > TARGET_CHARS / 2


def test_it_keeps_a_closing_quote_with_its_sentence() -> None:
    pieces = cut("“你来了？”门里有人问道。“来了。”他答。", target=8, limit=20)
    assert [p.text for p in pieces] == ["“你来了？”", "门里有人问道。", "“来了。”他答。"]


def test_it_ends_at_a_paragraph_end_once_half_the_target_is_reached() -> None:
    body = "一二三四五六。\n七八九十。"
    assert [p.text for p in cut(body, target=10, limit=20)] == ["一二三四五六。", "七八九十。"]
    assert [p.text for p in cut(body, target=20, limit=20)] == [body]


def test_it_cuts_a_sentence_longer_than_the_limit() -> None:
    body = "长" * (MAX_CHARS * 2 + 7) + "。"
    pieces = cut(body)
    assert [len(p.text) for p in pieces] == [MAX_CHARS, MAX_CHARS, 8]
    assert "".join(p.text for p in pieces) == body


def test_an_empty_chapter_has_no_passages() -> None:
    assert cut("") == [] and cut(" \n \n") == []


def test_it_refuses_a_target_above_the_limit() -> None:
    with pytest.raises(ValueError):
        cut(BODY, target=600, limit=500)
