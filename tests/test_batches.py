"""Batch mode end to end: upload_novel → JSONL files → emulated Zhipu batches → poll → graph.

The real SDK talks to the local emulator (tests/emulator.py), whose "model" answers with the
offline rules; faults break batches the ways the real service does.
"""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core import serializers
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from graph import batches, dispatch, prompts, replies, results, taxonomy
from graph.llm.zhipu import ZhipuClient, client_from_settings
from graph.models import (
    BatchJob,
    CharacterAttribute,
    LLMTask,
    Mode,
    Novel,
    Origin,
    Relation,
    RelationPhase,
)
from tests.conftest import fail_first_lines_once, fail_once, progress_to
from tests.emulator import GARBAGE_REPLY

Status = LLMTask.Status


# --- helpers ---------------------------------------------------------------------------------


def the_novel() -> Novel:
    return Novel.objects.get()


def ids_of(tasks) -> set[str]:
    return set(tasks.values_list("custom_id", flat=True))


def sent_ids(emu) -> Counter:
    """How many times each custom_id was sent to the emulator, over every batch."""
    return Counter(json.loads(line)["custom_id"] for b in emu.batches.values() for line in b.lines)


def snapshot(novel: Novel) -> tuple[dict, list]:
    """The graph as names: pair → (direction, type, confidence, evidence, phases); attributes."""
    relations = {}
    for r in novel.relations.select_related("source", "target").prefetch_related("phases"):
        phases = tuple((p.from_chapter, p.to_chapter, p.type, p.event) for p in r.phases.all())
        pair = frozenset((r.source.name, r.target.name))
        # Only a directed type has a direction; an undirected edge's order is arbitrary.
        direction = (r.source.name, r.target.name) if r.type in taxonomy.DIRECTED else pair
        relations[pair] = (
            direction,
            r.type,
            r.confidence,
            r.evidence,
            phases,
        )
    attributes = sorted(
        CharacterAttribute.objects.filter(character__novel=novel).values_list(
            "character__name", "key", "value"
        )
    )
    return relations, attributes


def origins(novel: Novel) -> set[str]:
    return (
        set(novel.relations.values_list("origin", flat=True))
        | set(RelationPhase.objects.filter(relation__novel=novel).values_list("origin", flat=True))
        | set(
            CharacterAttribute.objects.filter(character__novel=novel).values_list(
                "origin", flat=True
            )
        )
    )


def assert_applied_once(novel: Novel) -> None:
    """Every settled result is in the graph exactly once: no duplicated phase or attribute."""
    tasks = novel.tasks.all()
    assert all(t.settled for t in tasks)
    phases = RelationPhase.objects.filter(relation__novel=novel)
    # An evolution question's phases, or the ones a relation question asked with it (none when
    # its answer was the default).
    expected_phases = sum(len(t.result.get("phases", [])) for t in tasks if t.kind != "attribute")
    assert any(t.question.get("timeline") for t in tasks)
    assert phases.count() == expected_phases
    keys = list(phases.values_list("relation_id", "from_chapter", "to_chapter"))
    assert len(keys) == len(set(keys))
    expected_attributes = sum(
        sum(1 for key in prompts.ATTRIBUTE_KEYS if t.result.get(key))
        + bool(t.result.get("aliases"))
        for t in tasks
        if t.kind == "attribute"
    )
    attributes = CharacterAttribute.objects.filter(character__novel=novel)
    assert attributes.count() == expected_attributes


def poll_round(client, lines: list[str] | None = None) -> int:
    return dispatch.poll(client, progress_to((lines if lines is not None else []).append))


