"""The vectorised fast path of a whole file (`loaders._fast`), as `cib.ingest` uses it.

A loader may offer ``fast_posts(path, fmt)``: the posts frame the per-record path would build for the file, or
None. When it gives one, the file's parts are written from it (its accounts derived per batch exactly as
`cib.ingest._account_rows` derives them); otherwise, or when it raises, the per-record path reads the file.
``CIB_NO_FAST=1`` turns the fast path off (the parity tests compare both paths).
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

from cib.ingest import FileReport, Loader, Sink
from cib.schema import ACCOUNTS

__all__ = ["load_fast"]


def load_fast(path: Path, loader: Loader, fmt: str, sink: Sink, sha: str, report: FileReport, batch_size: int) -> bool:
    """Load the whole file through the loader's vectorised fast path (an optional ``fast_posts(path, fmt)``
    that returns the posts frame the per-record path would build, or None); False when there is none or it
    declines the file (then the per-record path reads it, so every guarantee and message stays). The caller
    has begun the file in `sink` (`cib.ingest._ingest_file`), so a declined file leaves nothing to undo."""
    fast = getattr(loader, "fast_posts", None)
    if fast is None or os.environ.get("CIB_NO_FAST"):
        return False
    try:
        posts = fast(path, fmt)
    except Exception:  # noqa: BLE001 - whatever the fast path trips on, the per-record path decides
        posts = None
    if posts is None:
        return False
    report.read = report.posts = posts.height
    report.media = int(posts.get_column("media").list.len().sum())
    for part, start in enumerate(range(0, posts.height, batch_size)):
        chunk = posts.slice(start, batch_size)
        sink.write_file(sha, part, chunk, _accounts_of(chunk, loader))
    sink.record_input(sha, report.as_dict())
    return True


def _accounts_of(posts: pl.DataFrame, loader: Loader) -> pl.DataFrame:
    """`_account_rows` of a posts frame: one row per author, its profile as in the author's last post."""
    last = posts.group_by("account_uid", maintain_order=True).agg(pl.all().last())
    pairs = last.select("account_id", "handle").unique()
    urls = [loader.profile_url(a, h) for a, h in pairs.iter_rows()]
    pairs = pairs.with_columns(pl.Series("profile_url", urls, pl.String))
    none = [pl.lit(None, ACCOUNTS[c]).alias(c) for c in ("following", "posts_count", "bio", "verified")]
    return last.join(pairs, on=["account_id", "handle"], how="left", nulls_equal=True, maintain_order="left").select(
        pl.col("account_uid").alias("uid"), "platform", "account_id", "handle", "display_name",
        pl.col("account_created_at").alias("created_at"), "followers", *none, "profile_url", "format",
        "source_file", "source_record").select(ACCOUNTS.names())
