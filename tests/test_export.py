"""Tests for graph.export and the export_graph command: every format, read back where possible."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import networkx as nx
import pytest
from django.core.management import CommandError, call_command

from graph import export
from graph.models import Character, CharacterAttribute, Novel, Origin, Relation, RelationPhase

pytestmark = pytest.mark.django_db

NAMES = {"唐僧", "孙悟空", "猪八戒", "白骨精"}


def journey(title: str = "西游记", sha256: str = "a" * 64) -> Novel:
    """Four characters, three relations; the disciple is created before the master on purpose."""
    novel = Novel.objects.create(title=title, sha256=sha256)
    wukong = Character.objects.create(
        novel=novel, name="孙悟空", aliases=["悟空", "孙行者", "孙悟空"], mention_count=900,
        first_chapter=1, last_chapter=100, rank=1,
    )  # fmt: skip
    monk = Character.objects.create(novel=novel, name="唐僧", mention_count=800, rank=2)
    pig = Character.objects.create(novel=novel, name="猪八戒", mention_count=500, rank=3)
    bone = Character.objects.create(novel=novel, name="白骨精", mention_count=30, rank=4)
    CharacterAttribute.objects.create(character=wukong, key="gender", value="男")
    CharacterAttribute.objects.create(character=wukong, key="faction", value="取经团队")
    master = Relation.objects.create(
        novel=novel, source=monk, target=wukong, type="master", confidence=0.95, cooccurrence=300,
        first_chapter=14, last_chapter=100, origin=Origin.LLM, evidence="唐僧收悟空为徒",
    )  # fmt: skip
    RelationPhase.objects.create(relation=master, from_chapter=14, to_chapter=27, type="master")
    RelationPhase.objects.create(
        relation=master, from_chapter=27, to_chapter=31, type="enemy", event="三打白骨精后被逐"
    )
    Relation.objects.create(novel=novel, source=wukong, target=pig, type="fellow", cooccurrence=200)
    Relation.objects.create(
        novel=novel, source=wukong, target=bone, type="enemy", confidence=0.8, cooccurrence=12,
        first_chapter=27, last_chapter=27, origin=Origin.OFFLINE,
    )  # fmt: skip
    return novel


def test_build_graph_has_a_node_per_character_and_an_edge_per_relation(
    django_assert_num_queries,
) -> None:
    novel = journey()
    other = Novel.objects.create(title="红楼梦", sha256="b" * 64)
    Character.objects.create(novel=other, name="贾宝玉")
    with django_assert_num_queries(4):
        graph = export.build_graph(novel)
    assert set(graph.nodes) == NAMES
    assert graph.number_of_edges() == 3
    assert graph.nodes["孙悟空"] == {
        "name": "孙悟空", "aliases": ["悟空", "孙行者"], "mentions": 900, "first_chapter": 1,
        "last_chapter": 100, "attributes": {"faction": "取经团队", "gender": "男"},
    }  # fmt: skip
    edge = graph.edges["唐僧", "孙悟空"]
    assert (edge["type"], edge["type_code"], edge["directed"]) == ("师徒", "master", True)
    assert edge["phases"] == [
        {"from": 14, "to": 27, "type": "师徒", "event": ""},
        {"from": 27, "to": 31, "type": "敌对", "event": "三打白骨精后被逐"},
    ]


def test_json_has_the_documented_keys_and_the_senior_first(tmp_path: Path) -> None:
    path = tmp_path / "graph.json"
    export.write_graph(journey(), "json", path)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert "孙悟空" in path.read_text(encoding="utf-8")  # not \\u-escaped
    assert data["directed"] is True
    assert {n["id"] for n in data["nodes"]} == NAMES
    assert set(data["nodes"][0]) == {"id", "name", "aliases", "mentions", "first_chapter",
                                     "last_chapter", "attributes", "degree", "weighted_degree",
                                     "betweenness", "community"}  # fmt: skip
    master = next(e for e in data["edges"] if e["type_code"] == "master")
    assert list(master)[:2] == ["source", "target"]
    assert (master["source"], master["target"]) == ("唐僧", "孙悟空")
    assert set(master) == {"source", "target", "type", "type_code", "directed", "confidence",
                           "cooccurrences", "first_chapter", "last_chapter", "origin", "evidence",
                           "phases"}  # fmt: skip
    assert master["phases"][1] == {
        "from": 27,
        "to": 31,
        "type": "敌对",
        "event": "三打白骨精后被逐",
    }


@pytest.mark.parametrize("fmt", ["graphml", "gexf"])
def test_xml_formats_read_back_with_the_same_names_and_edges(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"graph.{fmt}"
    export.write_graph(journey(), fmt, path)
    assert "孙悟空" in path.read_text(encoding="utf-8")
    graph = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
    assert set(graph.nodes) == NAMES
    assert graph.number_of_edges() == 3
    assert graph.has_edge("唐僧", "孙悟空") and not graph.has_edge("孙悟空", "唐僧")
    edge = graph.edges["唐僧", "孙悟空"]
    assert edge["type" if fmt == "graphml" else "label"] == "师徒"
    assert json.loads(edge["phases"])[0]["type"] == "师徒"
    assert json.loads(graph.nodes["孙悟空"]["attributes"]) == {
        "faction": "取经团队",
        "gender": "男",
    }


def test_csv_has_a_header_and_a_row_per_relation_and_a_nodes_file(tmp_path: Path) -> None:
    path = tmp_path / "graph.csv"
    export.write_graph(journey(), "csv", path)
    with path.open(encoding="utf-8-sig", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == export.EDGE_COLUMNS
    assert len(rows) == 3
    master = next(r for r in rows if r["type"] == "师徒")
    assert (master["source"], master["target"]) == ("唐僧", "孙悟空")
    assert master["phases"] == "14-27:师徒;27-31:敌对"
    with (tmp_path / "graph_nodes.csv").open(encoding="utf-8-sig", newline="") as stream:
        nodes = {row["name"]: row for row in csv.DictReader(stream)}
    assert set(nodes) == NAMES
    assert (nodes["孙悟空"]["aliases"], nodes["孙悟空"]["faction"]) == ("悟空;孙行者", "取经团队")
    assert nodes["唐僧"]["first_chapter"] == ""


def test_an_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="未知格式"):
        export.write_graph(journey(), "dot", io.StringIO())


def test_the_command_exports_by_id_to_a_file(tmp_path: Path) -> None:
    novel, path, out = journey(), tmp_path / "out.gexf", io.StringIO()
    call_command("export_graph", str(novel.pk), "--format", "gexf", "-o", str(path), stdout=out)
    assert out.getvalue().strip() == f"已导出 4 个人物、3 条关系到 {path}"
    assert set(nx.read_gexf(path).nodes) == NAMES


def test_the_command_exports_by_title_to_stdout(tmp_path: Path) -> None:
    journey()
    out, err = io.StringIO(), io.StringIO()
    call_command("export_graph", "西游记", stdout=out, stderr=err)
    assert {n["id"] for n in json.loads(out.getvalue())["nodes"]} == NAMES
    assert err.getvalue().strip() == "已导出 4 个人物、3 条关系到 标准输出"


def test_the_command_writes_csv_edges_to_stdout_and_both_files_with_output(tmp_path: Path) -> None:
    journey()
    out = io.StringIO()
    call_command("export_graph", "西游记", "--format", "csv", stdout=out, stderr=io.StringIO())
    assert len(list(csv.reader(io.StringIO(out.getvalue())))) == 4
    out = io.StringIO()
    call_command(
        "export_graph", "西游记", "--format", "csv", "-o", str(tmp_path / "g.csv"), stdout=out
    )
    assert (tmp_path / "g_nodes.csv").exists()
    assert "g_nodes.csv" in out.getvalue()


@pytest.mark.parametrize("key", ["不存在的书", "999999"])
def test_the_command_refuses_an_unknown_novel_with_exit_code_2(key: str) -> None:
    journey()
    with pytest.raises(CommandError, match="找不到小说") as info:
        call_command("export_graph", key, stdout=io.StringIO())
    assert info.value.returncode == 2


def test_the_command_refuses_an_ambiguous_title_with_exit_code_2() -> None:
    journey()
    journey(sha256="c" * 64)
    with pytest.raises(CommandError, match="找不到小说.*同名") as info:
        call_command("export_graph", "西游记", stdout=io.StringIO())
    assert info.value.returncode == 2


def test_a_title_made_of_digits_is_found_when_no_id_matches() -> None:
    journey(title="1984")
    out = io.StringIO()
    call_command("export_graph", "1984", stdout=out, stderr=io.StringIO())
    assert json.loads(out.getvalue())["graph"]["name"] == "1984"


def test_the_node_csv_names_the_models_aliases_apart_from_the_nodes_aliases(tmp_path: Path) -> None:
    novel = journey()
    wukong = novel.characters.get(name="孙悟空")
    CharacterAttribute.objects.create(character=wukong, key="aliases", value="美猴王、齐天大圣")
    export.write_graph(novel, "csv", tmp_path / "g.csv")
    with (tmp_path / "g_nodes.csv").open(encoding="utf-8-sig", newline="") as stream:
        header, *rows = list(csv.reader(stream))
    assert len(header) == len(set(header))
    assert header.count("aliases") == 1 and "attribute_aliases" in header
    row = dict(zip(header, next(r for r in rows if r[0] == "孙悟空"), strict=True))
    assert (row["aliases"], row["attribute_aliases"]) == ("悟空;孙行者", "美猴王、齐天大圣")


def test_an_output_in_a_missing_folder_is_refused_with_exit_code_2(tmp_path: Path) -> None:
    journey()
    target = tmp_path / "missing-dir" / "x.json"
    with pytest.raises(CommandError, match="无法写入.*目录不存在") as info:
        call_command("export_graph", "西游记", "-o", str(target), stdout=io.StringIO())
    assert info.value.returncode == 2
    assert not target.parent.exists()


def test_an_unknown_title_names_the_stored_novels() -> None:
    novel = journey(title="sanguo")
    with pytest.raises(CommandError, match=f"《sanguo》\\(id={novel.pk}\\).*--title"):
        call_command("export_graph", "三国演义", stdout=io.StringIO())
