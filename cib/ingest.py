"""Runs loaders: detection, batching, conforming to the schema, quarantine with reasons, reconciliation.

Error policy (owned here, not by loaders):

- a record that cannot be mapped (`RecordError`, or a `KeyError`/`IndexError`/`TypeError`/`ValueError` out of
  ``map_record``) is quarantined with its file, record number and reason — or, with ``on_error="abort"``,
  stops the load with that one line;
- a file that breaks mid-way (`LoaderError`) keeps every batch already written, quarantines nothing silently
  and is reported as failed, so the CLI exits non-zero;
- a plugin ``ImportError`` is never swallowed;
- a file that is not loaded is named with its reason: `plan` sorts candidates into jobs, failures (an
  explicitly named file nobody recognises, or a file a loader refuses, e.g. CooRTweet CSV without
  ``--platform``), skipped data-looking files (JSON/CSV content no loader knows) and ignored files (media
  beside an export, known side files, files that are not data);
- `run_jobs` spreads files over a process pool; each file's rows go to its own parts, so workers never
  share a file, and the parent records every file's report.
"""

from __future__ import annotations

import gc
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import orjson
import polars as pl

from cib.errors import CibError, LoaderError, RecordError
from cib.schema import ACCOUNTS, POSTS, RAW_ERROR, RAW_NOTE, RAW_RECORD, AccountRecord, PostRecord

if TYPE_CHECKING:
    from cib.ingest_batch import _Batch

__all__ = ["FileReport", "Loader", "Plan", "detect", "expand_paths", "file_sha256", "ingest_file", "plan", "record",
           "run_jobs"]

_REC, _ERR = RAW_RECORD, RAW_ERROR
_MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".mov", ".webm", ".ogg", ".mp3", ".m4a",
                   ".tgs", ".pdf", ".zip", ".html", ".css", ".js", ".bmp", ".tif", ".tiff", ".heic", ".avi", ".mkv",
                   ".wav", ".opus", ".oga", ".svg", ".ico"}
_DATA_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ""}
_SIDE_FILES = {"sources.txt", "readme", "readme.md", "readme.txt", "license", "license.txt", ".ds_store",
               "thumbs.db", "desktop.ini", "export_results.html", "ground_truth.json"}  # cib scenario truth


class Loader(Protocol):
    platform: ClassVar[str]
    formats: ClassVar[tuple[str, ...]]

    def detect(self, path: Path) -> str | None: ...

    def sniff(self, path: Path) -> bool: ...

    def iter_raw(self, path: Path) -> Iterator[Mapping[str, Any]]: ...

    @staticmethod
    def map_record(raw: Mapping[str, Any]) -> PostRecord | AccountRecord: ...

    @staticmethod
    def profile_url(account_id: str, handle: str | None) -> str: ...


class Sink(Protocol):
    def begin_file(self, file_key: str) -> None: ...

    def write_file(self, file_key: str, part: int, posts: pl.DataFrame, accounts: pl.DataFrame) -> None: ...

    def write_rejects(self, file_key: str, rows: list[dict[str, Any]]) -> None: ...

    def record_input(self, file_key: str, info: dict[str, Any]) -> None: ...


