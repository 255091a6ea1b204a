"""Per-character network metrics of a novel's graph: degree, weighted degree, betweenness, community.

Computed on the undirected view of `export.build_graph(novel)` (a relation is one tie whatever its
direction); the weight of a tie is its co-occurrence count.

- `degree`: number of related characters; `weighted_degree`: sum of the co-occurrences of those ties.
- `betweenness`: normalised, on hops, *unweighted*. networkx reads an edge weight as a length, while
  co-occurrences measure closeness; inverting them would let a few very frequent pairs (always the
  protagonist's) decide every shortest path. Hops ask the question we want: who bridges groups of
  characters that otherwise do not meet. Past `SAMPLE_ABOVE` nodes it is estimated from `SAMPLE_K`
  sources with a fixed seed, so the numbers are stable and a 500-node graph stays fast.
- `community`: Louvain (weighted by co-occurrences, fixed seed), numbered 0, 1, … by size, largest
  first (ties: the community holding the earliest node of the graph, i.e. the best-ranked character).
"""

from __future__ import annotations

from typing import Any

import networkx as nx

SEED = 20240601
SAMPLE_ABOVE = 300
SAMPLE_K = 100
WEIGHT = "cooccurrences"
KEYS = ("degree", "weighted_degree", "betweenness", "community")


def compute(graph: nx.DiGraph) -> dict[Any, dict[str, int | float]]:
    """Metrics per node of `graph`: {node: {"degree", "weighted_degree", "betweenness", "community"}}."""
    ties = nx.Graph()
    ties.add_nodes_from(graph)
    ties.add_edges_from(
        (source, target, {WEIGHT: data.get(WEIGHT) or 0})
        for source, target, data in graph.edges(data=True)
    )
    n = ties.number_of_nodes()
    sample = {"k": SAMPLE_K, "seed": SEED} if n > SAMPLE_ABOVE else {}
    betweenness = nx.betweenness_centrality(ties, normalized=True, **sample) if n else {}
    community = communities(ties)
    return {
        node: {
            "degree": ties.degree(node),
            "weighted_degree": ties.degree(node, weight=WEIGHT),
            "betweenness": round(betweenness[node], 6),
            "community": community[node],
        }
        for node in ties
    }


def communities(ties: nx.Graph) -> dict[Any, int]:
    """Louvain communities as {node: id}, ids by size (largest first), then by first member."""
    if not ties.number_of_edges():
        return {node: i for i, node in enumerate(ties)}
    groups = nx.community.louvain_communities(ties, weight=WEIGHT, seed=SEED)
    order = {node: i for i, node in enumerate(ties)}
    groups = sorted(groups, key=lambda g: (-len(g), min(order[node] for node in g)))
    return {node: i for i, group in enumerate(groups) for node in group}


def annotate(graph: nx.DiGraph) -> nx.DiGraph:
    """Add the metrics to the node attributes of `graph` (in place); returns `graph`."""
    nx.set_node_attributes(graph, compute(graph))
    return graph
