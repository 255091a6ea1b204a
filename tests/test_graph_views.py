"""Tests for the graph page, its JSON, the metrics (graph.metrics) and where they show up."""

from __future__ import annotations

import io
import json
from pathlib import Path

import networkx as nx
import pytest
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.urls import reverse

from graph import export, metrics, prompts, views
from graph.models import Chapter, Character, Novel, Relation, RelationPhase
from tests.conftest import SCRIPT

pytestmark = pytest.mark.django_db


@pytest.fixture
def sample(sample_path: Path) -> Novel:
    call_command("upload_novel", str(sample_path), "--mode", "offline", stdout=io.StringIO())
    return Novel.objects.get()


def page_url(novel: Novel) -> str:
    return reverse("graph:novel_graph", args=[novel.pk])


def data_url(novel: Novel) -> str:
    return reverse("graph:novel_graph_data", args=[novel.pk])


def two_cliques() -> nx.DiGraph:
    """Two triangles joined by the bridge 丙—丁; the left one is bigger by a pendant 戊."""
    graph = nx.DiGraph()
    graph.add_nodes_from(["甲", "乙", "丙", "丁", "己", "庚", "戊"])
    for a, b, w in [("甲", "乙", 5), ("乙", "丙", 5), ("甲", "丙", 5), ("丁", "己", 5),
                    ("己", "庚", 5), ("丁", "庚", 5), ("丙", "丁", 1), ("甲", "戊", 3)]:  # fmt: skip
        graph.add_edge(a, b, cooccurrences=w)
    return graph


# --- access ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", [page_url, data_url])
def test_anonymous_visitors_are_sent_to_the_login_page(client, which) -> None:
    novel = Novel.objects.create(title="西游记", sha256="a" * 64)
    response = client.get(which(novel))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login") + "?next=")


@pytest.mark.parametrize("which", [page_url, data_url])
def test_users_who_are_not_staff_are_sent_to_the_login_page(client, which) -> None:
    client.force_login(User.objects.create_user("reader"))
    novel = Novel.objects.create(title="西游记", sha256="a" * 64)
    response = client.get(which(novel))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_unknown_novel_is_not_found(staff_client) -> None:
    assert staff_client.get(reverse("graph:novel_graph", args=[999])).status_code == 404
    assert staff_client.get(reverse("graph:novel_graph_data", args=[999])).status_code == 404


# --- the page and its data -------------------------------------------------------------------


def test_the_page_looks_like_the_admin_and_loads_vis_network_locally(staff_client, sample) -> None:
    response = staff_client.get(page_url(sample))
    text = response.content.decode()
    assert response.status_code == 200
    assert "admin/base_site.html" in [t.name for t in response.templates]
    assert "《青锋录》人物关系图谱" in text
    assert "/static/vendor/vis-network/vis-network.min.js" in text
    assert "/static/graph/novel_graph.js" in text
    assert "//cdn" not in text and "https://" not in text.split("<body")[0]
    assert finders.find("vendor/vis-network/vis-network.min.js")
    config = response.context["config"]
    assert config["data_url"] == data_url(sample)


def test_the_json_describes_the_sample_graph(staff_client, sample) -> None:
    response = staff_client.get(data_url(sample))
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert set(data) == {"novel", "types", "default_type", "nodes", "edges"}
    assert data["novel"] == {
        "id": sample.pk,
        "title": "青锋录",
        "chapters": 20,
        "provisional": False,
    }
    assert [t["label"] for t in data["types"]][-1] == "共现"
    assert data["default_type"] == "cooccur"
    assert len(data["nodes"]) == sample.characters.count() == 9
    assert len(data["edges"]) == sample.relations.count()
    hero = next(n for n in data["nodes"] if n["name"] == "沈青锋")
    assert set(hero) == {"id", "name", "aliases", "attributes", "mentions", "first_chapter",
                         "last_chapter", "degree", "weighted_degree", "betweenness", "community",
                         "admin_url", "role_word"}  # fmt: skip
    assert hero["role_word"] is False
    assert hero["aliases"] == ["青锋"] and hero["first_chapter"] == 1
    assert hero["admin_url"] == reverse(
        "admin:graph_character_change", args=[sample.characters.get(name="沈青锋").pk]
    )
    assert hero["degree"] == len(set(nx.all_neighbors(export.build_graph(sample), "沈青锋")))
    betrayal = next(e for e in data["edges"] if {e["source"], e["target"]} == {"沈青锋", "杜云起"})
    relation = sample.relations.get(
        source__name=betrayal["source"], target__name=betrayal["target"]
    )
    assert (betrayal["type_code"], betrayal["type"]) == (relation.type, relation.get_type_display())
    assert betrayal["phases"], "the sample's betrayal has an evolution"
    assert [(p["from"], p["to"], p["type_code"], p["type"]) for p in betrayal["phases"]] == [
        (p.from_chapter, p.to_chapter, p.type, p.get_type_display()) for p in relation.phases.all()
    ]
    assert betrayal["snippets"] == relation.snippets
    assert all(set(s) == {"chapter", "text"} for s in betrayal["snippets"])
    assert {"confidence", "cooccurrences", "first_chapter", "last_chapter", "evidence",
            "directed"} <= set(betrayal)  # fmt: skip
    assert "沈青锋" in response.content.decode()  # Chinese kept readable


