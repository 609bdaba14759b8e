"""Posting-time strips as inline SVG with a real time axis (dates, hours, UTC): vertical stripes are synchrony."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

__all__ = ["axis_ticks", "timeline_svg"]

_STEPS = [timedelta(minutes=m) for m in (1, 5, 15, 30)] + [timedelta(hours=h) for h in (1, 3, 6, 12)] + \
         [timedelta(days=d) for d in (1, 2, 7, 14, 30, 91, 182, 365)]


def axis_ticks(lo: datetime, hi: datetime, max_ticks: int = 8) -> tuple[list[datetime], str]:
    """Round tick times between `lo` and `hi` (UTC) and the strftime format for their labels.

    >>> ticks, fmt = axis_ticks(datetime(2025, 1, 1, 5, tzinfo=UTC), datetime(2025, 1, 4, 2, tzinfo=UTC))
    >>> [t.strftime(fmt) for t in ticks]
    ['01-01 12:00', '01-02 00:00', '01-02 12:00', '01-03 00:00', '01-03 12:00', '01-04 00:00']
    """
    span = max(hi - lo, timedelta(seconds=1))
    step = next((s for s in _STEPS if span / s <= max_ticks), _STEPS[-1])
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = epoch + step * -(-(lo - epoch) // step)  # ceil to a multiple of step
    ticks: list[datetime] = []
    t = first
    while t <= hi and len(ticks) <= max_ticks:
        ticks.append(t)
        t += step
    fmt = "%Y-%m-%d" if step >= timedelta(days=1) else ("%m-%d %H:%M" if span > timedelta(hours=20) else "%H:%M")
    return ticks, fmt


def timeline_svg(posts: pl.DataFrame, rows: list[tuple[str, str]], *, width: int = 560, label_width: int = 0,
                 max_rows: int = 60, row_height: int = 4, raster: tuple[Path, str] | None = None) -> str:
    """One row per account (``rows`` = (uid, label) pairs), one tick per post, and a labelled UTC time axis.

    `posts` needs ``account_uid`` and ``created_at``. Labels (handles: attacker-controlled) are escaped.
    With ``raster=(file, href)`` the post ticks are drawn into a PNG file beside the page and the SVG keeps only
    the axis: the index of a run with hundreds of clusters stays small (its page-size budget).

    >>> from datetime import datetime, UTC
    >>> p = pl.DataFrame({"account_uid": ["a"], "created_at": [datetime(2025, 1, 1, tzinfo=UTC)]})
    >>> svg = timeline_svg(p, [("a", "<b>")], label_width=60, row_height=10)
    >>> "2025-01-01 00:00" in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    True
    """
    shown = rows[:max_rows]
    row_of = {u: i for i, (u, _) in enumerate(shown)}
    ts = posts.filter(pl.col("account_uid").is_in(list(row_of))).select("account_uid", "created_at")
    if ts.height == 0:
        return ""
    lo: datetime = ts["created_at"].min()  # type: ignore[assignment]  # a non-empty Datetime column
    hi: datetime = ts["created_at"].max()  # type: ignore[assignment]
    span = max((hi - lo).total_seconds(), 1.0)
    plot = width - label_width - 8
    top, axis = 2, 2 + row_height * len(shown) + 2
    height = axis + 26

    def x(t: datetime) -> float:
        return label_width + 4 + (t - lo).total_seconds() / span * plot

    # One short path segment per (row, pixel column): a busy cluster costs bytes per pixel, not per post.
    cells = sorted({(row_of[u], round(x(t))) for u, t in ts.iter_rows()})
    if raster is None:
        marks = f'<path d="{"".join(f"M{px} {top + row_height * r}h2v{row_height - 1}h-2z" for r, px in cells)}"/>'
    else:
        marks = _raster(cells, raster, width, axis, top, row_height)
    labels = ""
    if label_width and row_height >= 9:
        labels = "".join(f'<text x="{label_width}" y="{top + row_height * i + row_height - 2}" text-anchor="end">'
                         f"{html.escape(label[:24])}</text>" for i, (_, label) in enumerate(shown))
    ticks, fmt = axis_ticks(lo, hi)
    grid = "".join(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{top}" y2="{axis + 4}" stroke="#ccc"/>'
                   f'<text x="{x(t):.1f}" y="{axis + 14}" text-anchor="middle">{t.strftime(fmt)}</text>'
                   for t in ticks)
    more = f" — first {len(shown)} of {len(rows)} accounts" if len(rows) > len(shown) else ""
    caption = (f'<text x="{label_width + 4}" y="{axis + 25}">time (UTC), {lo:%Y-%m-%d %H:%M} – {hi:%Y-%m-%d %H:%M}'
               f"{html.escape(more)}</text>")
    return (f'<svg class=timeline width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f"<title>posts over time, one row per account (UTC)</title>"
            f'<rect x="{label_width + 4}" y="0" width="{plot}" height="{axis}" fill="#f6f6f8"/>{grid}{labels}'
            f'<g fill="#c0392b">{marks}</g><line x1="{label_width + 4}" x2="{width - 4}" y1="{axis}" y2="{axis}" '
            f'stroke="#888"/>{caption}</svg>')


def _raster(cells: list[tuple[int, int]], raster: tuple[Path, str], width: int, height: int, top: int,
            row_height: int) -> str:
    """Draw the ticks into a transparent PNG and return the SVG ``<image>`` that shows it."""
    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    for r, px in cells:
        y = top + row_height * r
        draw.rectangle((px, y, px + 1, y + row_height - 2), fill=(192, 57, 43, 255))
    path, href = raster
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "PNG", optimize=True)
    return f'<image href="{html.escape(href)}" x="0" y="0" width="{width}" height="{height}"/>'
