"""The model's passage vectors through the Batch API, and the realtime fallback when the service
refuses an embedding batch."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command

from graph import embeddings
from graph.models import BatchJob, Novel


@pytest.fixture
def embedding(settings, emu):
    settings.EMBED_PASSAGES = True
    return emu


def vectors(novel: Novel) -> tuple[int, int]:
    stored = novel.passages.filter(vectorizer=embeddings.model_vectorizer())
    return stored.count(), stored.exclude(vector=b"").count()


@pytest.mark.django_db
def test_a_batch_upload_embeds_the_passages_through_an_embedding_batch(embedding, upload, poll):
    upload()

    job = BatchJob.objects.get(endpoint=BatchJob.EMBEDDINGS)
    batch = embedding.batches[job.remote_id]
    lines = [json.loads(line) for line in batch.lines]
    assert batch.endpoint == "/v4/embeddings" and 0 < len(lines) <= 10_000
    assert {line["url"] for line in lines} == {"/v4/embeddings"}
    assert all(1 <= len(line["body"]["input"]) <= 64 for line in lines)
    novel = Novel.objects.get()
    total, done = vectors(novel)
    assert total > 0 and done == 0

    poll()

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert vectors(novel) == (total, total)
    job.refresh_from_db()
    assert job.status == BatchJob.Status.DONE
    assert embedding.stats.chat_requests == 0  # nothing went realtime
    out = io.StringIO()
    call_command("novel_status", str(novel.pk), stdout=out)
    assert f"{total}/{total} 个段落已向量化" in out.getvalue()


@pytest.mark.django_db
def test_a_refused_embedding_batch_falls_back_to_realtime_and_says_so(embedding, upload):
    embedding.faults.embedding_batches_refused = True

    out = upload()

    assert "改用实时请求向量化" in out
    job = BatchJob.objects.get(endpoint=BatchJob.EMBEDDINGS)
    assert job.status == BatchJob.Status.FAILED and "拒绝" in job.last_error
    total, done = vectors(Novel.objects.get())
    assert total > 0 and done == total
    assert embedding.stats.chat_requests > 0  # the /embeddings endpoint, realtime


@pytest.mark.django_db
def test_a_dry_run_counts_the_embedding_requests(embedding, upload):
    out = upload("--dry-run")
    assert "段落向量化（embedding-3）：" in out and "个批处理文件" in out
    assert not embedding.batches
