"""Time the local stages on a big novel: file → chapters → characters → pairs → task rows.

    .venv/bin/python bench/pipeline.py [NOVEL.txt] [--chars 5000000] [--database-url URL]

Without NOVEL.txt it builds the 5M-character input with ../shared/tools/make_big_novel.py.
Prints wall time, peak RSS and per-stage times (offline answers are not included).
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("novel", nargs="?", help="小说文件（省略则生成 5M 字的基准输入）")
    parser.add_argument("--chars", type=int, default=5_000_000)
    parser.add_argument("--database-url", help="默认用临时 SQLite")
    args = parser.parse_args()
    workdir = _django.setup(args.database_url)
    path = Path(args.novel) if args.novel else _django.big_input(workdir, args.chars)

    from graph import dispatch, ingest, pipeline
    from graph.models import Novel
    from graph.progress import Progress

    progress = Progress(quiet=True)
    times = {}
    start = time.perf_counter()
    data = ingest.read_novel_file(path)
    novel, _ = ingest.ingest(data, source_name=path.name)
    times["读取+解码+分章+写入 (ingest)"] = time.perf_counter() - start
    ws = pipeline.Workspace(novel)
    for stage in Novel.RESTARTABLE:
        label, step = pipeline.STAGES[stage]
        t = time.perf_counter()
        step(novel, ws, progress)
        times[f"{label} ({stage})"] = time.perf_counter() - t
    total = time.perf_counter() - start
    print(f"输入：{path.name}，{novel.char_count} 字，{novel.chapters.count()} 章")
    for label, seconds in times.items():
        print(f"  {label}: {seconds:.2f} s")
    figures = dispatch.estimate(novel)
    print(
        f"人物 {novel.characters.count()}，候选关系 {novel.relations.count()}，任务 "
        + "、".join(f"{k} {v['requests']}" for k, v in figures.items())
    )
    print(f"总耗时 wall time: {total:.2f} s；峰值内存 peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
