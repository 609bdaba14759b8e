"""Vectorised fast path: a whole JSON-lines file read by polars' native reader and mapped with expressions.

The per-record path (``iter_raw`` + ``map_record``) stays the reference. A fast path returns the *same* posts
frame the per-record path would build for a file — or None, and then ingest runs the per-record path on that
whole file, so every quarantine reason, message and limit stays. It returns None whenever it cannot guarantee
that result: a line that is not a bare ``{...}`` object, a blank line, ``\\r``, a raw control byte, a
``\\uXXXX`` escape of a surrogate or a control character, invalid UTF-8, a line that is long enough to hide
nesting deeper than `MAX_DEPTH` and that orjson refuses, a value of an unexpected JSON type (polars' reader
with an explicit schema refuses those for numbers and structs; for the string fields a byte scan refuses
numbers, booleans, objects and arrays), or any row that the per-record path would quarantine.

Caption-derived columns (``text_norm``, URLs, hashtags and mentions found in the text) are computed by the
same Python functions as the per-record path, once per distinct caption, so their Unicode semantics cannot
drift.

Examples
--------
>>> clean_json_lines(b'{"a": 1}\\n{"a": 2}\\n').tolist()  # where each line starts
[0, 9]
>>> clean_json_lines(b'{"a": 1}\\n\\n{"a": 2}\\n') is None  # a blank line shifts record numbers
True
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

from cib.schema import POSTS
from loaders._common import (
    canonical_url,
    hashtags_from_text,
    mentions_from_text,
    normalize_text,
    urls_from_text,
)
from loaders._read import MAX_DEPTH, MAX_LINE_BYTES

__all__ = ["FAST_MIN_BYTES", "clean_json_lines", "epoch_ts", "json_lines_file", "mapped_list", "read_json_lines", "strict_str",
           "text_columns", "timestamps", "to_posts"]

FAST_MIN_BYTES = 1 << 20  # smaller files gain nothing: the per-record path is cheaper than a reader's start-up
# escapes the per-record path treats differently from polars: lone or paired surrogates, control characters
# (Python's str.strip() removes \x1c-\x1f, Rust's trim does not)
_RISKY_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]|\\u00[01]")
_NOT_CONTROL = bytes(range(0x20, 256)) + b"\n"
_EPOCH_MAX = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())


def clean_json_lines(data: bytes) -> np.ndarray[Any, Any] | None:
    """The start offset of each line when `data` is JSON lines the fast path reads exactly like the per-record
    path (one ``{...}`` object per ``\\n``-terminated line, nothing else), else None."""
    if not data or data.startswith(b"\xef\xbb\xbf") or _RISKY_ESCAPE.search(data):
        return None
    if data.translate(None, _NOT_CONTROL):  # raw control bytes (\r and tabs included): the reference decides
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 0x0A)
    if not len(ends) or ends[-1] != len(buf) - 1:
        ends = np.append(ends, len(buf))  # last line without its newline
    starts = np.concatenate(([0], ends[:-1] + 1))
    lengths = ends - starts
    if (lengths < 2).any() or (lengths > MAX_LINE_BYTES).any():
        return None
    if not ((buf[starts] == ord("{")) & (buf[ends - 1] == ord("}"))).all():
        return None
    opens = np.flatnonzero((buf == ord("{")) | (buf == ord("[")))
    brackets = np.bincount(np.searchsorted(starts, opens, side="right") - 1, minlength=len(starts))
    for k in np.flatnonzero(brackets > MAX_DEPTH):  # only lines with that many brackets can be too deep for orjson
        try:
            orjson.loads(data[starts[k]:ends[k]])
        except orjson.JSONDecodeError:
            return None
    return starts


def read_json_lines(data: bytes, schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    """`data` read by Arrow's multi-threaded C++ JSON-lines reader with an explicit `schema` (fields not in it
    are skipped); None when it refuses the file. The reader is strict where the per-record path is picky:
    a string field holding a number, boolean, object or array, an integer field holding a float, a string or
    a number beyond 64 bits, an object field holding anything else, a key given twice, a lone surrogate,
    invalid UTF-8 — each is refused, so the file goes to the per-record path."""
    import pyarrow as pa
    import pyarrow.json as pj

    arrow = pa.schema([(name, _arrow(dtype)) for name, dtype in schema.items()])
    options = pj.ParseOptions(explicit_schema=arrow, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(io.BytesIO(data), parse_options=options, read_options=pj.ReadOptions(block_size=1 << 24))
    except (pa.ArrowException, ValueError, UnicodeError):
        return None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(schema)  # type: ignore[arg-type]


def json_lines_file(path: Path, schema: dict[str, pl.DataType], min_bytes: int) -> pl.DataFrame | None:
    """The JSON lines of `path` as one row each (`clean_json_lines` + `read_json_lines`), or None when the
    file is under `min_bytes`, needs the per-record path, or the reader's rows do not match its lines."""
    if path.stat().st_size < min_bytes:
        return None
    data = path.read_bytes()
    starts = clean_json_lines(data)
    if starts is None:
        return None
    frame = read_json_lines(data, schema)
    return frame if frame is not None and frame.height == len(starts) else None


