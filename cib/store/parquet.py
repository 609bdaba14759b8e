"""The embedded default store: a Parquet workspace directory that survives crashes and concurrent commands.

Layout::

    .lock                              writer lock (flock); holds the pid of the running `cib load`
    loads/<load-id>.jsonl              journal of a running load; left behind only by a killed one
    files/<file-key>.<load-id>/        parts of one input file as loaded by one load (file key = sha256):
        posts-<n>.parquet accounts-<n>.parquet rejects.jsonl
    files/batch-<pid>-<id>.<load-id>/  parts shared by many small files read by one load worker: the same
        tables plus a ``_cib_part`` column (``<folder>/<file key>``), rejects-<file key>.jsonl
    generations/CURRENT                names the committed generation
    generations/g-NNNNNN/              one committed, immutable generation:
        manifest.json                  inputs (path, sha256, format, counts) and the part folders they come from
        posts.parquet accounts.parquet media.parquet links.parquet rejected.jsonl inputs.json
    posts.parquet … inputs.json        symlinks to the current generation's files, for other tools
    scores/CURRENT, scores/s-NNNNNN/   results of ``cib score`` (tables + params.json), same rules

A load writes its files' parts into new folders and appends one journal line per finished file (O(1) per
file). Only at the end does it build a new generation — manifest and materialised tables together — and make it
current with one atomic rename. So the list of inputs and the data present always come from the same commit: a
load killed at any point leaves the previous generation current, plus a journal that the next command reports
and the next load discards. Readers pin the generation they opened, so ``score``/``report``/``export`` see one
consistent snapshot while a load runs; one load at a time holds the writer lock, others wait (or, with
``wait=False``, fail with "workspace … is being loaded by pid N").

>>> import tempfile
>>> from cib.schema import empty
>>> ws = ParquetStore(tempfile.mkdtemp())
>>> ws.begin_file("k1")
>>> ws.write_file("k1", 0, empty(POSTS), empty(ACCOUNTS))
>>> ws.record_input("k1", {"path": "a.json", "sha256": "k1"})
>>> ws.finalize()["posts"], sorted(ws.inputs()), ws.generation()
(0, ['k1'], 'g-000001')
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import polars as pl

from cib.errors import StoreError
from cib.schema import (
    ACCOUNTS,
    CLUSTERS,
    EDGES,
    EVIDENCE,
    LINKS,
    MEDIA,
    MEMBERS,
    PART_KEY,
    POSTS,
    REJECTS,
    empty,
)
from cib.store.base import derive_links, derive_media
from cib.store.snapshots import (
    Pin,
    Versions,
    WriterLock,
    atomic_write_bytes,
    fault_point,
    fsync_dir,
    fsync_file,
    link_views,
    unique_tmp,
)

__all__ = ["ParquetStore", "default_workspace"]

_SCORE_TABLES = {"edges": EDGES, "evidence": EVIDENCE, "clusters": CLUSTERS, "members": MEMBERS}
BATCH_PREFIX = "batch-"  # part folders shared by many small files (file keys are sha256 hex: never this)
_TABLES = {"posts": POSTS, "accounts": ACCOUNTS, "media": MEDIA, "links": LINKS}


def default_workspace() -> Path:
    """``$CIB_WORKSPACE`` or ``./cib-workspace``."""
    return Path(os.environ.get("CIB_WORKSPACE") or "cib-workspace")


class ParquetStore:
    """A workspace directory of Parquet files. Construction does no I/O; the first read pins a generation."""

    def __init__(self, root: Path | str, *, wait: bool = True, on_wait: Any = None) -> None:
        self.root = Path(root)
        self.wait, self.on_wait = wait, on_wait
        self._generations = Versions(self.root / "generations", "g-")
        self._scores = Versions(self.root / "scores", "s-")
        self._pin: Pin | None = None
        self._scores_pin: Pin | None = None
        self._load: _Parts | None = None
        self._worker_of: str | None = None  # load id, in a load worker process

    def close(self) -> None:
        """Release the pinned snapshots (and abandon an uncommitted load, which stays marked as interrupted)."""
        for pin in (self._pin, self._scores_pin):
            if pin:
                pin.close()
        self._pin = self._scores_pin = None
        if self._load:
            self._load.close()
            self._load = None

    def __enter__(self) -> ParquetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if hasattr(self, "_load"):
            self.close()

    # -- loading ------------------------------------------------------------------------------------------
    def begin_load(self, planned: list[str] | None = None) -> list[str]:
        """Take the writer lock and start a journal; returns notes about interrupted loads it will discard."""
        load = self._ensure_load(planned)
        committed = self._committed_load_id()
        return [f"discarding {_describe(j)}" for j in load.leftovers if not j.name.startswith(committed)]

    def _ensure_load(self, planned: list[str] | None = None) -> _Parts:
        if self._load is None and self._worker_of:
            self._load = _Parts(self.root, self._worker_of)
        elif self._load is None:
            self._check_layout()
            self._load = _Load(self.root, planned or [], wait=self.wait, on_wait=self.on_wait)
        return self._load

    def __getstate__(self) -> dict[str, Any]:
        """Sent to a load worker process (``cib load --jobs``): the worker writes into this load's part folders,
        under the writer lock this process holds; this process records the finished files and commits."""
        return {"root": self.root, "load_id": self._ensure_load().load_id}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"])  # type: ignore[misc]
        self._worker_of = state["load_id"]

    def begin_file(self, file_key: str) -> None:
        """Start (or restart) the parts of one input file in this load (O(1): nothing else is rewritten)."""
        self._ensure_load().begin_file(file_key)

    def write_file(self, file_key: str, part: int, posts: pl.DataFrame, accounts: pl.DataFrame) -> None:
        if self._load is None or file_key not in self._load.folders:
            self.begin_file(file_key)
        assert self._load is not None
        folder = self._load.folders[file_key]
        for sub, frame in (("posts", posts), ("accounts", accounts)):
            if frame.height:
                _write_parquet(frame, folder / f"{sub}-{part:05d}.parquet")
                fault_point(f"part {sub} written")

    def write_rejects(self, file_key: str, rows: list[dict[str, Any]]) -> None:
        if self._load is None or file_key not in self._load.folders:
            self.begin_file(file_key)
        assert self._load is not None
        with open(self._load.folders[file_key] / "rejects.jsonl", "a", encoding="utf-8") as fh:
            for row in rows:
                fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        fault_point("rejects appended")

    def record_input(self, file_key: str, info: dict[str, Any]) -> None:
        """Note one finished input file in the journal (one appended line; nothing is rewritten)."""
        self._ensure_load().finish_file(file_key, info)

    def begin_batch(self) -> str:
        """A new shared part folder for the rows of many small files (`cib.ingest` batches them in load workers);
        returns its name."""
        load = self._ensure_load()
        name = f"{BATCH_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}.{load.load_id}"
        (self.root / "files" / name).mkdir(parents=True)
        fault_point("batch begun")
        return name

    def write_batch(self, folder: str, posts: pl.DataFrame, accounts: pl.DataFrame,
                    rejects: dict[str, list[dict[str, Any]]]) -> None:
        """Write one batch: a posts and an accounts part whose rows carry ``PART_KEY`` (``<folder>/<file key>``),
        and each file's quarantined records as ``rejects-<file key>.jsonl``."""
        path = self.root / "files" / folder
        for sub, frame in (("posts", posts), ("accounts", accounts)):
            if frame.height:
                _write_parquet(frame, path / f"{sub}-00000.parquet")
                fault_point(f"batch {sub} written")
        for key, rows in sorted(rejects.items()):
            with open(path / f"rejects-{key}.jsonl", "w", encoding="utf-8") as fh:
                for row in rows:
                    fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            fault_point("batch rejects written")

    def record_batched_input(self, file_key: str, info: dict[str, Any], folder: str) -> None:
        """Note one finished input file whose rows are in the shared part folder `folder`."""
        self._ensure_load().finish_file(file_key, info, folder)

    def finalize(self) -> dict[str, int]:
        """Commit the running load as a new generation (manifest + materialised tables in one atomic step),
        release the writer lock and return the counts of what is now current. Without a load: just the counts."""
        if isinstance(self._load, _Load):
            load, self._load = self._load, None
            try:
                self._commit(load)
            except OSError as exc:  # disk full, permissions: the previous generation stays current
                raise StoreError(f"{self.root}: cannot commit the load ({exc.strerror or exc}); the workspace "
                                 "still holds what was committed before it") from exc
            finally:
                load.close()
            if self._pin:
                self._pin.close()
                self._pin = None
        return self.counts()

    def _commit(self, load: _Load) -> None:
        current = self._generations.current()
        old = _read_json(self._generations.folder / current / "manifest.json") if current else {}
        inputs: dict[str, Any] = dict(old.get("inputs", {}))
        parts: dict[str, str] = dict(old.get("parts", {}))
        for key, info in load.finished.items():
            inputs[key] = info
            parts[key] = load.folders[key].name
        inputs, parts = dict(sorted(inputs.items())), dict(sorted(parts.items()))
        tmp = self._generations.new_tmp()
        files = self.root / "files"
        posts = (_scan(files, parts, "posts", POSTS)
                 .sort("uid", pl.col("handle").is_null(), "source_file", "source_record", maintain_order=True)
                 .unique("uid", keep="first", maintain_order=True))
        _sink(posts, tmp / "posts.parquet")
        accounts = _scan(files, parts, "accounts", ACCOUNTS).sort(
            "uid", "source_file", "source_record", maintain_order=True).group_by("uid", maintain_order=True).agg(
            [pl.col(c).drop_nulls().last() for c in ACCOUNTS.names() if c != "uid"]).select(ACCOUNTS.names()).sort("uid")
        _sink(accounts, tmp / "accounts.parquet")
        written = pl.scan_parquet(tmp / "posts.parquet")
        _sink(derive_media(written).sort("post_uid", "key"), tmp / "media.parquet")
        _sink(derive_links(written), tmp / "links.parquet")
        fault_point("generation tables written")
        with open(tmp / "rejected.jsonl", "w", encoding="utf-8") as out:
            for key, name in parts.items():
                rejects = files / name / (f"rejects-{key}.jsonl" if name.startswith(BATCH_PREFIX) else "rejects.jsonl")
                if rejects.exists():
                    out.write(rejects.read_text("utf-8"))
        generation = {"inputs": inputs, "parts": parts, "load_id": load.load_id, "committed_at": _now()}
        (tmp / "manifest.json").write_text(json.dumps(generation, indent=2, sort_keys=True), "utf-8")
        (tmp / "inputs.json").write_text(json.dumps(inputs, indent=2, sort_keys=True), "utf-8")  # view, as before
        fault_point("generation manifest written")
        final = self._generations.publish(tmp)
        # Commit point passed: everything below is clean-up that the next load redoes if it is killed here.
        link_views(final, self.root, [*(f"{name}.parquet" for name in _TABLES), "rejected.jsonl", "inputs.json"])
        self._generations.collect_garbage()
        _remove_unreferenced(self.root / "files", set(parts.values()))
        load.retire_journals()

    # -- state ----------------------------------------------------------------------------------------------
    def interrupted(self) -> list[str]:
        """One line per load that was killed before it committed (its journal is still there, unlocked)."""
        committed = self._committed_load_id()
        return [_describe(j) for j in _dead_journals(self.root / "loads") if not j.name.startswith(committed)]

    def _committed_load_id(self) -> str:
        """The load that made the current generation (its journal may outlive the commit if it was killed
        while cleaning up; that load is complete, not interrupted)."""
        current = self._generations.current()
        if not current:
            return "\0"
        return str(_read_json(self._generations.folder / current / "manifest.json").get("load_id") or "\0")

    def generation(self) -> str | None:
        """Name of the pinned (committed) generation, or ``None`` for an empty workspace."""
        pin = self._pinned()
        return pin.path.name if pin else None

    def inputs(self) -> dict[str, Any]:
        """Per input file key: path, sha256, format and counts — exactly the files whose data is present."""
        return dict(self._manifest().get("inputs", {}))

    def counts(self) -> dict[str, int]:
        return {name: self._table(name).select(pl.len()).collect().item() for name in _TABLES}

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
        pin = self._pinned()
        path = pin.path / "rejected.jsonl" if pin else self.root / "rejected.jsonl"
        if not path.exists() or path.stat().st_size == 0:
            return empty(REJECTS)
        return pl.read_ndjson(path, infer_schema_length=None)

    # -- scores -------------------------------------------------------------------------------------------
    def write_scores(self, tables: dict[str, pl.DataFrame], params: dict[str, Any]) -> None:
        """Publish one scoring result atomically (concurrent `cib score` runs: the last one wins, none breaks)."""
        params = {**params, "workspace_generation": params.get("workspace_generation", self.generation())}
        with WriterLock(self.root / "scores.lock").hold(what="scored"):
            tmp = self._scores.new_tmp()
            for name, schema in _SCORE_TABLES.items():
                tables.get(name, empty(schema)).write_parquet(tmp / f"{name}.parquet")
            (tmp / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True, default=str), "utf-8")
            fault_point("scores written")
            final = self._scores.publish(tmp)
            link_views(final, self._scores.folder, [*(f"{name}.parquet" for name in _SCORE_TABLES), "params.json"])
            self._scores.collect_garbage()
        if self._scores_pin:
            self._scores_pin.close()
            self._scores_pin = None

    def scores(self, name: str) -> pl.DataFrame:
        pin = self._pinned_scores()
        legacy = self._scores.folder / f"{name}.parquet"
        if pin is None and legacy.exists() and not legacy.is_symlink():
            return pl.read_parquet(legacy)
        if pin is None:
            raise StoreError(f"{self.root}: no scores yet; run `cib score --workspace {self.root}` first")
        return pl.read_parquet(pin.path / f"{name}.parquet")

    def score_params(self) -> dict[str, Any]:
        pin = self._pinned_scores()
        return _read_json(pin.path / "params.json") if pin else {}

    # -- helpers ------------------------------------------------------------------------------------------
    def _legacy(self) -> bool:
        """A workspace of an older cib (tables at the top, no generations): readable, not loadable."""
        top = self.root / "posts.parquet"
        return top.exists() and not top.is_symlink() and not (self.root / "generations").exists()

    def _check_layout(self) -> None:
        if self._legacy():
            raise StoreError(f"{self.root} was written by an older cib (no generations/ folder); "
                             "load the exports into a new workspace")

    def _pinned(self) -> Pin | None:
        if self._pin is None:
            self._pin = self._generations.pin()
        return self._pin

    def _pinned_scores(self) -> Pin | None:
        if self._scores_pin is None:
            self._scores_pin = self._scores.pin()
        return self._scores_pin

    def _manifest(self) -> dict[str, Any]:
        pin = self._pinned()
        if pin is None and self._legacy():
            return {"inputs": _read_json(self.root / "inputs.json")}
        return _read_json(pin.path / "manifest.json") if pin else {}

    def _table(self, name: str) -> pl.LazyFrame:
        pin = self._pinned()
        if pin is None:
            return pl.scan_parquet(self.root / f"{name}.parquet") if self._legacy() else empty(_TABLES[name]).lazy()
        return pl.scan_parquet(pin.path / f"{name}.parquet")


