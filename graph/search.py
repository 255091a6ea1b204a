"""Searching one novel's passages: vectors in memory (numpy), filtered by who they name.

A query is turned into a vector by the same vectorizer as the passages and compared with every
passage (cosine). Character names or aliases in the query are looked up in the mention index: only
passages that name all of those characters are kept, and all their names join the query's vector. Ranking favours chapters where several passages
match (a chapter's best three similarities, as a bonus) and shows at most one passage per chapter, so
the top ten point at ten chapters. `chapter_max` keeps only passages up to that chapter (spoiler-safe).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from graph import passage_index
from graph.embeddings import model_vectorizer
from graph.entities.scanning import build_automaton
from graph.llm.zhipu import ZhipuClient, client_from_settings
from graph.models import Mode, Novel
from graph.vectorizers import LOCAL_NAME

EXCERPT_CHARS = 120  # characters of a passage shown around the first highlighted term
CHAPTER_TOP = 3  # a chapter's bonus is the sum of its best three similarities
CHAPTER_WEIGHT = 1.0  # the bonus, scaled to [0, 1] over the chapters, is added with this weight
PER_CHAPTER = 1  # passages shown per chapter
VECTORIZERS = ("auto", "local", "model")
_SPLIT = re.compile(r"[\s\W]+")


class SearchError(ValueError):
    """A search that cannot run; the message is one line of Chinese for the user."""


@dataclass(frozen=True)
class Hit:
    passage_id: int
    chapter: int
    offset: int
    score: float  # what ranked it: the similarity plus the chapter bonus
    similarity: float  # cosine similarity with the query
    text: str
    characters: list[tuple[int, str]]  # (id, name) of the characters the passage names, by rank
    excerpt: list[tuple[str, bool]]  # (text, highlighted) segments of a short excerpt


@dataclass
class Results:
    query: str
    vectorizer: str
    required: list[tuple[int, str]]  # characters named in the query: every hit names them
    hits: list[Hit] = field(default_factory=list)
    built: int = 0  # passages vectorized for this search (first use)


def choose_vectorizer(novel: Novel, requested: str = "auto") -> str:
    """`local`, `model`, or `auto`: the model's vectors when a key is set and the novel runs in
    realtime mode (or its vectors are already stored), the local vectorizer otherwise."""
    if requested not in VECTORIZERS:
        raise SearchError(f"未知的向量化方法：{requested}（可选 {'、'.join(VECTORIZERS)}）")
    if requested == "local":
        return LOCAL_NAME
    if not settings.ZHIPUAI_API_KEY:
        if requested == "model":
            raise SearchError("未设置 ZHIPUAI_API_KEY：无法使用模型向量，请改用 --vectorizer local")
        return LOCAL_NAME
    name = model_vectorizer()
    if requested == "model" or novel.mode == Mode.REALTIME:
        return name
    return name if passage_index.has_vectors(novel, name) else LOCAL_NAME


def query_characters(query: str, names: passage_index.Names) -> tuple[list[int], list[str]]:
    """Characters named in the query (leftmost-longest, as in the mention index), and the strings."""
    if not names:
        return [], []
    automaton, keys = build_automaton(names)
    found: list[int] = []
    strings: list[str] = []
    for pattern, start, end in automaton.find_matches_as_indexes(query):
        key = keys[pattern]
        if isinstance(key, int) and key not in found:
            found.append(key)
        strings.append(query[start:end])
    return found, strings


def expand(query: str, required: list[int], names: passage_index.Names) -> str:
    """The text whose vector is searched: the query followed by every name of the characters it
    names, since the novel may call them otherwise (一枝梅 for 慕容贞)."""
    return " ".join([query, *[name for pk in required for name in names[pk]]])


def rank(
    scores: np.ndarray,
    chapters: np.ndarray,
    allowed: np.ndarray,
    top: int,
    per_chapter: int = PER_CHAPTER,
    chapter_weight: float = CHAPTER_WEIGHT,
) -> list[tuple[int, float]]:
    """(position, score) of the best `top` allowed passages, the score being the similarity plus
    the chapter bonus; at most `per_chapter` per chapter, ties in reading order."""
    idx = np.flatnonzero(allowed)
    if idx.size == 0 or top <= 0:
        return []
    s, ch = scores[idx].astype(np.float64), chapters[idx]
    labels, group = np.unique(ch, return_inverse=True)
    order = np.lexsort((-s, group))
    first = np.searchsorted(group[order], np.arange(len(labels)))
    within = np.arange(len(order)) - first[group[order]]
    best = order[within < CHAPTER_TOP]
    bonus = np.bincount(group[best], weights=np.maximum(s[best], 0), minlength=len(labels))
    if bonus.max() > 0:
        bonus /= bonus.max()
    final = s + chapter_weight * bonus[group]
    picked: list[tuple[int, float]] = []
    shown = np.zeros(len(labels), dtype=np.int64)
    for i in np.argsort(-final, kind="stable"):
        if shown[group[i]] < per_chapter:
            shown[group[i]] += 1
            picked.append((int(idx[i]), float(final[i])))
            if len(picked) == top:
                break
    return picked


def highlight(text: str, terms: list[str], width: int = EXCERPT_CHARS) -> list[tuple[str, bool]]:
    """A one-line excerpt of `text` around the first term, as (segment, is a term) pairs."""
    text = text.replace("\n", " ")
    terms = sorted({t for t in terms if t}, key=len, reverse=True)
    pattern = re.compile("|".join(map(re.escape, terms))) if terms else None
    first = pattern.search(text) if pattern else None
    start = max(0, first.start() - width // 4) if first else 0
    end = min(len(text), start + width)
    window = text[start:end]
    segments: list[tuple[str, bool]] = [("…", False)] if start > 0 else []
    position = 0
    for match in pattern.finditer(window) if pattern else []:
        if match.start() > position:
            segments.append((window[position : match.start()], False))
        segments.append((match.group(), True))
        position = match.end()
    if position < len(window):
        segments.append((window[position:], False))
    if end < len(text):
        segments.append(("…", False))
    return segments


def _characters(novel: Novel) -> tuple[passage_index.Names, dict[int, str]]:
    rows = list(novel.characters.order_by("rank", "name").values_list("pk", "name", "aliases"))
    names = {pk: [name, *[a for a in aliases or [] if a != name]] for pk, name, aliases in rows}
    return names, {pk: name for pk, name, _ in rows}


def prepare(novel: Novel, name: str, client: ZhipuClient | None) -> int:
    """Make the passages and vectors of vectorizer `name` if missing; the number made."""
    if name == LOCAL_NAME:
        return passage_index.ensure_local(novel)
    return passage_index.ensure_model(novel, client).embedded


def search(
    novel: Novel,
    query: str,
    *,
    top: int = 10,
    chapter_max: int | None = None,
    vectorizer: str = "auto",
    client: ZhipuClient | None = None,
) -> Results:
    """The best passages of `novel` for `query` (see the module docstring)."""
    query = " ".join(query.split())
    if not query:
        raise SearchError("查询不能为空")
    name = choose_vectorizer(novel, vectorizer)
    if name != LOCAL_NAME and client is None:
        client = client_from_settings()
    built = prepare(novel, name, client)
    names, display = _characters(novel)
    index = passage_index.load(novel, name, names)
    required, strings = query_characters(query, names)
    results = Results(query, name, [(pk, display[pk]) for pk in required], built=built)
    if not len(index):
        return results
    allowed = np.ones(len(index), dtype=bool)
    if chapter_max is not None:
        allowed &= index.chapters <= chapter_max
    if required:
        wanted = set(required)
        allowed &= np.fromiter((wanted <= m for m in index.mentions), bool, len(index))
    vector = index.encode(expand(query, required, names), client)
    if not required and not vector.any():
        return results  # nothing in the query is known to the vectorizer: no ranking to offer
    scores = index.matrix @ vector
    terms = [*strings, *[s for pk in required for s in names[pk]]]
    terms += [t for t in _SPLIT.split(_strip(query, strings)) if len(t) >= 2]
    order = {pk: i for i, pk in enumerate(display)}
    for i, score in rank(scores, index.chapters, allowed, top):
        people = sorted(index.mentions[i], key=order.__getitem__)
        results.hits.append(
            Hit(
                passage_id=int(index.ids[i]),
                chapter=int(index.chapters[i]),
                offset=int(index.offsets[i]),
                score=score,
                similarity=float(scores[i]),
                text=index.texts[i],
                characters=[(pk, display[pk]) for pk in people],
                excerpt=highlight(index.texts[i], terms),
            )
        )
    return results


def _strip(query: str, strings: list[str]) -> str:
    for s in strings:
        query = query.replace(s, " ")
    return query
