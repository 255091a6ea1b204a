"""Realtime mode end to end: upload_novel --mode realtime against the emulator, with faults.

The emulator's model answers with the offline rules; backoff waits are milliseconds
(`quick_backoff`), so 429 storms and server errors cost no real time.
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter

import pytest
from django.core.management.base import CommandError

from graph import replies, taxonomy
from graph.models import LLMTask, Mode, Novel, Origin, RelationPhase
from tests.emulator import GARBAGE_REPLY

Status = LLMTask.Status
TRANSPORT_ERRORS = ("HTTP 429", "HTTP 500", "timeout")

pytestmark = pytest.mark.usefixtures("quick_backoff")


def the_novel() -> Novel:
    return Novel.objects.get()


def prepare(upload) -> Novel:
    """Build the tasks without sending anything (a dry run), to pick fault targets from them."""
    upload("--dry-run", mode=Mode.REALTIME)
    return the_novel()


def asks(tasks) -> set[str]:
    """The question texts of some tasks: realtime requests carry no custom_id to select by."""
    return {t.request["messages"][-1]["content"] for t in tasks}


def asking(questions: set[str]):
    return lambda custom_id, body: body["messages"][-1]["content"] in questions


@pytest.mark.django_db
def test_it_answers_a_novel_in_realtime(emu, upload):
    out = upload(mode=Mode.REALTIME)

    novel = the_novel()
    assert (novel.stage, novel.mode) == (Novel.Stage.DONE, Mode.REALTIME)
    assert "图谱已写入数据库" in out
    assert emu.stats.chat_ok == novel.tasks.count() == emu.stats.chat_requests
    assert set(novel.tasks.values_list("status", "origin", "attempts")) == {
        (Status.SUCCEEDED, Origin.LLM, 1)
    }
    assert all(t.prompt_tokens and t.completion_tokens for t in novel.tasks.all())
    assert set(novel.relations.values_list("origin", flat=True)) == {Origin.LLM}
    assert not emu.batches and not emu.files


@pytest.mark.django_db
def test_it_completes_a_novel_through_429_storms_and_server_errors(emu, upload, settings):
    settings.LLM_MAX_ATTEMPTS = 3
    emu.faults.chat_429_every = 4
    emu.faults.chat_429_codes = ["1302", "1305"]
    emu.faults.chat_500_every = 7

    upload(mode=Mode.REALTIME)

    assert emu.stats.code_counts["1302"] and emu.stats.code_counts["1305"]
    assert emu.stats.status_counts[500]
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    tasks = list(novel.tasks.all())
    # Throttling and server errors are retried with backoff; they do not use up the attempts a
    # task has for bad replies, so every task ends answered by the model.
    assert {(t.status, t.origin) for t in tasks} == {(Status.SUCCEEDED, Origin.LLM)}
    assert sum(t.attempts == 1 for t in tasks) > 0.9 * len(tasks)
    assert emu.stats.chat_ok == len(tasks)
    assert emu.stats.chat_requests > len(tasks)


@pytest.mark.django_db
def test_it_retries_a_request_that_timed_out(emu, upload, settings):
    settings.ZHIPUAI_TIMEOUT = 1.0
    emu.faults.chat_hang = 30.0
    hangs, lock, real_wait = itertools.count(), threading.Lock(), emu.wait

    def wait(seconds: float) -> None:  # only the first two requests hang
        if seconds == emu.faults.chat_hang:
            with lock:
                if next(hangs) >= 2:
                    return
        real_wait(seconds)

    emu.wait = wait

    upload(mode=Mode.REALTIME)

    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    # The two timed-out requests were sent again; a task's attempts count answers, not tries.
    assert emu.stats.chat_requests == novel.tasks.count() + 2
    assert set(novel.tasks.values_list("status", "origin", "attempts")) == {
        (Status.SUCCEEDED, Origin.LLM, 1)
    }


@pytest.mark.django_db
def test_it_retries_malformed_replies_then_defaults_them_and_defaults_sensitive_ones_at_once(
    emu, upload, settings
):
    settings.LLM_MAX_ATTEMPTS = 3
    novel = prepare(upload)
    relations = list(novel.tasks.filter(kind="relation").order_by("id"))
    garbled, blocked = relations[:3], relations[3:5]
    emu.faults.malformed_replies = asking(asks(garbled))
    emu.faults.chat_sensitive_replies = asking(asks(blocked))

    upload(mode=Mode.REALTIME)

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    counts = Counter(novel.tasks.values_list("status", flat=True))
    assert counts == {Status.SUCCEEDED: novel.tasks.count() - 5, Status.DEFAULTED: 5}
    for task in novel.tasks.filter(pk__in=[t.pk for t in garbled]).select_related("relation"):
        assert (task.status, task.attempts, task.origin) == (Status.DEFAULTED, 3, Origin.DEFAULT)
        assert task.last_error.startswith("回复无法解析") and task.response == GARBAGE_REPLY
        assert task.result == replies.default_result("relation")
        assert (task.relation.type, task.relation.origin) == (taxonomy.DEFAULT_TYPE, Origin.DEFAULT)
    for task in novel.tasks.filter(pk__in=[t.pk for t in blocked]).select_related("relation"):
        assert (task.status, task.attempts, task.origin) == (Status.DEFAULTED, 1, Origin.DEFAULT)
        assert "sensitive" in task.last_error
        assert task.relation.origin == Origin.DEFAULT
    others = novel.tasks.exclude(pk__in=[t.pk for t in garbled + blocked])
    assert set(others.values_list("attempts", "origin")) == {(1, Origin.LLM)}
    # every chat request: one per task, two more for each garbled task
    assert emu.stats.chat_requests == novel.tasks.count() + 2 * len(garbled)


@pytest.mark.django_db
def test_it_stops_when_the_balance_runs_out_and_continues_after_a_top_up(emu, upload):
    answered, real_model = itertools.count(1), emu.model

    def model_then_run_dry(body: dict) -> str:
        if next(answered) >= 20:  # the account runs dry after this answer
            emu.faults.chat_balance_exhausted = True
        return real_model(body)

    emu.model = model_then_run_dry

    with pytest.raises(CommandError, match="余额") as stopped:
        upload(mode=Mode.REALTIME)

    assert "1113" in str(stopped.value)
    assert emu.stats.code_counts["1113"] >= 1
    novel = the_novel()
    assert novel.stage == Novel.Stage.TASKS  # not dispatched, not applied
    done = novel.tasks.filter(status=Status.SUCCEEDED)
    waiting = novel.tasks.filter(status=Status.PENDING)
    assert done.count() >= 20 and waiting.exists()
    assert done.count() + waiting.count() == novel.tasks.count()
    assert set(done.values_list("origin", "attempts")) == {(Origin.LLM, 1)}
    assert set(waiting.values_list("attempts", "last_error")) == {(0, "")}
    assert set(novel.relations.values_list("origin", flat=True)) == {Origin.DEFAULT}
    pending = set(waiting.values_list("pk", flat=True))

    emu.faults.chat_balance_exhausted = False
    emu.model = real_model
    before = emu.stats.chat_requests
    upload(mode=Mode.REALTIME)

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert emu.stats.chat_requests - before == len(pending)  # answers kept are not asked again
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.SUCCEEDED, 1)}
    assert set(novel.relations.values_list("origin", flat=True)) == {Origin.LLM}
    assert RelationPhase.objects.filter(relation__novel=novel).exists()
