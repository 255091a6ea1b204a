"""What upload_novel says about titles, re-uploads, dry runs, texts without headings, empty casts."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from graph.models import LLMTask, Novel
from graph.text import PART_CHARS
from tests.conftest import SAMPLE

pytestmark = pytest.mark.django_db

PROSE = "今天天气很好，我们一起去公园散步，看见湖水和树木。"


def upload(path, *args: str) -> str:
    out = io.StringIO()
    call_command("upload_novel", str(path), "--mode", "offline", *args, stdout=out)
    return out.getvalue()


def sample_copy(tmp_path, name: str, top: str = "") -> object:
    path = tmp_path / name
    path.write_text(top + SAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_the_title_stated_in_the_file_names_the_novel(tmp_path) -> None:
    output = upload(sample_copy(tmp_path, "qfl.txt", "《青锋录》\n作者：某\n\n"))
    assert Novel.objects.get().title == "青锋录"
    assert "书名取自文件名" not in output


def test_a_title_taken_from_the_file_name_is_announced(tmp_path) -> None:
    output = upload(sample_copy(tmp_path, "qfl.txt"))
    assert Novel.objects.get().title == "qfl"
    assert "书名取自文件名：《qfl》" in output and "--title" in output


def test_a_given_title_is_not_announced_as_the_file_name(tmp_path) -> None:
    output = upload(sample_copy(tmp_path, "qfl.txt"), "--title", "qfl")
    assert "书名取自文件名" not in output


def test_a_reupload_with_a_title_renames_the_novel_and_says_so(tmp_path) -> None:
    path = sample_copy(tmp_path, "qfl.txt")
    upload(path, "--quiet")
    output = upload(path, "--title", "青锋录")
    assert "书名已改为《青锋录》（原为《qfl》）" in output
    assert Novel.objects.get().title == "青锋录"
    exported = io.StringIO()
    call_command("export_graph", "青锋录", stdout=exported, stderr=io.StringIO())
    assert '"name": "沈青锋"' in exported.getvalue()


def test_a_rename_to_a_title_already_taken_names_the_id_to_use(tmp_path) -> None:
    upload(sample_copy(tmp_path, "a.txt", "《青锋录》\n"), "--quiet")
    path = sample_copy(tmp_path, "b.txt")
    upload(path, "--quiet", "--new")  # the same chapters: without --new, the same novel
    output = upload(path, "--title", "青锋录")
    renamed = Novel.objects.get(source_name="b.txt")
    assert f"另有同名小说，命令中请用 id={renamed.pk}" in output


def test_a_reupload_says_that_a_forced_encoding_is_ignored(tmp_path) -> None:
    path = sample_copy(tmp_path, "qfl.txt")
    upload(path, "--quiet")
    output = upload(path, "--encoding", "gb18030")
    assert "--encoding gb18030 被忽略" in output and "utf-8" in output
    assert Novel.objects.get().encoding == "utf-8"


def test_a_dry_run_ends_saying_what_is_stored_and_what_the_next_upload_does(tmp_path) -> None:
    path = sample_copy(tmp_path, "qfl.txt")
    last = upload(path, "--dry-run").strip().splitlines()[-1]
    novel = Novel.objects.get()
    waiting = novel.tasks.filter(status=LLMTask.Status.PENDING).count()
    assert novel.stage == Novel.Stage.TASKS and waiting > 0
    assert f"已保存 {waiting} 个待提交的任务（阶段：已生成任务）" in last
    assert "下次运行 upload_novel" in last and "会直接提交它们" in last
    upload(path, "--quiet")
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE


def test_a_dry_run_with_nothing_left_to_send_says_so(tmp_path) -> None:
    path = sample_copy(tmp_path, "qfl.txt")
    upload(path, "--quiet")
    last = upload(path, "--dry-run").strip().splitlines()[-1]
    assert "没有待提交的任务（阶段：已完成）" in last


def test_a_text_without_headings_says_how_it_was_cut(tmp_path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text((PROSE + "\n") * (PART_CHARS * 2 // len(PROSE)), encoding="utf-8")
    output = upload(path)
    parts = Novel.objects.get().chapters.count()
    assert parts >= 2
    assert f"没有找到章节标题（如“第一章”“第一回”“卷一”）：正文按段落切成 {parts} 个部分" in output


def test_a_text_with_headings_says_nothing_about_cutting(tmp_path) -> None:
    assert "没有找到章节标题" not in upload(sample_copy(tmp_path, "qfl.txt"))


def test_a_novel_without_characters_says_so_instead_of_a_zero(tmp_path) -> None:
    path = tmp_path / "plain.txt"
    path.write_text((PROSE + "\n") * 20, encoding="utf-8")
    summary = upload(path).strip().splitlines()[-1]
    assert "未识别出人物" in summary
    assert "人物 0" not in summary


def test_the_help_states_the_defaults_of_mode_and_interval() -> None:
    from django.conf import settings

    from graph.management.commands.upload_novel import Command

    text = " ".join(Command().create_parser("manage.py", "upload_novel").format_help().split())
    assert "USE_BATCH_API_FOR_GRAPH" in text and "没有 Key 时用 offline" in text
    assert f"默认 POLL_INTERVAL（现为 {settings.POLL_INTERVAL}）" in text
