"""The cluster page: an investigator's dossier (who, what, when, and the evidence), written as static HTML.

Every value from the data is passed through :func:`e` (``html.escape``) or, for the graph, through JSON that
the page script only ever assigns with ``textContent``; links are offered only for http(s) URLs.
"""

from __future__ import annotations

import html
import json
from datetime import datetime
from typing import Any

import polars as pl

from cib.textsafe import safe_http_url
from reports._facts import EvidenceGroup, fmt_gap, fmt_ts, object_label
from reports._graph import PLATFORM_COLOURS, PLATFORM_SHAPES, SHAPE_GLYPHS, SIGNAL_COLOURS, SIGNAL_NAMES

__all__ = ["COMPONENT_HELP", "MITIGATING", "class_badge", "component_bars", "e", "page", "cluster_page"]

COMPONENT_HELP = {
    "strength": "how strong the ties are: mean edge weight (rare objects shared close in time)",
    "synchrony": "share of a typical member's shared posts that were in lockstep with another member",
    "breadth": "how many different objects a pair shares (median)",
    "density": "share of member pairs that are tied",
    "anomaly": "accounts created in one burst, or machine-generated handles",
    "authentic": "verified or large established accounts: lowers the score",
}
MITIGATING = {"authentic"}  # components that lower the score: drawn green, never as a red bar


def e(value: Any) -> str:
    """Escape any value for HTML text and attributes.

    >>> e('<a href="x">') + e(None)
    '&lt;a href=&quot;x&quot;&gt;'
    """
    return html.escape("" if value is None else str(value), quote=True)


def page(title: str, body: str, *, graph: bool = False) -> str:
    """A complete page that loads only files from the report's ``assets/`` folder."""
    vis = '<script src="assets/vis-network.min.js"></script>' if graph else ""
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            f'<link rel="stylesheet" href="assets/report.css">{vis}</head><body>{body}'
            '<script src="assets/report.js"></script></body></html>')


def class_badge(row: dict[str, Any], class_col: str | None) -> tuple[str, str]:
    """(class key, badge HTML) from the detector's class column, else from ``flagged``.

    >>> class_badge({"flagged": True}, None)[0]
    'flagged'
    >>> class_badge({"flagged": True, "cluster_class": "authentic"}, "cluster_class")[1]
    '<span class="badge b-authentic">authentic coordination</span>'
    """
    if class_col and row.get(class_col):
        value = str(row[class_col])
        key = value.lower().replace(" ", "_").replace("-", "_")
        css = {"inauthentic": "inauthentic", "authentic": "authentic", "authentic_coordination": "authentic"}.get(
            key, "below")
        text = {"authentic": "authentic coordination", "below_threshold": "below threshold"}.get(key, value)
        return key, f'<span class="badge b-{css}">{e(text)}</span>'
    if row.get("flagged"):
        return "flagged", '<span class="badge b-flagged">flagged</span>'
    return "below_threshold", '<span class="badge b-below">below threshold</span>'


def component_bars(components: str | None) -> str:
    """Score components as bars; mitigating ones are green and say that they lower the score.

    >>> "mitigating" in component_bars('{"authentic": 0.5, "strength": 1.0}')
    True
    """
    try:
        comp = json.loads(components or "{}")
    except ValueError:
        comp = {}
    out = []
    for name, value in sorted(comp.items(), key=lambda kv: (kv[0] in MITIGATING, kv[0])):
        v = float(value or 0.0)
        cls = "bar mitigating" if name in MITIGATING else "bar"
        sign = "−" if name in MITIGATING else ""
        out.append(f'<div class="{cls}" title="{e(COMPONENT_HELP.get(name, name))}">'
                   f'<span style="width:{100 * max(0.0, min(1.0, v)):.0f}%"></span><em>{sign}{e(name)} {v:.2f}</em></div>')
    return '<div class="comp">' + "".join(out) + "</div>"


def component_legend(components: str | None) -> str:
    try:
        names = sorted(json.loads(components or "{}"))
    except ValueError:
        names = []
    items = "".join(f"<dt>{'−' if n in MITIGATING else ''}{e(n)}</dt><dd>{e(COMPONENT_HELP.get(n, ''))}</dd>"
                    for n in names)
    return f'<dl class="facts">{items}</dl>' if items else ""


