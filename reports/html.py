"""Offline investigator report: an index page and one pyvis graph per cluster, plus an overview graph.

Every platform string (handles, names, captions, URLs) is `html.escape`d before it reaches a page; the
pages load no external resource (pyvis' in-line mode still links Bootstrap from a CDN — removed here).
Layouts are precomputed (igraph, seeded); physics is off for large clusters so 2,000 nodes stay readable.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import SchemaError

__all__ = ["write_report"]

PLATFORM_COLOURS = {"x": "#1d9bf0", "telegram": "#27a7e7", "tiktok": "#ee1d52", "facebook": "#1877f2"}
PLATFORM_SHAPES = {"x": "dot", "telegram": "triangle", "tiktok": "diamond", "facebook": "square"}
SIGNAL_COLOURS = {"co_url": "#e67e22", "co_repost": "#8e44ad", "co_caption": "#c0392b", "co_media": "#16a085",
                  "co_hashtags": "#7f8c8d", "co_sound": "#d35400"}
CLUSTER_PALETTE = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#46f0f0", "#f032e6", "#bcf60c",
                   "#008080", "#9a6324", "#800000", "#808000", "#000075", "#808080"]
PHYSICS_MAX_NODES = 150
_CDN = re.compile(r"\s*<link[^>]*https?://[^>]*>|\s*<script[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>", re.S)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _safe_url(url: Any) -> str | None:
    text = str(url or "")
    return text if text.startswith(("https://", "http://", "tg://")) else None


def write_report(out: Path, *, clusters: pl.DataFrame, members: pl.DataFrame, edges: pl.DataFrame,
                 accounts: pl.DataFrame, posts: pl.DataFrame, evidence: pl.DataFrame, max_edges: int = 4000,
                 include_unflagged: bool = True, seed: int = 42) -> list[Path]:
    """Write ``index.html``, ``overview.html`` and ``cluster-<id>.html`` files into `out`."""
    for name, frame, cols in (("clusters", clusters, ["cluster_id", "rank", "score", "size", "components"]),
                              ("members", members, ["cluster_id", "account_uid"]),
                              ("edges", edges, ["src", "dst", "weight", "signals"]),
                              ("accounts", accounts, ["uid", "platform", "handle", "profile_url"]),
                              ("posts", posts, ["uid", "account_uid", "created_at", "text"])):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name} frame lacks column(s): {', '.join(missing)}")
    out.mkdir(parents=True, exist_ok=True)
    shown = clusters if include_unflagged else clusters.filter(pl.col("flagged"))
    acc = {r["uid"]: r for r in accounts.iter_rows(named=True)}
    activity = dict(posts.group_by("account_uid").agg(pl.len()).iter_rows())
    written = []
    for row in shown.iter_rows(named=True):
        uids = members.filter(pl.col("cluster_id") == row["cluster_id"])["account_uid"].to_list()
        sub = edges.filter(pl.col("src").is_in(uids) & pl.col("dst").is_in(uids))
        ev = evidence.filter(pl.col("src").is_in(uids) & pl.col("dst").is_in(uids))
        path = out / f"cluster-{row['cluster_id']}.html"
        _graph_page(path, f"Cluster {row['cluster_id']} (rank {row['rank']}, score {row['score']:.2f})", uids, sub,
                    acc, activity, ev, posts, colour_by="platform", max_edges=max_edges, seed=seed)
        written.append(path)
    all_uids = members.join(shown.select("cluster_id"), on="cluster_id", how="semi")
    cluster_of = dict(all_uids.select("account_uid", "cluster_id").iter_rows())
    overview_edges = edges.filter(pl.col("src").is_in(list(cluster_of)) & pl.col("dst").is_in(list(cluster_of)))
    _graph_page(out / "overview.html", "Overview: all clusters", sorted(cluster_of), overview_edges, acc, activity,
                evidence.head(0), posts, colour_by="cluster", cluster_of=cluster_of,
                cluster_order=shown["cluster_id"].to_list(), max_edges=max_edges, seed=seed)
    written.append(out / "overview.html")
    (out / "index.html").write_text(_index(shown, members, posts, acc), "utf-8")
    return [out / "index.html", *written]


def _layout(uids: list[str], edges: pl.DataFrame, seed: int) -> dict[str, tuple[float, float]]:
    import random

    import igraph as ig

    index = {u: i for i, u in enumerate(uids)}
    graph = ig.Graph(n=len(uids), edges=[(index[a], index[b]) for a, b in edges.select("src", "dst").iter_rows()
                                         if a in index and b in index])
    ig.set_random_number_generator(random.Random(seed))
    try:
        coords = graph.layout_drl() if len(uids) > 1000 else graph.layout_fruchterman_reingold(niter=300)
    finally:
        ig.set_random_number_generator(random)
    scale = 90.0 * max(1.0, len(uids) ** 0.5)
    xs = [c[0] for c in coords] or [0.0]
    ys = [c[1] for c in coords] or [0.0]
    span = max(max(xs) - min(xs), max(ys) - min(ys), 1e-9)
    return {u: ((coords[i][0] - min(xs)) / span * scale, (coords[i][1] - min(ys)) / span * scale)
            for i, u in enumerate(uids)}


def _graph_page(path: Path, heading: str, uids: list[str], edges: pl.DataFrame, acc: dict[str, Any],
                activity: dict[str, int], evidence: pl.DataFrame, posts: pl.DataFrame, *, colour_by: str,
                max_edges: int, seed: int, cluster_of: dict[str, str] | None = None,
                cluster_order: list[str] | None = None) -> None:
    from pyvis.network import Network

    top = edges.sort(["weight", "src", "dst"], descending=[True, False, False]).head(max_edges)
    pos = _layout(uids, top, seed)
    physics = len(uids) <= PHYSICS_MAX_NODES
    net = Network(height="85vh", width="100%", cdn_resources="in_line", heading="", directed=False)
    colours = {cid: CLUSTER_PALETTE[i % len(CLUSTER_PALETTE)] for i, cid in enumerate(cluster_order or [])}
    captions = _captions(evidence, posts)
    for uid in uids:
        a = acc.get(uid) or {}
        platform = a.get("platform") or uid.split(":", 1)[0]
        n = activity.get(uid, 0)
        colour = colours.get((cluster_of or {}).get(uid, ""), "#999") if colour_by == "cluster" \
            else PLATFORM_COLOURS.get(platform, "#999")
        x, y = pos.get(uid, (0.0, 0.0))
        # Labels are drawn on the canvas as plain text (never parsed as HTML) and pyvis embeds them as
        # \u003c-escaped JSON, so they stay raw for readability; tooltips are HTML and are escaped.
        net.add_node(uid, label=str(a.get("handle") or a.get("account_id") or uid)[:40] if len(uids) <= 300 else " ",
                     title=_tooltip(uid, a, platform, n, captions.get(uid, [])), color=colour,
                     shape=PLATFORM_SHAPES.get(platform, "dot"), size=5 + min(15, 1.5 * (n ** 0.5)), x=x, y=y,
                     physics=physics, url=_safe_url(a.get("profile_url")) or "")
    for src, dst, weight, signals, n_shared, gap in top.select(
            "src", "dst", "weight", "signals", "n_shared", "median_gap_s").iter_rows():
        main = signals[0] if signals else "co_url"
        net.add_edge(src, dst, width=0.5 + 2.5 * float(weight), color=SIGNAL_COLOURS.get(main, "#aaa"),
                     title=_e(f"{', '.join(signals)} — weight {weight:.2f}, {n_shared} shared items, "
                              f"median gap {gap:.0f} s"))
    net.set_options(json.dumps({
        "physics": {"enabled": physics, "stabilization": {"iterations": 150}},
        "edges": {"smooth": False, "color": {"inherit": False}},
        "nodes": {"font": {"size": 12}},
        "interaction": {"hover": True, "tooltipDelay": 120, "hideEdgesOnDrag": len(uids) > PHYSICS_MAX_NODES},
    }))
    page = _CDN.sub("", net.generate_html(notebook=False))
    page = page.replace("<h1></h1>", "").replace("</body>", _CLICK_JS + "</body>", 1)
    page = page.replace("<head>", f"<head><title>{_e(heading)}</title>", 1).replace(
        "<body>", f"<body><h2 style=\"font-family:sans-serif\">{_e(heading)}</h2>"
                  f"<p style=\"font-family:sans-serif\"><a href=\"index.html\">← all clusters</a></p>", 1)
    path.write_text(page, "utf-8")


_CLICK_JS = """<script>
(function () {
  if (typeof network === "undefined" || network === null) { return; }
  // Tooltips were escaped server-side; turn them into elements so vis shows their line breaks.
  nodes.get().forEach(function (n) {
    if (typeof n.title === "string") { var d = document.createElement("div"); d.innerHTML = n.title; nodes.update({id: n.id, title: d}); }
  });
  network.on("click", function (params) {
    if (params.nodes.length === 1) {
      var url = nodes.get(params.nodes[0]).url;
      if (url && /^(https?:|tg:)/.test(url)) { window.open(url, "_blank", "noopener"); }
    }
  });
})();
</script>
"""


def _captions(evidence: pl.DataFrame, posts: pl.DataFrame) -> dict[str, list[tuple[str, str, float]]]:
    """Per account, up to three (post uid, caption, gap) evidence items for the tooltip."""
    if evidence.height == 0:
        return {}
    items = pl.concat([evidence.select(account="src", post="post_a", gap="gap_s"),
                       evidence.select(account="dst", post="post_b", gap="gap_s")])
    items = (items.join(posts.select(post="uid", text="text"), on="post", how="left")
             .sort("account", "gap", "post").group_by("account", maintain_order=True).head(3))
    out: dict[str, list[tuple[str, str, float]]] = {}
    for account, post, gap, text in items.select("account", "post", "gap", "text").iter_rows():
        out.setdefault(account, []).append((post, (text or "")[:140], gap))
    return out


def _tooltip(uid: str, a: dict[str, Any], platform: str, n_posts: int, items: list[tuple[str, str, float]]) -> str:
    created = a.get("created_at")
    lines = [f"<b>{_e(a.get('handle') or a.get('account_id') or uid)}</b> ({_e(platform)})",
             f"id: {_e(a.get('account_id') or uid)}",
             f"created: {_e(created.strftime('%Y-%m-%d') if created else 'unknown')}", f"posts: {n_posts}"]
    for post, text, gap in items:
        lines.append(f"• {_e(post)} (gap {gap:.0f} s): {_e(text)}")
    return "<br>".join(lines)


def _index(clusters: pl.DataFrame, members: pl.DataFrame, posts: pl.DataFrame, acc: dict[str, Any]) -> str:
    rows = []
    for row in clusters.iter_rows(named=True):
        comp = json.loads(row["components"])
        bars = "".join(f"<div class=bar title=\"{_e(k)} {v:.2f}\"><span style=\"width:{100 * v:.0f}%\"></span>"
                       f"<em>{_e(k)} {v:.2f}</em></div>" for k, v in sorted(comp.items()))
        uids = members.filter(pl.col("cluster_id") == row["cluster_id"])["account_uid"].to_list()
        svg = _timeline_svg(posts.filter(pl.col("account_uid").is_in(uids)), uids)
        flag = "FLAGGED" if row["flagged"] else "below threshold"
        rows.append(
            f"<tr class=\"{'flagged' if row['flagged'] else ''}\"><td>{row['rank']}</td>"
            f"<td><a href=\"cluster-{_e(row['cluster_id'])}.html\">{_e(row['cluster_id'])}</a><br><small>{flag}</small>"
            f"</td><td>{row['score']:.2f}<div class=comp>{bars}</div></td><td>{row['size']}</td>"
            f"<td>{_e(', '.join(row['platforms']))}</td><td>{_e(', '.join(row['signals']))}</td>"
            f"<td>{svg}<p class=expl>{_e(row['explanation'])}</p></td></tr>")
    return (_INDEX_HEAD + f"<p>{clusters.height} clusters, {int(clusters['flagged'].sum() or 0)} flagged. "
            "<a href=\"overview.html\">Overview graph</a></p><table><thead><tr><th>#</th><th>cluster</th>"
            "<th>score &amp; components</th><th>size</th><th>platforms</th><th>signals</th>"
            "<th>posting times (one row per account)</th></tr></thead><tbody>" + "".join(rows)
            + "</tbody></table></body></html>")


def _timeline_svg(posts: pl.DataFrame, uids: list[str], width: int = 520, max_rows: int = 60) -> str:
    """Posting times, one row per account: vertical stripes are synchrony."""
    if posts.height == 0:
        return ""
    shown = uids[:max_rows]
    row_of = {u: i for i, u in enumerate(shown)}
    ts = posts.select("account_uid", t=pl.col("created_at").dt.epoch("s")).filter(pl.col("account_uid").is_in(shown))
    times = ts["t"].to_list()
    lo, hi = (min(times), max(times)) if times else (0, 0)
    span = max(1, hi - lo)
    height = 4 + 4 * len(shown)
    dots = "".join(f"<rect x=\"{(t - lo) / span * (width - 4):.1f}\" y=\"{2 + 4 * row_of[u]}\" width=\"2\" height=\"3\"/>"
                   for u, t in ts.iter_rows())
    return (f"<svg class=timeline width=\"{width}\" height=\"{height}\" role=\"img\"><title>posts over time</title>"
            f"<rect width=\"100%\" height=\"100%\" fill=\"#f6f6f6\"/><g fill=\"#c0392b\">{dots}</g></svg>")


_INDEX_HEAD = """<!doctype html><html><head><meta charset="utf-8"><title>cib report</title><style>
body{font-family:sans-serif;margin:1.5em} table{border-collapse:collapse;width:100%} td,th{border-bottom:1px solid #ddd;
padding:6px;vertical-align:top;text-align:left} tr.flagged td:first-child{border-left:4px solid #c0392b}
.comp{width:180px}.bar{position:relative;height:14px;background:#eee;margin:2px 0;font-size:10px}
.bar span{position:absolute;left:0;top:0;bottom:0;background:#f1948a}.bar em{position:relative;padding-left:3px}
.expl{max-width:520px;font-size:12px;color:#333}</style></head><body><h1>cib — coordinated clusters</h1>"""
