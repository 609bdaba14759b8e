"""Runs loaders: detection, batching, conforming to the schema, quarantine with reasons, reconciliation.

Error policy (owned here, not by loaders):

- a record that cannot be mapped (`RecordError`, or a `KeyError`/`IndexError`/`TypeError`/`ValueError` out of
  ``map_record``) is quarantined with its file, record number and reason — or, with ``on_error="abort"``,
  stops the load with that one line;
- a file that breaks mid-way (`LoaderError`) keeps every batch already written, quarantines nothing silently
  and is reported as failed, so the CLI exits non-zero;
- a plugin ``ImportError`` is never swallowed.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol

import polars as pl

from cib.errors import CibError, LoaderError, RecordError
from cib.schema import ACCOUNTS, POSTS, RAW_ERROR, RAW_RECORD, AccountRecord, PostRecord

__all__ = ["FileReport", "Loader", "detect", "expand_paths", "file_sha256", "ingest_file"]

_REC, _ERR = RAW_RECORD, RAW_ERROR
_MEDIA_SUFFIXES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".mp4", ".mov", ".webm", ".ogg", ".mp3", ".m4a",
                   ".tgs", ".pdf", ".zip", ".html", ".css", ".js"}


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
    error: str | None = None

    @property
    def reconciled(self) -> bool:
        return self.read == self.posts + self.accounts + self.quarantined

    def as_dict(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "platform": self.platform, "format": self.format,
                "read": self.read, "posts": self.posts, "accounts": self.accounts, "media": self.media,
                "quarantined": self.quarantined, "reasons": dict(sorted(self.reasons.items())),
                "error": self.error}


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files named directly, plus the files below named directories (sorted); media files beside exports
    are not candidates. Returns (explicit files, files found in directories)."""
    explicit: list[Path] = []
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() not in _MEDIA_SUFFIXES
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            explicit.append(path)
    return explicit, found


def detect(path: Path, loaders: Iterable[Loader]) -> tuple[Loader, str]:
    """The loader and format that recognise `path` by its content; `LoaderError` when none does."""
    if not path.exists():
        raise LoaderError(str(path), None, "no such file")
    known: list[str] = []
    for loader in loaders:
        fmt = loader.detect(path)
        if fmt:
            return loader, fmt
        known.extend(f"{loader.platform}/{f}" for f in loader.formats)
    raise LoaderError(str(path), None, f"not a recognised export (known formats: {', '.join(known)})")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def ingest_file(path: Path, loader: Loader, fmt: str, sink: Sink, *, on_error: str = "quarantine",
                batch_size: int = 50_000, progress: Callable[[int], None] | None = None) -> FileReport:
    """Stream one file through its loader into `sink`; never raises for bad records under quarantine."""
    sha = file_sha256(path)
    report = FileReport(path=str(path), sha256=sha, platform=loader.platform, format=fmt)
    sink.begin_file(sha)
    posts: list[PostRecord] = []
    accounts: list[AccountRecord] = []
    rejects: list[dict[str, Any]] = []
    part = 0

    def flush() -> None:
        nonlocal part, posts, accounts, rejects
        if posts or accounts:
            sink.write_file(sha, part, _frame(posts, POSTS), _accounts_frame(posts, accounts, loader))
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
            if len(posts) + len(accounts) >= batch_size:
                flush()
                if progress:
                    progress(report.read)
    except LoaderError as exc:
        report.error = str(exc)
    finally:
        flush()
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
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
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
    value = raw.get("value", raw.get("raw"))
    try:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text[:4000]


def _frame(rows: list[Any], schema: pl.Schema) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def _accounts_frame(posts: list[PostRecord], accounts: list[AccountRecord], loader: Loader) -> pl.DataFrame:
    """Explicit account records, plus one row per author seen in the posts (its profile as posted)."""
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
    return _frame(list(rows.values()), ACCOUNTS)
