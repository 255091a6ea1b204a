"""Faults of the whole account (bad key, quota, balance, a file refused whole) stop a run at once:
one line saying what to do, a non-zero exit, nothing defaulted, nothing marked done; running
again once the fault is gone finishes the graph. Transient account errors (1120) are retried."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from graph.models import BatchJob, LLMTask, Mode, Novel, Origin

Status = LLMTask.Status
BAD_KEY = (401, "1002", "Authorization Token非法，请确认Authorization Token正确传递。")
DAILY_QUOTA = (429, "1304", "该 API 已达今日调用次数限额")
USAGE_CAP = (429, "1308", "已达到 5 小时的使用上限。您的限额将在 2026-12-03 08:00:00 重置。")
NO_BALANCE = (429, "1113", "您的账户已欠费，请充值后重试。")
NOT_ON_WHITELIST = (400, "1210", "模型 glm-4-flash 不在批处理白名单中")


def the_novel() -> Novel:
    return Novel.objects.get()


def assert_untouched(novel: Novel) -> None:
    """Stopped before anything was settled: every task waits, unsent and uncounted."""
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.TASKS and novel.last_error
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.PENDING, 0)}
    assert set(novel.relations.values_list("origin", flat=True)) == {Origin.DEFAULT}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "says"),
    [
        (BAD_KEY, "ZHIPUAI_API_KEY"),
        (DAILY_QUOTA, "额度"),
        (USAGE_CAP, "2026-12-03 08:00:00 重置"),
        (NO_BALANCE, "充值"),
    ],
    ids=["401", "1304", "1308", "1113"],
)
def test_realtime_stops_on_an_account_fault_and_finishes_when_it_is_gone(
    emu, upload, settings, fault, says
):
    emu.faults.account_error = fault
    with pytest.raises(CommandError, match=says) as stopped:
        upload(mode=Mode.REALTIME)

    assert stopped.value.returncode != 0 and "\n" not in str(stopped.value)
    assert emu.stats.chat_requests <= settings.REALTIME_CONCURRENCY_RELATION  # a few at most
    novel = the_novel()
    assert_untouched(novel)
    assert says in novel.last_error

    emu.faults.account_error = None
    upload(mode=Mode.REALTIME)
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE and not novel.last_error
    assert set(novel.tasks.values_list("status", "origin")) == {(Status.SUCCEEDED, Origin.LLM)}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("where", "fault", "says"),
    [
        ("account_error", BAD_KEY, "ZHIPUAI_API_KEY"),
        ("account_error", DAILY_QUOTA, "额度"),
        ("upload_refusal", NOT_ON_WHITELIST, "白名单"),
    ],
    ids=["401", "1304", "1210-file-refused"],
)
def test_batch_submission_stops_on_a_fault_that_would_repeat_and_resumes_after(
    emu, upload, poll, where, fault, says
):
    setattr(emu.faults, where, fault)
    with pytest.raises(CommandError, match=says):
        upload()

    uploads = [r for r in emu.requests if r.path == "/files" and r.method == "POST"]
    assert len(uploads) <= 1 and not emu.batches
    novel = the_novel()
    assert_untouched(novel)
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.FAILED and not job.tasks.exists()

    setattr(emu.faults, where, None)
    upload()
    poll()
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.SUCCEEDED, 1)}


@pytest.mark.django_db
def test_polling_stops_on_an_account_fault_without_giving_anything_up(emu, upload):
    upload()
    emu.faults.account_error = USAGE_CAP
    out = io.StringIO()
    with pytest.raises(CommandError, match="2026-12-03 08:00:00"):
        call_command("poll_batches", stdout=out)

    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.SUBMITTED and job.attempts == 0
    assert job.claimed_until is None  # free for the next run
    assert set(LLMTask.objects.values_list("status", flat=True)) == {Status.SUBMITTED}


@pytest.mark.django_db
def test_a_transient_account_error_is_retried(emu, upload, quick_backoff):
    emu.faults.chat_429_every = 3
    emu.faults.chat_429_codes = ["1120"]
    upload(mode=Mode.REALTIME)

    novel = the_novel()
    assert emu.stats.code_counts["1120"] > 0
    assert novel.stage == Novel.Stage.DONE
    # Retried, not stopped: every question answered by the model (HTTP tries are not attempts).
    assert set(novel.tasks.values_list("status", "origin")) == {(Status.SUCCEEDED, Origin.LLM)}