@dataclass
class FileReport:
    """What happened to one input file; ``read == posts + accounts + quarantined`` always holds."""

    path: str
    sha256: str
    platform: str
    format: str
    read: int = 0
    posts: int = 0
    accounts: int = 0
    media: int = 0
    quarantined: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    notes: Counter[str] = field(default_factory=Counter)
    error: str | None = None
    part_folder: str | None = None  # the shared part folder of a batched small file (not in `as_dict`)

    @property
    def reconciled(self) -> bool:
        return self.read == self.posts + self.accounts + self.quarantined

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "platform": self.platform, "format": self.format,
                "read": self.read, "posts": self.posts, "accounts": self.accounts, "media": self.media,
                "quarantined": self.quarantined, "reasons": dict(sorted(self.reasons.items())),
                "assumptions": dict(sorted(self.notes.items())), "error": self.error}


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files named directly, plus every file below named directories (sorted), except inside hidden folders
    (`hidden_folders` names those). Returns (explicit files, files found in directories)."""
    explicit: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file()
                                and not any(part.startswith(".") for part in p.relative_to(path).parts[:-1])))
        else:
            explicit.append(path)
    return explicit, found


def hidden_folders(paths: Iterable[Path]) -> list[Path]:
    """The outermost hidden folders (``.git``, ``.cache`` …) below the named directories, which are not read."""
    hidden: list[Path] = []
    for path in paths:
        if path.is_dir():
            for sub in sorted(path.rglob(".*")):
                if sub.is_dir() and not any(part.startswith(".") for part in sub.relative_to(path).parts[:-1]):
                    hidden.append(sub)
    return hidden


def detect(path: Path, loaders: Iterable[Loader]) -> tuple[Loader, str]:
    """The loader and format that recognise `path` by its content; `LoaderError` when none does (or when a
    loader refuses the file with a reason, e.g. a format that names no platform)."""
    if not path.exists():
        raise LoaderError(str(path), None, "no such file")
    known: list[str] = []
    for loader in loaders:
        try:
            fmt = loader.detect(path)
        except (OSError, UnicodeError, ValueError, RecursionError) as exc:
            raise LoaderError(str(path), None, f"cannot read: {type(exc).__name__}: {exc}") from exc
        if fmt:
            return loader, fmt
        known.extend(f"{loader.platform}/{f}" for f in loader.formats)
    raise LoaderError(str(path), None, f"not a recognised export (known formats: {', '.join(known)})")


@dataclass
class Plan:
    """What `cib load` will do with each file it was given: every file is in exactly one list."""

    jobs: list[tuple[Path, Loader, str]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[tuple[Path, str]] = field(default_factory=list)


def plan(paths: Iterable[Path], loaders: Iterable[Loader]) -> Plan:
    """Sort every file under `paths` into jobs, failures, skipped data files and ignored files."""
    loaders = list(loaders)
    paths = list(paths)
    explicit, found = expand_paths(paths)
    result = Plan(ignored=[(folder, "hidden folder, not read") for folder in hidden_folders(paths)])
    for path in explicit + found:
        side = _ignorable(path) if path not in explicit else None
        if side:
            result.ignored.append((path, side))
            continue
        try:
            loader, fmt = detect(path, loaders)
        except LoaderError as exc:
            if path in explicit or "not a recognised export" not in exc.reason:
                result.failed.append((path, exc.reason))
            elif _looks_like_data(path):
                result.skipped.append((path, "data file that is not a recognised export"))
            else:
                result.ignored.append((path, "not a data file"))
            continue
        result.jobs.append((path, loader, fmt))
    return result


def _ignorable(path: Path) -> str | None:
    name = path.name.lower()
    if name in _SIDE_FILES or name.startswith("."):
        return "known side file"
    if path.suffix.lower() in _MEDIA_SUFFIXES:
        return "media file (hashed through the export that names it)"
    return None


def _looks_like_data(path: Path) -> bool:
    """A ``.json/.jsonl/.ndjson/.csv/.tsv/.txt`` (or suffix-less) file whose content starts like JSON or a
    delimited table."""
    if path.suffix.lower() not in _DATA_SUFFIXES:
        return False
    with open(path, "rb") as fh:
        start = fh.read(4096).removeprefix(b"\xef\xbb\xbf").lstrip()
    first = start.split(b"\n", 1)[0]
    return start[:1] in (b"{", b"[") or b"," in first or b"\t" in first or b";" in first


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _unstorable(report: FileReport, bad: list[tuple[Any, str]], kind: str, rejects: list[dict[str, Any]]) -> None:
    """Move rows that cannot be stored (found while building a frame) from `kind` to the quarantine."""
    for row, reason in bad:
        setattr(report, kind, getattr(report, kind) - 1)
        report.media -= len(row.get("media") or []) if kind == "posts" else 0
        report.quarantined += 1
        report.reasons[_reason_class(reason)] += 1
        rejects.append({"source_file": report.path, "source_record": row.get("source_record"), "item": None,
                        "format": report.format, "reason": reason, "raw": _raw_text({"value": {
                            k: v for k, v in row.items() if isinstance(v, str | int | None)}})})


def _without(rows: list[Any], bad: list[tuple[Any, str]]) -> list[Any]:
    if not bad:
        return rows
    dropped = {id(row) for row, _ in bad}
    return [row for row in rows if id(row) not in dropped]


def ingest_file(path: Path, loader: Loader, fmt: str, sink: Sink, *, on_error: str = "quarantine",
                batch_size: int = 50_000, progress: Callable[[int], None] | None = None,
                batch: _Batch | None = None) -> FileReport:
    """Stream one file through its loader into `sink`; never raises for bad records under quarantine.

    With `batch` (a small file in a load worker), the file's rows are handed to it whole, to be written with
    other small files' rows into shared parts."""
    with _cyclic_gc_paused():
        return _ingest_file(path, loader, fmt, sink, on_error=on_error, batch_size=batch_size, progress=progress,
                            batch=batch)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while records are mapped: decoded JSON and records are acyclic
    (reference counting frees them), and the collector's passes over a batch of 50,000 records' dicts and lists
    cost about a fifth of the mapping time. It runs again afterwards, collecting anything a library left."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _ingest_file(path: Path, loader: Loader, fmt: str, sink: Sink, *, on_error: str, batch_size: int,
                 progress: Callable[[int], None] | None, batch: _Batch | None) -> FileReport:
    sha = file_sha256(path)
    report = FileReport(path=str(path), sha256=sha, platform=loader.platform, format=fmt)
    if batch is None:
        sink.begin_file(sha)
    from cib.ingest_fast import load_fast

    if batch is None and load_fast(path, loader, fmt, sink, sha, report, batch_size):
        if progress:
            progress(report.read)
        return report
    posts: list[PostRecord] = []
    accounts: list[AccountRecord] = []
    rejects: list[dict[str, Any]] = []
    part = 0

    def flush() -> None:
        nonlocal part, posts, accounts, rejects
        if batch is not None:
            batch.add(sha, report, loader, posts, accounts, rejects)
        else:
            if posts or accounts:
                post_frame, bad_posts = _safe_rows(posts, POSTS)
                account_frame, bad_accounts = _safe_rows(accounts, ACCOUNTS)
                _unstorable(report, bad_posts, "posts", rejects)
                _unstorable(report, bad_accounts, "accounts", rejects)
                posts, accounts = _without(posts, bad_posts), _without(accounts, bad_accounts)
                sink.write_file(sha, part, post_frame, _accounts_frame(posts, accounts, loader))
                part += 1
            if rejects:
                sink.write_rejects(sha, rejects)
        posts, accounts, rejects = [], [], []

    try:
        for raw in loader.iter_raw(path):
            report.read += 1
            try:
                if _ERR in raw:
                    raise RecordError(raw[_ERR])
                if RAW_NOTE in raw:
                    report.notes[raw[RAW_NOTE]] += 1
                record = _map(loader, raw)
            except RecordError as exc:
                if on_error == "abort":
                    flush()
                    raise LoaderError(str(path), raw.get(_REC), str(exc)) from exc
                report.quarantined += 1
                reason = str(exc)
                report.reasons[_reason_class(reason)] += 1
                rejects.append({"source_file": str(path), "source_record": raw.get(_REC), "item": raw.get("item"),
                                "format": fmt, "reason": reason, "raw": _raw_text(raw)})
                continue
            if "post_id" in record:
                posts.append(record)  # type: ignore[arg-type]
                report.posts += 1
                report.media += len(record["media"])  # type: ignore[typeddict-item]
            else:
                accounts.append(record)  # type: ignore[arg-type]
                report.accounts += 1
            if len(posts) + len(accounts) >= batch_size and batch is None:
                flush()
                if progress:
                    progress(report.read)
    except LoaderError as exc:
        report.error = str(exc)
    except (OSError, UnicodeError, RecursionError, MemoryError) as exc:
        report.error = str(LoaderError(str(path), report.read or None, f"{type(exc).__name__}: {exc}"))
    finally:
        flush()
        if batch is None:  # a batched file is recorded once its batch is written (`record`)
            sink.record_input(sha, report.as_dict())
    if progress:
        progress(report.read)
    return report


