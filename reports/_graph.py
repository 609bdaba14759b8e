"""Graph data for a page: pyvis nodes/edges from rows, a precomputed seeded layout, labels and edge thinning.

The page script (``static/report.js``) draws it with vis-network; physics is off, so the precomputed layout is
what the investigator sees, scaled to the viewport by ``fit()``. Crowded graphs keep labels only for the
strongest members (and leaders, when the detector marks them); every label shows on hover. Dense graphs
draw each member's strongest ties only; the page says how many edges are drawn out of how many.
"""

from __future__ import annotations

import json
import random
from typing import Any

import polars as pl

__all__ = ["CLUSTER_PALETTE", "PLATFORM_COLOURS", "PLATFORM_SHAPES", "SIGNAL_COLOURS", "graph_json"]

PLATFORM_COLOURS = {"x": "#1d9bf0", "telegram": "#27a7e7", "tiktok": "#ee1d52", "facebook": "#1877f2"}
PLATFORM_SHAPES = {"x": "dot", "telegram": "triangle", "tiktok": "diamond", "facebook": "square"}
SHAPE_GLYPHS = {"dot": "●", "triangle": "▲", "diamond": "◆", "square": "■"}
SIGNAL_COLOURS = {"co_url": "#e67e22", "co_repost": "#8e44ad", "co_caption": "#c0392b", "co_media": "#16a085",
                  "co_hashtags": "#7f8c8d", "co_sound": "#d35400",
                  "co_caption_xlingual": "#e84393"}
SIGNAL_NAMES = {"co_url": "same link", "co_repost": "same repost / forward", "co_caption": "same caption",
                "co_media": "same picture / video", "co_hashtags": "same hashtag set", "co_sound": "same sound",
                "co_caption_xlingual": "same narrative, other languages"}
CLUSTER_PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
                   "#008080", "#9a6324", "#800000", "#808000", "#000075", "#808080"]
LABEL_ALL_UP_TO = 40  # members; above this only the strongest LABEL_TOP (and leaders) keep a permanent label
LABEL_TOP = 12
THIN_ABOVE_NODES = 30  # thin edges of graphs larger than this and denser than THIN_DENSITY
THIN_DENSITY = 0.15
TIES_PER_NODE = 3


def graph_json(members: pl.DataFrame, edges: pl.DataFrame, *, max_edges: int, seed: int,
               colours: dict[str, str] | None = None) -> tuple[str, dict[str, int]]:
    """JSON (safe inside ``<script type=application/json>``) for the page script, and drawn/total edge counts.

    `members` has one row per node: ``uid``, ``platform``, ``handle``, ``posts``, ``strength`` and optionally
    ``role``/``created_at``/``followers``; `colours` maps uid -> node colour (default: platform colour).
    """
    from pyvis.network import Network

    uids = members["uid"].to_list()
    top = edges.sort(["weight", "src", "dst"], descending=[True, False, False]).head(max_edges)
    n = len(uids)
    density = top.height / (n * (n - 1) / 2) if n > 1 else 0.0
    drawn = _thin(top) if n > THIN_ABOVE_NODES and density > THIN_DENSITY else top
    pos = _layout(uids, drawn, seed)
    labelled = set(members.sort(["strength", "uid"], descending=[True, False]).head(LABEL_TOP)["uid"].to_list()) \
        if n > LABEL_ALL_UP_TO else set(uids)
    net = Network(directed=False)
    for m in members.iter_rows(named=True):
        uid = m["uid"]
        platform = m.get("platform") or uid.split(":", 1)[0]
        name = str(m.get("handle") or m.get("display_name") or m.get("account_id") or uid)[:40]
        leader = (m.get("role") or "") == "leader"
        x, y = pos.get(uid, (0.0, 0.0))
        tip = [name, f"{platform} · {uid}", f"posts in data: {m.get('posts', 0)}",
               f"ties in cluster: {m.get('degree', 0)} (strength {m.get('strength') or 0:.2f})"]
        if m.get("role"):
            tip.append(f"role: {m['role']}")
        # Labels are drawn on the canvas as text (never parsed as HTML); the JSON is \u003c-escaped below.
        net.add_node(uid, label=name if (uid in labelled or leader) else " ", full=name, tip=tip,
                     color={"background": (colours or {}).get(uid) or PLATFORM_COLOURS.get(platform, "#999"),
                            "border": "#222" if leader else "#555"},
                     borderWidth=3 if leader else 1, shape=PLATFORM_SHAPES.get(platform, "dot"),
                     size=8 + min(14, 1.6 * (float(m.get("posts") or 0) ** 0.5)), x=x, y=y, physics=False)
    for src, dst, weight, signals, n_shared, gap in drawn.select(
            "src", "dst", "weight", "signals", "n_shared", "median_gap_s").iter_rows():
        main = signals[0] if signals else "co_url"
        net.add_edge(src, dst, width=0.5 + 3.0 * float(weight), color=SIGNAL_COLOURS.get(main, "#aaa"),
                     tip=[", ".join(SIGNAL_NAMES.get(s, s) for s in signals),
                          f"weight {weight:.2f} · {n_shared} shared items · median gap {gap or 0:.0f} s"])
    options = {"physics": {"enabled": False}, "edges": {"smooth": False, "color": {"inherit": False}},
               "nodes": {"font": {"size": 14, "strokeWidth": 3, "strokeColor": "#ffffff"}},
               "interaction": {"hover": True, "tooltipDelay": 80, "hideEdgesOnDrag": n > 150,
                               "navigationButtons": False, "multiselect": False}}
    data = {"nodes": net.nodes, "edges": net.edges, "options": options}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return _script_safe(text), {"drawn": drawn.height, "total": edges.height}


def _script_safe(text: str) -> str:
    r"""JSON that cannot close its ``<script>`` element or open a comment.

    >>> _script_safe('{"a":"</script><!--&"}')
    '{"a":"\\u003c/script\\u003e\\u003c!--\\u0026"}'
    """
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _thin(edges: pl.DataFrame) -> pl.DataFrame:
    """Each member's `TIES_PER_NODE` strongest edges (an edge stays when it is strong for either end)."""
    ends = pl.concat([edges.select("src", "dst", "weight", node="src"), edges.select("src", "dst", "weight", node="dst")])
    keep = (ends.sort(["node", "weight", "src", "dst"], descending=[False, True, False, False])
            .group_by("node", maintain_order=True).head(TIES_PER_NODE).select("src", "dst").unique())
    return edges.join(keep, on=["src", "dst"], how="semi").sort(["weight", "src", "dst"],
                                                                 descending=[True, False, False])


def _layout(uids: list[str], edges: pl.DataFrame, seed: int) -> dict[str, tuple[float, float]]:
    """Seeded igraph layout scaled to a 1000-unit square (vis-network fits it to the canvas)."""
    import igraph as ig

    index = {u: i for i, u in enumerate(uids)}
    graph = ig.Graph(n=len(uids), edges=[(index[a], index[b]) for a, b in edges.select("src", "dst").iter_rows()
                                         if a in index and b in index])
    ig.set_random_number_generator(random.Random(seed))
    try:
        coords: Any = graph.layout_drl() if len(uids) > 1000 else graph.layout_fruchterman_reingold(niter=500)
    finally:
        ig.set_random_number_generator(random)
    xs = [c[0] for c in coords] or [0.0]
    ys = [c[1] for c in coords] or [0.0]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    scale = 1000.0 * max(1.0, (len(uids) / 60) ** 0.5)
    return {u: ((coords[i][0] - min(xs)) / span * scale, (coords[i][1] - min(ys)) / span * scale)
            for i, u in enumerate(uids)}
