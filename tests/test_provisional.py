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
