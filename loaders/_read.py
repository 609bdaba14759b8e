"""Reading export files: sniffing the first record, JSON lines, JSON documents and CSV, with hard limits.

Every reader streams; nothing here holds more than one record (or one JSON document of at most
`WHOLE_DOCUMENT_BYTES`) in memory. The limits are part of the documented behaviour:

- `MAX_LINE_BYTES` (256 MiB): a JSON line longer than this is quarantined, unread, and reading goes on.
  A raw twarc2 page is one line of up to a few MB, so no real export comes near it.
- `MAX_DEPTH` (1,024, orjson's own limit): a record nested deeper is quarantined (a JSON line, an array
  item) or, for a document read whole, fails its file with a one-line reason.
- `MAX_CELL_BYTES` (16 MiB): a CSV cell larger than this quarantines its row.
- `WHOLE_DOCUMENT_BYTES` (64 MiB): a JSON document (not JSON lines) up to this size is parsed at once with
  orjson; a larger one is streamed item by item with ijson.

JSON lines end at ``\\n`` only: U+2028, U+0085 and lone ``\\r`` inside a caption are data, not line breaks.
"""

from __future__ import annotations

import csv
import functools
import io
import sys
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from cib.errors import LoaderError
from cib.schema import RAW_ERROR, RAW_FILE, RAW_FORMAT, RAW_RECORD

__all__ = [
    "HEAD_BYTES",
    "MAX_CELL_BYTES",
    "MAX_DEPTH",
    "MAX_LINE_BYTES",
    "WHOLE_DOCUMENT_BYTES",
    "TooDeep",
    "csv_header",
    "csv_rows",
    "first_json",
    "head",
    "iter_lines",
    "json_records",
    "stream_items",
]

HEAD_BYTES = 64 * 1024
MAX_LINE_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 1024
MAX_CELL_BYTES = 16 * 1024 * 1024
WHOLE_DOCUMENT_BYTES = 64 * 1024 * 1024
REC, ERR, FMT, FILE = RAW_RECORD, RAW_ERROR, RAW_FORMAT, RAW_FILE

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class TooDeep:
    """Marker value of a streamed item nested deeper than `MAX_DEPTH` (it is quarantined, not built)."""


def head(path: Path) -> str:
    """The first 64 KiB of a file as text (undecodable bytes replaced), for key-based sniffing."""
    with open(path, "rb") as fh:
        return fh.read(HEAD_BYTES).decode("utf-8", errors="replace").lstrip("\ufeff")


def iter_lines(fh: BinaryIO, limit: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """``(line number, bytes)`` of each ``\\n``-terminated line; a line over `limit` bytes yields None.

    Examples
    --------
    >>> list(iter_lines(io.BytesIO(b'{"t": "a\\xe2\\x80\\xa8b"}\\n\\n[1]'), limit=64))
    [(1, b'{"t": "a\\xe2\\x80\\xa8b"}\\n'), (2, b'\\n'), (3, b'[1]')]
    >>> list(iter_lines(io.BytesIO(b'x' * 10 + b'\\nok\\n'), limit=4))
    [(1, None), (2, b'ok\\n')]
    """
    cap = MAX_LINE_BYTES if limit is None else limit
    n = 0
    while True:
        line = fh.readline(cap + 1)
        if not line:
            return
        n += 1
        if len(line) > cap and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):  # skip the rest of the over-long line, chunk by chunk
                line = fh.readline(1 << 20)
            yield n, None
            continue
        yield n, line


@functools.lru_cache(maxsize=64)
def _first_json_cached(path: str, _mtime: float, _size: int) -> tuple[Any, bool]:
    """(first value, whether it is the first line of a JSON-lines file)."""
    broken_first = False
    with open(path, "rb") as fh:
        for _n, line in iter_lines(fh):
            if line is None:
                return None, False
            text = line.strip().removeprefix(b"\xef\xbb\xbf").strip()
            if not text:
                continue
            try:
                return orjson.loads(text), True
            except orjson.JSONDecodeError:
                if broken_first or len(text) < 2:  # "[" / "{" alone: a pretty-printed document
                    break
                broken_first = True  # one bad (e.g. too deep) first line: the next line decides
    if _first_byte(path) == b"[":  # a pretty-printed array: its first item, streamed
        for _prefix, value in stream_items(path, {("item",)}, limit_items=1):
            return ([value] if not isinstance(value, TooDeep) else None), False
    return None, False


