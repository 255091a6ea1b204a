"""The character graph of a novel as a networkx graph, and its files: JSON, GraphML, GEXF, CSV.

The graph is an `nx.DiGraph` with one node per Character (node id = canonical name, unique per novel)
and one edge per Relation, from `source` to `target` as stored: for directed types (`directed=True`
on the edge: 师徒, 亲属, 主仆) the source is the senior side. A Relation is unique per unordered pair,
so the DiGraph never holds both a->b and b->a; for undirected types the order carries no meaning.
A DiGraph (rather than a Graph, whose edge iteration does not keep the stored order) is what lets
every format, node-link JSON included, say "source" and "target" in the stored order.

Every export carries the metrics of `graph.metrics` as node attributes (`degree`, `weighted_degree`,
`betweenness`, `community`, all scalars); `build_graph` alone leaves them out (see `metric_graph`).

Formats:
- `json`: networkx node-link data (`edges` key), UTF-8, Chinese kept readable; lists and dicts as is.
- `graphml`, `gexf`: these carry only scalars, so lists/dicts become JSON strings and empty values are
  left out. GEXF reserves the edge attribute `type` (directed/undirected), so there the Chinese
  relation label goes to the edge `label` (shown by Gephi) and `type_code` keeps the code.
- `csv`: one row per relation (`EDGE_COLUMNS`, phases as "3-7:盟友;8-20:敌对"); written to a path, a
  second file `<stem>_nodes.csv` holds the characters (`NODE_COLUMNS`, then one column per attribute
  key; an attribute key that is also a node column, such as the model's `aliases`, gets the prefix
  `attribute_`). Files get a UTF-8 BOM so that Excel opens them as UTF-8; a stream gets only the
  edges, without BOM.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import networkx as nx

from graph import metrics, taxonomy
from graph.models import Character, Novel, Relation

FORMATS = ("json", "graphml", "gexf", "csv")
EDGE_COLUMNS = ["source", "target", "type", "confidence", "cooccurrences", "first_chapter",
                "last_chapter", "origin", "phases", "provisional"]  # fmt: skip
NODE_COLUMNS = ["name", "aliases", "mentions", "first_chapter", "last_chapter", *metrics.KEYS]
LIST_SEPARATOR = ";"
ATTRIBUTE_PREFIX = "attribute_"  # for an attribute key that is also a node column


def build_graph(novel: Novel) -> nx.DiGraph:
    """The graph of `novel` in four queries (characters, attributes, relations, phases)."""
    return build_graphs([novel])[novel.pk]


def build_graphs(novels: Iterable[Novel]) -> dict[int, nx.DiGraph]:
    """The graphs of several novels, by novel id, in the same four queries (admin lists)."""
    graphs = {
        novel.pk: nx.DiGraph(name=novel.title, novel_id=novel.pk, provisional=novel.provisional)
        for novel in novels
    }
    characters = (
        Character.objects.filter(novel_id__in=graphs)
        .people()  # names judged not to be people stay in the database, out of the graph
        .prefetch_related("attributes")
        .order_by("rank", "name")
    )
    for character in characters:
        graphs[character.novel_id].add_node(
            character.name,
            name=character.name,
            aliases=[a for a in character.aliases if a != character.name],
            mentions=character.mention_count,
            first_chapter=character.first_chapter,
            last_chapter=character.last_chapter,
            attributes={a.key: a.value for a in character.attributes.all()},
        )
    relations = (
        Relation.objects.filter(novel_id__in=graphs, source__is_person=True, target__is_person=True)
        .select_related("source", "target")
        .prefetch_related("phases")
        .defer("snippets", "source__aliases", "target__aliases")
        .order_by("-cooccurrence", "pk")
    )
    for relation in relations:
        graphs[relation.novel_id].add_edge(
            relation.source.name,
            relation.target.name,
            type=taxonomy.label(relation.type),
            type_code=relation.type,
            directed=relation.type in taxonomy.DIRECTED,
            confidence=relation.confidence,
            cooccurrences=relation.cooccurrence,
            first_chapter=relation.first_chapter,
            last_chapter=relation.last_chapter,
            origin=relation.origin,
            evidence=relation.evidence,
            phases=[
                {
                    "from": phase.from_chapter,
                    "to": phase.to_chapter,
                    "type": taxonomy.label(phase.type),
                    "event": phase.event,
                }
                for phase in relation.phases.all()
            ],
        )
    return graphs


def metric_graph(novel: Novel) -> nx.DiGraph:
    """`build_graph` with the metrics of `graph.metrics` on every node."""
    return metrics.annotate(build_graph(novel))


def node_link(graph: nx.DiGraph) -> dict[str, Any]:
    """Node-link data; node dicts start with "id", edge dicts with "source" and "target"."""
    data = nx.node_link_data(graph, edges="edges")
    data["nodes"] = [{"id": n.pop("id"), **n} for n in data["nodes"]]
    data["edges"] = [
        {"source": e.pop("source"), "target": e.pop("target"), **e} for e in data["edges"]
    ]
    return data


def scalar_graph(graph: nx.DiGraph, gexf: bool = False) -> nx.DiGraph:
    """A copy carrying only scalars: lists/dicts as JSON strings, None and empty values left out."""

    def flat(data: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for key, value in data.items():
            if value is None or value == "" or value == [] or value == {}:
                continue
            if isinstance(value, list | dict):
                value = json.dumps(value, ensure_ascii=False)
            out[key] = value
        return out

    flat_graph = nx.DiGraph(**flat(graph.graph))
    for node, data in graph.nodes(data=True):
        flat_graph.add_node(node, **flat(data))
    for source, target, data in graph.edges(data=True):
        data = flat(data)
        if gexf:  # GEXF's own edge `type` means directed/undirected: the label goes to `label`
            data["label"] = data.pop("type")
        flat_graph.add_edge(source, target, **data)
    return flat_graph


def phases_text(phases: list[dict[str, Any]]) -> str:
    return LIST_SEPARATOR.join(f"{p['from']}-{p['to']}:{p['type']}" for p in phases)


def write_edges_csv(graph: nx.DiGraph, stream: IO[str]) -> None:
    writer = csv.writer(stream)
    writer.writerow(EDGE_COLUMNS)
    for source, target, data in graph.edges(data=True):
        row = {**data, "source": source, "target": target, "phases": phases_text(data["phases"])}
        row["provisional"] = bool(graph.graph.get("provisional"))
        writer.writerow(["" if row[c] is None else row[c] for c in EDGE_COLUMNS])


def attribute_column(key: str) -> str:
    """The node CSV column of an attribute key, never one of NODE_COLUMNS."""
    return ATTRIBUTE_PREFIX + key if key in NODE_COLUMNS else key


def write_nodes_csv(graph: nx.DiGraph, stream: IO[str]) -> None:
    """One row per character; each attribute key found in the novel gets its own column."""
    keys = sorted({key for _, data in graph.nodes(data=True) for key in data["attributes"]})
    writer = csv.writer(stream)
    writer.writerow(NODE_COLUMNS + [attribute_column(key) for key in keys])
    for _, data in graph.nodes(data=True):
        row = {**data, "aliases": LIST_SEPARATOR.join(data["aliases"])}
        cells = ["" if row.get(c) is None else row[c] for c in NODE_COLUMNS]
        writer.writerow(cells + [data["attributes"].get(key, "") for key in keys])


def nodes_path(path: Path) -> Path:
    """Where the node CSV goes next to the edge CSV `path`: `graph.csv` -> `graph_nodes.csv`."""
    return path.with_name(f"{path.stem}_nodes{path.suffix or '.csv'}")


def render(graph: nx.DiGraph, fmt: str) -> str:
    """The graph in `fmt` as text (for csv: the edges)."""
    if fmt == "json":
        return json.dumps(node_link(graph), ensure_ascii=False, indent=2) + "\n"
    if fmt in ("graphml", "gexf"):
        # The writers (unlike nx.generate_*) keep Chinese as UTF-8 instead of &#NNNN; references.
        buffer = io.BytesIO()
        if fmt == "graphml":
            nx.write_graphml(scalar_graph(graph), buffer)
        else:
            nx.write_gexf(scalar_graph(graph, gexf=True), buffer)
        return buffer.getvalue().decode("utf-8")
    if fmt == "csv":
        buffer = io.StringIO(newline="")
        write_edges_csv(graph, buffer)
        return buffer.getvalue()
    raise ValueError(f"未知格式 (unknown format): {fmt}")


def write_graph(novel: Novel, fmt: str, stream_or_path: IO[str] | str | Path) -> nx.DiGraph:
    """Write the graph of `novel` in `fmt` to a text stream or a file; returns the graph.

    Files are UTF-8 (CSV files with a BOM); a CSV written to a path gets its `_nodes.csv` sibling.
    """
    if fmt not in FORMATS:
        raise ValueError(f"未知格式 (unknown format): {fmt}")
    graph = metric_graph(novel)
    text = render(graph, fmt)
    if not isinstance(stream_or_path, str | Path):
        stream_or_path.write(text)
        return graph
    path = Path(stream_or_path)
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    with path.open("w", encoding=encoding, newline="") as stream:
        stream.write(text)
    if fmt == "csv":
        with nodes_path(path).open("w", encoding=encoding, newline="") as stream:
            write_nodes_csv(graph, stream)
    return graph