def graph_legend(platforms: list[str], signals: list[str], edge_counts: dict[str, int], roles: bool) -> str:
    parts = [f'<span style="color:{PLATFORM_COLOURS.get(p, "#999")}">{SHAPE_GLYPHS.get(PLATFORM_SHAPES.get(p, "dot"), "●")}'
             f"</span> {e(p)}" for p in platforms]
    parts += [f'<span><i class="line" style="background:{SIGNAL_COLOURS.get(s, "#aaa")}"></i>{e(SIGNAL_NAMES.get(s, s))}'
              "</span>" for s in signals]
    parts.append("node size = posts in the data; edge width = tie weight")
    if roles:
        parts.append("thick black border = leader")
    if edge_counts["drawn"] < edge_counts["total"]:
        parts.append(f"{edge_counts['drawn']:,} of {edge_counts['total']:,} ties drawn (each member's strongest)")
    parts.append("click a node to highlight its rows; hover for its name")
    return '<div class="legend">' + "".join(f"<span>{p}</span>" for p in parts) + "</div>"


def members_table(m: pl.DataFrame, role_col: str | None, core_col: str | None) -> str:
    heads = ["handle", "platform", "profile", "created", "followers", "posts in data", "degree", "strength"]
    heads += ["role"] if role_col else []
    heads += ["k-core"] if core_col else []
    heads += ["first seen (UTC)", "last seen (UTC)"]
    numeric = {"followers", "posts in data", "degree", "strength", "k-core"}
    rows = []
    for r in m.iter_rows(named=True):
        url = safe_http_url(r.get("profile_url"))
        name = r.get("handle") or r.get("display_name") or r.get("account_id") or r["uid"]
        link = f'<a href="{e(url)}" rel="noopener noreferrer" target="_blank">profile</a>' if url else "<small>none</small>"
        created = r.get("created_at")
        cells = [f'<td class="nowrap" title="{e(r["uid"])}">{e(name)}</td>', f"<td>{e(r['platform'])}</td>",
                 f"<td>{link}</td>", f'<td data-v="{e(fmt_ts(created))}">{e(created.strftime("%Y-%m-%d") if created else "")}</td>',
                 _num(r.get("followers")), _num(r["posts"]), _num(r["degree"]), _num(r["strength"], 2)]
        if role_col:
            role = r.get(role_col)
            cells.append(f'<td><span class="badge b-{e(role)}">{e(role)}</span></td>' if role else "<td></td>")
        if core_col:
            cells.append(_num(r.get(core_col)))
        cells += [f'<td class="nowrap">{e(fmt_ts(r.get("first_seen")))}</td>',
                  f'<td class="nowrap">{e(fmt_ts(r.get("last_seen")))}</td>']
        rows.append(f'<tr data-account="{e(r["uid"])}">' + "".join(cells) + "</tr>")
    head = "".join(f'<th class="{"num" if h in numeric else ""}">{e(h)}</th>' for h in heads)
    return (f'<table id="members" class="sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table>")


def _num(value: Any, digits: int = 0) -> str:
    if value is None:
        return '<td class="num" data-v=""></td>'
    text = f"{float(value):,.{digits}f}" if digits else f"{int(value):,}"
    return f'<td class="num" data-v="{value}">{text}</td>'


def evidence_table(groups: list[EvidenceGroup], total: int, names: dict[str, str], media_anchor: dict[str, str]) -> str:
    """One ``<tbody>`` per shared object: a header row, then one row per post that shared it."""
    if not groups:
        return "<p>No evidence pairs inside this cluster.</p>"
    has_chance = any(g.chance is not None for g in groups)
    bodies = []
    for n, g in enumerate(groups, start=1):
        first_text = next((p["text"] for p in g.posts if p["text"]), None)
        kind, value = object_label(g.object, first_text)
        url = safe_http_url(value) if kind == "link" else None
        shown = f'<a href="{e(url)}" rel="noopener noreferrer" target="_blank">{e(value)}</a>' if url else e(value)
        if g.object in media_anchor:
            shown += f' — <a href="#{media_anchor[g.object]}">see the pictures</a>'
        chance = f"; expected by chance {g.chance:.3g}" if g.chance is not None else ""
        more = f" (first {len(g.posts)} shown)" if len(g.posts) < g.n_posts else ""
        head = (f'<tr class="evhead"><td class="num">{n}</td><td>{e(SIGNAL_NAMES.get(g.signal, g.signal))}</td>'
                f'<td colspan="3"><b>{e(kind)}:</b> <span class="caption">{shown}</span><br><small>'
                f"{g.n_posts} posts by {g.n_accounts} accounts{more}; rarity (IDF) {g.idf:.2f}; tightest pair "
                f"{e(fmt_gap(g.min_gap_s))} apart{e(chance)}</small></td></tr>")
        posts = "".join(
            f'<tr class="evpost" data-account="{e(p["account_uid"])}" data-post="{e(p["post"])}"><td></td>'
            f'<td class="nowrap">{e(names.get(p["account_uid"], p["account_uid"]))}</td>'
            f'<td class="nowrap">{e(fmt_ts(p["created_at"]))}</td><td class="nowrap num">+{e(fmt_gap(p["gap_s"]))}</td>'
            f'<td class="caption">{e((p["text"] or "")[:200])}</td></tr>' for p in g.posts)
        bodies.append(f'<tbody class="evgroup" data-signal="{e(g.signal)}" data-object="{e(g.object)}" '
                      f'data-posts="{g.n_posts}">{head}{posts}</tbody>')
    note = f"<p class=muted>Showing the {len(groups)} rarest and tightest of {total} shared objects.</p>" \
        if total > len(groups) else ""
    chance_note = "" if has_chance else ""
    return (f'{note}{chance_note}<table id="evidence" data-groups="1"><thead><tr><th>#</th><th>account</th>'
            '<th>posted (UTC)</th><th class="num">after first share</th><th>caption</th></tr></thead>'
            + "".join(bodies) + "</table>")


def media_section(groups: list[tuple[str, str, list[tuple[str, str, str]]]]) -> str:
    """Thumbnails side by side per repeated-media group: (anchor, label, [(src, account, time)])."""
    if not groups:
        return ""
    out = ["<h2>Repeated media</h2><p class=muted>Thumbnails made from the files in the export at report time "
           "(pictures, and up to 3 sampled key frames of videos).</p>"]
    for anchor, label, thumbs in groups:
        figs = "".join(f'<figure><img src="{e(src)}" alt="media posted by {e(who)}" loading="lazy">'
                       f"<figcaption>{e(who)}<br>{e(when)}</figcaption></figure>" for src, who, when in thumbs)
        out.append(f'<section id="{e(anchor)}"><h3>{e(label)}</h3><div class="media-group">{figs}</div></section>')
    return out[0] + '<div class="media-groups">' + "".join(out[1:]) + "</div>"


def cluster_page(*, row: dict[str, Any], class_col: str | None, extras: list[tuple[str, str]],
                 members: pl.DataFrame, role_col: str | None, core_col: str | None, graph: str,
                 edge_counts: dict[str, int], timeline: str, evidence: str, media: str) -> str:
    """The whole dossier page for one cluster."""
    _, badge = class_badge(row, class_col)
    first, last = row.get("first_seen"), row.get("last_seen")
    signals = list(row.get("signals") or [])
    platforms = list(row.get("platforms") or [])
    facts = [("score", f"{row['score']:.2f}"), ("members", str(row["size"])), ("platforms", ", ".join(platforms)),
             ("signals", ", ".join(SIGNAL_NAMES.get(s, s) for s in signals)),
             ("posts in data", f"{int(members['posts'].sum()):,}"),
             ("first activity", _when(first, members, "first_seen", min)),
             ("last activity", _when(last, members, "last_seen", max)), *extras]
    dl = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts)
    return page(f"cluster {row['cluster_id']}", (
        f'<p><a href="index.html">← all clusters</a></p><h1><span class="cid">cluster {e(row["cluster_id"])}</span> '
        f'{badge} <small>rank {row["rank"]}</small></h1>'
        f'<div class="head"><dl class="facts">{dl}</dl><div>{component_bars(row.get("components"))}</div>'
        f'<div>{component_legend(row.get("components"))}</div></div>'
        f'<p class="expl">{e(row.get("explanation"))}</p>'
        f'<h2>Who: accounts and their ties</h2>{graph_legend(platforms, signals, edge_counts, role_col is not None)}'
        f'<div class="tools"><input type="search" data-filter="members" placeholder="filter members…" '
        f'aria-label="filter members"><span id="selection"></span></div>'
        f'<div class="workbench"><div id="graph"></div><div class="side">'
        f'{members_table(members, role_col, core_col)}</div></div>'
        f'<script type="application/json" id="graph-data">{graph}</script>'
        f"<h2>When: posting times</h2>{timeline}{media}"
        f'<h2>What: shared objects and the posts that shared them</h2><div class="tools"><input type="search" '
        f'data-filter="evidence" placeholder="filter evidence…" aria-label="filter evidence"></div>{evidence}'), graph=True)


def _when(value: Any, members: pl.DataFrame, col: str, pick: Any) -> str:
    if isinstance(value, datetime):
        return fmt_ts(value) + " UTC"
    seen = [v for v in members[col].to_list() if v is not None] if col in members.columns else []
    return fmt_ts(pick(seen)) + " UTC" if seen else "unknown"