def _first(path: Path) -> tuple[Any, bool]:
    try:
        stat = path.stat()
        return _first_json_cached(str(path), stat.st_mtime, stat.st_size)
    except (OSError, LoaderError, RecursionError):
        return None, False


def first_json(path: Path) -> Any:
    """The first JSON value of a file — its first line parsed whole, however long — or the first item of
    a pretty-printed array (as a one-item list); None when the file does not start with JSON."""
    return _first(path)[0]


def _first_byte(path: Path | str) -> bytes:
    with open(path, "rb") as fh:
        chunk = fh.read(4096).removeprefix(b"\xef\xbb\xbf")
        while chunk and not chunk.strip():
            chunk = fh.read(4096)
    return chunk.strip()[:1]


def json_records(path: Path, fmt: str) -> Iterator[dict[str, Any]]:
    """Yield the JSON values of a JSON-lines file (a line holding an array yields its items), or of a
    single JSON document (an array yields its items). A line that is not JSON, too long or too deep
    yields an error record, so ingest quarantines it and carries on.
    """
    is_lines = _first(path)[1]
    start = _first_byte(path)
    if not is_lines and start in (b"[", b"{"):
        yield from _json_document(path, fmt, start)
        return
    name = str(path)
    with open(path, "rb") as fh:
        for n, line in iter_lines(fh):
            if line is None:
                yield {REC: n, ERR: f"JSON line longer than {MAX_LINE_BYTES:,} bytes", "raw": "", FMT: fmt,
                       FILE: name}
                continue
            text = line.strip()
            if n == 1:
                text = text.removeprefix(b"\xef\xbb\xbf").strip()
            if not text:
                continue
            try:
                value = orjson.loads(text)
            except orjson.JSONDecodeError as exc:
                yield {REC: n, ERR: f"invalid JSON: {exc}", "raw": text[:2000].decode("utf-8", "replace"),
                       FMT: fmt, FILE: name}
                continue
            if isinstance(value, list):
                for i, item in enumerate(value):
                    yield {REC: n, FMT: fmt, FILE: name, "value": item, "item": f"[{i}]"}
            else:
                yield {REC: n, FMT: fmt, FILE: name, "value": value}


def _json_document(path: Path, fmt: str, start: bytes) -> Iterator[dict[str, Any]]:
    """A document up to `WHOLE_DOCUMENT_BYTES` is parsed at once; a larger top-level array is streamed."""
    name = str(path)
    value = None
    if path.stat().st_size <= WHOLE_DOCUMENT_BYTES or start != b"[":
        try:
            value = load_document(path)
        except LoaderError:
            if start != b"[":
                raise
            # a broken or too-deep array: stream it, keeping every item before the break
    if value is None:
        for n, (_prefix, item) in enumerate(stream_items(path, {("item",)}), start=1):
            if isinstance(item, TooDeep):
                yield {REC: n, ERR: f"record nested deeper than {MAX_DEPTH} levels", "raw": "", FMT: fmt,
                       FILE: name}
            else:
                yield {REC: n, FMT: fmt, FILE: name, "value": item}
        return
    items = value if isinstance(value, list) else [value]
    for n, item in enumerate(items, start=1):
        yield {REC: n, FMT: fmt, FILE: name, "value": item}


