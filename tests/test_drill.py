"""The reliability drill (bench/drill.py) in CI: its fast subset loses nothing and applies nothing
twice, and its audit does notice a lost or a doubled result when there is one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import pytest

from graph.models import CharacterAttribute, LLMTask, Novel, RelationPhase
from tests.conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
from drill_audit import audit  # noqa: E402

QUICK = {"realtime-429", "realtime-5xx-timeout", "batch-error-lines", "batch-expire-half"}
QUICK |= {"batch-cancel", "poller-kill", "three-pollers", "update-pending"}
QUICK |= {"batch-grouped"}
ROW = re.compile(r"^(✅|❌) (\S+) .*?\| (\d+)/(\d+) \| (\d+) \| (\d+) \| (\d+) \| (\d+) \| ")


@pytest.fixture
def drill_database(tmp_path):
    """A database of the drill's own: a SQLite file, or a scratch PostgreSQL database when the
    suite runs on PostgreSQL (created and dropped here)."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield f"sqlite:///{tmp_path / 'drill.sqlite3'}"
        return
    import psycopg

    parts = urlsplit(url)
    name = f"ng_drill_{os.getpid()}"
    server = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_quick_drill_completes_every_novel_and_loses_or_doubles_nothing(
    drill_database, tmp_path
):
    env = {**os.environ, "BATCH_DIR": str(tmp_path / "batches")}
    command = [sys.executable, str(REPO / "bench" / "drill.py"), "--quick", "--seed", "7"]
    done = subprocess.run(
        [*command, "--database-url", drill_database],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=150,
    )

    report = done.stdout + done.stderr
    assert done.returncode == 0, report
    rows = {m[2]: m for m in map(ROW.match, done.stdout.splitlines()) if m}
    assert set(rows) == QUICK | {"合计"}, report
    for mark, name, finished, novels, answered, _defaulted, lost, twice in (
        m.groups() for m in rows.values()
    ):
        assert (mark, finished, lost, twice) == ("✅", novels, "0", "0"), (name, report)
        assert int(novels) > 0 and int(answered) > 0, (name, report)


@pytest.mark.django_db
def test_the_audit_counts_a_missing_phase_as_lost_and_extra_rows_and_tokens_as_twice(
    emu, upload, poll
):
    upload()
    poll()
    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    clean = audit([novel.pk], emu=emu)
    assert clean.ok and clean.answered == novel.tasks.count() > 0, clean

    phase = RelationPhase.objects.filter(relation__novel=novel).first()
    phase.delete()
    attribute = CharacterAttribute.objects.filter(character__novel=novel).first()
    CharacterAttribute.objects.create(character=attribute.character, key="extra", value="多余")
    task = novel.tasks.filter(kind=LLMTask.Kind.RELATION).first()
    LLMTask.objects.filter(pk=task.pk).update(prompt_tokens=task.prompt_tokens * 2)
    unsettled = novel.tasks.exclude(pk=task.pk).first()
    LLMTask.objects.filter(pk=unsettled.pk).update(status=LLMTask.Status.FAILED)

    tampered = audit([novel.pk], emu=emu)

    assert not tampered.ok
    assert tampered.lost == {f"phase-{phase.relation_id}", unsettled.custom_id}
    assert tampered.twice == {f"attribute-{attribute.character_id}", task.custom_id}
