"""upload_novel end to end in offline mode: bad files, re-uploads, the sample's graph, alias edits."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from graph import ingest, pipeline
from graph.models import Chapter, Character, LLMTask, Novel, Origin, Relation
from tests.conftest import SAMPLE

EXPECTED = json.loads(SAMPLE.with_suffix(".expected.json").read_text(encoding="utf-8"))


def upload(path, *args) -> str:
    out = io.StringIO()
    call_command("upload_novel", str(path), *args, stdout=out)
    return out.getvalue()


def row_counts() -> dict:
    return {
        model.__name__: model.objects.count()
        for model in (Novel, Chapter, Character, Relation, LLMTask)
    }


def canonical(novel: Novel) -> dict[str, str]:
    """Every name and alias of the novel's characters -> the canonical name."""
    return {name: c.name for c in novel.characters.all() for name in c.names}


@pytest.fixture
def sample_novel(db) -> Novel:
    upload(SAMPLE, "--quiet")
    return Novel.objects.get()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.txt", "文件不存在"),
        (lambda p: p, "目录"),
        (lambda p: (p / "empty.txt", (p / "empty.txt").write_bytes(b""))[0], "文件为空"),
        (lambda p: (p / "blank.txt", (p / "blank.txt").write_bytes(b" \n\n "))[0], "文件为空"),
        (lambda p: (p / "x.bin", (p / "x.bin").write_bytes(bytes(range(256)) * 64))[0], "二进制"),
    ],
)
@pytest.mark.django_db
def test_it_refuses_a_bad_file_with_one_line_and_exit_code_2(tmp_path, make, message):
    before = row_counts()
    with pytest.raises(CommandError) as caught:
        upload(make(tmp_path))
    assert caught.value.returncode == 2
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert row_counts() == before


@pytest.mark.django_db
def test_a_refused_file_leaves_stored_novels_untouched(sample_novel, tmp_path):
    before = row_counts()
    binary = tmp_path / "x.txt"
    binary.write_bytes(b"\x00\x01\x02" * 1000)
    with pytest.raises(CommandError):
        upload(binary)
    assert row_counts() == before


@pytest.mark.django_db
def test_it_builds_the_sample_graph_offline_without_a_key(sample_path):
    output = upload(sample_path)
    assert "未设置 ZHIPUAI_API_KEY" in output
    novel = Novel.objects.get()
    assert novel.stage == Novel.Stage.DONE
    assert novel.mode == "offline"
    assert novel.encoding == "utf-8"
    assert novel.chapters.count() == 20
    assert "关系类型" in output and "师徒" in output
    assert not novel.tasks.exclude(status__in=["succeeded", "defaulted"]).exists()
    assert novel.relations.filter(origin=Origin.OFFLINE).exists()


@pytest.mark.django_db
def test_uploading_the_same_bytes_again_adds_no_rows(sample_novel):
    before = row_counts()
    output = upload(SAMPLE)
    assert "已上传过" in output
    assert row_counts() == before


@pytest.mark.django_db
def test_a_reupload_resumes_an_unfinished_stage(sample_path):
    data = sample_path.read_bytes()
    novel, created = ingest.ingest(data, source_name=sample_path.name)
    assert created and novel.stage == Novel.Stage.PARSED
    output = upload(sample_path)
    assert "已上传过" in output
    novel.refresh_from_db()
    assert novel.stage == Novel.Stage.DONE
    assert Novel.objects.count() == 1


@pytest.mark.django_db
def test_it_finds_the_sample_characters(sample_novel):
    names = canonical(sample_novel)
    for character in EXPECTED["characters"]:
        assert character["name"] in names, character["name"]


@pytest.mark.django_db
def test_it_classifies_most_sample_relations_and_puts_the_senior_first(sample_novel):
    names = canonical(sample_novel)
    edges = {
        frozenset((r.source.name, r.target.name)): r
        for r in sample_novel.relations.select_related("source", "target")
    }
    right = 0
    for expected in EXPECTED["relations"]:
        pair = frozenset((names.get(expected["source"]), names.get(expected["target"])))
        edge = edges.get(pair)
        assert edge is not None, expected
        if edge.type == expected["type"]:
            right += 1
            if expected["type"] in ("master", "kin", "lord"):
                assert edge.source.name == names[expected["source"]], expected
    assert right / len(EXPECTED["relations"]) >= 0.7


