"""Benchmark passage search against the gold relations, and its cost on a web-novel-sized input.

    .venv/bin/python bench/search.py /work/shared/corpus/xiyouji.txt \
        --gold /work/shared/gold/xiyouji.json [--variants] [--emulator] [--database-url URL]
    .venv/bin/python bench/search.py --big [--chars 5000000]

Gold mode: stores the novel and finds its characters (offline), then asks "A 与 B" for every gold
relation (canonical names) and counts how often a passage from one of the relation's gold chapters
is first (top-1) or in the top 10. Compared with keyword rankings (passages naming both, by count;
BM25 over bigrams), with and without the search's one-passage-per-chapter ranking. `--variants` adds
other local vectorizers; `--emulator` runs the model path (embedding-3) against the local emulator,
whose vectors are hashed n-grams: plumbing only, not the model's quality.

Big mode: builds the input with shared/tools/make_big_novel.py, then times the local vectorization
(in a child process, whose peak memory is reported), loading the index, and single searches.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402
import search_baselines as base  # noqa: E402


def store(path: Path, characters: bool = True):
    """The novel in the database with its characters (the offline character stage)."""
    from graph import ingest, pipeline
    from graph.progress import Progress

    novel, _ = ingest.ingest(ingest.read_novel_file(path), source_name=path.name)
    if characters:
        pipeline.find_characters(novel, pipeline.Workspace(novel), Progress(quiet=True))
    return novel


def hit_rates(novel, relations, **options) -> tuple[float, float, float]:
    """(top-1, top-10, mean seconds per query) of the shipped search."""
    from graph import search

    top1 = top10 = 0
    seconds = []
    for relation in relations:
        start = time.perf_counter()
        hits = search.search(novel, f"{relation['source']} 与 {relation['target']}", **options).hits
        seconds.append(time.perf_counter() - start)
        gold = set(relation["chapters"])
        top1 += bool(hits) and hits[0].chapter in gold
        top10 += any(hit.chapter in gold for hit in hits)
    n = len(relations)
    return top1 / n, top10 / n, statistics.mean(seconds[1:] or seconds)


def row(label: str, top1: float, top10: float, note: str = "") -> None:
    print(f"| {label:<44} | {top1:5.2f} | {top10:6.2f} | {note}")


def gold_bench(args) -> None:
    from graph import passage_index, search
    from graph.vectorizers import LOCAL_NAME

    gold = json.loads(Path(args.gold).read_text(encoding="utf-8"))
    relations = gold["relations"]
    start = time.perf_counter()
    novel = store(Path(args.novel))
    print(f"《{gold['novel']}》：{novel.chapters.count()} 章，{novel.characters.count()} 个人物，"
          f"入库与人物识别 {time.perf_counter() - start:.1f} s；{len(relations)} 条金标关系")  # fmt: skip
    start = time.perf_counter()
    built = passage_index.ensure_local(novel)
    print(f"本地向量化（{LOCAL_NAME}）：{built} 个段落，{time.perf_counter() - start:.1f} s")
    print(f"| {'方法 (method)':<44} | top-1 | top-10 | 备注")
    top1, top10, seconds = hit_rates(novel, relations, vectorizer="local")
    row(
        f"搜索 search ({LOCAL_NAME}, 人名过滤, 每章一段)",
        top1,
        top10,
        f"{seconds * 1000:.0f} ms/查询",
    )

    names, _ = search._characters(novel)
    index = passage_index.load(novel, LOCAL_NAME, names)
    texts, chapters = index.texts, index.chapters

    def name_filter(a: str, b: str) -> np.ndarray:
        wanted, _ = search.query_characters(f"{a} 与 {b}", names)
        return np.fromiter((set(wanted) <= m for m in index.mentions), bool, len(index))

    def query_text(a: str, b: str) -> str:  # as the search builds it
        return search.expand(f"{a} 与 {b}", search.query_characters(f"{a} 与 {b}", names)[0], names)

    def shipped(a: str, b: str) -> np.ndarray:
        return index.matrix @ index.encode(query_text(a, b))

    def unexpanded(a: str, b: str) -> np.ndarray:
        return index.matrix @ index.encode(f"{a} 与 {b}")

    row(
        "同上，不限每章一段 (no per-chapter ranking)",
        *base.evaluate(relations, shipped, chapters, name_filter),
    )
    row("同上，无人名过滤 (no name filter)", *base.evaluate(relations, shipped, chapters, None, 1))
    row(
        "同上，查询不加别名 (query not expanded)",
        *base.evaluate(relations, unexpanded, chapters, name_filter, 1),
    )
    for label, scorer in (("关键词：同时含两名，按次数 (both names by count)", base.both_names_by_count(texts)),
                          ("关键词：BM25 (char bigrams)", base.bm25(texts))):  # fmt: skip
        row(label, *base.evaluate(relations, scorer, chapters))
        row(label[:14] + "… + 每章一段", *base.evaluate(relations, scorer, chapters, None, 1))
    if args.variants:
        variants = (("sparse TF-IDF 1-2", (1, 2), None), ("TF-IDF 1-2 + SVD128", (1, 2), 128),
                    ("TF-IDF 1-3 + SVD256", (1, 3), 256), ("TF-IDF 2-2 + SVD256", (2, 2), 256))  # fmt: skip
        for label, ngrams, dims in variants:
            scorer, fit = base.tfidf_variant(texts, ngrams, dims, query_text)
            top1, top10 = base.evaluate(relations, scorer, chapters, name_filter, 1)
            row(f"变体 {label} (人名过滤, 每章一段)", top1, top10, f"拟合 {fit:.1f} s")
    if args.emulator:
        emulator_bench(novel, relations)


def emulator_bench(novel, relations) -> None:
    """The model path end to end against the emulator (hashed n-gram vectors: plumbing only)."""
    from django.conf import settings

    from graph.llm.zhipu import ZhipuClient

    sys.path.insert(0, str(_django.REPO))
    from tests.emulator import ZhipuEmulator

    with ZhipuEmulator() as emu:
        settings.ZHIPUAI_API_KEY, settings.ZHIPUAI_BASE_URL = "bench.key", emu.base_url
        settings.EMBEDDING_DIMENSIONS = 256
        client = ZhipuClient("bench.key", emu.base_url)
        start = time.perf_counter()
        top1, top10, seconds = hit_rates(novel, relations, vectorizer="model", client=client)
        row("模型路径 embedding-3 → 模拟器 (plumbing only)", top1, top10,
            f"{emu.stats.chat_requests} 个请求，{time.perf_counter() - start:.1f} s")  # fmt: skip


def _vectorize(novel_id: int, queue) -> None:
    from django.db import connections

    from graph import passage_index
    from graph.models import Novel

    connections.close_all()
    start = time.perf_counter()
    built = passage_index.ensure_local(Novel.objects.get(pk=novel_id))
    queue.put((built, time.perf_counter() - start))


def big_bench(args) -> None:
    from django.db import connections

    from graph import passage_index, search
    from graph.models import Novel
    from graph.vectorizers import LOCAL_NAME

    path = _django.big_input(Path(args.workdir), args.chars)
    start = time.perf_counter()
    novel = store(path)
    print(f"入库与人物识别：{novel.char_count} 字，{novel.chapters.count()} 章，"
          f"{novel.characters.count()} 个人物，{time.perf_counter() - start:.1f} s")  # fmt: skip
    connections.close_all()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)  # the make_big_novel.py run
    queue = multiprocessing.get_context("fork").Queue()
    child = multiprocessing.get_context("fork").Process(target=_vectorize, args=(novel.pk, queue))
    child.start()
    built, seconds = queue.get()
    child.join()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = usage.ru_maxrss / 1024  # the larger child: this one
    cpu = usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime
    print(f"本地向量化：{built} 个段落，{seconds:.1f} s（CPU {cpu:.1f} s），"
          f"子进程峰值内存 {peak:.0f} MB（上限 60 s、1536 MB）")  # fmt: skip
    novel = Novel.objects.get(pk=novel.pk)
    names, _ = search._characters(novel)
    start = time.perf_counter()
    passage_index.load(novel, LOCAL_NAME, names)
    print(f"首次载入索引（数据库 → 内存，含人名扫描）：{time.perf_counter() - start:.2f} s")
    gold = json.loads((_django.SHARED / "gold" / "xiyouji.json").read_text(encoding="utf-8"))
    queries = [f"{r['source']} 与 {r['target']}" for r in gold["relations"][:20]]
    queries += ["大闹天宫", "草船借箭", "黛玉葬花", "范进中举"]
    times = []
    for query in queries:
        start = time.perf_counter()
        search.search(novel, query)
        times.append(time.perf_counter() - start)
    print(f"单次搜索（{len(times)} 个查询，索引已载入）：中位数 {statistics.median(times) * 1000:.0f} ms，"
          f"最长 {max(times) * 1000:.0f} ms（上限 200 ms）")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("novel", nargs="?")
    parser.add_argument("--gold")
    parser.add_argument("--variants", action="store_true", help="也评估其他本地向量化方案")
    parser.add_argument(
        "--emulator", action="store_true", help="也经模拟器跑模型路径（仅验证管道）"
    )
    parser.add_argument("--big", action="store_true", help="5M 字输入上的耗时与内存")
    parser.add_argument("--chars", type=int, default=5_000_000)
    parser.add_argument("--database-url", help="默认用临时 SQLite")
    args = parser.parse_args()
    if not args.big and not (args.novel and args.gold):
        parser.error("需要 NOVEL 和 --gold，或 --big")
    args.workdir = _django.setup(args.database_url)
    big_bench(args) if args.big else gold_bench(args)


if __name__ == "__main__":
    main()
