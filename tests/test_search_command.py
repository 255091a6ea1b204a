"""The search_novel command: its output and its errors."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.story import make_story

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("search_novel", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_it_prints_ranked_passages_with_chapter_people_and_a_highlighted_excerpt() -> None:
    novel = make_story()
    out, err = run(str(novel.pk), "李四 钓鱼", "--top", "2")
    lines = out.splitlines()
    assert lines[0].startswith("《乡野传》搜索「李四 钓鱼」：2 条结果")
    assert "须同时提到：李四" in lines[0]
    assert lines[1].startswith(" 1. 第2章 位置 ") and lines[1].endswith("人物：李四")
    assert "【李四】独自坐在河边【钓鱼】" in lines[2]
    assert lines[3].startswith(" 2. 第")
    assert len(lines) == 5
    assert "已为《乡野传》的 5 个段落建立向量（tfidf-svd256）" in err


def test_it_finds_the_novel_by_its_title_and_builds_vectors_only_once() -> None:
    make_story()
    run("乡野传", "宝剑")
    out, err = run("乡野传", "宝剑")
    assert "条结果" in out and "建立向量" not in err


def test_a_chapter_limit_is_shown_and_applied() -> None:
    novel = make_story()
    out, _ = run(str(novel.pk), "王五 李四", "--chapter-max", "2")
    assert out.splitlines() == [
        "《乡野传》搜索「王五 李四」：0 条结果｜向量：tfidf-svd256｜须同时提到：王五、李四｜只看到第 2 章"
    ]


@pytest.mark.parametrize("key", ["不存在的书", "999999"])
def test_an_unknown_novel_is_refused_with_exit_code_2(key: str) -> None:
    make_story()
    with pytest.raises(CommandError, match="找不到小说") as info:
        run(key, "宝剑")
    assert info.value.returncode == 2


@pytest.mark.parametrize("query", ["", "   "])
def test_an_empty_query_is_refused_in_one_line_with_exit_code_2(query: str) -> None:
    novel = make_story()
    with pytest.raises(CommandError) as info:
        run(str(novel.pk), query)
    assert info.value.returncode == 2
    assert str(info.value) == "查询不能为空"
    assert not novel.passages.exists()


def test_the_model_vectorizer_without_a_key_is_refused_with_exit_code_2() -> None:
    novel = make_story()
    with pytest.raises(CommandError, match="ZHIPUAI_API_KEY") as info:
        run(str(novel.pk), "宝剑", "--vectorizer", "model")
    assert info.value.returncode == 2


@pytest.mark.parametrize("option", ["--top", "--chapter-max"])
def test_a_count_below_one_is_refused(option: str) -> None:
    novel = make_story()
    with pytest.raises(CommandError):
        run(str(novel.pk), "宝剑", option, "0")
