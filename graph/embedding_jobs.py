"""The model's passage vectors through the Batch API: in batch mode the passages go out with the
questions (embedding-3, one endpoint per file, ≤ 10,000 lines), `poll_batches` collects the
vectors. The service's reference lists only chat completions for batches: an embedding batch it
refuses falls back to realtime embedding requests (bounded concurrency), and says so."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import transaction

from graph import embedding_batches, embeddings, passage_index
from graph.llm.zhipu import ZhipuClient, ZhipuError, result_lines
from graph.models import BatchJob, Novel, Passage
from graph.progress import Progress
from graph.vectorizers import pack

ENDPOINT = BatchJob.EMBEDDINGS


def pending(novel: Novel) -> list[tuple[int, str]]:
    """(passage id, text) of the model's passages still without a vector."""
    name = embeddings.model_vectorizer()
    rows = novel.passages.filter(vectorizer=name, vector=b"").order_by("pk")
    return list(rows.values_list("pk", "text"))


def submit(novel: Novel, client: ZhipuClient, progress: Progress) -> list[BatchJob]:
    """Send every passage without the model's vector, in embedding batches; a refused batch
    falls back to realtime requests. Account-wide faults are raised."""
    passage_index.store_model_passages(novel)
    lines = embedding_batches.request_lines(
        novel.pk,
        pending(novel),
        model=settings.EMBEDDING_MODEL,
        dimensions=settings.EMBEDDING_DIMENSIONS,
    )
    jobs = []
    for part in embedding_batches.split_files(lines):
        job = BatchJob.objects.create(novel=novel, endpoint=ENDPOINT, line_count=len(part))
        try:
            data = ("\n".join(part) + "\n").encode()
            job.record_upload(client.upload_batch_file(f"novelgraph-emb-{job.pk}.jsonl", data))
            metadata = {BatchJob.METADATA_KEY: str(job.pk)}
            info = client.create_batch(job.input_file_id, metadata=metadata, endpoint=ENDPOINT)
        except ZhipuError as exc:
            if exc.fatal and exc.status != 400:
                job.close(BatchJob.Status.FAILED, exc.user_line)
                raise
            job.close(BatchJob.Status.FAILED, f"嵌入批处理被拒绝：{exc.message}")
            progress.line(f"智谱拒绝了嵌入批处理（{exc.message}），改用实时请求向量化")
            embed_rest(novel, client, progress)
            return jobs
        job.adopt(info.id, info.status)
        jobs.append(job)
        progress.line(f"已提交嵌入批处理 {info.id}：{len(part)} 个请求")
    return jobs


def collect(job: BatchJob) -> int:
    """Store the vectors of a collected embedding job's lines; returns the passages embedded.
    A line's custom_id names the range of passage ids it embedded (see embedding_batches)."""
    name = embeddings.model_vectorizer()
    rows = []
    for raw in result_lines(job.output_content):
        custom_id, vectors = _read_line(raw)
        ids = embedding_batches.parse_custom_id(custom_id or "")
        if ids is None or vectors is None or ids[0] != job.novel_id:
            continue
        targets = list(
            Passage.objects.filter(
                novel_id=job.novel_id, vectorizer=name, vector=b"", pk__gte=ids[1], pk__lte=ids[2]
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(targets) == len(vectors):
            rows += [Passage(pk=pk, vector=pack(v)) for pk, v in zip(targets, vectors, strict=True)]
    with transaction.atomic():
        Passage.objects.bulk_update(rows, ["vector"], batch_size=1000)
        job.close(BatchJob.Status.DONE)
    return len(rows)


def _read_line(raw: str) -> tuple[str | None, list[list[float]] | None]:
    """(custom_id, vectors in input order) of one result line; vectors None when it failed."""
    try:
        line = json.loads(raw)
        body = line["response"]["body"]
        data = sorted(body["data"], key=lambda e: e.get("index", 0))
        return line.get("custom_id"), [e["embedding"] for e in data]
    except (ValueError, KeyError, TypeError, AttributeError):
        try:
            return json.loads(raw).get("custom_id"), None
        except (ValueError, AttributeError):
            return None, None


def embed_rest(novel: Novel, client: ZhipuClient, progress: Progress) -> None:
    """Passages a batch left without a vector (refused, failed or expired): realtime requests."""
    left = len(pending(novel))
    if left:
        stats = embeddings.embed_passages(novel, client)
        progress.line(f"实时向量化 {stats.embedded}/{left} 个段落（{stats.requests} 个请求）")
