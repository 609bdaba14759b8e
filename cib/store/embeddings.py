"""The workspace's caption-embedding cache for ``co_caption_xlingual``: embedding is the slow part, so a vector
computed once is reused by every later ``cib score`` of that workspace.

Layout (derived data, outside the load generations: the key says what a vector is, so a new load or a rescore
never invalidates it)::

    cache/embeddings/<model slug>/seg-<time>-<pid>-<uuid>.parquet    key, text, vector (float32 list)

``key`` is the sha256 of ``model id + NUL + normalised caption``. Each run that embedded something adds one
segment, written to a temporary name and renamed into place, so concurrent ``cib score`` runs never see a
half-written file and never block each other (the same caption embedded twice is the same vector; readers keep
the first). Past `COMPACT_AT` segments, a run folds them into one under ``cache/embeddings.lock``; a reader that
misses a segment being folded just embeds those captions again. Deleting the folder is always safe.

>>> import tempfile, numpy as np
>>> root = tempfile.mkdtemp()
>>> cache = EmbeddingCache.open(root, "toy-model", ["hello there"])
>>> cache["hello there"] = np.ones(3, dtype=np.float32)
>>> cache.save()
1
>>> again = EmbeddingCache.open(root, "toy-model", ["hello there", "other"])
>>> sorted(again), again.save()
(['hello there'], 0)
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import polars as pl

from cib.store.snapshots import WriterLock, fsync_dir, fsync_file, unique_tmp

__all__ = ["COMPACT_AT", "EmbeddingCache", "cache_key"]

COMPACT_AT = 32
_SCHEMA = pl.Schema({"key": pl.String(), "text": pl.String(), "vector": pl.List(pl.Float32())})


def cache_key(model: str, text: str) -> str:
    """sha256 of the model id and the normalised caption."""
    return hashlib.sha256(f"{model}\0{text}".encode()).hexdigest()


class EmbeddingCache(dict[str, np.ndarray]):
    """``caption -> vector`` for one model, preloaded for the captions a run needs; `save` appends what was added."""

    def __init__(self, folder: Path, model: str) -> None:
        super().__init__()
        self.folder, self.model = folder, model
        self._added: list[str] = []

    @classmethod
    def open(cls, workspace: Path | str, model: str, texts: Iterable[str]) -> EmbeddingCache:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "_", model).strip("._") or "model"
        cache = cls(Path(workspace) / "cache" / "embeddings" / slug, model)
        wanted = {cache_key(model, t): t for t in texts}
        for frame in cache._segments(wanted):
            for key, vector in frame.select("key", "vector").iter_rows():
                text = wanted.get(key)
                if text is not None and text not in cache:
                    dict.__setitem__(cache, text, np.asarray(vector, dtype=np.float32))
        return cache

    def __setitem__(self, text: str, vector: np.ndarray) -> None:
        if text not in self:
            self._added.append(text)
        super().__setitem__(text, vector)

    @property
    def added(self) -> int:
        """Vectors added since `open` (what this run embedded)."""
        return len(self._added)

    def save(self) -> int:
        """Write the added vectors as one new segment (atomic rename); returns how many. Compacts when due."""
        if not self._added:
            return 0
        self.folder.mkdir(parents=True, exist_ok=True)
        frame = pl.DataFrame({"key": [cache_key(self.model, t) for t in self._added], "text": self._added,
                              "vector": [self[t].astype(np.float32).tolist() for t in self._added]}, schema=_SCHEMA)
        name = f"seg-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        _write(frame, self.folder / name)
        written, self._added = len(self._added), []
        if len(list(self.folder.glob("seg-*.parquet"))) > COMPACT_AT:
            self.compact()
        return written

    def compact(self) -> None:
        """Fold all segments into one (first vector per key wins); one compaction at a time, readers never fail."""
        with WriterLock(self.folder.parent / "embeddings.lock").hold(what="compacted"):
            segments = sorted(self.folder.glob("seg-*.parquet"))
            if len(segments) < 2:
                return
            frames = [f for f in (_read(p) for p in segments) if f is not None]
            merged = pl.concat(frames).unique("key", keep="first", maintain_order=True)
            # named after the newest folded segment, so it sorts where its newest content did
            _write(merged, segments[-1])
            for path in segments[:-1]:
                path.unlink(missing_ok=True)
            fsync_dir(self.folder)

    def _segments(self, wanted: dict[str, str]) -> Iterable[pl.DataFrame]:
        if not wanted or not self.folder.is_dir():
            return
        keys = pl.Series(list(wanted), dtype=pl.String())
        for path in sorted(self.folder.glob("seg-*.parquet")):
            frame = _read(path, keys)
            if frame is not None and frame.height:
                yield frame


def _read(path: Path, keys: pl.Series | None = None) -> pl.DataFrame | None:
    """One segment (only `keys`), or None when it vanished under a compaction."""
    try:
        scan = pl.scan_parquet(path)
        return (scan.filter(pl.col("key").is_in(keys.implode())) if keys is not None else scan).collect()
    except (FileNotFoundError, pl.exceptions.ComputeError):
        return None


def _write(frame: pl.DataFrame, path: Path) -> None:
    tmp = unique_tmp(path.parent, path.name)
    frame.write_parquet(tmp)
    fsync_file(tmp)
    os.replace(tmp, path)
    fsync_dir(path.parent)
