"""What bench/search.py compares the shipped search with: keyword rankings and other local vectorizers.

Each scorer takes a query and returns one score per passage (``-inf`` = not a candidate); the shared
`evaluate` turns scores into a top 10 (optionally one passage per chapter, with the chapter bonus)
and checks it against the gold chapters.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np

Scorer = Callable[[str, str], np.ndarray]  # (name a, name b) -> scores


def both_names_by_count(texts: Sequence[str]) -> Scorer:
    """Passages containing both query names (as spelled), ranked by how often they name them."""

    def score(a: str, b: str) -> np.ndarray:
        return np.array(
            [t.count(a) + t.count(b) if a in t and b in t else -np.inf for t in texts], dtype=float
        )

    return score


def bm25(texts: Sequence[str], k1: float = 1.5, b: float = 0.75) -> Scorer:
    """Okapi BM25 over character bigrams of the query "A 与 B"."""
    grams = [Counter(t[i : i + 2] for i in range(len(t) - 1)) for t in texts]
    lengths = np.array([sum(g.values()) for g in grams], dtype=float)
    average = lengths.mean() if len(lengths) else 1.0
    df = Counter(g for counts in grams for g in counts)
    n = len(texts)

    def score(a: str, b_name: str) -> np.ndarray:
        query = f"{a}与{b_name}"
        terms = {query[i : i + 2] for i in range(len(query) - 1)}
        total = np.zeros(n)
        for term in terms:
            if not df[term]:
                continue
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            tf = np.array([g[term] for g in grams], dtype=float)
            total += idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths / average))
        return np.where(total > 0, total, -np.inf)

    return score


def tfidf_variant(
    texts: Sequence[str],
    ngrams: tuple[int, int],
    dimensions: int | None,
    query_text: Callable[[str, str], str],
) -> tuple[Scorer, float]:
    """Another local vectorizer (scikit-learn's TF-IDF, plain sparse when `dimensions` is None)
    scoring `query_text(a, b)`; and its fit seconds."""
    import time

    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.utils.extmath import randomized_svd

    from graph.vectorizers import normalize

    start = time.perf_counter()
    tfidf = TfidfVectorizer(
        analyzer="char", ngram_range=ngrams, sublinear_tf=True, max_features=32768, dtype=np.float32
    )
    matrix = tfidf.fit_transform(texts)
    if dimensions is None:
        seconds = time.perf_counter() - start

        def sparse(a: str, b: str) -> np.ndarray:
            return (matrix @ tfidf.transform([query_text(a, b)]).T).toarray().ravel()

        return sparse, seconds
    u, s, vt = randomized_svd(matrix, dimensions, n_iter=2, random_state=0)
    vectors = normalize(u * s)
    seconds = time.perf_counter() - start

    def dense(a: str, b: str) -> np.ndarray:
        query = normalize(tfidf.transform([query_text(a, b)]) @ vt.T)[0]
        return vectors @ query

    return dense, seconds


def evaluate(
    relations: Sequence[dict],
    scorer: Scorer,
    chapters: np.ndarray,
    allowed: Callable[[str, str], np.ndarray] | None = None,
    per_chapter: int = 0,
) -> tuple[float, float]:
    """(top-1, top-10) shares of relations with a passage from a gold chapter. `allowed` filters
    candidates (the name filter); `per_chapter` > 0 ranks as the search does (search.rank)."""
    from graph.search import rank

    top1 = top10 = 0
    for relation in relations:
        scores = scorer(relation["source"], relation["target"]).astype(float)
        mask = np.isfinite(scores)
        if allowed is not None:
            mask &= allowed(relation["source"], relation["target"])
        if per_chapter:
            top = [i for i, _ in rank(np.where(mask, scores, 0.0), chapters, mask, 10, per_chapter)]
        else:
            order = np.argsort(-np.where(mask, scores, -np.inf), kind="stable")
            top = [int(i) for i in order[:10] if mask[i]]
        gold = set(relation["chapters"])
        top1 += bool(top) and int(chapters[top[0]]) in gold
        top10 += any(int(chapters[i]) in gold for i in top)
    return top1 / len(relations), top10 / len(relations)
