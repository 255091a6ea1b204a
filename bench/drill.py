"""Reliability drills: novels through batch and realtime mode against the Zhipu emulator with
faults on, then count what was lost or applied twice (definitions in bench/drill_audit.py).

    .venv/bin/python bench/drill.py [--database-url URL] [--quick] [--seed N] [--only NAME,...]

The emulator runs in this process on 127.0.0.1; the real SDK talks to it. Batch scenarios poll
in this process, or run `manage.py poll_batches --loop --interval 1` subprocesses against the
same database (a SQLite file in a temp folder by default; a PostgreSQL URL is created if
missing), killed with SIGKILL at seeded random moments and restarted. Realtime backoff is
shortened to 0.05-0.5 s so storms take seconds. Exit code 1 when any scenario loses or double-
applies a result, or leaves a novel unfinished.
"""

from __future__ import annotations

import argparse
import functools
import io
import random
import sys
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _django  # noqa: E402


def ensure_database(url: str | None) -> None:
    """Create the PostgreSQL database named in `url` when it does not exist yet."""
    if not url or not url.startswith(("postgres://", "postgresql://")):
        return
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as admin:
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')


@dataclass
class Drill:
    """What every scenario shares: the emulator, the seeded RNG, and where files go."""

    emu: object
    rng: random.Random
    quick: bool
    tag: str
    workdir: Path
    made: int = 0

    def novels(self, count: int, mode: str, client) -> list[int]:
        """Make `count` fresh novels and run them in `mode` (realtime answers, batch submits)."""
        from drill_support import novel_text

        ids = []
        for _ in range(count):
            self.made += 1
            title, text = novel_text(self.made, self.tag, self.rng)
            ids.append(self.submit(title, text, mode, client))
        return ids

    def submit(self, title: str, text: str, mode: str, client) -> int:
        """Store `text` as a new novel and run it in `mode`; returns its id."""
        from graph import dispatch, ingest, pipeline
        from graph.progress import Progress

        novel, _ = ingest.ingest(text.encode(), source_name=f"{title}.txt", title=title)
        quiet = Progress(io.StringIO(), quiet=True)
        pipeline.prepare(novel, quiet)
        dispatch.run(novel, mode=mode, progress=quiet, client=client)
        return novel.pk

    def faults(self, **switches) -> None:
        from tests.emulator import Faults

        self.emu.faults = Faults(**switches)
        self.emu.hang_every, self.emu.hang_seconds = 0, 0.0

    def client(self, timeout: float = 10.0):
        from drill_support import API_KEY, RecordingClient

        return RecordingClient(API_KEY, self.emu.base_url, timeout=timeout)


def first_time(drill: Drill, share: float, always: float = 0.0) -> Callable:
    """A line selector: a `share` of custom_ids fail their first time, `always` of them every
    time (chosen by a hash salted with the drill's tag, so each seed picks others)."""
    seen: set[str] = set()

    def pick(custom_id, body) -> bool:
        draw = zlib.crc32(f"{drill.tag}/{custom_id}".encode()) / 2**32
        if draw < always:
            return True
        if custom_id in seen or draw >= always + share:
            return False
        seen.add(custom_id)
        return True

    return pick


def done(ids: list[int]) -> bool:
    from graph.models import Novel

    return not Novel.objects.filter(pk__in=ids).exclude(stage=Novel.Stage.DONE).exists()


def poll_here(ids: list[int], client, report=None, limit: float = 120) -> None:
    """Poll in this process until the novels are done (or `limit` seconds pass)."""
    from graph import dispatch
    from graph.progress import LineStream, Progress

    progress = Progress(LineStream(report) if report else io.StringIO())
    end = time.monotonic() + limit
    while not done(ids) and time.monotonic() < end:
        if not dispatch.poll(client, progress):
            time.sleep(0.05)


# --- realtime ---------------------------------------------------------------------------------


def realtime(drill: Drill, count: int, timeout: float = 10.0):
    from drill_audit import audit

    client = drill.client(timeout)
    ids = drill.novels(count, "realtime", client)
    return audit(ids, client=client)