def _map(loader: Loader, raw: Mapping[str, Any]) -> PostRecord | AccountRecord:
    try:
        return loader.map_record(raw)
    except ImportError:
        raise
    except CibError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, ArithmeticError, RecursionError) as exc:
        raise RecordError(f"{loader.platform} loader line {_line(exc)}: {type(exc).__name__}: {exc}") from exc


def _line(exc: BaseException) -> str:
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"


def _reason_class(reason: str) -> str:
    """Group reasons for the summary: the text before the first quote or colon-detail."""
    return reason.split(":", 1)[0][:80] if len(reason) > 80 or ": " in reason else reason


def _raw_text(raw: Mapping[str, Any]) -> str:
    """The quarantined record as JSON text, at most 4,000 characters (lone surrogates escaped)."""
    value = raw.get("value", raw.get("raw"))
    if isinstance(value, str):
        return value[:4000].encode("utf-8", "backslashreplace").decode("utf-8")
    try:
        return orjson.dumps(value, default=str)[:4000].decode("utf-8", "replace")
    except (TypeError, ValueError):  # too deep for orjson, lone surrogates, ints beyond 64 bits
        return f"<record not shown: {type(value).__name__} that cannot be written as JSON>"


def _frame(rows: list[Any], schema: pl.Schema) -> pl.DataFrame:
    """Records (dicts) as a frame, converted by Arrow's C++ row reader (several times faster than polars'
    Python-level conversion of nested list/struct columns)."""
    if not rows:
        return pl.DataFrame(schema=schema)
    import pyarrow as pa

    frame = pl.from_arrow(pa.Table.from_pylist(rows, schema=_arrow_schema(schema)))
    assert isinstance(frame, pl.DataFrame)
    return frame if frame.schema == schema else frame.cast(dict(schema))  # type: ignore[arg-type]