# --- the happy path --------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_submits_a_novel_as_one_batch_and_polls_it_into_a_graph(emu, upload, poll, settings):
    out = upload()

    novel = the_novel()
    assert (novel.stage, novel.mode) == (Novel.Stage.DISPATCHED, Mode.BATCH)
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.SUBMITTED
    assert job.remote_id in emu.batches and job.remote_id in out
    path = Path(job.input_path)
    assert path.is_file() and path.is_relative_to(settings.BATCH_DIR)
    raw = path.read_text(encoding="utf-8").splitlines()
    assert emu.batches[job.remote_id].lines == raw  # the server got the bytes kept locally
    lines = [json.loads(line) for line in raw]
    custom_ids = [line["custom_id"] for line in lines]
    assert len(lines) == job.line_count == novel.tasks.count() > 0
    assert len(set(custom_ids)) == len(custom_ids)
    assert set(custom_ids) == ids_of(novel.tasks)
    assert all(cid.isascii() and 6 <= len(cid) <= 64 for cid in custom_ids)
    assert {(line["method"], line["url"]) for line in lines} == {("POST", "/v4/chat/completions")}
    assert {line["body"]["model"] for line in lines} == {settings.LLM_MODEL}
    assert all(line["body"]["messages"] for line in lines)
    assert set(novel.tasks.values_list("status", flat=True)) == {Status.SUBMITTED}

    report = poll()

    assert not emu.files  # the input auto-deleted, the result files deleted once stored here
    assert any(line.startswith("📊 Batch API进度: ") for line in report)
    assert any("已收取" in line for line in report)
    job.refresh_from_db()
    assert (job.status, job.remote_status) == (BatchJob.Status.DONE, "completed")
    assert job.total == job.completed == job.line_count and job.failed == 0
    assert job.output_content and job.completed_at and not job.last_error
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE and novel.applied_at
    for task in novel.tasks.all():
        assert (task.status, task.origin, task.attempts) == (Status.SUCCEEDED, Origin.LLM, 1)
        assert task.prompt_tokens > 0 and task.completion_tokens > 0 and task.result
    assert origins(novel) == {Origin.LLM}
    assert set(novel.relations.values_list("type", flat=True)) - {taxonomy.DEFAULT_TYPE}
    assert RelationPhase.objects.filter(relation__novel=novel).exists()
    assert CharacterAttribute.objects.filter(character__novel=novel).exists()
    assert_applied_once(novel)
    assert poll() == []  # nothing left to do


def graphs_in_every_mode(upload, poll, check=lambda novel: None) -> dict:
    """The sample built offline, in batches and in realtime: each mode's graph (snapshot), after
    checking that every task was answered in that mode (and `check(novel)`)."""
    graphs = {}
    for mode in (Mode.OFFLINE, Mode.BATCH, Mode.REALTIME):
        upload(mode=mode)
        if mode == Mode.BATCH:
            poll()
        novel = the_novel()
        assert novel.stage == Novel.Stage.DONE, mode
        assert set(novel.tasks.values_list("status", flat=True)) == {Status.SUCCEEDED}
        assert origins(novel) == {Origin.OFFLINE if mode == Mode.OFFLINE else Origin.LLM}
        check(novel)
        graphs[mode] = snapshot(novel)
        novel.delete()
    return graphs


@pytest.mark.django_db(transaction=True)
def test_it_builds_the_same_graph_offline_in_batches_and_in_realtime(
    emu, upload, poll, quick_backoff
):
    graphs = graphs_in_every_mode(upload, poll)
    relations, attributes = graphs[Mode.OFFLINE]
    assert len(relations) > 10 and attributes
    assert any(phases for *_, phases in relations.values())
    assert any(kind in taxonomy.DIRECTED for _, kind, *_ in relations.values())
    assert graphs[Mode.BATCH] == graphs[Mode.OFFLINE]
    assert graphs[Mode.REALTIME] == graphs[Mode.OFFLINE]


# --- lines and batches that fail -------------------------------------------------------------


@pytest.mark.django_db
def test_it_resubmits_error_file_lines_until_they_succeed(emu, upload, poll):
    upload()
    novel = the_novel()
    targets = set(list(ids_of(novel.tasks.filter(kind="relation")))[:5])
    fail_once(emu, targets)

    report = poll()

    first, second = BatchJob.objects.order_by("pk")
    assert (first.status, first.failed) == (BatchJob.Status.DONE, 5)
    assert first.completed == first.line_count - 5
    assert all(cid in first.error_content for cid in targets)
    assert second.status == BatchJob.Status.DONE and second.line_count == 5
    assert {line for line, n in sent_ids(emu).items() if n == 2} == targets
    assert any("🔁 重新提交 5 个任务" in line for line in report)
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    for task in novel.tasks.all():
        assert task.status == Status.SUCCEEDED and task.origin == Origin.LLM
        assert task.attempts == (2 if task.custom_id in targets else 1)
        assert task.batch_job_id == (second.pk if task.custom_id in targets else first.pk)
    assert origins(novel) == {Origin.LLM}
    assert_applied_once(novel)