def realtime_429(drill: Drill):
    drill.faults(
        chat_429_every=2, chat_429_codes=["1302", "1305"], max_concurrency=4, chat_latency=0.01
    )
    return realtime(drill, 1 if drill.quick else 4)


def realtime_5xx_timeout(drill: Drill):
    drill.faults(chat_500_every=4)
    drill.emu.hang_every, drill.emu.hang_seconds = 7, 1.2
    return realtime(drill, 1 if drill.quick else 3, timeout=0.8)


def realtime_malformed(drill: Drill):
    drill.faults(malformed_replies=4, chat_sensitive_replies=0.03)
    return realtime(drill, 3)


# --- batch, polled in this process ------------------------------------------------------------


def batch(drill: Drill, count: int, report=None, after_submit=None, max_lines=20):
    from django.test import override_settings
    from drill_audit import audit

    client = drill.client()
    with override_settings(BATCH_MAX_LINES=max_lines):
        ids = drill.novels(count, "batch", client)
        if after_submit:
            after_submit(ids, client)
        poll_here(ids, client, report)
    return audit(ids, emu=drill.emu)


def switch_off_after(drill: Drill, status: str, fault: str) -> Callable[[str], None]:
    """A report hook: once some batch ended `status`, the fault that caused it is cleared (the
    poller resubmits, and may poll the new batch, within the same round)."""

    def hook(line: str) -> None:
        if any(b.status == status for b in list(drill.emu.batches.values())):
            setattr(drill.emu.faults, fault, False)

    return hook


def batch_error_lines(drill: Drill):
    drill.faults(batch_error_lines=first_time(drill, 0.25, always=0.03))
    return batch(drill, 2 if drill.quick else 3)


def batch_expire_half(drill: Drill):
    drill.faults(batch_expire_half=True, batch_steps=2)
    return batch(drill, 2, switch_off_after(drill, "expired", "batch_expire_half"))


def batch_fail_validation(drill: Drill):
    drill.faults(batch_fail_validation=True)
    return batch(drill, 2, switch_off_after(drill, "failed", "batch_fail_validation"))


