"""novel_status on novels that have no model tasks yet, or need none."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from graph.models import Novel

pytestmark = pytest.mark.django_db


def status(key: str) -> str:
    out = io.StringIO()
    call_command("novel_status", key, stdout=out)
    return out.getvalue()


def test_a_novel_before_the_task_stage_says_it_has_no_tasks_yet_and_where_it_stands() -> None:
    Novel.objects.create(title="三国演义", sha256="a" * 64, stage=Novel.Stage.PARSED)
    text = status("三国演义")
    assert "任务：还没有任务（阶段：已分章" in text and "upload_novel" in text
    assert "0/0" not in text and "0.0%" not in text


def test_a_finished_novel_without_tasks_says_none_were_needed() -> None:
    Novel.objects.create(title="散文集", sha256="b" * 64, stage=Novel.Stage.DONE, last_error="x")
    text = status("散文集")
    assert "任务：没有任务（阶段：已完成；没有找到需要模型判断的人物或人物对）" in text
    assert "最近错误：x" in text
