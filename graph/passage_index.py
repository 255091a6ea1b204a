"""A novel's passages and vectors: making them when missing, and loading them for search.

Two vectorizers store passages side by side: the local one (``tfidf-svd256``, fitted on the novel,
built on first use) and the model's (``embedding-3-512``, made through the API in realtime mode, or
later by the Batch API). A loaded index (matrix, passages, who each passage names) is kept in this
process for the next queries, until the passages or the characters change.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max

from graph import embeddings, passages
from graph.entities import scan_mentions
from graph.llm.zhipu import ZhipuClient
from graph.models import Novel, Passage, VectorSpace
from graph.vectorizers import LOCAL_NAME, LocalVectorizer, normalize, pack, stack

CACHED_INDEXES = 2  # loaded novels kept in memory (a 5M-character novel takes ~40 MB)
Names = dict[int, list[str]]  # character id -> name and aliases


@dataclass
class Index:
    """One novel's passages for one vectorizer, ready to search."""

    vectorizer: str
    ids: np.ndarray  # passage ids, in reading order
    chapters: np.ndarray
    offsets: np.ndarray
    texts: list[str]
    matrix: np.ndarray  # (passages, dimensions), unit rows
    mentions: list[frozenset[int]]  # character ids named in each passage
    local: LocalVectorizer | None  # the fitted model, for the local vectorizer

    def __len__(self) -> int:
        return len(self.ids)

    def encode(self, query: str, client: ZhipuClient | None = None) -> np.ndarray:
        """The query's unit vector (zero when nothing in it is known to the local model)."""
        if self.local is not None:
            return self.local.transform([query])[0]
        if client is None:
            raise ValueError(f"the vectorizer {self.vectorizer} needs an API client")
        return normalize(np.array(embeddings.embed_query(client, query)))


_cache: OrderedDict[tuple, Index] = OrderedDict()
_lock = threading.Lock()


def last_chapter(novel: Novel) -> int:
    return novel.chapters.aggregate(last=Max("number"))["last"] or 0


def _cut(novel: Novel, after: int = 0) -> list[Passage]:
    """Unsaved passages (no vector) of the chapters numbered above `after`."""
    rows = novel.chapters.filter(number__gt=after).order_by("number").values_list("number", "text")
    return [
        Passage(novel=novel, chapter=number, offset=piece.offset, text=piece.text)
        for number, body in rows.iterator()
        for piece in passages.cut(body)
    ]


def ensure_local(novel: Novel) -> int:
    """Fit the local vectorizer and store every passage with its vector, unless that is done for
    the novel's current chapters. Returns the number of passages stored (0 when nothing was done)."""
    last = last_chapter(novel)
    covered = VectorSpace.objects.filter(novel=novel, vectorizer=LOCAL_NAME).values_list(
        "chapters", flat=True
    )
    if last in covered:  # the fitted model (`state`, megabytes) is not loaded for this check
        return 0
    rows = _cut(novel)
    if not rows:
        return 0
    model, vectors = LocalVectorizer.fit([p.text for p in rows])
    for row, vector in zip(rows, vectors, strict=True):
        row.vectorizer, row.vector = LOCAL_NAME, pack(vector)
    with transaction.atomic():
        # One writer at a time (PostgreSQL): a second process waits here, then replaces the rows.
        list(Novel.objects.select_for_update().filter(pk=novel.pk).values_list("pk"))
        novel.passages.filter(vectorizer=LOCAL_NAME).delete()
        Passage.objects.bulk_create(rows, batch_size=2000)
        VectorSpace.objects.update_or_create(
            novel=novel,
            vectorizer=LOCAL_NAME,
            defaults={"dimensions": model.dimensions, "chapters": last, "state": model.to_bytes()},
        )
    return len(rows)


def ensure_model(novel: Novel, client: ZhipuClient) -> embeddings.EmbedStats:
    """Store the passages of chapters the model's vectorizer does not cover yet, then embed every
    passage still without a vector (realtime). A chapter appended later only adds its passages."""
    name = store_model_passages(novel)
    return embeddings.embed_passages(novel, client, name)


def store_model_passages(novel: Novel) -> str:
    """Store, without vectors, the passages of the chapters the model's vectorizer does not cover
    yet (the Batch API or realtime requests fill the vectors in). Returns the vectorizer name."""
    name, last = embeddings.model_vectorizer(), last_chapter(novel)
    space, _ = VectorSpace.objects.get_or_create(
        novel=novel,
        vectorizer=name,
        defaults={"dimensions": settings.EMBEDDING_DIMENSIONS},
    )
    if space.chapters < last:
        rows = _cut(novel, after=space.chapters)
        for row in rows:
            row.vectorizer = name
        with transaction.atomic():
            Passage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
            VectorSpace.objects.filter(pk=space.pk).update(chapters=last)
    return name


def has_vectors(novel: Novel, name: str) -> bool:
    """Whether every stored passage of this vectorizer has its vector (and there is at least one)."""
    stored = novel.passages.filter(vectorizer=name)
    return stored.exists() and not stored.filter(vector=b"").exists()


def _signature(novel: Novel, name: str, names: Names) -> tuple:
    """What the cached index depends on: the passages and the characters. (A new fit of the local
    model stores its passages anew, so their ids tell it too.)"""
    stats = novel.passages.filter(vectorizer=name).aggregate(n=Count("pk"), last=Max("pk"))
    people = tuple(sorted((pk, tuple(strings)) for pk, strings in names.items()))
    return (novel.pk, name, stats["n"], stats["last"], hash(people))


def load(novel: Novel, name: str, names: Names) -> Index:
    """The index of `novel` for vectorizer `name` (from this process's cache when unchanged)."""
    key = _signature(novel, name, names)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    index = _build(novel, name, names)
    with _lock:
        _cache[key] = index
        while len(_cache) > CACHED_INDEXES:
            _cache.popitem(last=False)
    return index


def _local_model(novel: Novel, name: str) -> LocalVectorizer | None:
    if name != LOCAL_NAME:
        return None
    space = VectorSpace.objects.filter(novel=novel, vectorizer=name).first()
    return LocalVectorizer.from_bytes(bytes(space.state)) if space else None


def _build(novel: Novel, name: str, names: Names) -> Index:
    rows = list(
        novel.passages.filter(vectorizer=name)
        .exclude(vector=b"")
        .order_by("chapter", "offset")
        .values_list("pk", "chapter", "offset", "text", "vector")
    )
    dimensions = len(rows[0][4]) // 4 if rows else 1
    texts = [r[3] for r in rows]
    found = scan_mentions(list(enumerate(texts)), names)
    mentions: list[set[int]] = [set() for _ in rows]
    for position, _paragraph, keys in found.paragraphs:
        mentions[position] |= keys
    return Index(
        vectorizer=name,
        ids=np.array([r[0] for r in rows], dtype=np.int64),
        chapters=np.array([r[1] for r in rows], dtype=np.int64),
        offsets=np.array([r[2] for r in rows], dtype=np.int64),
        texts=texts,
        matrix=normalize(stack([bytes(r[4]) for r in rows], dimensions)),
        mentions=[frozenset(m) for m in mentions],
        local=_local_model(novel, name),
    )
