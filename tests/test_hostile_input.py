"""Hostile files: each gets one clear line and exit code 2, or a correct result; a refusal changes
nothing in the database."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from graph import ingest
from graph.models import Chapter, Character, LLMTask, Novel, Relation
from tests.conftest import SAMPLE

STORY = "第一章 开始\n沈青锋笑道：“我们出发吧。”苏映雪点头道：“好。”\n" * 20


def counts() -> tuple:
    return tuple(m.objects.count() for m in (Novel, Chapter, Character, Relation, LLMTask))


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


REFUSED = [
    ("empty", lambda p: write(p, "empty.txt", b""), "文件为空"),
    ("blank", lambda p: write(p, "blank.txt", "\u3000 \n\r\n\t".encode()), "文件为空"),
    ("binary with NUL bytes", lambda p: write(p, "a.bin", b"\x7fELF\x00\x01" * 5000), "二进制"),
    (
        "random high bytes",
        lambda p: write(p, "r.txt", bytes((i * 7919) % 251 + 5 for i in range(60000))),
        "编码",
    ),
    ("mixed encodings", lambda p: write(p, "m.txt", STORY.encode() + STORY.encode("gbk")), "编码"),
    ("missing path", lambda p: p / "nope" / "missing.txt", "文件不存在"),
    ("a directory", lambda p: p, "目录"),
]


@pytest.mark.parametrize(("make", "message"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
@pytest.mark.django_db
def test_a_hostile_file_is_refused_in_one_line_and_changes_nothing(tmp_path, make, message):
    call_command("upload_novel", str(SAMPLE), "--quiet", stdout=io.StringIO())
    before = counts()
    with pytest.raises(CommandError) as caught:
        call_command("upload_novel", str(make(tmp_path)), stdout=io.StringIO())
    error = str(caught.value)
    assert caught.value.returncode == 2
    assert message in error and "\n" not in error and "Traceback" not in error
    assert counts() == before


@pytest.mark.django_db
def test_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path, "locked.txt", STORY.encode())

    def deny(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(CommandError) as caught:
        call_command("upload_novel", str(path), stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert "无法读取文件" in str(caught.value)
    assert counts() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_an_unknown_forced_encoding_is_refused(tmp_path):
    path = write(tmp_path, "a.txt", STORY.encode())
    with pytest.raises(CommandError) as caught:
        call_command("upload_novel", str(path), "--encoding", "no-such-codec", stdout=io.StringIO())
    assert caught.value.returncode == 2
    assert counts() == (0, 0, 0, 0, 0)


@pytest.mark.django_db
def test_a_truncated_gb18030_file_still_reads(tmp_path):
    path = write(tmp_path, "cut.txt", STORY.encode("gb18030")[:-1])
    call_command("upload_novel", str(path), "--quiet", stdout=io.StringIO())
    novel = Novel.objects.get()
    assert novel.encoding == "gb18030"
    assert novel.stage == Novel.Stage.DONE


@pytest.mark.django_db
def test_a_50_mb_single_line_is_cut_into_parts_at_sentence_ends():
    data = ("他说。" * 6_000_000).encode()
    assert len(data) > 50_000_000
    novel, created = ingest.ingest(data, source_name="one-line.txt")
    assert created
    parts = list(novel.chapters.values_list("text", flat=True))
    assert len(parts) > 100
    assert all(len(text) <= 20_000 + 100 for text in parts)
    assert all(text.endswith("。") for text in parts)
    assert sum(len(text.replace("\n", "")) for text in parts) == 18_000_000


@pytest.mark.django_db
def test_a_hundred_thousand_tiny_chapters_become_rows(tmp_path):
    text = "".join(f"第{i}章\n沈青锋道：走。\n" for i in range(1, 100_001))
    path = write(tmp_path, "tiny.txt", text.encode())
    call_command("upload_novel", str(path), "--quiet", stdout=io.StringIO())
    novel = Novel.objects.get()
    assert novel.chapters.count() == 100_000
    assert novel.stage == Novel.Stage.DONE


@pytest.mark.django_db
def test_a_title_longer_than_its_field_is_cut_not_refused():
    call_command(
        "upload_novel", str(SAMPLE), "--quiet", "--title", "长" * 500, stdout=io.StringIO()
    )
    assert Novel.objects.get().title == "长" * 200


@pytest.mark.django_db
def test_a_title_with_html_is_shown_as_text_in_the_admin_and_on_the_graph_page(admin_client):
    title = '<script>alert("t")</script>'
    call_command("upload_novel", str(SAMPLE), "--quiet", "--title", title, stdout=io.StringIO())
    novel = Novel.objects.get()
    pages = [
        admin_client.get("/admin/graph/novel/"),
        admin_client.get(f"/admin/graph/novel/{novel.pk}/change/"),
        admin_client.get(f"/admin/graph/novels/{novel.pk}/"),
    ]
    for page in pages:
        assert page.status_code == 200
        text = page.content.decode()
        assert title not in text
        assert "&lt;script&gt;alert(" in text
