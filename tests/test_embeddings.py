"""Passage vectors from the model (embedding-3) through the emulator, and the batch JSONL builder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from graph import embedding_batches, embeddings, passage_index, search
from graph.llm.zhipu import ZhipuError
from graph.models import Mode, Passage
from graph.vectorizers import unpack
from tests.story import make_story

# --- the client and the emulator --------------------------------------------------------------


def test_the_client_embeds_texts_in_order_with_the_real_sdk(api, emu) -> None:
    vectors = api.embed(["孙悟空", "唐僧", "孙悟空"], model="embedding-3", dimensions=256)
    assert [len(v) for v in vectors] == [256, 256, 256]
    assert vectors[0] == vectors[2] != vectors[1]
    assert np.isclose(np.linalg.norm(vectors[1]), 1.0)
    sent = json.loads(emu.requests[-1].body)
    assert emu.requests[-1].path == "/embeddings"
    assert sent == {
        "model": "embedding-3",
        "input": ["孙悟空", "唐僧", "孙悟空"],
        "dimensions": 256,
    }


def test_the_client_refuses_more_than_64_texts_before_sending(api, emu) -> None:
    with pytest.raises(ValueError):
        api.embed(["字"] * 65, model="embedding-3", dimensions=256)
    with pytest.raises(ValueError):
        api.embed([], model="embedding-3", dimensions=256)
    assert emu.requests == []


def test_dimensions_out_of_range_are_a_permanent_error(api) -> None:
    with pytest.raises(ZhipuError) as caught:
        api.embed(["字"], model="embedding-3", dimensions=100)
    assert caught.value.permanent and caught.value.status == 400


# --- realtime embedding of a novel ------------------------------------------------------------


@pytest.mark.django_db
def test_a_realtime_novel_is_searched_with_the_models_vectors(api, emu, settings) -> None:
    settings.EMBEDDING_DIMENSIONS = 256
    novel = make_story()
    novel.mode = Mode.REALTIME
    novel.save()
    results = search.search(novel, "河边钓鱼 鲫鱼", client=api)
    assert results.vectorizer == "embedding-3-256" and results.built == 5
    assert results.hits[0].text.startswith("李四独自坐在河边钓鱼")
    stored = novel.passages.filter(vectorizer="embedding-3-256")
    assert all(len(bytes(v)) == 256 * 4 for v in stored.values_list("vector", flat=True))
    assert emu.stats.chat_requests == 2  # one request for the five passages, one for the query
    assert search.search(novel, "宝剑", client=api).built == 0


@pytest.mark.django_db
def test_without_realtime_mode_or_stored_vectors_the_local_vectorizer_is_used(emu) -> None:
    novel = make_story()
    assert search.choose_vectorizer(novel) == "tfidf-svd256"
    novel.mode = Mode.REALTIME
    assert search.choose_vectorizer(novel) == embeddings.model_vectorizer()


@pytest.mark.django_db
def test_passages_are_embedded_with_bounded_concurrency(api, emu, settings) -> None:
    settings.EMBEDDING_DIMENSIONS = 256
    settings.EMBEDDING_CONCURRENCY = 2
    emu.faults.chat_latency = 0.05
    novel = make_story()
    rows = [
        Passage(
            novel=novel, chapter=1, offset=i, text=f"第{i}段文字。", vectorizer="embedding-3-256"
        )
        for i in range(64 * 5 + 1)
    ]
    Passage.objects.bulk_create(rows)
    stats = embeddings.embed_passages(novel, api)
    assert (stats.requests, stats.embedded, stats.failed) == (6, 321, 0)
    assert emu.stats.max_in_flight == 2
    assert not novel.passages.filter(vector=b"").exists()
    first = novel.passages.get(offset=7)
    expected = api.embed([first.text], model="embedding-3", dimensions=256)[0]
    assert np.allclose(unpack(bytes(first.vector)), expected, atol=1e-6)


@pytest.mark.django_db
def test_throttled_requests_are_retried(api, emu, settings, monkeypatch) -> None:
    monkeypatch.setattr(embeddings.time, "sleep", lambda seconds: None)
    settings.EMBEDDING_DIMENSIONS = 256
    emu.faults.chat_429_every = 2
    novel = make_story()
    api.embed(["第一个请求"], model="embedding-3", dimensions=256)  # so the next one is throttled
    stats = passage_index.ensure_model(novel, api)
    assert (stats.embedded, stats.failed) == (5, 0)
    assert emu.stats.chat_429s == 1


@pytest.mark.django_db
def test_an_account_fault_stops_the_run_and_is_raised(api, emu, settings) -> None:
    settings.EMBEDDING_DIMENSIONS = 256
    emu.api_key = "other.key"  # the configured key is refused: 401, account-wide
    novel = make_story()
    with pytest.raises(ZhipuError) as caught:
        passage_index.ensure_model(novel, api)
    assert caught.value.fatal
    assert novel.passages.filter(vector=b"").count() == 5


@pytest.mark.django_db
def test_a_request_refused_for_good_leaves_its_passages_without_vectors(api, settings) -> None:
    settings.EMBEDDING_DIMENSIONS = 100  # out of range: HTTP 400, permanent
    novel = make_story()
    stats = passage_index.ensure_model(novel, api)
    assert (stats.embedded, stats.failed) == (0, 5)
    assert not passage_index.has_vectors(novel, "embedding-3-100")


@pytest.mark.django_db
def test_a_chapter_added_later_only_adds_its_passages(api, emu, settings) -> None:
    settings.EMBEDDING_DIMENSIONS = 256
    novel = make_story()
    passage_index.ensure_model(novel, api)
    novel.chapters.create(number=4, title="第四章", text="李四又去河边钓鱼，钓到一只乌龟。")
    stats = passage_index.ensure_model(novel, api)
    assert stats.embedded == 1
    assert novel.passages.filter(vectorizer="embedding-3-256").count() == 6


# --- the Batch API lines ----------------------------------------------------------------------


def items(n: int, text: str = "一段文字。") -> list[tuple[int, str]]:
    return [(1000 + i, text) for i in range(n)]


def test_a_line_asks_for_at_most_64_passages_at_the_embeddings_url() -> None:
    lines = embedding_batches.request_lines(7, items(130), model="embedding-3", dimensions=512)
    parsed = [json.loads(line) for line in lines]
    assert [len(p["body"]["input"]) for p in parsed] == [64, 64, 2]
    first = parsed[0]
    assert first["method"] == "POST" and first["url"] == "/v4/embeddings"
    assert first["body"]["model"] == "embedding-3" and first["body"]["dimensions"] == 512
    assert [p["custom_id"] for p in parsed] == [
        "emb-7-1000-1063",
        "emb-7-1064-1127",
        "emb-7-1128-1129",
    ]
    assert embedding_batches.parse_custom_id("emb-7-1064-1127") == (7, 1064, 1127)
    assert embedding_batches.parse_custom_id("relation-12") is None


def test_custom_ids_stay_ascii_and_within_6_to_64_characters() -> None:
    big = 10**19 - 1
    for cid in (embedding_batches.custom_id(1, 1, 1), embedding_batches.custom_id(big, big, big)):
        assert cid.isascii() and 6 <= len(cid) <= 64


def test_an_overlong_passage_is_cut_to_stay_under_the_token_limit() -> None:
    line = embedding_batches.request_line(
        1, [(1, "字" * 10_000)], model="embedding-3", dimensions=512
    )
    assert len(json.loads(line)["body"]["input"][0]) == embedding_batches.MAX_INPUT_CHARS
    with pytest.raises(ValueError):
        embedding_batches.request_line(1, items(65), model="embedding-3", dimensions=512)


def test_files_hold_at_most_10000_lines() -> None:
    lines = [f'{{"custom_id":"emb-1-{i}-{i}"}}' for i in range(25_001)]
    files = embedding_batches.split_files(lines)
    assert [len(f) for f in files] == [10_000, 10_000, 5_001]
    assert [line for f in files for line in f] == lines


def test_files_stay_under_the_byte_limit() -> None:
    lines = embedding_batches.request_lines(
        1, items(64 * 10, "字" * 400), model="embedding-3", dimensions=512
    )
    size = len(lines[0].encode()) + 1
    files = embedding_batches.split_files(lines, max_bytes=size * 3 + 1)
    assert [len(f) for f in files] == [3, 3, 3, 1]
    assert all(sum(len(x.encode()) + 1 for x in f) < size * 3 + 1 for f in files)
    with pytest.raises(ValueError):
        embedding_batches.split_files(lines, max_bytes=size)


def test_the_estimate_counts_requests_tokens_and_files() -> None:
    figures = embedding_batches.estimate(["字" * 100] * 130, model="embedding-3", dimensions=512)
    assert figures == {"requests": 3, "input_tokens": 130 * 70, "files": 1}


@pytest.mark.django_db
def test_a_novel_can_be_estimated_before_and_after_its_passages_are_stored(api, settings) -> None:
    settings.EMBEDDING_DIMENSIONS = 256
    novel = make_story()
    before = embeddings.estimate(novel)
    assert before["requests"] == 1 and before["files"] == 1 and before["input_tokens"] > 400
    passage_index.ensure_model(novel, api)
    assert embeddings.estimate(novel) == {"requests": 0, "input_tokens": 0, "files": 0}