def batch_cancel(drill: Drill):
    """Half the jobs (seeded) are cancelled while in progress, as the admin action does."""
    from graph import batches, dispatch
    from graph.llm.zhipu import client_from_settings
    from graph.models import BatchJob
    from graph.progress import Progress

    drill.faults(batch_steps=3)

    def cancel_some(ids, client) -> None:
        dispatch.poll(client, Progress(io.StringIO()))  # validating -> in_progress
        jobs = list(BatchJob.objects.filter(novel_id__in=ids, status__in=BatchJob.OPEN))
        for job in drill.rng.sample(jobs, max(1, len(jobs) // 2)):
            batches.cancel_job(job, client_from_settings())  # as the admin action does

    return batch(drill, 2, after_submit=cancel_some)


def batch_malformed(drill: Drill):
    drill.faults(malformed_replies=4, batch_sensitive_lines=0.03)
    return batch(drill, 3)


def batch_grouped(drill: Drill):
    """A budget so small that the tail of the pairs is asked three to a request (graph/grouped_questions.py),
    with bad and malformed lines: a grouped question is asked again whole, applied once per pair."""
    from django.test import override_settings

    from graph.grouped_questions import is_grouped
    from graph.models import LLMTask

    drill.faults(batch_error_lines=first_time(drill, 0.5), malformed_replies=4)
    with override_settings(LLM_REQUEST_BUDGET=24):
        found = batch(drill, 3)
    grouped = [t for t in LLMTask.objects.filter(novel__title__contains=drill.tag) if is_grouped(t)]
    found.notes.append(f"分组提问 (grouped questions): {len(grouped)}")
    if not grouped:
        found.lost.add("scenario: no grouped question was asked")
    return found


# --- poll_batches subprocesses ----------------------------------------------------------------


def with_pollers(drill: Drill, name: str, novels: int, pollers: int, kills: int, max_lines: int):
    """Submit `novels` (spread over the kills, so every kill finds work), run `pollers` pollers,
    SIGKILL a random one `kills` times at random moments and restart it, then wait."""
    from django.test import override_settings
    from drill_audit import audit
    from drill_support import Pollers

    group = Pollers(drill.emu.base_url, drill.workdir / name, max_lines=max_lines)
    client = drill.client()
    ids: list[int] = []
    waves = Counter(i * (kills + 1) // novels for i in range(novels))
    began = time.monotonic()
    try:
        with override_settings(BATCH_MAX_LINES=max_lines):
            ids += drill.novels(waves[0], "batch", client)
            submitted = time.monotonic() - began
            for _ in range(pollers):
                group.start()
            for kill in range(1, kills + 1):
                time.sleep(drill.rng.uniform(0.5, 3.0))
                group.reap()
                group.kill(drill.rng.choice(group.running))
                group.start()
                ids += drill.novels(waves[kill], "batch", client)
        end = time.monotonic() + 180
        while not done(ids) and time.monotonic() < end:
            group.reap()
            time.sleep(0.2)
        finished = time.monotonic() - began
    finally:
        group.stop()
    found = audit(ids, emu=drill.emu)
    collected = Counter(
        line.split()[2] for line in group.logs().splitlines() if line.startswith("✅ 批处理")
    )
    twice = sum(1 for n in collected.values() if n > 1)
    found.notes.append(
        f"启动 {group.started} 个轮询进程 (pollers started)，SIGKILL {kills} 次；"
        f"收取 {len(collected)} 个批处理" + (f"，其中 {twice} 个被收取两次" if twice else "")
    )
    found.notes.append(
        f"首批 {waves[0]} 本提交用时 {submitted:.1f} s，全部完成于 {finished:.1f} s (first wave "
        "submitted, all done)"
    )
    if group.exits:
        found.notes.append(f"轮询进程自行退出 (pollers exited): {group.exits}")
    if "Traceback" in group.logs():
        found.notes.append(f"轮询进程日志中有 Traceback：见 {drill.workdir / name}")
    return found


def poller_kill(drill: Drill):
    drill.faults(batch_steps=3, batch_error_lines=first_time(drill, 0.2))
    kills = 4 if drill.quick else 20
    return with_pollers(drill, "poller-kill", 2 if drill.quick else 5, 1, kills, max_lines=10)


def three_pollers(drill: Drill):
    steps = 1 if drill.quick else 2
    drill.faults(batch_steps=steps, batch_error_lines=first_time(drill, 0.2), malformed_replies=9)
    kills = 0 if drill.quick else 5
    return with_pollers(drill, "three-pollers", 2 if drill.quick else 4, 3, kills, max_lines=8)


def twenty_novels(drill: Drill):
    drill.faults(batch_steps=2, batch_error_lines=first_time(drill, 0.1, always=0.02))
    return with_pollers(drill, "twenty-novels", 6 if drill.quick else 20, 3, 0, max_lines=25)


def update_pending(drill: Drill):
    """Serialized novels: each is submitted in batch mode, then the whole book is uploaded with
    `upload_novel` while its batches are still in flight (the first before any poller runs, the
    others while pollers collect, one of them SIGKILLed at random moments; every other one
    after part of its answers were collected). Every question of
    both versions must be answered once and applied once, and each novel end at version 2."""
    from django.test import override_settings
    from drill_audit import audit
    from drill_support import Pollers, serial_texts

    from graph.models import LLMTask

    drill.faults(batch_steps=2, batch_error_lines=first_time(drill, 0.2))
    count = 3 if drill.quick else 6
    group = Pollers(drill.emu.base_url, drill.workdir / "update-pending", max_lines=10)
    client = drill.client()
    books: dict[int, str] = {}
    waiting: list[set[int]] = []
    try:
        with override_settings(BATCH_MAX_LINES=10):
            for _ in range(count):
                drill.made += 1
                title, head, whole = serial_texts(drill.made, drill.tag, drill.rng, first=15)
                books[drill.submit(title, head, "batch", client)] = whole
            for number, (pk, whole) in enumerate(books.items()):
                if number == 1:
                    group.start()
                elif number > 1:
                    time.sleep(drill.rng.uniform(0.2, 1.5))
                    if not drill.quick:
                        group.kill(drill.rng.choice(group.running))
                        group.start()
                if number % 2:
                    collect_part(pk, client)
                waiting.append(upload_whole(drill, pk, whole))
        end = time.monotonic() + 180
        while not done(list(books)) and time.monotonic() < end:
            group.reap()
            time.sleep(0.2)
    finally:
        group.stop()
    found = audit(list(books), emu=drill.emu)
    found.notes.append(
        "更新时上一版仍在等待答案的问题 (questions in flight at the update): "
        f"{[len(ids) for ids in waiting]}；SIGKILL {0 if drill.quick else count - 2} 次"
    )
    if not any(waiting):
        found.lost.add("scenario: no update found a batch in flight")
    check_versions(books, found)
    # A question in flight must not be asked again by the update (its task stays attached).
    detached = LLMTask.objects.filter(
        pk__in=set().union(*waiting), relation__isnull=True, character__isnull=True
    )
    found.twice.update(f"asked-again-{cid}" for cid in detached.values_list("custom_id", flat=True))
    if "Traceback" in group.logs():
        found.notes.append(f"轮询进程日志中有 Traceback：见 {drill.workdir / 'update-pending'}")
    return found


def collect_part(pk: int, client, rounds: int = 20) -> None:
    """Poll here until some of novel `pk`'s answers are in and some are not (or `rounds` pass)."""
    from graph import dispatch
    from graph.models import LLMTask
    from graph.progress import Progress

    tasks = LLMTask.objects.filter(novel_id=pk)
    for _ in range(rounds):
        if tasks.settled().exists():
            return
        dispatch.poll(client, Progress(io.StringIO()))
        time.sleep(0.05)


def upload_whole(drill: Drill, pk: int, whole: str) -> set[int]:
    """`upload_novel` on the whole book of novel `pk`; returns its questions still unanswered
    just before."""
    from django.core.management import call_command

    from graph.models import Novel

    novel = Novel.objects.get(pk=pk)
    path = drill.workdir / f"{novel.title}-全本.txt"
    path.write_text(whole, encoding="utf-8")
    in_flight = set(novel.tasks.unsettled().values_list("pk", flat=True))
    # --update names the novel: two variants of the sample may share all but a chapter or two.
    options = ["--mode", "batch", "--update", str(pk), "--quiet"]
    call_command("upload_novel", str(path), *options, stdout=io.StringIO())
    return in_flight


def check_versions(books: dict[int, str], found) -> None:
    """Each novel holds the whole book as its second version, every chapter once."""
    from graph import ingest
    from graph.models import Novel

    for pk, whole in books.items():
        novel = Novel.objects.get(pk=pk)
        chapters = len(ingest.parse(whole.encode()).chapters)
        if novel.versions.count() != 2 or novel.chapters.count() != chapters:
            found.lost.add(f"version-{pk}")


SCENARIOS = {  # name: (label, function, in --quick)
    "realtime-429": ("实时 429 风暴 1302/1305", realtime_429, True),
    "realtime-5xx-timeout": ("实时 5xx 与超时", realtime_5xx_timeout, True),
    "realtime-malformed": ("实时 回复格式错误/敏感", realtime_malformed, False),
    "batch-error-lines": ("批处理 错误文件行", batch_error_lines, True),
    "batch-expire-half": ("批处理 过期（完成一半）", batch_expire_half, True),
    "batch-fail-validation": ("批处理 校验失败", batch_fail_validation, False),
    "batch-cancel": ("批处理 取消 cancel_job", batch_cancel, True),
    "batch-malformed": ("批处理 回复格式错误/敏感", batch_malformed, False),
    "batch-grouped": ("批处理 三对一问（分组提问）", batch_grouped, True),
    "poller-kill": ("poll_batches 被 SIGKILL 后重启", poller_kill, True),
    "three-pollers": ("三个 poll_batches 同时运行", three_pollers, True),
    "twenty-novels": ("20 本小说同时提交", twenty_novels, False),
    "update-pending": ("批处理未返回时更新小说（连载新版本）", update_pending, True),
}


def run(names: list[str], quick: bool, seed: int, workdir: Path) -> bool:
    from django.conf import settings
    from drill_audit import Audit
    from drill_support import API_KEY, DrillEmulator

    from graph import dispatch
    from graph.llm.realtime import run_chat
    from tests import offline_model

    dispatch.run_chat = functools.partial(run_chat, base_delay=0.05, max_delay=0.5)
    emu = DrillEmulator(model=offline_model.answer).start()
    settings.ZHIPUAI_API_KEY, settings.ZHIPUAI_BASE_URL = API_KEY, emu.base_url
    settings.LLM_MAX_ATTEMPTS = 3
    settings.EMBED_PASSAGES = False  # the drill audits the graph's answers
    drill = Drill(emu, random.Random(seed), quick, f"{seed}-{uuid.uuid4().hex[:6]}", workdir)
    print(
        "场景 scenario | 小说 novels 完成/总数 | 模型作答 answered | 默认值 defaulted | "
        "丢失 lost | 重复写入 applied-twice | 用时 wall"
    )
    totals, all_ok, start = Counter(), True, time.monotonic()
    try:
        for name in names:
            label, scenario, _ = SCENARIOS[name]
            began = time.monotonic()
            try:
                found = scenario(drill)
            except Exception as exc:  # one broken scenario fails the drill, not the report
                found = Audit(novels=1, notes=[f"场景出错 (crashed): {exc!r}"])
            wall = time.monotonic() - began
            all_ok &= found.ok
            totals.update(
                done=found.done,
                novels=found.novels,
                answered=found.answered,
                defaulted=found.defaulted,
                lost=len(found.lost),
                twice=len(found.twice),
            )
            print(
                f"{'✅' if found.ok else '❌'} {name} {label} | {found.done}/{found.novels} | "
                f"{found.answered} | {found.defaulted} | {len(found.lost)} | {len(found.twice)} | "
                f"{wall:.1f} s",
                flush=True,
            )
            for note in found.notes:
                print(f"    · {note}")
            for what, items in (("丢失 lost", found.lost), ("重复 twice", found.twice)):
                if items:
                    print(f"    · {what}: {sorted(items)[:10]}")
    finally:
        emu.stop()
    print(
        f"{'✅' if all_ok else '❌'} 合计 total | {totals['done']}/{totals['novels']} | "
        f"{totals['answered']} | {totals['defaulted']} | {totals['lost']} | {totals['twice']} | "
        f"{time.monotonic() - start:.1f} s"
    )
    return all_ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="默认：临时目录里的 SQLite 文件")
    parser.add_argument("--quick", action="store_true", help="快速子集 (the CI subset)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", help="只跑这些场景，逗号分隔：" + ", ".join(SCENARIOS))
    args = parser.parse_args()
    names = [n for n, (_, _, quick) in SCENARIOS.items() if quick or not args.quick]
    if args.only:
        names = [n.strip() for n in args.only.split(",")]
        unknown = [n for n in names if n not in SCENARIOS]
        if unknown:
            parser.error(f"未知场景 unknown scenario: {', '.join(unknown)}")
    ensure_database(args.database_url)
    workdir = _django.setup(args.database_url)
    from django.db import connection

    print(
        f"演练 drill：数据库 {connection.vendor}（{connection.settings_dict['NAME']}），"
        f"seed {args.seed}，{'quick' if args.quick else 'full'}，日志 {workdir}"
    )
    return 0 if run(names, args.quick, args.seed, workdir) else 1


if __name__ == "__main__":
    sys.exit(main())