class _Parts:
    """The part folders of one load, as a load worker process writes them (no lock, no journal: the parent
    process that holds both records the finished files)."""

    def __init__(self, root: Path, load_id: str) -> None:
        self.root, self.load_id = root, load_id
        self.folders: dict[str, Path] = {}
        self.finished: dict[str, Any] = {}
        self.leftovers: list[Path] = []

    def folder(self, key: str) -> Path:
        return self.root / "files" / f"{key}.{self.load_id}"

    def begin_file(self, key: str) -> None:
        folder = self.folder(key)
        if folder.exists():  # the same content twice in one load: its second reading replaces the first
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        self.folders[key] = folder
        self.finished.pop(key, None)
        fault_point("file begun")

    def finish_file(self, key: str, info: dict[str, Any], folder: str | None = None) -> None:
        pass  # recorded by the parent process

    def close(self) -> None:
        pass


class _Load(_Parts):
    """One running load: the writer lock, its journal and the part folders it (or its workers) write."""

    def __init__(self, root: Path, planned: list[str], *, wait: bool, on_wait: Any) -> None:
        self.root = root
        self.lock = WriterLock(root / ".lock")
        self.lock.acquire(wait=wait, on_wait=on_wait)
        fault_point("lock taken")
        self.load_id = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.folders: dict[str, Path] = {}
        self.finished: dict[str, Any] = {}
        journals = root / "loads"
        journals.mkdir(parents=True, exist_ok=True)
        self.leftovers = sorted(journals.glob("*.jsonl"))
        self.journal = journals / f"{self.load_id}.jsonl"
        header = {"load_id": self.load_id, "pid": os.getpid(), "started": _now(), "planned": planned}
        atomic_write_bytes(self.journal, (json.dumps(header, ensure_ascii=False) + "\n").encode())
        fsync_dir(journals)
        self._journal_fh = open(self.journal, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._synced = time.monotonic()
        fault_point("journal started")

    def finish_file(self, key: str, info: dict[str, Any], folder: str | None = None) -> None:
        if folder is not None:  # its rows are in a shared part folder, with other small files' rows
            self.folders[key] = self.root / "files" / folder
        elif key not in self.folders:  # written by a worker process into this load's folder (or no rows at all)
            self.folders[key] = self.folder(key)
            self.folders[key].mkdir(parents=True, exist_ok=True)
        self.finished[key] = info
        self._journal_fh.write(json.dumps({"finished": key, "path": info.get("path")}, ensure_ascii=False) + "\n")
        self._journal_fh.flush()  # in the OS after a killed process; on disk within a second of a power cut
        if time.monotonic() - self._synced >= 1.0:
            # The journal only tells the next load what an interrupted one had finished ("discarding ..."); a
            # line lost at a power cut changes that message, never data. An fsync per file cost 10,000 small
            # files about 3 s.
            os.fsync(self._journal_fh.fileno())
            self._synced = time.monotonic()
        fault_point("file recorded")

    def retire_journals(self) -> None:
        """After a commit: the journals of this load and of interrupted ones are no longer needed."""
        for leftover in self.root.glob(".*.tmp"):  # views a killed commit was linking
            leftover.unlink(missing_ok=True)
        for journal in sorted((self.root / "loads").iterdir()):
            journal.unlink(missing_ok=True)
            fault_point("journal removed")

    def close(self) -> None:
        self._journal_fh.close()
        self.lock.release()


def _dead_journals(folder: Path) -> list[Path]:
    """Journals whose load no longer holds the writer lock (checked without taking it from a live writer)."""
    journals = sorted(folder.glob("*.jsonl")) if folder.is_dir() else []
    if not journals:
        return []
    lock = WriterLock(folder.parent / ".lock")
    if lock.busy():
        return [j for j in journals if f"-{lock.holder()}-" not in j.name]
    return journals


def _describe(journal: Path) -> str:
    try:
        lines = journal.read_text("utf-8").splitlines()
        header = json.loads(lines[0])
    except (OSError, IndexError, ValueError):
        return f"an interrupted load ({journal.name}) whose journal is unreadable"
    finished = sum(1 for line in lines[1:] if line.startswith('{"finished"'))
    planned = header.get("planned") or []
    names = ", ".join(planned[:3]) + (f" and {len(planned) - 3} more" if len(planned) > 3 else "")
    return (f"the interrupted load by pid {header.get('pid')} started {header.get('started')}"
            f"{' of ' + names if names else ''} ({finished} of {len(planned) or '?'} files read, none committed)")


def _remove_unreferenced(folder: Path, keep: set[str]) -> None:
    if not folder.is_dir():
        return
    for child in folder.iterdir():
        if child.name not in keep:
            shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
            fault_point("part folder removed")


def _scan(files: Path, parts: dict[str, str], sub: str, schema: pl.Schema) -> pl.LazyFrame:
    """The `sub` rows of every input file in `parts` (file key -> part folder). A shared (batch) folder holds
    rows of several files, tagged ``PART_KEY``; only the rows of files that the manifest maps to that folder
    are read (a file read again since lives in a newer folder)."""
    own = sorted(p for name in set(parts.values()) if not name.startswith(BATCH_PREFIX)
                 for p in (files / name).glob(f"{sub}-*.parquet"))
    shared = sorted(p for name in set(parts.values()) if name.startswith(BATCH_PREFIX)
                    for p in (files / name).glob(f"{sub}-*.parquet"))
    frames = [pl.scan_parquet(own)] if own else []
    if shared:
        wanted = pl.Series([f"{name}/{key}" for key, name in parts.items() if name.startswith(BATCH_PREFIX)],
                           dtype=pl.String)
        frames.append(pl.scan_parquet(shared).filter(pl.col(PART_KEY).is_in(wanted.implode())).drop(PART_KEY))
    if not frames:
        return empty(schema).lazy()
    return pl.concat(frames, how="vertical") if len(frames) > 1 else frames[0]


def _write_parquet(frame: pl.DataFrame, path: Path) -> None:
    tmp = unique_tmp(path.parent, path.name)
    try:
        frame.write_parquet(tmp)
        fsync_file(tmp)
        os.replace(tmp, path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        tmp.unlink(missing_ok=True)
        reason = exc.strerror if isinstance(exc, OSError) else str(exc).splitlines()[0]
        raise StoreError(f"cannot write {path}: {reason}; nothing of this load is committed") from exc


def _sink(frame: pl.LazyFrame, path: Path) -> None:
    try:
        frame.sink_parquet(path)  # streamed: the committed table is never whole in memory
    except pl.exceptions.PolarsError as exc:
        raise StoreError(f"{path.parent.parent.parent}: cannot write {path.name}: {exc}") from exc


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as exc:
        raise StoreError(f"{path}: damaged ({exc})") from exc


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
