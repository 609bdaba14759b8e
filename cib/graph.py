"""EDGES -> graph objects. The only place the account graph is built."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import networkx as nx
import polars as pl

__all__ = ["cluster_structure", "to_igraph", "to_networkx", "write_graph"]


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


def cluster_structure(group: list[str], edges: pl.DataFrame, evidence: pl.DataFrame,
                      total_volume: float) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Per-cluster structure with networkx on the cluster's own subgraph (small, so networkx is fast enough).

    `edges` are the EDGES touching any member (inside and boundary), `evidence` the EVIDENCE rows between
    members (with ``src_first``), `total_volume` the summed weighted degree of the whole account graph.
    Returns cluster facts ``{k_core, conductance}`` and per member ``{core_number, lead_share, role}``:
    the k-core number inside the cluster; conductance = boundary weight / min(volume inside, volume outside)
    (0 = a closed group); leaders are members that acted first in at least 65 % of their co-actions.

    Examples
    --------
    >>> e = pl.DataFrame({"src": ["a", "a", "b", "c"], "dst": ["b", "c", "c", "z"], "weight": [1.0, 1.0, 1.0, 0.5],
    ...                   "n_shared": [3, 3, 3, 3]})
    >>> ev = pl.DataFrame({"src": ["a", "a", "b"], "dst": ["b", "c", "c"], "src_first": [True, True, False]})
    >>> facts, roles = cluster_structure(["a", "b", "c"], e, ev, total_volume=20.0)
    >>> facts["k_core"], facts["conductance"], roles["a"]["role"], roles["c"]["lead_share"]
    (2, 0.0769, 'peer', 0.5)
    """
    members = set(group)
    inside = edges.filter(pl.col("src").is_in(group) & pl.col("dst").is_in(group))
    sub = to_networkx(inside)
    sub.add_nodes_from(sorted(members))
    cores = nx.core_number(sub) if sub.number_of_edges() else dict.fromkeys(group, 0)
    touching = to_networkx(edges.filter(pl.col("src").is_in(group) | pl.col("dst").is_in(group)))
    inner = [u for u in group if u in touching]
    cut = nx.cut_size(touching, inner, weight="weight") if inner else 0.0
    vol_in = nx.volume(touching, inner, weight="weight") if inner else 0.0
    denominator = min(vol_in, total_volume - vol_in)
    conductance = cut / denominator if denominator > 0 else 0.0
    lead = nx.DiGraph()
    lead.add_nodes_from(sorted(members))
    timed = evidence.select("src", "dst", "src_first") if "src_first" in evidence.columns else evidence.select(
        "src", "dst", src_first=pl.lit(None, pl.Boolean))
    for src, dst, first in timed.drop_nulls().iter_rows():
        a, b = (src, dst) if first else (dst, src)
        lead.add_edge(a, b, n=lead.get_edge_data(a, b, {"n": 0})["n"] + 1)
    roles = {}
    for u in group:
        leads = sum(d["n"] for _, _, d in lead.out_edges(u, data=True))
        follows = sum(d["n"] for _, _, d in lead.in_edges(u, data=True))
        share = leads / (leads + follows) if leads + follows else 0.5
        role = "peer" if leads + follows < 3 else "leader" if share >= 0.65 else "follower" if share <= 0.35 \
            else "peer"
        roles[u] = {"core_number": int(cores.get(u, 0)), "lead_share": round(share, 4), "role": role}
    return {"k_core": int(max(cores.values(), default=0)), "conductance": round(conductance, 4)}, roles


def write_graph(path: Path, fmt: str, *, edges: pl.DataFrame, clusters: pl.DataFrame, members: pl.DataFrame,
                accounts: pl.DataFrame) -> tuple[int, int]:
    """Write the account graph as GraphML or GEXF with node and edge attributes; (nodes, edges) written.

    Nodes: ``platform, handle, cluster_id, cluster_class, cluster_score, role, core_number`` (empty when
    the account is in no cluster). Edges: ``weight, n_shared, signals`` (``;``-joined), ``expected, log10_p,
    median_gap_s``. Text attributes are written as data by networkx's XML writers (escaped, never markup).
    """
    graph = to_networkx(edges)
    info = members.join(clusters.select("cluster_id", "cluster_class", "score"), on="cluster_id", how="left")
    by_member = {r["account_uid"]: r for r in info.iter_rows(named=True)}
    acc = {r["uid"]: r for r in accounts.select("uid", "platform", "handle").iter_rows(named=True)}
    for node in graph.nodes:
        m, a = by_member.get(node, {}), acc.get(node, {})
        graph.nodes[node].update(
            platform=a.get("platform") or node.split(":", 1)[0], handle=a.get("handle") or "",
            cluster_id=m.get("cluster_id") or "", cluster_class=m.get("cluster_class") or "",
            cluster_score=float(m.get("score") or 0.0), role=m.get("role") or "",
            core_number=int(m.get("core_number") or 0))
    for row in edges.iter_rows(named=True):
        graph.edges[row["src"], row["dst"]].update(
            signals=";".join(row["signals"]), expected=float(row.get("expected") or 0.0),
            log10_p=float(row.get("log10_p") or 0.0), median_gap_s=float(row["median_gap_s"] or 0.0))
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "gexf":
        nx.write_gexf(graph, path)
    else:
        nx.write_graphml(graph, path)
    return graph.number_of_nodes(), graph.number_of_edges()