@pytest.mark.django_db
def test_it_detects_the_turn_from_allies_to_enemies(sample_novel):
    (evolution,) = EXPECTED["evolutions"]
    relation = Relation.objects.get(
        novel=sample_novel,
        pair_key=Relation.key_for(
            Character.objects.get(novel=sample_novel, name=evolution["source"]).pk,
            Character.objects.get(novel=sample_novel, name=evolution["target"]).pk,
        ),
    )
    phases = list(relation.phases.values_list("type", "from_chapter", "to_chapter"))
    assert [p[0] for p in phases] == ["ally", "enemy"]
    turn = evolution["phases"][1]["from"]
    assert phases[0][2] < turn <= phases[1][1] + 1


@pytest.mark.django_db
def test_a_manual_alias_edit_survives_rerunning_the_stages(sample_novel):
    character = sample_novel.characters.get(name="沈青锋")
    character.aliases = ["小沈"]
    character.aliases_locked = True
    character.save()
    upload(SAMPLE, "--restart-from", "characters", "--quiet")
    character.refresh_from_db()
    assert character.aliases == ["小沈"]
    assert sample_novel.characters.filter(name="沈青锋").count() == 1
    assert not any("小沈" in c.names for c in sample_novel.characters.exclude(pk=character.pk))
    sample_novel.refresh_from_db()
    assert sample_novel.stage == Novel.Stage.DONE
    assert (
        sample_novel.relations.filter(source=character).exists()
        or sample_novel.relations.filter(target=character).exists()
    )


@pytest.mark.django_db
def test_it_records_a_gb18030_file_and_forced_encoding(tmp_path):
    text = SAMPLE.read_text(encoding="utf-8")
    path = tmp_path / "gb.txt"
    path.write_bytes(text.encode("gb18030"))
    upload(path, "--quiet", "--title", "青锋录GB")
    novel = Novel.objects.get()
    assert novel.encoding == "gb18030"
    assert novel.title == "青锋录GB"
    assert novel.chapters.count() == 20


@pytest.mark.django_db
def test_a_wrong_forced_encoding_is_refused(tmp_path):
    path = tmp_path / "gb.txt"
    path.write_bytes(SAMPLE.read_text(encoding="utf-8").encode("gb18030"))
    with pytest.raises(CommandError) as caught:
        upload(path, "--encoding", "utf-8")
    assert caught.value.returncode == 2
    assert Novel.objects.count() == 0


@pytest.mark.django_db
def test_xiyouji_gives_tang_seng_and_sun_wukong_joined_by_an_edge(corpus):
    upload(corpus / "xiyouji.txt", "--quiet")
    novel = Novel.objects.get()
    assert novel.chapters.count() == 100
    names = canonical(novel)
    tang, sun = names.get("唐僧"), names.get("孙悟空")
    assert tang and sun and tang != sun
    a = novel.characters.get(name=tang)
    b = novel.characters.get(name=sun)
    assert Relation.objects.filter(novel=novel, pair_key=Relation.key_for(a.pk, b.pk)).exists()


@pytest.mark.django_db
def test_a_pair_meeting_over_a_long_stretch_gets_its_timeline_in_its_relation_question(
    sample_novel,
):
    tasks = list(sample_novel.tasks.select_related("relation"))
    assert not [t for t in tasks if t.kind == LLMTask.Kind.EVOLUTION]  # no second request
    pairs = [t for t in tasks if t.kind == LLMTask.Kind.RELATION]
    stats = pipeline.Workspace(sample_novel).pair_stats
    for task in pairs:
        stat = stats[frozenset((task.relation.source_id, task.relation.target_id))]
        assert bool(task.question.get("timeline")) == pipeline.evolves(stat)
    asked = [t for t in pairs if t.question.get("timeline")]
    assert asked and all(t.relation.phases.exists() for t in asked)
    assert not any(t.relation.phases.exists() for t in pairs if t not in asked)
