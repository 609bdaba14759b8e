"""EDGES -> graph objects. The only place the account graph is built."""

from __future__ import annotations

from typing import Any

import networkx as nx
import polars as pl

__all__ = ["to_igraph", "to_networkx"]


def to_networkx(edges: pl.DataFrame) -> nx.Graph:
    """An undirected weighted graph, nodes and edges added in sorted order (deterministic).

    Examples
    --------
    >>> g = to_networkx(pl.DataFrame({"src": ["a"], "dst": ["b"], "weight": [0.5], "n_shared": [3]}))
    >>> sorted(g.edges(data="weight"))
    [('a', 'b', 0.5)]
    """
    graph = nx.Graph()
    ordered = edges.sort("src", "dst")
    graph.add_nodes_from(sorted(set(ordered["src"].to_list()) | set(ordered["dst"].to_list())))
    for src, dst, weight, n_shared in ordered.select("src", "dst", "weight", "n_shared").iter_rows():
        graph.add_edge(src, dst, weight=float(weight), n_shared=int(n_shared))
    return graph


def to_igraph(edges: pl.DataFrame) -> tuple[Any, list[str]]:
    """An igraph Graph (vertex i = names[i], names sorted) for fast Leiden clustering."""
    import igraph as ig

    ordered = edges.sort("src", "dst")
    names = sorted(set(ordered["src"].to_list()) | set(ordered["dst"].to_list()))
    index = {name: i for i, name in enumerate(names)}
    graph = ig.Graph(n=len(names), edges=[(index[a], index[b]) for a, b in ordered.select("src", "dst").iter_rows()])
    graph.es["weight"] = ordered["weight"].to_list()
    return graph, names