def test_a_script_name_is_escaped_on_the_page_and_kept_as_data_in_the_json(staff_client) -> None:
    novel = Novel.objects.create(title=SCRIPT, sha256="a" * 64)
    villain = Character.objects.create(novel=novel, name=SCRIPT, aliases=["<b>x</b>"])
    hero = Character.objects.create(novel=novel, name="沈青锋")
    Relation.objects.create(novel=novel, source=villain, target=hero, cooccurrence=3,
                            snippets=[{"chapter": 1, "text": SCRIPT}])  # fmt: skip
    text = staff_client.get(page_url(novel)).content.decode()
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    data = staff_client.get(data_url(novel)).json()
    assert {n["name"] for n in data["nodes"]} == {SCRIPT, "沈青锋"}
    assert data["edges"][0]["snippets"] == [{"chapter": 1, "text": SCRIPT}]


def test_the_novel_admin_links_to_the_graph_page(admin_client, sample) -> None:
    listing = admin_client.get(reverse("admin:graph_novel_changelist")).content.decode()
    change = admin_client.get(reverse("admin:graph_novel_change", args=[sample.pk]))
    assert f'href="{page_url(sample)}"' in listing
    assert f'href="{page_url(sample)}"' in change.content.decode()


def big_novel(nodes: int = 500, edges: int = 2000) -> Novel:
    """A synthetic novel of `nodes` characters and `edges` relations, each with phases and text."""
    novel = Novel.objects.create(title="大书", sha256="f" * 64)
    Chapter.objects.bulk_create(
        Chapter(novel=novel, number=i, title=f"第{i}章", text="") for i in range(1, 101)
    )
    Character.objects.bulk_create(
        Character(novel=novel, name=f"人物{i}", aliases=[f"别名{i}"], mention_count=nodes - i,
                  first_chapter=1 + i % 100, rank=i)
        for i in range(nodes)
    )  # fmt: skip
    ids = list(novel.characters.order_by("rank").values_list("pk", flat=True))
    pairs = [(a, b) for gap in range(1, nodes) for a, b in zip(ids, ids[gap:], strict=False)]
    Relation.objects.bulk_create(
        Relation(novel=novel, source_id=a, target_id=b, pair_key=Relation.key_for(a, b),
                 type="ally", cooccurrence=1 + k % 40, first_chapter=1 + k % 100,
                 last_chapter=100, evidence="依据" * 20,
                 snippets=[{"chapter": 1 + c * 30, "text": "片段" * 60} for c in range(3)])
        for k, (a, b) in enumerate(pairs[:edges])
    )  # fmt: skip
    RelationPhase.objects.bulk_create(
        RelationPhase(relation=r, from_chapter=f, to_chapter=f + 20, type=t, event="事件" * 20)
        for r in novel.relations.all()
        for f, t in [(10, "ally"), (50, "enemy")]
    )
    return novel


def test_a_500_node_2000_edge_graph_is_served_in_a_dozen_queries(
    staff_client, django_assert_max_num_queries
) -> None:
    novel = big_novel()
    with django_assert_max_num_queries(12):
        response = staff_client.get(data_url(novel))
    data = response.json()
    assert (len(data["nodes"]), len(data["edges"])) == (500, 2000)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("长子", True), ("次女", True), ("夫人", True), ("二弟", True), ("孙悟空", False),
     ("沈青锋", False), ("唐僧", False)],
)  # fmt: skip
def test_role_words_are_told_from_names_for_the_community_legend(name, expected) -> None:
    assert views.role_word(name) is expected


def test_every_attribute_key_the_pipeline_writes_has_a_chinese_label() -> None:
    assert {*prompts.ATTRIBUTE_KEYS, "aliases"} <= set(views.ATTRIBUTE_LABELS)


