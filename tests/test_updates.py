"""Updating a serialized novel: a longer (or lightly edited) file of a stored novel updates it in
place, reads only the new or changed chapters, and asks again only what can change."""

from __future__ import annotations

import io
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from graph import ingest, pipeline, updates
from graph.entities import scan_mentions
from graph.models import (
    Chapter,
    Character,
    LLMTask,
    Novel,
    NovelVersion,
    Origin,
    Relation,
    RelationPhase,
)
from tests.conftest import SAMPLE

pytestmark = pytest.mark.django_db

FULL = SAMPLE.read_text(encoding="utf-8")
HEADINGS = [line for line in FULL.splitlines() if line.startswith("第") and "章 " in line[:8]]


def upload_offline(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("upload_novel", str(path), "--mode", "offline", *args, stdout=out)
    return out.getvalue()


def first_chapters(count: int) -> str:
    """The sample's first `count` chapters."""
    return FULL[: FULL.index(HEADINGS[count] + "\n")] if count < len(HEADINGS) else FULL


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def edited(text: str, heading: str, old: str, new: str) -> str:
    """The text with `old` replaced by `new` in the chapter under `heading` only."""
    start = text.index(heading + "\n")
    end = text.find("\n第", start + 1)
    end = len(text) if end < 0 else end
    assert old in text[start:end]
    return text[:start] + text[start:end].replace(old, new, 1) + text[end:]


@pytest.fixture
def cut(tmp_path) -> Path:
    """The sample cut to its first 15 chapters, uploaded and built offline."""
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload_offline(path, "--quiet")
    return path


def figures(novel: Novel) -> tuple[dict, dict]:
    people = {
        c.name: (c.mention_count, c.first_chapter, c.last_chapter) for c in novel.characters.all()
    }
    edges = {
        frozenset((r.source.name, r.target.name)): (r.cooccurrence, r.first_chapter, r.last_chapter)
        for r in novel.relations.select_related("source", "target")
    }
    return people, edges


def test_it_updates_the_stored_novel_when_chapters_are_appended(cut):
    novel = Novel.objects.get()
    before = {c.pk: (c.name, list(c.aliases)) for c in novel.characters.all()}
    output = upload_offline(SAMPLE)
    assert "新版本" in output and "第 2 版" in output
    novel.refresh_from_db()
    assert Novel.objects.count() == 1
    assert novel.stage == Novel.Stage.DONE
    assert novel.chapters.count() == 20
    assert list(novel.versions.values_list("number", "chapters", "added", "edited")) == [
        (1, 15, 15, 0),
        (2, 20, 5, 0),
    ]
    after = {c.pk: (c.name, list(c.aliases)) for c in novel.characters.all()}
    assert {pk: after[pk] for pk in before} == before  # same ids, names and aliases
    assert set(after) > set(before)  # and someone new
    assert novel.tasks.filter(version=2).count() < novel.tasks.filter(version=1).count()


def test_an_update_counts_what_a_fresh_run_of_the_whole_file_counts(cut, tmp_path):
    upload_offline(SAMPLE, "--quiet")
    updated = Novel.objects.get()
    # The same chapters in other bytes: a separate novel, built from scratch.
    upload_offline(write(tmp_path, "copy.txt", FULL + "\n\n"), "--new", "--quiet")
    fresh = Novel.objects.exclude(pk=updated.pk).get()
    (people, edges), (fresh_people, fresh_edges) = figures(updated), figures(fresh)
    assert {name: people[name] for name in people.keys() & fresh_people.keys()} == {
        name: fresh_people[name] for name in people.keys() & fresh_people.keys()
    }
    shared = edges.keys() & fresh_edges.keys()
    assert len(shared) >= 20
    assert {k: edges[k] for k in shared} == {k: fresh_edges[k] for k in shared}


def test_it_reads_only_the_new_chapters_and_those_naming_a_new_character(cut, monkeypatch):
    read: list[list[int]] = []
    real_scan, real_discover = updates.scan_mentions, updates.discover_characters

    def discover(chapters, **kwargs):
        read.append([number for number, _ in chapters])
        return real_discover(chapters, **kwargs)

    def scan(chapters, names):
        read.append([number for number, _ in chapters])
        return real_scan(chapters, names)

    monkeypatch.setattr(updates, "discover_characters", discover)
    monkeypatch.setattr(updates, "scan_mentions", scan)
    monkeypatch.setattr(pipeline, "scan_mentions", scan)
    upload_offline(SAMPLE, "--quiet")
    novel = Novel.objects.get()
    newcomers = [c for c in novel.characters.all() if c.pk not in updates_roster(novel, 1)]
    assert newcomers
    naming = {
        number
        for number, text in novel.chapters.filter(number__lte=15).values_list("number", "text")
        if any(name in text for c in newcomers for name in c.names)
    }
    assert read[0] == [16, 17, 18, 19, 20]  # discovery
    assert sorted(n for chapters in read[1:] for n in chapters) == sorted({*range(16, 21), *naming})
    assert len(naming) < 15


def updates_roster(novel: Novel, number: int) -> set[int]:
    return {int(pk) for pk in novel.versions.get(number=number).roster}


def test_an_edited_chapter_is_read_again_and_recounted(cut, tmp_path):
    novel = Novel.objects.get()
    mentions_before = novel.characters.get(name="沈青锋").mention_count
    text = edited(first_chapters(15), HEADINGS[2], "沈青锋", "那少年")
    output = upload_offline(write(tmp_path, "edited.txt", text))
    assert "修改 1 章" in output
    novel.refresh_from_db()
    version = novel.versions.get(number=2)
    assert (version.added, version.edited, version.changed) == (0, 1, [3])
    chapter = novel.chapters.get(number=3)
    assert "那少年" in chapter.text
    assert chapter.digest == Chapter.digest_of(chapter.title, chapter.text)
    assert novel.characters.get(name="沈青锋").mention_count == mentions_before - 1
    assert novel.stage == Novel.Stage.DONE


def test_an_edited_chapter_and_new_ones_make_one_version(cut, tmp_path):
    text = edited(FULL, HEADINGS[4], "沈青锋", "那少年")
    upload_offline(write(tmp_path, "longer.txt", text), "--quiet")
    version = NovelVersion.objects.get(number=2)
    assert (version.added, version.edited, version.changed) == (5, 1, [5, 16, 17, 18, 19, 20])


def rows() -> dict:
    return {
        "novels": list(Novel.objects.values_list("pk", "sha256", "stage", "char_count")),
        "chapters": list(Chapter.objects.values_list("pk", "digest")),
        "versions": NovelVersion.objects.count(),
        "characters": list(Character.objects.values_list("pk", "mention_count")),
        "relations": list(Relation.objects.values_list("pk", "cooccurrence", "type")),
        "tasks": list(LLMTask.objects.values_list("pk", "status", "relation", "character")),
    }


def test_a_file_that_does_not_match_is_refused_with_one_line_and_changes_nothing(cut, tmp_path):
    text = FULL
    for heading in HEADINGS[1:4]:  # three chapters of fifteen differ: more than a few
        text = edited(text, heading, "沈青锋", "那少年")
    path = write(tmp_path, "other.txt", text)
    before = rows()
    with pytest.raises(CommandError) as caught:
        upload_offline(path, "--update", str(Novel.objects.get().pk))
    assert caught.value.returncode == 2
    assert "不符" in str(caught.value) and "\n" not in str(caught.value)
    assert rows() == before


def test_a_shorter_file_is_refused_and_changes_nothing(cut, tmp_path):
    upload_offline(SAMPLE, "--quiet")
    before = rows()
    shorter = write(tmp_path, "shorter.txt", first_chapters(12))
    for args in ((), ("--update", str(Novel.objects.get().pk))):
        with pytest.raises(CommandError) as caught:
            upload_offline(shorter, *args)
        assert caught.value.returncode == 2
        assert "短" in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(CommandError) as caught:
        upload_offline(cut)  # the earlier version itself
    assert caught.value.returncode == 2 and "第 1 版" in str(caught.value)
    assert rows() == before


def test_manual_edits_survive_an_update(cut):
    novel = Novel.objects.get()
    hero, rival = novel.characters.get(name="沈青锋"), novel.characters.get(name="杜云起")
    hero.aliases, hero.aliases_locked = ["青锋", "沈少侠"], True
    hero.save()
    manual = novel.relations.get(pair_key=Relation.key_for(hero.pk, rival.pk))
    manual.type, manual.origin, manual.source, manual.target = "sworn", Origin.MANUAL, rival, hero
    manual.save()
    upload_offline(SAMPLE, "--quiet")
    hero.refresh_from_db()
    manual.refresh_from_db()
    assert (hero.aliases, hero.aliases_locked) == (["青锋", "沈少侠"], True)
    assert (manual.type, manual.origin, manual.source_id) == ("sworn", Origin.MANUAL, rival.pk)
    assert manual.last_chapter == 20  # its counts follow the new chapters
    assert not novel.tasks.filter(version=2, kind="relation", relation=manual).exists()


def test_the_evolution_continues_from_the_last_known_phase(cut):
    novel = Novel.objects.get()
    timelines = {
        r.pk: list(r.phases.values_list("from_chapter", "to_chapter", "type"))
        for r in novel.relations.all()
        if r.phases.exists()
    }
    upload_offline(SAMPLE, "--quiet")
    continued = novel.tasks.filter(version=2, kind="evolution", relation__in=list(timelines))
    assert continued.exists()
    for task in continued:
        earlier = timelines[task.relation_id]
        assert [(p["from"], p["to"], p["type"]) for p in task.question["earlier"]] == earlier
        assert task.question["since"] == 16
        assert all(chapter >= 16 for chapter, _ in task.question["snippets"])
        prompt = task.request["messages"][1]["content"]
        assert "此前" in prompt and "从第16章起" in prompt
        phases = list(task.relation.phases.values_list("from_chapter", "to_chapter", "type"))
        assert phases[: len(earlier) - 1] == earlier[:-1]  # the known story stays
        assert phases[-1][1] >= 16  # and goes on into the new chapters
        # The first timeline came with the relation question (no evolution question of its own):
        # the continued evolution question is the timeline's answer now (graph/results.py).
        old = LLMTask.objects.get(version=1, kind="relation", subject=task.subject)
        assert old.question.get("timeline")
        assert not LLMTask.objects.filter(version=1, kind="evolution").exists()


def test_new_forces_a_separate_novel(cut):
    output = upload_offline(SAMPLE, "--new")
    assert "新版本" not in output
    assert Novel.objects.count() == 2
    assert NovelVersion.objects.filter(number=2).count() == 0


def test_update_names_the_novel_to_update(cut, tmp_path):
    # A file whose first chapter differs is not found by itself, but --update names the novel.
    target = Novel.objects.get()
    text = edited(FULL, HEADINGS[0], "沈青锋", "那少年")
    path = write(tmp_path, "另一个书名.txt", text)
    upload_offline(path, "--update", target.title, "--quiet")
    assert Novel.objects.count() == 1
    assert target.versions.get(number=2).changed == [1, 16, 17, 18, 19, 20]


def test_the_same_chapters_in_other_bytes_change_nothing(cut, tmp_path):
    before = rows()
    output = upload_offline(write(tmp_path, "same.txt", first_chapters(15) + "\n\n\n"))
    assert "一致" in output
    assert rows() == before


def test_a_novel_whose_local_stages_are_unfinished_is_not_updated(tmp_path):
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload_offline(path, "--dry-run", "--quiet")
    before = rows()
    with pytest.raises(CommandError) as caught:
        upload_offline(SAMPLE)
    assert caught.value.returncode == 2 and "本地阶段还没有完成" in str(caught.value)
    assert rows() == before


def test_a_dry_run_update_can_restart_its_questions(cut):
    output = upload_offline(SAMPLE, "--dry-run")
    assert "第 2 版更新" in output
    novel = Novel.objects.get()
    asked = sorted(novel.tasks.filter(version=2).values_list("custom_id", flat=True))
    detached = novel.tasks.filter(version=1, relation__isnull=True, character__isnull=True)
    assert detached.exists()
    upload_offline(SAMPLE, "--restart-from", "tasks", "--dry-run", "--quiet")
    assert sorted(novel.tasks.filter(version=2).values_list("custom_id", flat=True)) == asked
    upload_offline(SAMPLE, "--quiet")
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE


def test_restarting_an_update_gives_the_replaced_questions_back(cut):
    upload_offline(SAMPLE, "--dry-run", "--quiet")
    novel = Novel.objects.get()
    version = novel.versions.get(number=2)
    updates.restart_from(novel, version, Novel.Stage.PAIRS)
    assert not novel.tasks.filter(version=2).exists()
    assert not novel.tasks.filter(relation__isnull=True, character__isnull=True).exists()


def test_a_question_asked_again_keeps_its_old_answer_when_no_new_one_comes(cut):
    upload_offline(SAMPLE, "--dry-run", "--quiet")
    task = LLMTask.objects.filter(version=2, question__has_key="fallback").first()
    assert task is not None
    task.record_failure("超时", permanent=True)
    assert task.status == LLMTask.Status.DEFAULTED
    assert task.result == task.question["fallback"]["result"]
    assert task.origin == task.question["fallback"]["origin"]


def test_the_admin_shows_each_version_and_its_cost(cut, admin_client):
    upload_offline(SAMPLE, "--quiet")
    novel = Novel.objects.get()
    page = admin_client.get(reverse("admin:graph_novel_change", args=[novel.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert "版本 (versions)" in html
    version_two = novel.tasks.filter(version=2).count()
    assert f">{version_two}<" in html.replace(" ", "")


def test_an_update_in_realtime_mode_sends_only_its_own_questions(emu, upload, tmp_path):
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload("--quiet", mode="realtime", path=path)
    sent = emu.stats.chat_requests
    upload("--quiet", mode="realtime")
    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    assert emu.stats.chat_requests - sent == novel.tasks.filter(version=2).count()


def test_phases_of_a_relation_a_person_edited_are_not_asked_again(cut):
    novel = Novel.objects.get()
    relation = next(r for r in novel.relations.all() if r.phases.exists())
    relation.phases.update(origin=Origin.MANUAL)
    kept = list(relation.phases.values_list("from_chapter", "to_chapter", "type"))
    upload_offline(SAMPLE, "--quiet")
    assert not novel.tasks.filter(version=2, kind="evolution", relation=relation).exists()
    assert list(relation.phases.values_list("from_chapter", "to_chapter", "type")) == kept
    assert RelationPhase.objects.filter(relation=relation, origin=Origin.MANUAL).count() == len(
        kept
    )


def test_counts_of_a_character_merged_since_go_to_the_one_that_took_its_names(cut):
    novel = Novel.objects.get()
    kept, gone = novel.characters.get(name="沈青锋"), novel.characters.get(name="韩铁崖")
    # What identity.apply does on a 同一人物 answer: the names move, the character goes.
    kept.aliases = [*kept.aliases, *gone.names]
    kept.save()
    gone.delete()
    upload_offline(SAMPLE, "--quiet")
    kept.refresh_from_db()
    chapters = list(novel.chapters.order_by("number").values_list("number", "text"))
    rescan = scan_mentions(chapters, {c.pk: c.names for c in novel.characters.all()})
    assert kept.mention_count == rescan.counts[kept.pk]


def test_an_update_in_batch_mode_submits_only_its_own_questions(emu, upload, poll, tmp_path):
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload("--quiet", path=path)
    poll()
    first = set(emu.batches)
    upload("--quiet")
    poll()
    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    lines = [line for key, batch in emu.batches.items() if key not in first for line in batch.lines]
    asked = set(novel.tasks.filter(version=2).values_list("custom_id", flat=True))
    assert {json.loads(line)["custom_id"] for line in lines} == asked


def test_a_novel_stored_before_tallies_is_counted_once_when_first_updated(cut):
    novel = Novel.objects.get()
    novel.chapters.update(mentions=None, pairs=None)  # as the migration leaves older novels
    output = upload_offline(SAMPLE)
    assert re.search(r"补算此前没有保存计数的旧章节 \d+ 章", output)
    assert not novel.chapters.filter(mentions__isnull=True).exists()
    chapters = list(novel.chapters.order_by("number").values_list("number", "text"))
    rescan = scan_mentions(chapters, {c.pk: c.names for c in novel.characters.all()})
    assert {c.pk: c.mention_count for c in novel.characters.all()} == {
        c.pk: rescan.counts.get(c.pk, 0) for c in novel.characters.all()
    }


def test_of_two_processes_updating_one_novel_only_one_does(cut):
    from graph import versions

    novel = Novel.objects.get()
    stale = Novel.objects.get()  # what the second process read before the first one updated
    parsed = ingest.parse(SAMPLE.read_bytes())
    digests = [Chapter.digest_of(c.title, c.text) for c in parsed.chapters]
    comparison = versions.compare(versions.stored_digests(novel), digests)
    versions.update(novel, parsed, comparison, "青锋录.txt")
    before = rows()
    with pytest.raises(versions.Refused):
        versions.update(stale, parsed, comparison, "青锋录.txt")
    assert rows() == before


def answered_in(emu, custom_ids: set[str]) -> Counter:
    """How many batches each of `custom_ids` was sent in."""
    return Counter(
        cid
        for batch in emu.batches.values()
        for line in batch.lines
        if (cid := json.loads(line)["custom_id"]) in custom_ids
    )


def test_a_novel_can_be_updated_while_its_batch_is_pending(emu, upload, poll, tmp_path):
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload("--quiet", path=path)
    novel = Novel.objects.get()
    first = {t.custom_id: (t.kind, t.relation_id, t.character_id) for t in novel.tasks.all()}
    assert novel.stage == Novel.Stage.DISPATCHED and novel.provisional

    output = upload()  # the whole book, while version 1's batch is still in flight
    assert "第 2 版" in output and "在等待批处理结果" in output
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DISPATCHED and novel.provisional
    assert novel.chapters.count() == len(HEADINGS)
    # Version 1's questions stay attached and in flight: none is asked again or detached.
    still = {t.custom_id: (t.kind, t.relation_id, t.character_id) for t in novel.tasks.all()}
    assert {cid: still[cid] for cid in first} == first
    second = set(novel.tasks.filter(version=2).values_list("custom_id", flat=True))
    assert second and not second & set(first)

    poll()
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE and not novel.provisional
    assert not novel.tasks.unsettled().exists()
    sent = answered_in(emu, set(still))
    assert set(sent) == set(still) and set(sent.values()) == {1}  # every question once
    for task in novel.tasks.filter(kind="relation").select_related("relation"):
        assert task.relation.origin == Origin.LLM


def test_the_provisional_graph_of_an_update_keeps_the_answers_already_applied(
    emu, upload, poll, tmp_path
):
    path = write(tmp_path, "青锋录_1-15.txt", first_chapters(15))
    upload("--quiet", path=path)
    poll()
    novel = Novel.objects.get()
    answered = {r.pk: (r.type, r.origin) for r in novel.relations.all()}
    assert {origin for _, origin in answered.values()} == {Origin.LLM}
    upload("--quiet")  # version 2 submitted: the provisional graph is written
    novel.refresh_from_db()
    assert novel.provisional and novel.stage == Novel.Stage.DISPATCHED
    asked_again = set(
        novel.tasks.filter(version=2, relation__isnull=False).values_list("relation_id", flat=True)
    )
    kept = {r.pk: (r.type, r.origin) for r in novel.relations.filter(pk__in=answered.keys())}
    unchanged = [pk for pk in answered if pk not in asked_again]
    assert unchanged and all(kept[pk] == answered[pk] for pk in unchanged)