@pytest.mark.django_db
def test_it_defaults_lines_that_keep_failing_and_still_completes_the_novel(
    emu, upload, poll, settings
):
    settings.LLM_MAX_ATTEMPTS = 3
    upload()
    novel = the_novel()
    targets = set(list(ids_of(novel.tasks.filter(kind="relation")))[:4])
    emu.faults.batch_error_lines = targets

    poll()

    assert BatchJob.objects.count() == 3  # the first batch and two resubmissions
    assert all(n == 3 for cid, n in sent_ids(emu).items() if cid in targets)
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    for task in novel.tasks.filter(custom_id__in=targets).select_related("relation"):
        assert (task.status, task.attempts, task.origin) == (Status.DEFAULTED, 3, Origin.DEFAULT)
        assert "1301" in task.last_error
        assert task.result == replies.default_result("relation")
        assert task.relation.type == taxonomy.DEFAULT_TYPE
        assert task.relation.origin == Origin.DEFAULT
    others = novel.tasks.exclude(custom_id__in=targets)
    assert set(others.values_list("status", "attempts")) == {(Status.SUCCEEDED, 1)}
    assert_applied_once(novel)


@pytest.mark.django_db
def test_it_keeps_the_answered_half_of_an_expired_batch_and_resubmits_the_rest(emu, upload, api):
    emu.faults.batch_expire_half = True
    upload()
    novel = the_novel()
    first = BatchJob.objects.get()
    order = [json.loads(line)["custom_id"] for line in emu.batches[first.remote_id].lines]
    answered, unanswered = set(order[: len(order) // 2]), set(order[len(order) // 2 :])

    while BatchJob.objects.filter(pk=first.pk, status__in=BatchJob.OPEN).exists():
        poll_round(api)
    emu.faults.batch_expire_half = False

    first.refresh_from_db()
    assert (first.remote_status, first.completed) == ("expired", len(answered))
    assert "expired" in first.last_error
    stored = novel.tasks.filter(custom_id__in=answered)
    assert set(stored.values_list("status", "origin", "attempts")) == {
        (Status.SUCCEEDED, Origin.LLM, 1)
    }
    second = BatchJob.objects.exclude(pk=first.pk).get()
    assert ids_of(second.tasks) == unanswered
    assert all("expired" in t.last_error for t in second.tasks.all())

    while poll_round(api):
        pass

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", flat=True)) == {Status.SUCCEEDED}
    assert set(novel.tasks.filter(custom_id__in=unanswered).values_list("attempts", flat=True)) == {
        2
    }
    assert_applied_once(novel)


@pytest.mark.django_db
def test_it_resubmits_the_tasks_of_a_batch_that_failed_validation(emu, upload, api):
    emu.faults.batch_fail_validation = True
    upload()
    first = BatchJob.objects.get()
    lines: list[str] = []

    def report(line: str) -> None:
        lines.append(line)
        if line.startswith("✅"):  # the fault clears once the failed batch is collected
            emu.faults.batch_fail_validation = False

    while dispatch.poll(api, progress_to(report)):
        pass

    first.refresh_from_db()
    assert (first.status, first.remote_status) == (BatchJob.Status.DONE, "failed")
    assert "1214" in first.last_error and "无效的请求" in first.last_error
    second = BatchJob.objects.exclude(pk=first.pk).get()
    assert second.line_count == first.line_count and second.remote_status == "completed"
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", "attempts", "batch_job")) == {
        (Status.SUCCEEDED, 2, second.pk)
    }
    assert_applied_once(novel)


@pytest.mark.django_db
def test_it_defaults_everything_when_every_batch_fails_and_still_completes(emu, upload, poll):
    emu.faults.batch_fail_validation = True
    upload()

    poll()

    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    assert BatchJob.objects.count() == 2  # LLM_MAX_ATTEMPTS is 2 in these tests
    assert set(BatchJob.objects.values_list("remote_status", flat=True)) == {"failed"}
    assert set(novel.tasks.values_list("status", "origin", "attempts")) == {
        (Status.DEFAULTED, Origin.DEFAULT, 2)
    }
    assert set(novel.relations.values_list("type", "origin")) == {
        (taxonomy.DEFAULT_TYPE, Origin.DEFAULT)
    }
    assert not RelationPhase.objects.exists()


@pytest.mark.django_db
def test_it_collects_a_cancelled_batch_and_resubmits_its_tasks(emu, upload, api):
    upload()
    job = BatchJob.objects.get()
    poll_round(api)  # validating → in_progress
    assert emu.batches[job.remote_id].status == "in_progress"

    batches.cancel_job(job, api)

    job.refresh_from_db()
    assert job.remote_status == "cancelling" and job.status == BatchJob.Status.SUBMITTED
    while poll_round(api):
        pass
    job.refresh_from_db()
    assert (job.status, job.remote_status) == (BatchJob.Status.DONE, "cancelled")
    assert "cancelled" in job.last_error
    second = BatchJob.objects.exclude(pk=job.pk).get()
    assert second.line_count == job.line_count and second.remote_status == "completed"
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.SUCCEEDED, 2)}
    assert_applied_once(novel)