# --- metrics ---------------------------------------------------------------------------------


def test_metrics_count_ties_weigh_them_by_cooccurrence_and_find_the_bridge() -> None:
    values = metrics.compute(two_cliques())
    assert values["丙"]["degree"] == 3
    assert values["甲"]["weighted_degree"] == 5 + 5 + 3
    assert max(values, key=lambda n: values[n]["betweenness"]) in {"丙", "丁"}
    assert values["戊"]["betweenness"] == 0
    assert values["甲"]["community"] == values["乙"]["community"] == values["丙"]["community"]
    assert values["丁"]["community"] == values["己"]["community"] != values["甲"]["community"]
    assert values["甲"]["community"] == 0  # the largest community comes first


def test_metrics_of_an_empty_graph_and_of_isolated_characters() -> None:
    assert metrics.compute(nx.DiGraph()) == {}
    graph = nx.DiGraph()
    graph.add_nodes_from(["甲", "乙"])
    values = metrics.compute(graph)
    assert values["甲"] == {"degree": 0, "weighted_degree": 0, "betweenness": 0, "community": 0}
    assert values["乙"]["community"] == 1


def test_big_graphs_sample_betweenness_with_a_fixed_seed() -> None:
    graph = nx.gnm_random_graph(metrics.SAMPLE_ABOVE + 50, 1200, seed=1, directed=True)
    nx.set_edge_attributes(graph, 2, "cooccurrences")
    first = metrics.compute(graph)
    assert metrics.compute(graph) == first
    ties = nx.Graph()
    ties.add_nodes_from(graph)
    ties.add_edges_from(graph.edges())
    sampled = nx.betweenness_centrality(ties, k=metrics.SAMPLE_K, seed=metrics.SEED)
    exact = nx.betweenness_centrality(ties)
    assert all(first[n]["betweenness"] == round(sampled[n], 6) for n in graph)
    assert any(first[n]["betweenness"] != round(exact[n], 6) for n in graph)


def test_the_admin_columns_give_the_numbers_of_the_exported_graph(sample) -> None:
    from graph.admin.characters import attach_metrics

    characters = list(sample.characters.all())
    attach_metrics(characters)
    expected = metrics.compute(export.build_graph(sample))
    assert {c.name: c.graph_metrics for c in characters} == expected


@pytest.mark.parametrize("fmt", ["json", "graphml", "gexf", "csv"])
def test_every_export_carries_the_metrics(sample, tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"graph.{fmt}"
    export.write_graph(sample, fmt, path)
    expected = metrics.compute(export.build_graph(sample))["沈青锋"]
    if fmt == "json":
        node = next(n for n in json.loads(path.read_text("utf-8"))["nodes"] if n["id"] == "沈青锋")
    elif fmt == "csv":
        import csv

        with export.nodes_path(path).open(encoding="utf-8-sig", newline="") as stream:
            node = next(r for r in csv.DictReader(stream) if r["name"] == "沈青锋")
    else:
        graph = nx.read_graphml(path) if fmt == "graphml" else nx.read_gexf(path)
        node = graph.nodes["沈青锋"]
    for key in metrics.KEYS:
        assert float(node[key]) == pytest.approx(expected[key]), key


# --- admin -----------------------------------------------------------------------------------


def test_the_character_list_computes_the_metrics_once_per_novel(
    admin_client, sample, monkeypatch
) -> None:
    other = Novel.objects.create(title="空书", sha256="e" * 64)
    Character.objects.create(novel=other, name="路人")
    calls: list[int] = []
    compute = metrics.compute
    monkeypatch.setattr(metrics, "compute", lambda g: calls.append(1) or compute(g))
    response = admin_client.get(reverse("admin:graph_character_changelist"))
    text = response.content.decode()
    assert len(calls) == 2
    for header in ("度", "加权度", "介数中心性", "社群"):
        assert f">{header}<" in text.replace("</a>", "<")
    hero = metrics.compute(export.build_graph(sample))["沈青锋"]
    assert f'<td class="field-weighted_degree">{hero["weighted_degree"]}</td>' in text


def test_the_character_page_shows_the_metrics(admin_client, sample) -> None:
    hero = sample.characters.get(name="沈青锋")
    response = admin_client.get(reverse("admin:graph_character_change", args=[hero.pk]))
    text = response.content.decode()
    assert response.status_code == 200
    assert "介数中心性" in text and "加权度" in text
    values = metrics.compute(export.build_graph(sample))["沈青锋"]
    assert f'<div class="readonly">{values["weighted_degree"]}</div>' in text