_ARROW: dict[int, Any] = {}


def _arrow_schema(schema: pl.Schema) -> Any:
    key = id(schema)
    if key not in _ARROW:
        _ARROW[key] = pl.DataFrame(schema=schema).to_arrow().schema
    return _ARROW[key]


def _safe_rows(rows: list[Any], schema: pl.Schema) -> tuple[pl.DataFrame, list[tuple[Any, str]]]:
    """`rows` as a frame; when the batch cannot be built (a lone surrogate, an out-of-range value), the
    rows that break it are returned separately with the reason, so one record never costs the batch."""
    try:
        return _frame(rows, schema), []
    except (pl.exceptions.PolarsError, OverflowError, TypeError, ValueError, UnicodeError):
        good, bad = [], []
        for row in rows:
            try:
                _frame([row], schema)
                good.append(row)
            except (pl.exceptions.PolarsError, OverflowError, TypeError, ValueError, UnicodeError) as exc:
                bad.append((row, f"value cannot be stored: {type(exc).__name__}: {str(exc)[:120]}"))
        return _frame(good, schema), bad


def _accounts_frame(posts: list[PostRecord], accounts: list[AccountRecord], loader: Loader) -> pl.DataFrame:
    """Explicit account records, plus one row per author seen in the posts (its profile as posted)."""
    return _frame(_account_rows(posts, accounts, loader), ACCOUNTS)


def _account_rows(posts: list[PostRecord], accounts: list[AccountRecord], loader: Loader) -> list[AccountRecord]:
    rows: dict[str, AccountRecord] = {}
    for post in posts:
        rows[post["account_uid"]] = AccountRecord(
            uid=post["account_uid"], platform=post["platform"], account_id=post["account_id"],
            handle=post["handle"], display_name=post["display_name"], created_at=post["account_created_at"],
            followers=post["followers"], following=None, posts_count=None, bio=None, verified=None,
            profile_url=loader.profile_url(post["account_id"], post["handle"]), format=post["format"],
            source_file=post["source_file"], source_record=post["source_record"],
        )
    for account in accounts:
        rows[account["uid"]] = account
    return list(rows.values())


def _ingest_job(job: tuple[Path, Loader, str], sink: Sink, on_error: str, batch_size: int) -> FileReport:
    path, loader, fmt = job
    return ingest_file(path, loader, fmt, sink, on_error=on_error, batch_size=batch_size)


