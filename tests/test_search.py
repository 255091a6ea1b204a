"""Search over a novel's passages (graph.search, graph.passage_index, graph.vectorizers)."""

from __future__ import annotations

import numpy as np
import pytest

from graph import passage_index, search
from graph.models import Chapter, Passage, VectorSpace
from graph.vectorizers import LOCAL_NAME, LocalVectorizer, pack, stack, unpack
from tests.story import make_story

pytestmark = pytest.mark.django_db


def chapters_of(results: search.Results) -> list[int]:
    return [hit.chapter for hit in results.hits]


# --- vectors ------------------------------------------------------------------------------------


def test_a_vector_is_stored_as_float32_bytes_and_read_back() -> None:
    novel = make_story()
    vector = np.array([0.25, -1.5, 3.0e-7, 1e30], dtype=np.float64)
    Passage.objects.create(
        novel=novel, chapter=1, offset=0, text="甲", vector=pack(vector), vectorizer="test"
    )
    stored = bytes(Passage.objects.get().vector)
    assert len(stored) == 4 * 4
    assert stored == np.array(vector, dtype="<f4").tobytes()
    assert unpack(stored).dtype == np.float32
    assert np.array_equal(unpack(stored), vector.astype(np.float32))
    assert stack([stored, stored], 4).shape == (2, 4)


def test_the_local_model_gives_the_same_vectors_after_a_round_trip_through_bytes() -> None:
    texts = ["孙悟空大闹天宫。", "唐僧西天取经。", "猪八戒背媳妇。"]
    model, vectors = LocalVectorizer.fit(texts)
    again = LocalVectorizer.from_bytes(model.to_bytes())
    assert np.allclose(again.transform(texts), vectors, atol=1e-5)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_query_with_nothing_the_model_knows_is_the_zero_vector() -> None:
    model, _ = LocalVectorizer.fit(["孙悟空大闹天宫。", "唐僧西天取经。"])
    assert not model.transform(["xyz"]).any()


def test_vectors_are_built_on_first_use_and_stored() -> None:
    novel = make_story()
    first = search.search(novel, "钓鱼")
    assert first.built == 5 and first.vectorizer == LOCAL_NAME
    rows = novel.passages.filter(vectorizer=LOCAL_NAME)
    assert rows.count() == 5
    assert all(
        len(bytes(v)) == 4 * VectorSpace.objects.get().dimensions
        for v in rows.values_list("vector", flat=True)
    )
    assert search.search(novel, "钓鱼").built == 0


def test_passages_are_built_again_when_a_chapter_is_added() -> None:
    novel = make_story()
    search.search(novel, "钓鱼")
    Chapter.objects.create(
        novel=novel, number=4, title="第四章", text="李四又去河边钓鱼，钓到一只乌龟。"
    )
    again = search.search(novel, "乌龟")
    assert again.built == 6
    assert chapters_of(again)[0] == 4


# --- ranking ----------------------------------------------------------------------------------


def test_it_ranks_the_passage_about_the_query_first() -> None:
    novel = make_story()
    assert chapters_of(search.search(novel, "河边钓鱼"))[0] == 2
    assert "李四独自坐在河边钓鱼" in search.search(novel, "河边钓鱼").hits[0].text
    assert "赵六娶亲" in search.search(novel, "喝喜酒 新娘").hits[0].text


def test_names_in_the_query_keep_only_passages_that_name_those_people() -> None:
    novel = make_story()
    results = search.search(novel, "张三与王五")
    assert [name for _, name in results.required] == ["张三", "王五"]
    assert [hit.text[:6] for hit in results.hits] == ["王五听说张三"]


def test_an_alias_in_the_query_stands_for_its_character() -> None:
    novel = make_story()
    results = search.search(novel, "三郎 宝剑")
    assert [name for _, name in results.required] == ["张三"]
    assert chapters_of(results)[0] == 2
    assert all("张三" in hit.text or "三郎" in hit.text for hit in results.hits)


def test_a_chapter_limit_leaves_out_later_chapters() -> None:
    novel = make_story()
    assert 3 in chapters_of(search.search(novel, "李四 王五"))
    limited = search.search(novel, "李四 王五", chapter_max=2)
    assert chapters_of(limited) == []
    assert set(chapters_of(search.search(novel, "宝剑", chapter_max=2))) <= {1, 2}


def test_each_hit_lists_the_people_it_names_in_rank_order() -> None:
    novel = make_story()
    hit = search.search(novel, "集市 梨花酒").hits[0]
    assert [name for _, name in hit.characters] == ["张三", "李四"]


def test_it_shows_one_passage_per_chapter_and_prefers_chapters_with_several_matches() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.95, 0.1])
    chapters = np.array([1, 1, 1, 2, 3])
    allowed = np.ones(5, dtype=bool)
    picked = search.rank(scores, chapters, allowed, top=10)
    assert [i for i, _ in picked] == [0, 3, 4]
    assert [i for i, _ in search.rank(scores, chapters, allowed, 10, chapter_weight=0)] == [3, 0, 4]
    assert [i for i, _ in search.rank(scores, chapters, allowed, 10, per_chapter=2)][:3] == [
        0,
        1,
        3,
    ]
    assert search.rank(scores, chapters, np.zeros(5, dtype=bool), 10) == []


def test_the_excerpt_highlights_the_names_and_the_query_words() -> None:
    novel = make_story()
    hit = search.search(novel, "李四 钓鱼").hits[0]
    marked = {text for text, on in hit.excerpt if on}
    assert marked == {"李四", "钓鱼"}
    assert len("".join(text for text, _ in hit.excerpt)) <= search.EXCERPT_CHARS + 2


def test_a_long_passage_gets_an_excerpt_around_its_first_match() -> None:
    text = "甲" * 300 + "宝剑" + "乙" * 300
    segments = search.highlight(text, ["宝剑"], width=40)
    assert segments[0] == ("…", False) and segments[-1] == ("…", False)
    assert ("宝剑", True) in segments


def test_an_empty_query_is_refused() -> None:
    with pytest.raises(search.SearchError, match="查询不能为空"):
        search.search(make_story(), "  \n ")


def test_a_query_unknown_to_the_vectorizer_finds_nothing() -> None:
    assert search.search(make_story(), "xyz").hits == []


def test_a_novel_without_chapters_finds_nothing() -> None:
    novel = make_story()
    novel.chapters.all().delete()
    assert search.search(novel, "宝剑").hits == []


def test_the_loaded_index_follows_an_alias_edit() -> None:
    novel = make_story()
    assert search.search(novel, "阿四 钓鱼").required == []
    novel.characters.filter(name="李四").update(aliases=["阿四"])
    assert [name for _, name in search.search(novel, "阿四 钓鱼").required] == ["李四"]
    assert len(passage_index._cache) <= passage_index.CACHED_INDEXES
