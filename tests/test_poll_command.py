"""poll_batches, the command cron runs: one round per run, progress lines, errors, and two copies
running at once (real processes against one database file, or a scratch PostgreSQL database)."""

from __future__ import annotations

import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from graph import prompts
from graph.models import BatchJob, CharacterAttribute, LLMTask, Novel, RelationPhase
from tests.conftest import REPO, fail_first_lines_once

MANAGE = REPO / "manage.py"


def poll_batches() -> str:
    out = io.StringIO()
    call_command("poll_batches", stdout=out, stderr=out)
    return out.getvalue()


@pytest.mark.django_db
def test_each_run_advances_every_open_job_once_and_prints_its_progress(emu, upload, settings):
    settings.BATCH_MAX_LINES = 25
    upload()
    jobs = BatchJob.objects.count()
    assert jobs == -(-LLMTask.objects.count() // 25) > 1

    first = poll_batches()

    assert first.count("📊 Batch API进度: in_progress") == jobs
    assert f"本轮处理了 {jobs} 个批处理任务" in first
    assert all(b.polls == 1 for b in emu.batches.values())
    runs = [first]
    while Novel.objects.get().stage != Novel.Stage.DONE and len(runs) < 10:
        runs.append(poll_batches())
    assert len(runs) == 3  # in_progress → finalizing → completed and collected
    assert runs[-1].count("已收取") == jobs and "🎉" in runs[-1]
    assert "本轮处理了 0 个批处理任务" in poll_batches()


def test_it_refuses_to_run_without_an_api_key():
    with pytest.raises(CommandError, match="ZHIPUAI_API_KEY") as refused:
        poll_batches()
    assert refused.value.returncode == 2


@pytest.mark.django_db
def test_a_job_whose_server_cannot_be_reached_is_pushed_back_and_kept(emu, upload, settings):
    upload()
    job = BatchJob.objects.get()
    emu.stop()

    out = poll_batches()

    job.refresh_from_db()
    assert "出错（第 1 次）" in out and str(job) in out
    assert job.attempts == 1 and "Connection error" in job.last_error
    assert job.status == BatchJob.Status.SUBMITTED and job.remote_id
    assert job.claimed_until > timezone.now() + timedelta(seconds=50)
    assert "本轮处理了 0 个批处理任务" in poll_batches()  # pushed back: the others go first
    assert settings.ZHIPUAI_API_KEY.partition(".")[2] not in out + job.last_error


# --- two pollers in two processes ----------------------------------------------------------


class ScratchDatabase:
    """A database of its own for subprocesses, with a tiny query helper."""

    def __init__(self, url: str, connect):
        self.url, self._connect = url, connect

    def rows(self, sql: str) -> list[tuple]:
        connection = self._connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            return list(cursor.fetchall())
        finally:
            connection.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_db(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "pollers.sqlite3"
        yield ScratchDatabase(f"sqlite:///{path}", lambda: sqlite3.connect(path, timeout=30))
        return
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        pytest.skip("DATABASE_URL is not PostgreSQL")
    import psycopg

    parts = urlsplit(url)
    name = f"novelgraph_pollers_{uuid.uuid4().hex[:12]}"
    server = urlunsplit(parts._replace(path="/postgres"))
    scratch = urlunsplit(parts._replace(path=f"/{name}"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield ScratchDatabase(scratch, lambda: psycopg.connect(scratch))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.django_db
def test_two_pollers_in_two_processes_collect_each_job_once(
    emu, upload, settings, tmp_path, scratch_db, sample_path
):
    env = {
        **os.environ,
        "DATABASE_URL": scratch_db.url,
        "ZHIPUAI_API_KEY": settings.ZHIPUAI_API_KEY,
        "ZHIPUAI_BASE_URL": emu.base_url,
        "BATCH_DIR": str(tmp_path / "batches"),
        "BATCH_MAX_LINES": "10",
        "LLM_MAX_ATTEMPTS": "2",
        "USE_BATCH_API_FOR_GRAPH": "true",
        "EMBED_PASSAGES": "false",  # the questions' batches (test_embedding_jobs.py: vectors)
    }

    def manage(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [sys.executable, str(MANAGE), *args],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done

    manage("migrate", "--verbosity", "0")
    manage("upload_novel", str(sample_path), "--mode", "batch", "--quiet")
    assert len(emu.batches) > 2
    # The first line of every batch fails once, so both pollers also resubmit.
    first_lines = fail_first_lines_once(emu)

    pollers = [
        subprocess.Popen(
            [sys.executable, str(MANAGE), "poll_batches", "--loop", "--interval", "1"],
            env=env,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 45
        while scratch_db.rows("SELECT stage FROM graph_novel") != [("done",)]:
            assert time.monotonic() < deadline, "the pollers did not finish the novel"
            assert all(p.poll() is None for p in pollers), "a poller stopped"
            time.sleep(0.2)
    finally:
        for p in pollers:
            p.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=15) for p in pollers]

    assert [p.returncode for p in pollers] == [0, 0]  # SIGTERM ends the loop cleanly
    assert not any(err.strip() for _, err in outputs), outputs
    printed = "\n".join(out for out, _ in outputs)
    collected = Counter(
        line.split()[2] for line in printed.splitlines() if line.startswith("✅ 批处理")
    )
    assert set(collected) == set(emu.batches) and set(collected.values()) == {1}
    polls = Counter(
        r.path for r in emu.requests if r.method == "GET" and r.path.startswith("/batches/")
    )
    assert set(polls.values()) == {3}  # each batch advanced by one poller at a time
    tasks = scratch_db.rows("SELECT kind, status, result, last_error FROM graph_llmtask")
    assert {status for _, status, _, _ in tasks} == {"succeeded"}, {e for *_, e in tasks}
    sent = Counter(json.loads(line)["custom_id"] for b in emu.batches.values() for line in b.lines)
    assert sent == Counter({cid: 1 + (cid in first_lines) for cid in sent})

    results = [(kind, r if isinstance(r, dict) else json.loads(r)) for kind, _, r, _ in tasks]
    phases = sum(len(r.get("phases", [])) for kind, r in results if kind != "attribute")
    attributes = sum(
        sum(1 for key in prompts.ATTRIBUTE_KEYS if r.get(key)) + bool(r.get("aliases"))
        for kind, r in results
        if kind == "attribute"
    )
    [(phase_rows,)] = scratch_db.rows("SELECT count(*) FROM graph_relationphase")
    [(attribute_rows,)] = scratch_db.rows("SELECT count(*) FROM graph_characterattribute")
    assert (phase_rows, attribute_rows) == (phases, attributes)

    # The same novel built by one process (offline rules, the emulator's model) gives as many.
    upload(mode="offline")
    assert phase_rows == RelationPhase.objects.count() > 0
    assert attribute_rows == CharacterAttribute.objects.count() > 0


@pytest.mark.django_db
def test_upload_with_wait_polls_until_the_graph_is_written(emu, upload):
    out = upload("--wait", "--interval", "0")

    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    assert "📊 Batch API进度" in out and "图谱已写入" in out
    assert set(novel.relations.values_list("origin", flat=True)) <= {"llm", "default"}


@pytest.mark.django_db
def test_novel_status_shows_stages_jobs_failures_and_tokens(emu, upload, poll):
    emu.faults.batch_error_lines = 3  # every third line fails once and is resubmitted
    upload()
    poll()
    out = io.StringIO()
    call_command("novel_status", "青锋录", stdout=out)
    text = out.getvalue()
    novel = Novel.objects.get()
    assert f"《{novel.title}》 id={novel.pk}" in text and "阶段：已完成" in text
    total = novel.tasks.count()
    assert f"任务：{total}/{total} 已完成 (100.0%)" in text
    prompt_tokens = sum(novel.tasks.values_list("prompt_tokens", flat=True))
    assert prompt_tokens and f"输入 {prompt_tokens}" in text
    for job in novel.batch_jobs.all():
        assert f"批处理 {job.remote_id}：完成" in text


@pytest.mark.django_db
def test_novel_status_names_an_unknown_novel_with_exit_code_2():
    with pytest.raises(CommandError) as caught:
        call_command("novel_status", "没有这本书", stdout=io.StringIO())
    assert caught.value.returncode == 2


@pytest.mark.django_db
def test_the_daemon_outlives_an_account_error_and_stops_on_sigterm(
    emu, monkeypatch, restore_signals
):
    from graph import dispatch
    from graph.llm.zhipu import ZhipuError

    calls = []

    def flaky_poll(client, progress):
        calls.append(1)
        if len(calls) == 1:
            raise ZhipuError("quota", status=429, code="1304", fatal=True, advice="额度已用完")
        os.kill(os.getpid(), signal.SIGTERM)  # what `kill` or systemd sends
        return 0

    monkeypatch.setattr(dispatch, "poll", flaky_poll)
    err = io.StringIO()
    call_command("poll_batches", "--loop", "--interval", "1", stdout=io.StringIO(), stderr=err)
    assert len(calls) == 2
    assert "额度已用完" in err.getvalue() and "1304" in err.getvalue()


@pytest.mark.django_db
def test_a_single_run_exits_non_zero_with_what_to_do_on_an_account_error(emu, upload):
    upload()
    emu.faults.account_error = (401, "1002", "Authorization token is invalid")
    with pytest.raises(CommandError, match="ZHIPUAI_API_KEY") as stopped:
        call_command("poll_batches", stdout=io.StringIO())
    assert stopped.value.returncode != 0
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.SUBMITTED and job.attempts == 0  # nothing given up
    assert LLMTask.objects.filter(status=LLMTask.Status.SUBMITTED).count() == job.line_count
    emu.faults.account_error = None
    for _ in range(3):
        call_command("poll_batches", stdout=io.StringIO())
    assert Novel.objects.get().stage == Novel.Stage.DONE


class FakeClock:
    """Time that passes only when the code under test sleeps."""

    def __init__(self):
        self.now, self.slept = 0.0, []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.django_db
def test_upload_wait_with_interval_0_waits_a_second_between_polls_and_stops_on_sigterm(
    emu, upload, monkeypatch, restore_signals
):
    from graph import dispatch
    from graph.management.loop import STEP, Rounds

    emu.faults.batch_steps = 1000  # the batch never finishes while we wait
    fake, polls, real_poll = FakeClock(), [], dispatch.poll
    monkeypatch.setattr(Rounds, "clock", fake.clock)
    monkeypatch.setattr(Rounds, "sleep", fake.sleep)

    def poll_and_count(client, progress):
        polls.append((fake.now, len(fake.slept)))
        if len(polls) == 3:
            os.kill(os.getpid(), signal.SIGTERM)  # as `kill` would, while a round runs
        return real_poll(client, progress)

    monkeypatch.setattr(dispatch, "poll", poll_and_count)
    out = upload("--wait", "--interval", "0")

    assert len(polls) == 3
    assert all(
        later[0] - earlier[0] >= 1.0 for earlier, later in zip(polls, polls[1:], strict=False)
    )
    assert max(fake.slept) <= STEP < 1.0  # short steps: a stop is seen within a second
    assert len(fake.slept) == polls[-1][1]  # no sleep at all after the SIGTERM
    assert "已停止等待" in out and Novel.objects.get().stage == Novel.Stage.DISPATCHED