def run_jobs(jobs: list[tuple[Path, Loader, str]], sink: Sink, *, on_error: str = "quarantine",
             batch_size: int = 50_000, workers: int | None = None,
             done: Callable[[FileReport], None] | None = None) -> list[FileReport]:
    """Ingest every job, across a pool of `workers` processes (default: one per CPU) when there is more than
    one file and more than 8 MiB to read; reports come back in job order and are recorded in `sink` by
    this process (so the workspace's file index is written once, not once per file). Small files read by
    workers, or `MANY_FILES` and more read here, share part folders (`_Batch`)."""
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    total = sum(path.stat().st_size for path, _, _ in jobs)
    reports: list[FileReport | None] = [None] * len(jobs)
    from cib.ingest_batch import BatchSink

    many = len(jobs) >= MANY_FILES and on_error != "abort"
    if many and (workers == 1 or total < 8 * 2**20) and isinstance(sink, BatchSink):
        # many small files: batched in this process (the pool's start-up would cost more than it saves)
        step = 64
        for k in range(0, len(jobs), step):
            for i, report in enumerate(_ingest_many(jobs[k:k + step], sink, on_error, batch_size), start=k):
                reports[i] = report
                if report.part_folder is not None:  # the others recorded themselves (`ingest_file`)
                    record(sink, report)
                if done:
                    done(report)
        return [r for r in reports if r is not None]
    if workers == 1 or len(jobs) < 2 or total < 8 * 2**20 or on_error == "abort":
        for i, job in enumerate(jobs):
            report = _ingest_job(job, sink, on_error, batch_size)
            reports[i] = report
            if done:
                done(report)
            if report.error and on_error == "abort":
                break
        return [r for r in reports if r is not None]
    import multiprocessing

    order = sorted(range(len(jobs)), key=lambda i: -jobs[i][0].stat().st_size)  # biggest first
    context = multiprocessing.get_context("spawn")  # never fork a process that runs polars' threads
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        pending: dict[Future[list[FileReport]], list[int]] = {}
        chunks = [order[k:k + _chunk(len(jobs), workers)] for k in range(0, len(order), _chunk(len(jobs), workers))]
        for chunk in chunks:
            pending[pool.submit(_ingest_many, [jobs[i] for i in chunk], sink, on_error, batch_size)] = chunk
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    results = future.result()
                except BrokenProcessPool as exc:
                    raise CibError("a load worker process died (out of memory?); nothing was finalised, "
                                   "rerun with --jobs 1 to load one file at a time") from exc
                for i, report in zip(pending.pop(future), results, strict=True):
                    reports[i] = report
                    record(sink, report)
                    if done:
                        done(report)
    return [r for r in reports if r is not None]


def record(sink: Sink, report: FileReport) -> None:
    """Record a file a load worker finished in `sink` (in the parent process, which holds the journal)."""
    from cib.ingest_batch import BatchSink

    if report.part_folder is not None and isinstance(sink, BatchSink):
        sink.record_batched_input(report.sha256, report.as_dict(), report.part_folder)
    else:
        sink.record_input(report.sha256, report.as_dict())


def _chunk(n_jobs: int, workers: int) -> int:
    """Files per task: small files travel in groups so that per-task overhead does not dominate."""
    return max(1, min(64, n_jobs // (workers * 8)))


SMALL_FILE_BYTES = 1 << 20  # files up to this size share parts with other small files
MANY_FILES = 256  # from this many files on, small ones are batched even without worker processes


def _ingest_many(jobs: list[tuple[Path, Loader, str]], sink: Sink, on_error: str,
                 batch_size: int) -> list[FileReport]:
    """One worker task: its files in order; small ones are gathered into shared parts."""
    from cib.ingest_batch import BatchSink, _Batch

    batch = _Batch(sink, batch_size) if isinstance(sink, BatchSink) else None
    reports = []
    for path, loader, fmt in jobs:
        small = batch is not None and path.stat().st_size <= SMALL_FILE_BYTES
        reports.append(ingest_file(path, loader, fmt, sink, on_error=on_error, batch_size=batch_size,
                                   batch=batch if small else None))
    if batch is not None:
        with _cyclic_gc_paused():
            batch.flush()
    return reports
