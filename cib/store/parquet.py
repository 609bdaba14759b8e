"""The embedded default store: a Parquet workspace directory.

Layout::

    parts/posts/<file-key>-<n>.parquet     one batch of one input file (file key = sha256 of its bytes)
    parts/accounts/<file-key>-<n>.parquet
    parts/rejects/<file-key>.jsonl         quarantined records of that file, with reasons
    inputs.json                            per input file: path, sha256, format, counts
    posts.parquet accounts.parquet media.parquet links.parquet   materialised, de-duplicated by uid
    rejected.jsonl                         every quarantined record
    scores/*.parquet, scores/params.json   written by ``cib score``

Re-loading a file replaces its own parts, and the materialised tables keep one row per uid, so loading the
same export twice yields no duplicates.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import StoreError
from cib.schema import ACCOUNTS, CLUSTERS, EDGES, EVIDENCE, LINKS, MEDIA, MEMBERS, POSTS, empty
from cib.store.base import derive_links, derive_media

__all__ = ["ParquetStore", "default_workspace"]

_SCORE_TABLES = {"edges": EDGES, "evidence": EVIDENCE, "clusters": CLUSTERS, "members": MEMBERS}


def default_workspace() -> Path:
    """``$CIB_WORKSPACE`` or ``./cib-workspace``."""
    return Path(os.environ.get("CIB_WORKSPACE") or "cib-workspace")


class ParquetStore:
    """A workspace directory of Parquet files."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self._pending: dict[str, Any] = {}  # file reports recorded since the last finalize
        self._known: set[str] | None = None  # file keys in inputs.json, read once per load

    # -- loading ------------------------------------------------------------------------------------------
    def begin_file(self, file_key: str) -> None:
        """Forget the parts of an earlier load of the same file (its rows are about to be rewritten)."""
        if self._known is None:
            self._known = set(self.inputs())
        parts = self.root / "parts"
        if file_key not in self._known and not (parts / "rejects" / f"{file_key}.jsonl").exists() and not any(
                (parts / sub / f"{file_key}-00000.parquet").exists() for sub in ("posts", "accounts")):
            return  # never loaded here: nothing to forget (no directory scan per file)
        for sub in ("posts", "accounts"):
            for old in (self.root / "parts" / sub).glob(f"{file_key}-*.parquet"):
                old.unlink()
        (self.root / "parts" / "rejects" / f"{file_key}.jsonl").unlink(missing_ok=True)

    def write_file(self, file_key: str, part: int, posts: pl.DataFrame, accounts: pl.DataFrame) -> None:
        for sub, frame in (("posts", posts), ("accounts", accounts)):
            folder = self.root / "parts" / sub
            folder.mkdir(parents=True, exist_ok=True)
            if frame.height:
                tmp = folder / f".{file_key}-{part:05d}.tmp"
                frame.write_parquet(tmp)
                tmp.replace(folder / f"{file_key}-{part:05d}.parquet")

    def write_rejects(self, file_key: str, rows: list[dict[str, Any]]) -> None:
        folder = self.root / "parts" / "rejects"
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{file_key}.jsonl", "a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")

    def record_input(self, file_key: str, info: dict[str, Any]) -> None:
        """Remember one file's report; `finalize` writes ``inputs.json`` once (not once per input file)."""
        self._pending[file_key] = info

    def inputs(self) -> dict[str, Any]:
        path = self.root / "inputs.json"
        stored = json.loads(path.read_text("utf-8")) if path.exists() else {}
        return {**stored, **self._pending}

    def finalize(self) -> dict[str, int]:
        """Write ``inputs.json``, then materialise de-duplicated posts/accounts/media/links and the combined
        rejects file."""
        self.root.mkdir(parents=True, exist_ok=True)
        if self._pending:
            self._write_json("inputs.json", dict(sorted(self.inputs().items())))
            self._pending, self._known = {}, None
        posts = self._scan_parts("posts", POSTS)
        posts = (posts.sort("uid", pl.col("handle").is_null(), "source_file", "source_record")
                 .unique("uid", keep="first", maintain_order=True))
        self._sink(posts, "posts.parquet")
        accounts = self._scan_parts("accounts", ACCOUNTS)
        accounts = accounts.sort("uid", "source_file", "source_record").group_by("uid", maintain_order=True).agg(
            [pl.col(c).drop_nulls().last() for c in ACCOUNTS.names() if c != "uid"]
        ).select(ACCOUNTS.names()).sort("uid")
        self._sink(accounts, "accounts.parquet")
        self._sink(derive_media(self.posts()).sort("post_uid", "key"), "media.parquet")
        self._sink(derive_links(self.posts()), "links.parquet")
        with open(self.root / "rejected.jsonl", "w", encoding="utf-8") as out:
            for part in sorted((self.root / "parts" / "rejects").glob("*.jsonl")):
                out.write(part.read_text("utf-8"))
        return self.counts()

    def counts(self) -> dict[str, int]:
        return {name: self._table(name).select(pl.len()).collect().item()
                for name in ("posts", "accounts", "media", "links")}

    # -- reading ------------------------------------------------------------------------------------------
    def posts(self) -> pl.LazyFrame:
        return self._table("posts")

    def accounts(self) -> pl.LazyFrame:
        return self._table("accounts")

    def media(self) -> pl.LazyFrame:
        return self._table("media")

    def links(self) -> pl.LazyFrame:
        return self._table("links")

    def rejects(self) -> pl.DataFrame:
        path = self.root / "rejected.jsonl"
        if not path.exists() or path.stat().st_size == 0:
            from cib.schema import REJECTS

            return empty(REJECTS)
        return pl.read_ndjson(path, infer_schema_length=None)

    # -- scores -------------------------------------------------------------------------------------------
    def write_scores(self, tables: dict[str, pl.DataFrame], params: dict[str, Any]) -> None:
        folder = self.root / "scores"
        tmp = self.root / ".scores.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, schema in _SCORE_TABLES.items():
            tables.get(name, empty(schema)).write_parquet(tmp / f"{name}.parquet")
        (tmp / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True, default=str), "utf-8")
        shutil.rmtree(folder, ignore_errors=True)
        tmp.replace(folder)

    def scores(self, name: str) -> pl.DataFrame:
        path = self.root / "scores" / f"{name}.parquet"
        if not path.exists():
            raise StoreError(f"{self.root}: no scores yet; run `cib score --workspace {self.root}` first")
        return pl.read_parquet(path)

    def score_params(self) -> dict[str, Any]:
        path = self.root / "scores" / "params.json"
        return json.loads(path.read_text("utf-8")) if path.exists() else {}

    # -- helpers ------------------------------------------------------------------------------------------
    def _table(self, name: str) -> pl.LazyFrame:
        schema = {"posts": POSTS, "accounts": ACCOUNTS, "media": MEDIA, "links": LINKS}[name]
        path = self.root / f"{name}.parquet"
        if not path.exists():
            return empty(schema).lazy()
        return pl.scan_parquet(path)

    def _scan_parts(self, sub: str, schema: pl.Schema) -> pl.LazyFrame:
        files = sorted((self.root / "parts" / sub).glob("*.parquet"))
        if not files:
            return empty(schema).lazy()
        return pl.scan_parquet(files)

    def _sink(self, frame: pl.LazyFrame, name: str) -> None:
        tmp = self.root / f".{name}.tmp"
        try:
            frame.collect(engine="streaming").write_parquet(tmp)
        except pl.exceptions.PolarsError as exc:
            raise StoreError(f"{self.root}: cannot write {name}: {exc}") from exc
        tmp.replace(self.root / name)

    def _write_json(self, name: str, value: Any) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".{name}.tmp"
        tmp.write_text(json.dumps(value, indent=2, sort_keys=True), "utf-8")
        tmp.replace(self.root / name)