@pytest.mark.django_db
def test_it_refuses_to_cancel_a_job_that_has_no_remote_batch(emu, api):
    novel = Novel.objects.create(title="无", sha256="0" * 64)
    job = BatchJob.objects.create(novel=novel)
    with pytest.raises(ValueError, match="远程 ID"):
        batches.cancel_job(job, api)
    assert not emu.requests


@pytest.mark.django_db
def test_it_retries_malformed_and_sensitive_replies_then_defaults_them(emu, upload, poll, settings):
    settings.LLM_MAX_ATTEMPTS = 3
    upload()
    novel = the_novel()
    relation_ids = sorted(ids_of(novel.tasks.filter(kind="relation")))
    garbled, sensitive = set(relation_ids[:3]), set(relation_ids[3:6])
    emu.faults.malformed_replies = garbled
    emu.faults.batch_sensitive_lines = sensitive

    poll()

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    counts = Counter(novel.tasks.values_list("status", flat=True))
    assert counts == {Status.SUCCEEDED: novel.tasks.count() - 6, Status.DEFAULTED: 6}
    for task in novel.tasks.filter(custom_id__in=garbled | sensitive).select_related("relation"):
        assert (task.attempts, task.origin) == (3, Origin.DEFAULT)
        assert task.relation.origin == Origin.DEFAULT
        if task.custom_id in garbled:
            assert task.last_error.startswith("回复无法解析")
            assert task.response == GARBAGE_REPLY
            assert task.prompt_tokens > 0  # usage of every attempt is counted
        else:
            assert "sensitive" in task.last_error
    assert_applied_once(novel)


# --- crashes and concurrency -----------------------------------------------------------------


@pytest.mark.django_db
def test_it_applies_results_exactly_once_after_a_poller_dies_between_download_and_apply(
    emu, upload, api, monkeypatch
):
    upload()
    job = BatchJob.objects.get()
    real_save = LLMTask.save_answers
    crashes = []

    def save_then_die(tasks):
        real_save(tasks)
        if not crashes:  # the tasks were written inside collect's transaction: it must roll back
            crashes.append(1)
            raise RuntimeError("poller killed")

    monkeypatch.setattr(LLMTask, "save_answers", staticmethod(save_then_die))
    with pytest.raises(RuntimeError, match="poller killed"):
        while poll_round(api):
            pass

    job.refresh_from_db()
    assert job.status == BatchJob.Status.COLLECTING and job.output_content
    assert job.claimed_until > timezone.now()  # the dead poller's claim still holds
    assert set(LLMTask.objects.values_list("status", "attempts")) == {(Status.SUBMITTED, 0)}
    assert poll_round(api) == 0  # nobody takes a claimed job

    BatchJob.objects.filter(pk=job.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    downloads = len(emu.requests)
    lines: list[str] = []
    while poll_round(api, lines):
        pass

    assert [r.path for r in emu.requests[downloads:] if r.path.endswith("/content")] == []
    assert sum("已收取" in line for line in lines) == 1
    job.refresh_from_db()
    assert job.status == BatchJob.Status.DONE
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.SUCCEEDED, 1)}
    usage = {
        json.loads(line)["custom_id"]: json.loads(line)["response"]["body"]["usage"]
        for line in job.output_content.splitlines()
    }
    for task in novel.tasks.all():
        assert task.prompt_tokens == usage[task.custom_id]["prompt_tokens"]
        assert task.completion_tokens == usage[task.custom_id]["completion_tokens"]
    assert_applied_once(novel)