_ISO_UTC = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$"


def timestamps(values: pl.Series, parse: Callable[[str], datetime | None]) -> pl.Series | None:
    """`parse` (`loaders._time.parse_ts` or `opt_ts`, no ``--tz``) of a string column as UTC datetimes. The
    common ``2022-01-01T00:00:00.000Z`` form is converted by polars (an impossible date or a year outside
    1970-2099 is left to `parse`), every other distinct value by `parse` itself. None when `parse` raises
    `RecordError` for a value (the per-record path would quarantine that row)."""
    from cib.errors import RecordError

    iso = values.str.contains(_ISO_UTC).fill_null(False)
    fast = values.str.to_datetime("%Y-%m-%dT%H:%M:%S%.fZ", time_unit="us", time_zone="UTC", strict=False)
    year = fast.dt.year()
    good = iso & fast.is_not_null() & (year >= 1970) & (year <= 2099)
    rest = values.filter(~good).drop_nulls().unique().to_list()
    try:
        mapping = {v: parse(v) for v in rest}
    except RecordError:
        return None
    slow = values.replace_strict(mapping, default=None, return_dtype=pl.Datetime("us", "UTC")) if mapping else \
        pl.Series(values.name, [None] * len(values), pl.Datetime("us", "UTC"))
    return pl.select(pl.when(pl.lit(good)).then(pl.lit(fast)).otherwise(pl.lit(slow))).to_series().alias(values.name)


def json_depth(data: bytes) -> int:
    """The deepest nesting of objects and arrays in JSON text `data`, brackets inside strings not counted.

    >>> json_depth(b'{"a": [1, {"b": "[[[[", "c": "\\\\"}]}')
    3
    """
    plain = data.replace(b"\\\\", b"__").replace(b'\\"', b"__")  # escaped backslashes, then escaped quotes
    buf = np.frombuffer(plain, dtype=np.uint8)
    quotes = np.flatnonzero(buf == ord('"'))
    opens = (buf == ord("{")) | (buf == ord("["))
    brackets = np.flatnonzero(opens | (buf == ord("}")) | (buf == ord("]")))
    outside = brackets[np.searchsorted(quotes, brackets) % 2 == 0]
    if not len(outside):
        return 0
    steps = np.where(opens[outside], 1, -1)
    return int(np.cumsum(steps).max())


def read_json_document(data: bytes, schema: dict[str, pl.DataType]) -> pl.DataFrame | None:
    """A whole JSON document (one object, pretty-printed or not) read by Arrow's JSON reader with `schema`,
    as a one-row frame; None when it refuses it, or when the document has a BOM, a raw control character, a
    ``\\uXXXX`` escape of a surrogate or control character, or nesting deeper than `MAX_DEPTH` - 24 (the
    per-record path quarantines or fails those)."""
    import pyarrow as pa
    import pyarrow.json as pj

    if not data or data.startswith(b"\xef\xbb\xbf") or data.translate(None, _NOT_CONTROL).strip(b"\t") \
            or b"\r" in data or _RISKY_ESCAPE.search(data) or json_depth(data) > MAX_DEPTH - 24:
        return None
    arrow = pa.schema([(name, _arrow(dtype)) for name, dtype in schema.items()])
    options = pj.ParseOptions(explicit_schema=arrow, unexpected_field_behavior="ignore", newlines_in_values=True)
    try:
        table = pj.read_json(pa.BufferReader(data), parse_options=options,
                             read_options=pj.ReadOptions(block_size=len(data) + 1))
    except (pa.ArrowException, ValueError, UnicodeError):
        return None
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.cast(schema)  # type: ignore[arg-type]


