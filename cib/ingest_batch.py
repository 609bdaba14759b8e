"""Small files gathered into shared part folders: the fixed cost of a part is paid once per batch, not per file.

A load worker (or the loading process, from `cib.ingest.MANY_FILES` files on) hands every file up to
`cib.ingest.SMALL_FILE_BYTES` whole to a `_Batch`; when the batch holds `batch_size` rows, or the worker's task
ends, it is written as one posts part and one accounts part whose rows carry ``PART_KEY`` =
``<folder>/<file key>``, plus each file's quarantined records. The parent process records each file with its
folder (`cib.ingest.record`), and the commit reads only the rows of the files the manifest maps to a folder.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import polars as pl

from cib.ingest import (
    FileReport,
    Loader,
    Sink,
    _account_rows,
    _frame,
    _safe_rows,
    _unstorable,
    _without,
)
from cib.schema import ACCOUNTS, PART_KEY, POSTS, AccountRecord, PostRecord

__all__ = ["BatchSink"]


@runtime_checkable
class BatchSink(Sink, Protocol):
    """A sink that can also store the rows of many files in one shared part folder; each row carries
    ``part_key`` = ``<folder>/<file key>``, so a file read again later replaces its own rows only."""

    def begin_batch(self) -> str: ...

    def record_batched_input(self, file_key: str, info: dict[str, Any], folder: str) -> None: ...

    def write_batch(self, folder: str, posts: pl.DataFrame, accounts: pl.DataFrame,
                    rejects: dict[str, list[dict[str, Any]]]) -> None: ...


class _Batch:
    """Rows of small files, written together: one Parquet part per table per batch instead of one per file (the
    fixed cost of a part — building frames, writing, fsync — would otherwise dominate 10,000 small exports).
    Per-file semantics are kept: an account's rows are derived per file, a row that cannot be stored is
    quarantined against its own file, and the same content read twice keeps only its second reading."""

    def __init__(self, sink: BatchSink, batch_size: int) -> None:
        self.sink, self.batch_size = sink, batch_size
        self.files: dict[str, tuple[FileReport, Loader, list[PostRecord], list[AccountRecord],
                                    list[dict[str, Any]]]] = {}
        self.rows = 0

    def add(self, key: str, report: FileReport, loader: Loader, posts: list[PostRecord],
            accounts: list[AccountRecord], rejects: list[dict[str, Any]]) -> None:
        old = self.files.pop(key, None)
        if old is not None:
            self.rows -= len(old[2]) + len(old[3])
        self.files[key] = (report, loader, posts, accounts, rejects)
        self.rows += len(posts) + len(accounts)
        if self.rows >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self.files:
            return
        folder = self.sink.begin_batch()
        post_rows: list[PostRecord] = []
        explicit: list[AccountRecord] = []
        owner: dict[int, tuple[str, FileReport, list[dict[str, Any]]]] = {}
        for key, (report, _loader, posts, accounts, rejects) in self.files.items():
            for row in (*posts, *accounts):
                owner[id(row)] = (key, report, rejects)
            post_rows.extend(posts)
            explicit.extend(accounts)
        post_frame, bad_posts = _safe_rows(post_rows, POSTS)
        _, bad_accounts = _safe_rows(explicit, ACCOUNTS)
        for bad, kind in ((bad_posts, "posts"), (bad_accounts, "accounts")):
            for row, reason in bad:
                _key, report, rejects = owner[id(row)]
                _unstorable(report, [(row, reason)], kind, rejects)
        post_keys = [owner[id(row)][0] for row in _without(post_rows, bad_posts)]
        account_rows: list[AccountRecord] = []
        account_keys: list[str] = []
        dropped = {id(row) for row, _ in (*bad_posts, *bad_accounts)}
        for key, (report, loader, posts, accounts, _rejects) in self.files.items():
            rows = _account_rows([p for p in posts if id(p) not in dropped],
                                 [a for a in accounts if id(a) not in dropped], loader)
            account_rows.extend(rows)
            account_keys.extend([key] * len(rows))
            report.part_folder = folder
        posts_out = post_frame.with_columns(pl.Series(PART_KEY, [f"{folder}/{k}" for k in post_keys], pl.String))
        accounts_out = _frame(account_rows, ACCOUNTS).with_columns(
            pl.Series(PART_KEY, [f"{folder}/{k}" for k in account_keys], pl.String))
        self.sink.write_batch(folder, posts_out, accounts_out,
                              {key: entry[4] for key, entry in self.files.items() if entry[4]})
        self.files, self.rows = {}, 0