@pytest.mark.django_db
def test_it_writes_the_graph_on_the_next_round_after_a_crash_while_applying(
    emu, upload, api, monkeypatch
):
    upload()
    real_apply = results._apply

    def apply_then_die(novel):
        monkeypatch.setattr(results, "_apply", real_apply)
        real_apply(novel)  # rows written inside the apply transaction: they must roll back
        raise RuntimeError("poller killed")

    monkeypatch.setattr(results, "_apply", apply_then_die)
    with pytest.raises(RuntimeError, match="poller killed"):
        while poll_round(api):
            pass

    novel = the_novel()
    assert novel.stage == Novel.Stage.DISPATCHED and novel.applied_at is None
    assert set(novel.tasks.values_list("status", flat=True)) == {Status.SUCCEEDED}
    # Rolled back to the provisional graph the submission wrote: the offline rules' answers.
    assert novel.provisional
    assert Origin.LLM not in set(novel.relations.values_list("origin", flat=True))
    assert not CharacterAttribute.objects.filter(origin=Origin.LLM).exists()

    lines: list[str] = []
    poll_round(api, lines)  # the sweep finds the novel with nothing in flight and applies it

    assert any("图谱已写入" in line for line in lines)
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE and not novel.provisional
    assert set(novel.relations.values_list("origin", flat=True)) == {Origin.LLM}
    assert_applied_once(novel)


def _die_after(monkeypatch, target, name: str):
    """Make `target.name` run and then kill the process (once)."""
    real = getattr(target, name)

    def run_then_die(*args, **kwargs):
        monkeypatch.setattr(target, name, real)
        real(*args, **kwargs)
        raise KeyboardInterrupt("killed")

    monkeypatch.setattr(target, name, run_then_die)


OTHER_LINE = (
    b'{"custom_id":"other-request","method":"POST","url":"/v4/chat/completions",'
    b'"body":{"model":"m","messages":[{"role":"user","content":"?"}]}}'
)


def _age(job: BatchJob, seconds: int = 3600) -> None:
    BatchJob.objects.filter(pk=job.pk).update(created=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.django_db
def test_it_adopts_the_remote_batch_of_a_job_whose_submitter_died(emu, upload, poll, monkeypatch):
    # The server created the batch, but the process died before the remote id was saved.
    _die_after(monkeypatch, ZhipuClient, "create_batch")
    with pytest.raises(KeyboardInterrupt):
        upload()
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.SUBMITTING and job.remote_id is None
    assert job.input_file_id and len(emu.batches) == 1

    assert poll() == []  # within its claim window the submitter may still be at work
    assert BatchJob.objects.get().status == BatchJob.Status.SUBMITTING

    _age(job)
    poll()

    job.refresh_from_db()
    assert len(emu.batches) == 1 and job.remote_id == next(iter(emu.batches))
    assert job.status == BatchJob.Status.DONE
    assert BatchJob.objects.count() == 1
    novel = the_novel()
    assert set(novel.tasks.values_list("status", flat=True)) == {Status.SUCCEEDED}
    upload()  # the interrupted upload_novel is run again and finishes the novel
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE and len(emu.batches) == 1
    assert_applied_once(novel)


@pytest.mark.django_db
@pytest.mark.parametrize("newest_first", [False, True])
def test_it_adopts_the_remote_batch_of_a_dead_submitter_among_a_hundred_others(
    emu, upload, poll, api, monkeypatch, newest_first
):
    emu.faults.list_newest_first = newest_first  # the service promises no order
    emu.faults.list_page_max = 20
    for _ in range(50):  # other novels, other hosts: the account keeps submitting
        api.create_batch(api.upload_batch_file("other.jsonl", OTHER_LINE))
    _die_after(monkeypatch, ZhipuClient, "create_batch")
    with pytest.raises(KeyboardInterrupt):
        upload()
    job = BatchJob.objects.get()
    for _ in range(50):
        api.create_batch(api.upload_batch_file("other.jsonl", OTHER_LINE))
    _age(job)

    poll()

    job.refresh_from_db()
    assert len(emu.batches) == 101 and job.status == BatchJob.Status.DONE
    assert emu.batches[job.remote_id].metadata == {batches.METADATA_KEY: str(job.pk)}
    assert all(sent_ids(emu)[cid] == 1 for cid in ids_of(LLMTask.objects.all()))


@pytest.mark.django_db
def test_it_submits_a_job_whose_submitter_died_before_uploading(emu, upload, poll, monkeypatch):
    monkeypatch.setattr(
        batches, "_upload_and_create", lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt)
    )
    with pytest.raises(KeyboardInterrupt):
        upload()
    monkeypatch.undo()
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.SUBMITTING and not job.input_file_id
    assert not emu.batches and not emu.files

    _age(job)
    poll()

    job.refresh_from_db()
    assert len(emu.batches) == 1 and job.remote_id in emu.batches
    assert job.status == BatchJob.Status.DONE
    assert emu.batches[job.remote_id].metadata == {batches.METADATA_KEY: str(job.pk)}
    upload()
    assert the_novel().stage == Novel.Stage.DONE and len(emu.batches) == 1


