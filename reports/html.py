"""Offline investigator report: an index page, one dossier page per cluster, and an overview graph.

Input contract: already-scored ``CLUSTERS``, ``MEMBERS``, ``EDGES`` and ``EVIDENCE`` frames plus loaded accounts,
posts and (optionally) media; nothing is scored here. Pages load only files inside the report folder
(``assets/``, ``thumbs/``): no CDN, no hot-linked media. Every platform string is ``html.escape``d; the graph
data is ``\\u003c``-escaped JSON that the page script shows with ``textContent`` only.

Page-size budget: a cluster page stays below ``PAGE_BUDGET`` bytes because every list on it is capped (edges
drawn, evidence objects and posts per object, timeline rows) and the 469 KiB vis-network script is one shared
file in ``assets/`` rather than inlined into each page.

Example (what ``cib report`` does)::

    write_report(Path("report"), clusters=store.scores("clusters"), members=store.scores("members"),
                 edges=store.scores("edges"), evidence=store.scores("evidence"), accounts=..., posts=..., media=...)
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import SchemaError
from reports._assets import Thumbnailer, write_static
from reports._dossier import class_badge, cluster_page, component_bars, e, media_section, page
from reports._dossier import evidence_table as render_evidence
from reports._facts import (
    CLASS_COLUMNS,
    CONDUCTANCE_COLUMNS,
    CORE_COLUMNS,
    ROLE_COLUMNS,
    evidence_groups,
    first_present,
    fmt_ts,
    member_facts,
    object_label,
)
from reports._graph import CLUSTER_PALETTE, PLATFORM_COLOURS, PLATFORM_SHAPES, SHAPE_GLYPHS, graph_json
from reports._timeline import timeline_svg

__all__ = ["PAGE_BUDGET", "write_report"]

PAGE_BUDGET = 2 * 2**20  # bytes per HTML page (checked by benchmarks/report.py)
OVERVIEW_MAX_NODES = 2000  # accounts drawn on overview.html (top-ranked clusters first)
MEDIA_GROUPS = 12  # repeated-media groups with thumbnails per cluster page
THUMBS_PER_GROUP = 8

_REQUIRED = {"clusters": ["cluster_id", "rank", "score", "size", "components"],
             "members": ["cluster_id", "account_uid"],
             "edges": ["src", "dst", "weight", "signals", "n_shared", "median_gap_s"],
             "accounts": ["uid", "platform", "handle", "profile_url"],
             "posts": ["uid", "account_uid", "created_at", "text"],
             "evidence": ["src", "dst", "signal", "object", "post_a", "post_b", "gap_s", "idf"]}


def write_report(out: Path, *, clusters: pl.DataFrame, members: pl.DataFrame, edges: pl.DataFrame,
                 accounts: pl.DataFrame, posts: pl.DataFrame, evidence: pl.DataFrame,
                 media: pl.DataFrame | None = None, max_edges: int = 4000, include_unflagged: bool = True,
                 seed: int = 42) -> list[Path]:
    """Write ``index.html``, ``overview.html``, ``cluster-<id>.html`` and ``assets/``/``thumbs/`` into `out`.

    `media` (``post_uid``, ``kind``, ``path``) enables thumbnails of repeated pictures and video frames.
    """
    for name, frame in (("clusters", clusters), ("members", members), ("edges", edges), ("accounts", accounts),
                        ("posts", posts), ("evidence", evidence)):
        missing = [c for c in _REQUIRED[name] if c not in frame.columns]
        if missing:
            raise SchemaError(f"{name} frame lacks column(s): {', '.join(missing)}")
    out.mkdir(parents=True, exist_ok=True)
    write_static(out)
    shown = clusters if include_unflagged or "flagged" not in clusters.columns else clusters.filter(pl.col("flagged"))
    shown = shown.sort("rank")
    mine = members.join(shown.select("cluster_id"), on="cluster_id", how="semi")
    member_posts = posts.join(mine.select("cluster_id", account_uid="account_uid"), on="account_uid")
    by_cluster = {k[0]: v for k, v in member_posts.partition_by("cluster_id", as_dict=True).items()}
    edges_in, evidence_in = _inside(edges, mine), _inside(evidence, mine)
    thumbs = Thumbnailer(out)
    names: dict[str, str] = {}
    written = []
    for row in shown.iter_rows(named=True):
        cid = row["cluster_id"]
        facts = _cluster_page(out, row, clusters, mine.filter(pl.col("cluster_id") == cid),
                              edges_in.get(cid, edges.head(0)), accounts, by_cluster.get(cid, member_posts.head(0)),
                              evidence_in.get(cid, evidence.head(0)), media, thumbs, max_edges, seed)
        names.update(facts)
        written.append(out / f"cluster-{cid}.html")
    written.append(_overview(out, shown, mine, edges, accounts, max_edges, seed))
    (out / "index.html").write_text(_index(out, shown, mine, member_posts, names), "utf-8")
    return [out / "index.html", *written]


def _inside(frame: pl.DataFrame, members: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """Rows of an edge-like frame (``src``, ``dst``) whose two ends are in the same cluster, per cluster id."""
    of = members.select("account_uid", "cluster_id")
    tagged = (frame.join(of.rename({"account_uid": "src", "cluster_id": "_c"}), on="src")
              .join(of.rename({"account_uid": "dst", "cluster_id": "_d"}), on="dst")
              .filter(pl.col("_c") == pl.col("_d")).drop("_d"))
    return {str(k[0]): v.drop("_c") for k, v in tagged.partition_by("_c", as_dict=True).items()}


def _cluster_page(out: Path, row: dict[str, Any], clusters: pl.DataFrame, members: pl.DataFrame, sub: pl.DataFrame,
                  accounts: pl.DataFrame, posts: pl.DataFrame, ev: pl.DataFrame, media: pl.DataFrame | None,
                  thumbs: Thumbnailer, max_edges: int, seed: int) -> dict[str, str]:
    """Write one dossier page; `sub` and `ev` are the edges and evidence pairs inside this cluster."""
    uids = sorted(members["account_uid"].to_list())
    role_col, core_col = first_present(members, ROLE_COLUMNS), first_present(members, CORE_COLUMNS)
    facts = member_facts(uids, accounts.filter(pl.col("uid").is_in(uids)), posts, sub, members)
    if role_col and role_col != "role":
        facts = facts.rename({role_col: "role"})
        role_col = "role"
    names = {r["uid"]: str(r.get("handle") or r.get("display_name") or r.get("account_id") or r["uid"])
             for r in facts.iter_rows(named=True)}
    graph, counts = graph_json(facts, sub, max_edges=max_edges, seed=seed)
    lines = [(r["uid"], names[r["uid"]]) for r in facts.sort("first_seen", "uid", nulls_last=True).iter_rows(named=True)]
    timeline = timeline_svg(posts, lines, width=1200, label_width=150, max_rows=120, row_height=10)
    groups, total = evidence_groups(ev, posts.select("uid", "account_uid", "created_at", "text"))
    anchors, media_html = _media(groups, posts, media, thumbs, names)
    class_col = first_present(clusters, CLASS_COLUMNS)
    extras = [(label, _fmt(row.get(col))) for label, col in
              (("conductance", first_present(clusters, CONDUCTANCE_COLUMNS)), ("k-core", first_present(clusters, CORE_COLUMNS)))
              if col and row.get(col) is not None]
    html_text = cluster_page(row=row, class_col=class_col, extras=extras, members=facts, role_col=role_col,
                             core_col=core_col, graph=graph, edge_counts=counts, timeline=timeline,
                             evidence=render_evidence(groups, total, names, anchors), media=media_html)
    (out / f"cluster-{row['cluster_id']}.html").write_text(html_text, "utf-8")
    return names


def _fmt(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _media(groups: list[Any], posts: pl.DataFrame, media: pl.DataFrame | None, thumbs: Thumbnailer,
           names: dict[str, str]) -> tuple[dict[str, str], str]:
    """Thumbnails of the files behind repeated-media evidence, one group per shared picture/video."""
    if media is None or media.height == 0 or "path" not in media.columns:
        return {}, ""
    wanted = [g for g in groups if g.signal == "co_media"][:MEDIA_GROUPS]
    post_ids = list({p["post"] for g in wanted for p in g.posts})
    if not post_ids:
        return {}, ""
    files = media.filter(pl.col("post_uid").is_in(post_ids) & pl.col("path").is_not_null())
    base = dict(posts.select("uid", "source_file").iter_rows()) if "source_file" in posts.columns else {}
    by_post: dict[str, list[str]] = {}
    for post, path in files.sort("post_uid", "path").select("post_uid", "path").iter_rows():
        by_post.setdefault(post, []).append(path)
    anchors: dict[str, str] = {}
    sections = []
    seen: dict[frozenset[str], str] = {}  # the same posts matched by sha256, PDQ and pHash: one group of pictures
    for g in wanted:
        same = frozenset(p["post"] for p in g.posts)
        if same in seen:
            anchors[g.object] = seen[same]
            continue
        shown: list[tuple[str, str, str]] = []
        for p in g.posts:
            source = base.get(p["post"])
            for path in by_post.get(p["post"], []):
                for src in thumbs.thumbs(path, str(Path(source).parent) if source else None):
                    if len(shown) < THUMBS_PER_GROUP:
                        shown.append((src, names.get(p["account_uid"], p["account_uid"]), fmt_ts(p["created_at"])))
        if shown:
            anchor = "media-" + hashlib.sha1(g.object.encode()).hexdigest()[:10]
            anchors[g.object] = seen[same] = anchor
            kind, value = object_label(g.object, None)
            sections.append((anchor, f"{kind} ({value}) · {g.n_posts} posts by {g.n_accounts} accounts", shown))
    return anchors, media_section(sections)


def _overview(out: Path, shown: pl.DataFrame, members: pl.DataFrame, edges: pl.DataFrame, accounts: pl.DataFrame,
              max_edges: int, seed: int) -> Path:
    sizes = members.group_by("cluster_id").len()
    ranked = shown.select("cluster_id").join(sizes, on="cluster_id", how="left").with_columns(
        total=pl.col("len").fill_null(0).cum_sum())
    kept = ranked.filter((pl.col("total") <= OVERVIEW_MAX_NODES) | (pl.int_range(pl.len()) == 0))["cluster_id"]
    note = (f" Showing the top {kept.len()} of {shown.height} clusters (at most {OVERVIEW_MAX_NODES:,} accounts "
            "keep this page light); every cluster has its own page.") if kept.len() < shown.height else ""
    members = members.filter(pl.col("cluster_id").is_in(kept.to_list()))
    cluster_of = dict(members.select("account_uid", "cluster_id").iter_rows())
    uids = sorted(cluster_of)
    sub = edges.filter(pl.col("src").is_in(uids) & pl.col("dst").is_in(uids))
    facts = member_facts(uids, accounts.filter(pl.col("uid").is_in(uids)), pl.DataFrame(
        schema={"account_uid": pl.String, "created_at": pl.Datetime("us", "UTC")}), sub, members.head(0))
    palette = {cid: CLUSTER_PALETTE[i % len(CLUSTER_PALETTE)] for i, cid in enumerate(shown["cluster_id"].to_list())}
    graph, counts = graph_json(facts, sub, max_edges=max_edges, seed=seed,
                               colours={u: palette.get(c, "#999") for u, c in cluster_of.items()})
    legend = "".join(f'<span><i style="background:{palette[c]}"></i>{e(c)}</span>' for c in list(palette)[:40])
    body = (f'<p><a href="index.html">← all clusters</a></p><h1>Overview: all clusters</h1>'
            f'<div class="legend">{legend}<span>colour = cluster; shape = platform; '
            f"{counts['drawn']:,} of {counts['total']:,} ties drawn.{e(note)}</span><span id=\"selection\"></span></div>"
            f'<div id="graph" style="height:80vh"></div><script type="application/json" id="graph-data">{graph}</script>')
    path = out / "overview.html"
    path.write_text(page("cib overview", body, graph=True), "utf-8")
    return path


def _index(out: Path, clusters: pl.DataFrame, members: pl.DataFrame, posts: pl.DataFrame, names: dict[str, str]) -> str:
    class_col = first_present(clusters, CLASS_COLUMNS)
    rows, classes, platforms = [], {}, set()
    members_of = {k[0]: v["account_uid"].to_list() for k, v in members.partition_by("cluster_id", as_dict=True).items()}
    posts_of = {k[0]: v for k, v in posts.partition_by("cluster_id", as_dict=True).items()} if posts.height else {}
    for row in clusters.iter_rows(named=True):
        cid = row["cluster_id"]
        key, badge = class_badge(row, class_col)
        classes[key] = badge
        uids = members_of.get(cid, [])
        plats = list(row.get("platforms") or [])
        platforms.update(plats)
        search = " ".join([cid, row.get("explanation") or "", *plats, *(names.get(u, u) for u in uids)]).lower()
        strip = f"strips/{hashlib.sha1(cid.encode()).hexdigest()[:16]}.png"
        svg = timeline_svg(posts_of.get(cid, posts.head(0)), [(u, u) for u in sorted(uids)], width=520, max_rows=60,
                           raster=(out / strip, strip))
        rows.append(
            f'<tr data-platforms="{e(" ".join(plats))}" data-class="{e(key)}" data-score="{row["score"]:.4f}" '
            f'data-search="{e(search)}"><td class="num">{row["rank"]}</td>'
            f'<td class="cid"><a href="cluster-{e(cid)}.html">{e(cid)}</a><br>{badge}</td>'
            f'<td class="num">{row["score"]:.2f}{component_bars(row.get("components"))}</td>'
            f'<td class="num">{row["size"]}</td><td>{e(", ".join(plats))}</td>'
            f'<td>{e(", ".join(row.get("signals") or []))}</td>'
            f'<td>{svg}<p class="expl">{e(row.get("explanation"))}</p></td></tr>')
    flagged = int(clusters["flagged"].sum() or 0) if "flagged" in clusters.columns else 0
    legend = ('<div class="legend"><span>score bars: red = raises the score, green (−) = mitigating, lowers it</span>'
              "<span>posting strip: one row per account, one tick per post, time axis in UTC</span>"
              + "".join(f"<span>{b}</span>" for b in classes.values())
              + "".join(f'<span><b style="color:{PLATFORM_COLOURS.get(p, "#999")}">'
                        f'{SHAPE_GLYPHS.get(PLATFORM_SHAPES.get(p, "dot"), "●")}</b> {e(p)}</span>' for p in sorted(platforms))
              + "</div>")
    opts = lambda values: "".join(f'<option value="{e(v)}">{e(v)}</option>' for v in values)  # noqa: E731
    filters = (f'<form id="filters" class="tools"><label>platform <select name="platform"><option value="">all</option>'
               f'{opts(sorted(platforms))}</select></label><label>class <select name="class"><option value="">all'
               f'</option>{opts(sorted(classes))}</select></label><label>score ≥ <input type="number" name="minscore" '
               f'min="0" max="1" step="0.05" value="0" style="width:5em"></label><input type="search" name="q" '
               f'placeholder="search id, handle, text…" aria-label="search"><span><span id="shown">{clusters.height}'
               "</span> shown</span></form>")
    body = (f"<h1>cib — coordinated clusters</h1><p>{clusters.height} clusters, {flagged} flagged. "
            f'<a href="overview.html">Overview graph</a> · generated from the workspace scores; times in UTC.</p>'
            f'{legend}{filters}<table id="clusters"><thead><tr><th>#</th><th>cluster</th><th>score &amp; components'
            "</th><th>size</th><th>platforms</th><th>signals</th><th>posting times (one row per account) and why</th>"
            f"</tr></thead><tbody>{''.join(rows)}</tbody></table>")
    return page("cib report", body)