def load_document(path: Path, data: bytes | None = None) -> Any:
    """A whole JSON document parsed with orjson; `LoaderError` with a one-line reason when it is not JSON."""
    if path.stat().st_size > WHOLE_DOCUMENT_BYTES and data is None:
        raise LoaderError(str(path), None, f"JSON document larger than {WHOLE_DOCUMENT_BYTES:,} bytes that is "
                          "not a top-level array cannot be streamed")
    try:
        return orjson.loads(data if data is not None else path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise LoaderError(str(path), exc.lineno, f"invalid JSON document: {exc.msg}") from exc


def stream_items(path: Path | str, prefixes: AbstractSet[tuple[str, ...]], *,
                 scalars: AbstractSet[tuple[str, ...]] = frozenset(), starts: AbstractSet[tuple[str, ...]] = frozenset(),
                 source: BinaryIO | None = None,
                 limit_items: int | None = None) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Stream a JSON document with ijson's event parser, without prefix strings (so deep nesting costs
    linear time): yield ``(prefix, value)`` for each value whose key path is in `prefixes` (array elements
    are ``"item"``), each scalar whose path is in `scalars`, and ``(prefix, None)`` at the start of each
    object or array whose path is in `starts`. An item nested deeper than `MAX_DEPTH` yields a `TooDeep`.

    Examples
    --------
    >>> src = io.BytesIO(b'{"id": 5, "messages": [{"id": 1}, [[[]]]]}')
    >>> list(stream_items("x", {("messages", "item")}, scalars={("id",)}, source=src))
    [(('id',), 5), (('messages', 'item'), {'id': 1}), (('messages', 'item'), [[[]]])]
    """
    import ijson

    fh = source if source is not None else open(path, "rb")  # noqa: SIM115 - closed below
    stack: list[str | None] = []
    builder: Any = None
    depth = 0
    too_deep = False
    current: tuple[str, ...] = ()
    count = 0
    try:
        for event, value in ijson.basic_parse(fh, use_float=True):
            if builder is not None:
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth > MAX_DEPTH:
                        too_deep = True
                elif event in ("end_map", "end_array"):
                    depth -= 1
                if not too_deep:
                    builder.event(event, value)
                if depth == 0:
                    yield current, (TooDeep() if too_deep else builder.value)
                    builder, too_deep = None, False
                    count += 1
                    if limit_items is not None and count >= limit_items:
                        return
                continue
            if event == "map_key":
                stack[-1] = value
                continue
            if event in ("end_map", "end_array"):
                stack.pop()
                continue
            current = tuple(s or "" for s in stack)
            if event in ("start_map", "start_array"):
                if current in prefixes:
                    builder, depth = ijson.ObjectBuilder(), 1
                    builder.event(event, value)
                    continue
                if current in starts:
                    yield current, None
                if len(stack) >= MAX_DEPTH:
                    raise LoaderError(str(path), None, f"JSON nested deeper than {MAX_DEPTH} levels")
                stack.append(None if event == "start_map" else "item")
                continue
            if current in prefixes or current in scalars:
                yield current, value
    except ijson.JSONError as exc:
        raise LoaderError(str(path), count + 1, f"invalid JSON after {count} items: {exc}") from exc
    finally:
        if source is None:
            fh.close()


def csv_header(path: Path) -> list[str]:
    """The header row of a CSV file (BOM and surrounding quotes removed); [] when it has none."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
            row = next(csv.reader(io.StringIO(fh.readline(HEAD_BYTES))), [])
    except (csv.Error, OSError):
        return []
    return [c.strip().strip('"') for c in row]


def csv_rows(path: Path, fmt: str, extra: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Yield each CSV row as a dict of strings; a row with the wrong number of fields, or a cell over
    `MAX_CELL_BYTES`, is an error record. `extra` keys are added to every record."""
    name = str(path)
    more = extra or {}
    with open(path, encoding="utf-8-sig", errors="replace", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = next(reader, None)
        except csv.Error as exc:
            raise LoaderError(name, 1, f"unreadable CSV header: {exc}") from exc
        if header is None:
            return
        header = [h.strip() for h in header]
        n = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raise LoaderError(name, reader.line_num, f"unreadable CSV: {exc}") from exc
            n += 1
            if not row:
                continue
            error = None
            if len(row) != len(header):
                error = f"CSV row has {len(row)} fields, header has {len(header)}"
            elif max(map(len, row)) > MAX_CELL_BYTES:
                error = f"CSV cell larger than {MAX_CELL_BYTES:,} bytes"
            if error:
                yield {REC: n, ERR: error, "raw": ",".join(row)[:2000], FMT: fmt, FILE: name, **more}
                continue
            yield {REC: n, FMT: fmt, FILE: name, "value": dict(zip(header, row, strict=True)), **more}
