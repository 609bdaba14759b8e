"""Report benchmark: write time, page size against the budget, and page-open time in headless Chromium.

Usage::

    python benchmarks/report.py --workspace /tmp/cib-bench/ws [--copies 40] [--out /tmp/cib-report-bench]

`--workspace` is a loaded and scored workspace (e.g. ``cib load`` + ``cib score`` of the 1M-post scenario from
``benchmarks/scale.py``). A 1M-post run has few clusters (one per planted campaign), so ``--copies K`` also
renders the scored frames K times over, each copy with its own account, post and cluster ids (the score_10m
approach), to reach hundreds of cluster pages. Page open = from navigation until the page script has drawn the
graph and fitted it to the viewport (``window.__reportReady``), measured for every page; a page's figure is
the median of ``--repeat`` opens, because the shared benchmark machine is noisy.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cib.store import ParquetStore  # noqa: E402
from reports import write_report  # noqa: E402
from reports.html import PAGE_BUDGET  # noqa: E402

_UIDS = {"clusters": ["cluster_id"], "members": ["cluster_id", "account_uid"], "edges": ["src", "dst"],
         "evidence": ["src", "dst", "post_a", "post_b"], "accounts": ["uid"], "posts": ["uid", "account_uid"],
         "media": ["post_uid"]}


def frames(ws: Path, copies: int) -> dict[str, pl.DataFrame]:
    store = ParquetStore(ws)
    base = {"clusters": store.scores("clusters"), "members": store.scores("members"), "edges": store.scores("edges"),
            "evidence": store.scores("evidence")}
    members = base["members"]["account_uid"].unique()
    base["accounts"] = store.accounts().filter(pl.col("uid").is_in(members.to_list())).collect()
    base["posts"] = (store.posts().select("uid", "account_uid", "created_at", "text", "post_url", "source_file")
                     .filter(pl.col("account_uid").is_in(members.to_list())).collect())
    base["media"] = (store.media().select("post_uid", "kind", "path")
                     .filter(pl.col("post_uid").is_in(base["posts"]["uid"].to_list())).collect())
    if copies <= 1:
        return base
    out: dict[str, list[pl.DataFrame]] = {k: [] for k in base}
    for k in range(copies):
        for name, frame in base.items():
            renamed = frame.with_columns([pl.col(c) + f"~{k}" for c in _UIDS[name]])
            if name == "clusters":
                renamed = renamed.with_columns(rank=pl.col("rank") + k * frame.height)
            out[name].append(renamed)
    return {k: pl.concat(v) for k, v in out.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workspace", type=Path, required=True, help="a loaded and scored workspace")
    parser.add_argument("--copies", type=int, default=1, help="render the scored frames this many times")
    parser.add_argument("--out", type=Path, default=Path("/tmp/cib-report-bench"))
    parser.add_argument("--repeat", type=int, default=3,
                        help="opens per page; its time is the median (the shared machine is noisy)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or shutil.which("chromium-browser"))
    args = parser.parse_args()
    data = frames(args.workspace, args.copies)
    shutil.rmtree(args.out, ignore_errors=True)
    start = time.perf_counter()
    pages = [p for p in write_report(args.out, **data) if p.suffix == ".html"]
    seconds = time.perf_counter() - start
    sizes = sorted(p.stat().st_size for p in pages)
    folder = sum(p.stat().st_size for p in args.out.rglob("*") if p.is_file())
    print(f"write:   {len(pages)} pages ({data['clusters'].height} clusters, {data['members'].height} members, "
          f"{data['evidence'].height:,} evidence pairs) in {seconds:.1f} s; folder {folder / 2**20:.1f} MiB")
    print(f"size:    largest page {sizes[-1] / 2**10:,.0f} KiB, median {statistics.median(sizes) / 2**10:,.0f} KiB; "
          f"budget {PAGE_BUDGET / 2**20:.0f} MiB -> {'OK' if sizes[-1] < PAGE_BUDGET else 'OVER BUDGET'}")
    opened = open_times(pages, args.chromium, args.repeat)
    worst = max(opened, key=lambda kv: kv[1])
    times = [t for _, t in opened]
    print(f"open:    {len(times)} pages in headless Chromium (median of {args.repeat} opens each): "
          f"median {statistics.median(times):.2f} s, "
          f"p95 {sorted(times)[int(0.95 * (len(times) - 1))]:.2f} s, max {worst[1]:.2f} s ({worst[0]}); "
          f"target < 3 s -> {'OK' if worst[1] < 3 else 'SLOW'}")


def open_times(pages: list[Path], chromium: str | None, repeat: int = 1) -> list[tuple[str, float]]:
    from playwright.sync_api import sync_playwright

    out = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=["--headless", "--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        for path in pages:
            runs = []
            for _ in range(max(1, repeat)):
                start = time.perf_counter()
                page.goto(path.as_uri(), wait_until="load")
                page.wait_for_function("window.__reportReady === true", timeout=60_000)
                runs.append(time.perf_counter() - start)
            out.append((path.name, statistics.median(runs)))
        browser.close()
    return out


if __name__ == "__main__":
    main()
