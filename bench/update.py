"""The cost of updating a serialized novel against building it again.

    .venv/bin/python bench/update.py [NOVEL.txt] [--chars 5000000] [--cut 0.9] [--database-url URL]
    .venv/bin/python bench/update.py --emulator [NOVEL.txt]      # realtime mode against the emulator

Without NOVEL.txt it builds the 5M-character input with ../shared/tools/make_big_novel.py. The file
is cut after `--cut` of its chapters. Three runs, each timed stage by stage (local stages: file →
chapters → characters → pairs → task rows):
1. a fresh run of the whole file (then deleted), the yardstick;
2. a fresh run of the cut, answered offline (or through the emulator) so the update can start;
3. the whole file as an update of the cut.
Requests are the tasks each run would send (what `upload_novel --dry-run` counts). With
--emulator, runs 2 and 3 are answered in realtime mode through the emulator, and the requests the
emulator received are counted too.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402

HEADING = re.compile(r"^\s*第[零〇一二三四五六七八九十百千0-9０-９]+[章回]", re.M)


def cut(text: str, share: float) -> str:
    """The text up to the heading of the first chapter after `share` of them."""
    starts = [m.start() for m in HEADING.finditer(text)]
    keep = max(1, int(len(starts) * share))
    return text[: starts[keep]] if keep < len(starts) else text


def timed_run(path: Path, *, update: bool) -> dict:
    """Store the file (a new novel, or an update), run its local stages; times and requests."""
    from graph import dispatch, ingest, pipeline, versions
    from graph.models import Novel
    from graph.progress import Progress

    progress, times = Progress(quiet=True), {}
    start = time.perf_counter()
    data = ingest.read_novel_file(path)
    received = versions.receive(data, source_name=path.name, new=not update)
    novel = received.novel
    times["读取+分章+写入"] = time.perf_counter() - start
    stages, ws = pipeline.local_stages(novel)
    for stage in Novel.RESTARTABLE:
        label, step = stages[stage]
        t = time.perf_counter()
        step(novel, ws, progress)
        times[label] = time.perf_counter() - t
    figures = dispatch.estimate(novel)
    return {
        "novel": novel,
        "how": received.how,
        "times": times,
        "local": sum(times.values()),
        "requests": sum(f["requests"] for f in figures.values()),
        "kinds": {kind: f["requests"] for kind, f in figures.items()},
        "tokens": sum(f["input_tokens"] for f in figures.values()),
    }


def answer(novel, mode: str) -> float:
    from graph import dispatch
    from graph.progress import Progress

    start = time.perf_counter()
    dispatch.run(novel, mode=mode, progress=Progress(quiet=True))
    return time.perf_counter() - start


def report(name: str, run: dict) -> None:
    novel = run["novel"]
    stages = "，".join(f"{label} {seconds:.2f} s" for label, seconds in run["times"].items())
    print(f"{name}：{novel.chapters.count()} 章，{novel.char_count} 字（{run['how']}）")
    print(f"  本地阶段 {run['local']:.2f} s（{stages}）")
    kinds = "、".join(f"{k} {v}" for k, v in run["kinds"].items())
    print(f"  请求 {run['requests']} 个（{kinds}），约 {run['tokens']} 输入 tokens")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("novel", nargs="?", help="小说文件（省略则生成 5M 字的基准输入）")
    parser.add_argument("--chars", type=int, default=5_000_000)
    parser.add_argument("--cut", type=float, default=0.9, help="先上传的章节比例")
    parser.add_argument("--database-url", help="默认用临时 SQLite")
    parser.add_argument("--emulator", action="store_true", help="经模拟器以 realtime 模式作答")
    args = parser.parse_args()
    workdir = _django.setup(args.database_url)
    whole = Path(args.novel) if args.novel else _django.big_input(workdir, args.chars)
    part = workdir / f"cut_{whole.name}"
    part.write_text(cut(whole.read_text(encoding="utf-8"), args.cut), encoding="utf-8")
    if args.emulator:
        with emulated() as emu:
            compare(whole, part, "realtime", emu)
    else:
        compare(whole, part, "offline", None)


def compare(whole: Path, part: Path, mode: str, emu) -> None:
    fresh = timed_run(whole, update=False)
    report("1. 全书重新构建 (fresh, whole file)", fresh)
    fresh["novel"].delete()
    base = timed_run(part, update=False)
    report(f"2. 先上传前 {base['novel'].chapters.count()} 章 (fresh, cut)", base)
    sent = emu.stats.chat_requests if emu else 0
    print(f"  作答（{mode}）{answer(base['novel'], mode):.1f} s")
    if emu:
        print(f"  模拟器收到 {emu.stats.chat_requests - sent} 个请求")
    update = timed_run(whole, update=True)
    report("3. 再上传全书：更新 (update)", update)
    sent = emu.stats.chat_requests if emu else 0
    print(f"  作答（{mode}）{answer(update['novel'], mode):.1f} s")
    if emu:
        print(f"  模拟器收到 {emu.stats.chat_requests - sent} 个请求")
    print(
        f"更新 / 全书重新构建：本地阶段 {update['local'] / fresh['local']:.0%}，"
        f"请求 {update['requests'] / max(1, fresh['requests']):.0%}"
    )


class emulated:
    """The Zhipu emulator answering with the offline rules; settings point at it."""

    def __enter__(self):
        from django.conf import settings

        from tests.emulator import ZhipuEmulator
        from tests.offline_model import answer as offline_answer

        self.emulator = ZhipuEmulator(model=offline_answer).__enter__()
        settings.ZHIPUAI_API_KEY = "bench.emulator"
        settings.ZHIPUAI_BASE_URL = self.emulator.base_url
        return self.emulator

    def __exit__(self, *exc):
        return self.emulator.__exit__(*exc)


if __name__ == "__main__":
    main()