def _arrow(dtype: Any) -> Any:
    """The Arrow type the JSON reader builds for a String, Int64, Struct or List dtype."""
    import pyarrow as pa

    if isinstance(dtype, pl.Struct):
        return pa.struct([(f.name, _arrow(f.dtype)) for f in dtype.fields])
    if isinstance(dtype, pl.List):
        return pa.list_(_arrow(dtype.inner))
    return {pl.String: pa.string(), pl.Int64: pa.int64()}[dtype.base_type()]


def strict_str(col: pl.Expr) -> pl.Expr:
    """`loaders._common.opt_str` of a string column: stripped, None when empty."""
    text = col.str.strip_chars()
    return pl.when(text != "").then(text)


def epoch_ts(col: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(`parse_ts` of an integer column as UTC microseconds, whether the value is in 1970-2099). Seconds up to
    1e11, milliseconds above, as `loaders._time.parse_ts` reads them."""
    millis = col > 100_000_000_000
    micros = pl.when(millis).then(col * 1_000).otherwise(col * 1_000_000)
    ok = (col >= 0) & pl.when(millis).then(col < _EPOCH_MAX * 1000).otherwise(col < _EPOCH_MAX)
    return micros.cast(pl.Datetime("us")).dt.replace_time_zone("UTC"), ok


def _text_derived(text: str | None) -> tuple[str | None, list[str], list[str], list[str]]:
    found = urls_from_text(text)
    canon = list(dict.fromkeys(c for c in map(canonical_url, found) if c)) if found else []
    tags = hashtags_from_text(text)
    named = mentions_from_text(text)
    return (normalize_text(text), canon,
            list(dict.fromkeys(t.casefold().lstrip("#") for t in tags if t)) if tags else [],
            list(dict.fromkeys(m.casefold().lstrip("@") for m in named)) if named else [])


_TEXT_SCHEMA: dict[str, Any] = {"text": pl.String, "text_norm": pl.String, "urls": pl.List(pl.String),
                "text_hashtags": pl.List(pl.String), "text_mentions": pl.List(pl.String)}
# Printable ASCII with tab, LF and CR: NFKC leaves it alone, casefold() is lower(), and Python's \w, \s and
# \S mean there what the Rust regexes below spell out (Python's \s also holds \x1c-\x1f, excluded here).
_PLAIN = r"^[\x20-\x7e\t\n\r]*$"
_W, _WL = "0-9A-Za-z_", "0-9a-z_"
_TAG = rf"(?:^|[^{_W}#])#[{_W}]+"  # _HASHTAG_RE without its look-behind: the match keeps one leading char
_MENTION = rf"(?:^|[^{_W}@])@[{_W}]+"


def _plain_text_columns(text: pl.Expr) -> list[pl.Expr]:
    """`_text_derived` of plain-ASCII text (`_PLAIN`) as expressions: `normalize_text` step by step, and the
    URLs, hashtags and mentions of the text. Checked against the Python functions by tests/test_fast.py."""
    t = text.str.to_lowercase().str.replace(r"^\s*rt\s+@[0-9a-z_]+\s*:\s*", "")
    t = t.str.replace_all(rf"https?://\S+|www\.\S+|(^|[^{_WL}@])@[{_WL}]+", "${1} ")
    tags = t.str.extract_all(rf"(?:^|[^{_WL}#])#[{_WL}]+").list.eval(
        pl.element().str.replace(r"^[^#]*#", "")).list.unique().list.sort()
    t = t.str.replace_all(rf"(^|[^{_WL}#])#[{_WL}]+", "${1} ")
    words = t.str.extract_all("[0-9a-z]+")
    norm = pl.concat_list(words, tags.list.eval(pl.lit("#") + pl.element())).list.join(" ")
    return [
        pl.when(norm != "").then(norm).alias("text_norm"),
        text.str.extract_all(r"(?i)https?://\S+|www\.\S+").alias("urls"),
        text.str.extract_all(_TAG).list.eval(pl.element().str.replace(r"^[^#]*#", "").str.to_lowercase())
        .list.unique(maintain_order=True).alias("text_hashtags"),
        text.str.extract_all(_MENTION).list.eval(pl.element().str.replace(r"^[^@]*@", "").str.to_lowercase())
        .list.unique(maintain_order=True).alias("text_mentions"),
    ]


def _canonical(url: str) -> str | None:
    return canonical_url(url.rstrip(").,;!?»\"'"))


def text_columns(text: pl.Series, *, norm_only: bool = False) -> pl.DataFrame:
    """Per row of `text`: ``text_norm``, ``urls`` (canonical, from the text), ``text_hashtags`` and
    ``text_mentions``, as the per-record path derives them (with `norm_only`, only ``text_norm`` is
    meaningful). Plain-ASCII captions are computed with polars expressions (`_plain_text_columns`); any other
    caption by the per-record path's own functions, once per distinct caption."""
    distinct = pl.DataFrame({"text": text.unique()})
    plain = distinct.get_column("text").str.contains(_PLAIN).fill_null(False)
    rest = distinct.filter(~plain).get_column("text").to_list()
    rows = [_text_derived(t) for t in rest]
    other = pl.DataFrame({"text": rest, "text_norm": [r[0] for r in rows], "urls": [r[1] for r in rows],
                          "text_hashtags": [r[2] for r in rows], "text_mentions": [r[3] for r in rows]},
                         schema=_TEXT_SCHEMA)
    simple = distinct.filter(plain)
    if norm_only:
        empty = pl.lit([], pl.List(pl.String))
        simple = simple.with_columns(_plain_text_columns(pl.col("text"))[0], *[
            empty.alias(k) for k in ("urls", "text_hashtags", "text_mentions")])
    else:
        simple = simple.with_columns(_plain_text_columns(pl.col("text")))
        simple = simple.with_columns(pl.Series("urls", mapped_list(simple, "urls", _canonical), pl.List(pl.String))
                                     .fill_null(pl.lit([], pl.List(pl.String))))
    table = pl.concat([simple.select(list(_TEXT_SCHEMA)), other], how="vertical")
    return pl.DataFrame({"text": text}).join(table, on="text", how="left", nulls_equal=True, maintain_order="left")


def mapped_list(frame: pl.DataFrame, column: str, fn: Callable[[str], str | None]) -> pl.Series:
    """Per row, the non-empty strings of list column `column` mapped by `fn` (once per distinct string), but
    those it maps to None, without repeats, in order of first appearance (``list(dict.fromkeys(fn(t) for t in
    tags if t))``); null for a row left with none."""
    items = frame.select(pl.int_range(pl.len()).alias("_row"), pl.col(column)).explode(column)
    items = items.filter(pl.col(column).is_not_null() & (pl.col(column) != ""))
    distinct = items.get_column(column).unique().to_list()
    mapping = dict(zip(distinct, map(fn, distinct), strict=True))
    items = items.with_columns(pl.col(column).replace_strict(mapping, return_dtype=pl.String)).drop_nulls(column)
    grouped = items.group_by("_row", maintain_order=True).agg(pl.col(column).unique(maintain_order=True))
    full = pl.DataFrame({"_row": pl.int_range(frame.height, eager=True)}).join(
        grouped, on="_row", how="left", maintain_order="left")
    return full.get_column(column)


def to_posts(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` (every POSTS column present, any order) cast strictly to the POSTS schema."""
    return frame.select(POSTS.names()).cast(dict(POSTS), strict=True)  # type: ignore[arg-type]
