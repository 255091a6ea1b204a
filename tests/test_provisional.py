"""Batch mode shows a graph at once: the offline rules' graph, marked provisional, replaced in
place when the model's answers land."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import call_command

from graph import export
from graph.models import Novel, Origin, Relation


@pytest.mark.django_db
def test_a_batch_upload_writes_a_provisional_graph_replaced_in_place_by_the_answers(
    emu, upload, poll
):
    out = upload()

    novel = Novel.objects.get()
    assert novel.provisional and "临时图谱" in out
    edges = {r.pk: r.pair_key for r in Relation.objects.filter(novel=novel)}
    assert edges and set(Relation.objects.values_list("origin", flat=True)) <= {
        Origin.OFFLINE,
        Origin.DEFAULT,
    }
    assert Relation.objects.filter(origin=Origin.OFFLINE).exists()
    assert export.build_graph(novel).graph["provisional"] is True
    listed = io.StringIO()
    call_command(
        "export_graph", str(novel.pk), "--format", "json", stdout=listed, stderr=io.StringIO()
    )
    assert json.loads(listed.getvalue())["graph"]["provisional"] is True
    manual = Relation.objects.filter(novel=novel).first()
    manual.type, manual.origin = "lovers", Origin.MANUAL  # a person edits while waiting
    manual.save()

    poll()

    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE and not novel.provisional
    after = {r.pk: r.pair_key for r in Relation.objects.filter(novel=novel)}
    assert after == edges  # the same edges, updated in place: no duplicates, none lost
    assert Relation.objects.filter(origin=Origin.LLM).exists()
    manual.refresh_from_db()
    assert (manual.type, manual.origin) == ("lovers", Origin.MANUAL)
    rows = list(csv.DictReader(io.StringIO(export.render(export.metric_graph(novel), "csv"))))
    assert rows and {row["provisional"] for row in rows} == {"False"}


@pytest.mark.django_db
def test_the_graph_page_says_the_graph_is_provisional(emu, upload, admin_client):
    upload()
    novel = Novel.objects.get()
    page = admin_client.get(f"/admin/graph/novels/{novel.pk}/")
    assert "临时图谱" in page.content.decode()
    data = admin_client.get(f"/admin/graph/novels/{novel.pk}/data.json").json()
    assert data["novel"]["provisional"] is True


def overdue_jobs(hours: int = 25) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from graph.models import BatchJob

    BatchJob.objects.update(submitted_at=timezone.now() - timedelta(hours=hours))


@pytest.mark.django_db
def test_a_batch_past_its_deadline_is_cancelled_and_answered_realtime(emu, upload, poll):
    from graph.models import BatchJob, LLMTask

    emu.faults.batch_steps = 1000  # the service never finishes it
    upload()
    overdue_jobs()

    lines = poll()

    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE and not novel.provisional
    job = BatchJob.objects.get()
    assert job.status == BatchJob.Status.FAILED and "已取消" in job.last_error
    assert emu.batches[job.remote_id].status in ("cancelling", "cancelled")
    assert any("⏰" in line for line in lines)
    assert emu.stats.chat_requests == novel.tasks.count()  # each question asked realtime once
    assert set(LLMTask.objects.values_list("origin", "batch_job")) == {(Origin.LLM, None)}
    out = io.StringIO()
    call_command("novel_status", str(novel.pk), stdout=out)
    assert f"实时 API {novel.tasks.count()}" in out.getvalue()


@pytest.mark.django_db
def test_past_the_deadline_without_quota_the_offline_rules_answer(emu, upload, poll):
    from graph.models import LLMTask

    emu.faults.batch_steps = 1000
    upload()
    overdue_jobs()
    emu.faults.chat_balance_exhausted = True  # realtime is refused: no balance

    lines = poll()

    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    assert set(LLMTask.objects.values_list("origin", flat=True)) == {Origin.OFFLINE}
    assert any("离线规则" in line for line in lines)
    out = io.StringIO()
    call_command("novel_status", str(novel.pk), stdout=out)
    assert f"离线规则 {novel.tasks.count()}" in out.getvalue()
