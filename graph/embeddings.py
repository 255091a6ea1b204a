"""Passage vectors from the model (Zhipu embedding-3), here and now, with a bounded number of requests
in flight; and what embedding a novel would cost (for --dry-run). Batch files: graph/embedding_batches.py.

A worker thread per slot sends one request of up to 64 passages and retries it (with backoff) through
429s, 5xx and timeouts; the vectors are written on the caller's thread as requests finish. A request
the service refuses for good leaves its passages without a vector (counted); an account-wide fault
stops the run at once and is raised.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from django.conf import settings

from graph import embedding_batches, passages
from graph.embedding_batches import MAX_INPUT_CHARS, Item
from graph.llm.zhipu import ZhipuClient, ZhipuError
from graph.models import Novel, Passage
from graph.vectorizers import pack

HTTP_TRIES = 6  # tries per request through 429s, 5xx and timeouts
BASE_DELAY, MAX_DELAY = 1.0, 30.0  # seconds of backoff before the 2nd try, and at most


def model_vectorizer() -> str:
    """The vectorizer name under which the model's vectors are stored, e.g. ``embedding-3-512``."""
    return f"{settings.EMBEDDING_MODEL}-{settings.EMBEDDING_DIMENSIONS}"[:32]


@dataclass
class EmbedStats:
    requests: int = 0  # requests that got vectors
    embedded: int = 0  # passages given a vector
    failed: int = 0  # passages left without one (a request refused for good)


def _embed_with_retries(
    client: ZhipuClient, texts: list[str], tries: int, sleep: Callable[[float], None]
) -> list[list[float]]:
    for attempt in range(1, tries + 1):
        try:
            return client.embed(
                texts, model=settings.EMBEDDING_MODEL, dimensions=settings.EMBEDDING_DIMENSIONS
            )
        except ZhipuError as exc:
            if exc.fatal or exc.permanent or attempt == tries:
                raise
            delay = min(MAX_DELAY, BASE_DELAY * 2 ** (attempt - 1))
            sleep(delay * random.uniform(0.5, 1.0))
    raise AssertionError("unreachable")


def embed_chunks(
    client: ZhipuClient,
    chunks: Sequence[Sequence[Item]],
    on_vectors: Callable[[Sequence[Item], list[list[float]]], None],
    *,
    concurrency: int,
    tries: int = HTTP_TRIES,
    sleep: Callable[[float], None] = time.sleep,
) -> EmbedStats:
    """Embed every chunk with at most `concurrency` requests in flight; `on_vectors(chunk, vectors)`
    runs on the calling thread. Raises the ZhipuError of an account-wide fault (after cancelling
    what was not sent yet)."""
    stats = EmbedStats()
    pool = ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="embed")
    pending: dict[Future, Sequence[Item]] = {}
    try:
        for chunk in chunks:
            texts = [text[:MAX_INPUT_CHARS] for _, text in chunk]
            pending[pool.submit(_embed_with_retries, client, texts, tries, sleep)] = chunk
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                try:
                    vectors = future.result()
                except ZhipuError as exc:
                    if exc.fatal:
                        raise
                    stats.failed += len(chunk)
                    continue
                on_vectors(chunk, vectors)
                stats.requests += 1
                stats.embedded += len(chunk)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return stats


def embed_passages(novel: Novel, client: ZhipuClient, name: str | None = None) -> EmbedStats:
    """Give every passage of `novel` stored under the model's vectorizer a vector, if it has none."""
    name = name or model_vectorizer()
    items = list(
        novel.passages.filter(vectorizer=name, vector=b"").order_by("pk").values_list("pk", "text")
    )

    def store(chunk: Sequence[Item], vectors: list[list[float]]) -> None:
        rows = [Passage(pk=pk, vector=pack(v)) for (pk, _), v in zip(chunk, vectors, strict=True)]
        Passage.objects.bulk_update(rows, ["vector"])

    return embed_chunks(
        client,
        embedding_batches.chunks(items),
        store,
        concurrency=settings.EMBEDDING_CONCURRENCY,
    )


def embed_query(client: ZhipuClient, query: str) -> list[float]:
    """The model's vector of a search query."""
    return _embed_with_retries(client, [query[:MAX_INPUT_CHARS]], 3, time.sleep)[0]


def estimate(novel: Novel) -> dict[str, int]:
    """Requests, estimated input tokens and batch files to embed the novel's passages (the stored
    ones still without a vector, or, before any is stored, every passage its chapters cut into)."""
    name = model_vectorizer()
    stored = novel.passages.filter(vectorizer=name)
    if stored.exists():
        texts = list(stored.filter(vector=b"").values_list("text", flat=True))
    else:
        bodies = novel.chapters.values_list("text", flat=True)
        texts = [piece.text for body in bodies.iterator() for piece in passages.cut(body)]
    return embedding_batches.estimate(
        texts, model=settings.EMBEDDING_MODEL, dimensions=settings.EMBEDDING_DIMENSIONS
    )