@pytest.mark.django_db
def test_it_rebuilds_the_input_of_a_job_whose_submitter_died_before_writing_it(
    emu, upload, poll, monkeypatch
):
    monkeypatch.setattr(Path, "write_bytes", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        upload()
    monkeypatch.undo()
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.SUBMITTING and not job.input_path

    _age(job)
    poll()

    job.refresh_from_db()
    assert job.status == BatchJob.Status.DONE and len(emu.batches) == 1
    assert set(sent_ids(emu)) == ids_of(LLMTask.objects.all())
    kept = Path(job.input_path).read_text(encoding="utf-8").splitlines()
    assert kept == emu.batches[job.remote_id].lines  # the local copy is written again
    upload()
    assert the_novel().stage == Novel.Stage.DONE


@pytest.mark.django_db
def test_it_takes_over_a_job_whose_poller_died_once_the_claim_runs_out(emu, upload, api, settings):
    upload()
    job = BatchJob.objects.get()
    assert BatchJob.objects.claim_next(timezone.now()).pk == job.pk  # a poller claims it, then dies

    assert poll_round(api) == 0
    assert emu.batches[job.remote_id].polls == 0  # untouched while the claim holds

    BatchJob.objects.filter(pk=job.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    while poll_round(api):
        pass

    job.refresh_from_db()
    assert job.status == BatchJob.Status.DONE and job.claimed_until is None
    assert the_novel().stage == Novel.Stage.DONE


@pytest.mark.django_db
def test_it_never_sends_a_task_twice_when_two_submitters_race(emu, upload, api, monkeypatch):
    # Both read the same sendable tasks; the second one claims them while the first is chunking.
    upload("--dry-run")
    novel = the_novel()
    real_chunks = batches.chunks
    raced: list[list[BatchJob]] = []

    def chunks_after_a_rival(tasks, max_lines, max_bytes):
        if not raced:
            raced.append([])
            raced[0] = batches.submit(novel, api)
        return real_chunks(tasks, max_lines, max_bytes)

    monkeypatch.setattr(batches, "chunks", chunks_after_a_rival)

    late = batches.submit(novel, api)

    assert len(raced[0]) == 1 and late == []
    assert max(sent_ids(emu).values()) == 1
    assert len(emu.batches) == 1 and BatchJob.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_pollers_in_threads_process_each_job_once(emu, upload, settings):
    if connection.vendor == "sqlite":
        pytest.skip("the in-memory SQLite test database is not shared well by threads")
    settings.BATCH_MAX_LINES = 10
    upload()
    jobs = BatchJob.objects.count()
    assert jobs > 2
    # The first line of each batch fails once: both pollers resubmit at about the same time.
    first_lines = fail_first_lines_once(emu)
    reports: dict[str, list[str]] = {"a": [], "b": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def poller(name: str) -> None:
        client = client_from_settings()
        try:
            start.wait()
            for _ in range(30):
                if not dispatch.poll(client, progress_to(reports[name].append)):
                    break
        except BaseException as exc:  # reported on the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=poller, args=(n,)) for n in reports]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    assert not errors
    collected = [line for lines in reports.values() for line in lines if line.startswith("✅")]
    assert len(collected) == BatchJob.objects.count() > jobs
    assert len({line.split()[2] for line in collected}) == len(collected)  # each job once
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    expected = Counter({cid: 1 + (cid in first_lines) for cid in ids_of(novel.tasks)})
    assert sent_ids(emu) == expected  # a failed line is resubmitted once, by one poller
    for task in novel.tasks.all():
        assert task.status == Status.SUCCEEDED
        assert task.attempts == expected[task.custom_id]
    assert_applied_once(novel)
    print({name: sum(line.startswith("✅") for line in lines) for name, lines in reports.items()})


# --- sizes and limits ------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dry_run_prints_the_estimate_and_submits_nothing(emu, upload, settings):
    settings.BATCH_MAX_LINES = 30
    out = upload("--dry-run")

    novel = the_novel()
    assert novel.stage == Novel.Stage.TASKS
    assert not BatchJob.objects.exists() and not emu.requests
    assert set(novel.tasks.values_list("status", flat=True)) == {Status.PENDING}
    counts = Counter(novel.tasks.values_list("kind", flat=True))
    figures = dispatch.estimate(novel)
    assert set(figures) == set(counts) == {"relation", "attribute"}  # timelines ride along
    asked = list(novel.tasks.filter(kind="relation").values_list("question", flat=True))
    pairs = [m for q in asked for m in q.get("group") or [q]]  # a grouped question's members
    both = sum(1 for q in pairs if q.get("timeline"))
    assert both and f"其中 {both} 对同时问关系演变" in out
    assert f"关系问题 {len(asked)} 个，问 {len(pairs)} 对人物" in out
    for kind, label in LLMTask.Kind.choices:
        if kind not in counts:
            continue
        tokens = figures[kind]["input_tokens"]
        assert tokens > 0
        assert f"{label}：{counts[kind]} 个请求，约 {tokens} 输入 tokens" in out
    total = novel.tasks.count()
    tokens = sum(f["input_tokens"] for f in figures.values())
    assert f"合计：{total} 个请求，约 {tokens} 输入 tokens（未提交）" in out
    files = [line for line in out.splitlines() if line.startswith("批处理文件 ")]
    planned = batches.plan(novel)
    assert len(files) == len(planned) == -(-total // 30)
    for number, (line, batch) in enumerate(zip(files, planned, strict=True), 1):
        assert batch["requests"] <= 30 and batch["bytes"] > 0
        assert line == (
            f"批处理文件 {number}：{batch['requests']} 个请求，"
            f"{batch['bytes'] / 1024 / 1024:.1f} MB，约 {batch['input_tokens']} 输入 tokens"
        )

    upload()  # the real run afterwards submits what the dry run planned
    jobs = BatchJob.objects.order_by("pk")
    assert [job.line_count for job in jobs] == [batch["requests"] for batch in planned]
    assert [Path(job.input_path).stat().st_size for job in jobs] == [b["bytes"] for b in planned]


@pytest.mark.django_db
def test_it_splits_tasks_into_jobs_under_the_line_limit(emu, upload, poll, settings):
    settings.BATCH_MAX_LINES = 10
    upload()
    jobs = list(BatchJob.objects.all())
    total = LLMTask.objects.count()
    assert len(jobs) == -(-total // 10)
    assert all(0 < job.line_count <= 10 for job in jobs)
    assert sum(job.line_count for job in jobs) == total
    assert all(len(emu.batches[job.remote_id].lines) == job.line_count for job in jobs)
    assert sent_ids(emu) == Counter(ids_of(LLMTask.objects.all()))

    poll()

    assert the_novel().stage == Novel.Stage.DONE
    assert set(BatchJob.objects.values_list("status", flat=True)) == {BatchJob.Status.DONE}
    assert_applied_once(the_novel())


@pytest.mark.django_db
def test_it_splits_a_file_the_server_refuses_as_too_large(emu, upload, poll):
    upload("--dry-run")
    size = batches.plan(the_novel())[0]["bytes"]
    emu.faults.upload_max_bytes = size // 3

    upload()

    uploads = [r for r in emu.requests if r.method == "POST" and r.path == "/files"]
    stored = [f for f in emu.files.values()]
    assert all(len(f.data) <= size // 3 for f in stored)
    released = BatchJob.objects.filter(status=BatchJob.Status.FAILED)
    assert released.exists()
    assert all("文件过大" in job.last_error and job.remote_id is None for job in released)
    assert not LLMTask.objects.filter(batch_job__status=BatchJob.Status.FAILED).exists()
    sent = BatchJob.objects.filter(status=BatchJob.Status.SUBMITTED)
    assert len(uploads) == released.count() + sent.count()
    assert sent_ids(emu) == Counter(ids_of(LLMTask.objects.all()))

    poll()

    assert the_novel().stage == Novel.Stage.DONE
    assert_applied_once(the_novel())


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_api_key_reaches_no_row_no_batch_file_and_no_output(
    emu, upload, poll, settings, capsys, caplog
):
    key = settings.ZHIPUAI_API_KEY
    secret = key.partition(".")[2]
    emu.faults.batch_error_lines = 7  # errors and retries print messages too
    printed = upload()
    printed += "\n".join(poll())
    out = io.StringIO()
    call_command("poll_batches", stdout=out, stderr=out)
    printed += out.getvalue()

    assert the_novel().stage == Novel.Stage.DONE
    assert any(r.authorization == f"Bearer {key}" for r in emu.requests)  # it was used
    rows = "".join(
        serializers.serialize("json", model.objects.all())
        for model in apps.get_app_config("graph").get_models()
    )
    files = [p for p in Path(settings.BATCH_DIR).rglob("*") if p.is_file()]
    assert files
    captured = capsys.readouterr()
    for text in (rows, printed, captured.out, captured.err, caplog.text):
        assert key not in text and secret not in text
    for path in files:
        data = path.read_bytes()
        assert key.encode() not in data and secret.encode() not in data
    assert Relation.objects.exists()


@pytest.mark.django_db
def test_polling_alone_finishes_a_novel_whose_upload_died_while_submitting(
    emu, upload, poll, settings, monkeypatch
):
    settings.BATCH_MAX_LINES = 10
    _die_after(monkeypatch, BatchJob, "adopt")  # the first batch is created, then the process dies
    with pytest.raises(KeyboardInterrupt):
        upload()
    novel = the_novel()
    assert novel.stage == Novel.Stage.TASKS
    assert BatchJob.objects.count() == 1 and novel.tasks.filter(status=Status.PENDING).exists()

    poll()

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert all(count == 1 for count in sent_ids(emu).values())
    assert set(sent_ids(emu)) == ids_of(novel.tasks)
    assert_applied_once(novel)


@pytest.mark.django_db
def test_a_batch_the_server_no_longer_knows_is_given_up_and_its_tasks_sent_again(emu, upload, poll):
    upload()
    first = BatchJob.objects.get()
    emu.batches.pop(first.remote_id)  # the server answers 404 for it from now on

    lines = poll()

    first.refresh_from_db()
    assert first.status == BatchJob.Status.FAILED and "not found" in first.last_error
    assert any("出错" in line for line in lines)
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.SUCCEEDED, 2)}
    assert_applied_once(novel)


@pytest.mark.django_db
def test_a_reply_holding_a_line_separator_character_is_read_whole(emu, upload, poll):
    real_model = emu.model
    emu.model = lambda body: real_model(body).replace(
        '"evidence": "', '"evidence": "\u2028甲\u2029', 1
    )
    upload()
    poll()

    job = BatchJob.objects.get()
    assert "\u2028" in job.output_content
    novel = the_novel()
    assert novel.stage == Novel.Stage.DONE
    assert set(novel.tasks.values_list("status", "attempts")) == {(Status.SUCCEEDED, 1)}
    relation = novel.tasks.filter(kind="relation").first().relation
    assert relation.evidence.startswith("\u2028甲\u2029")
