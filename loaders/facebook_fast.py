"""Fast path of the Facebook ``crowdtangle-csv`` format (see `loaders._fast`): the same posts as
`loaders.facebook._map_ct_csv`, column by column.

Only files the per-record CSV reader (Python's ``csv`` module) and polars' reader must split identically are
taken: no quote character at all, no lone ``\\r``, no blank line, every line with the header's number of
fields, no control character but tab, valid UTF-8, no repeated column name. Anything else — a quoted cell
included — is read by the per-record path. Values that need the per-record path's own logic (timestamps with
zone abbreviations, post ids from URLs, counts, media) are computed by its functions once per distinct value.

Examples
--------
>>> import tempfile
>>> csv = (b"Page Name,User Name,Facebook Id,Post Created,URL,Message,Type,Link\\n"
...        b"Kyiv News,kyivnews,123,2021-01-12 17:03:40 EET,https://www.facebook.com/123/posts/4567890,Hi #a,Status,\\n")
>>> p = Path(tempfile.mkdtemp(), "ct.csv"); _ = p.write_bytes(csv)
>>> posts = crowdtangle_posts(p, "crowdtangle-csv", None, min_bytes=0)
>>> posts.select("uid", "account_uid", "created_at", "hashtags").row(0)[:2], str(posts["created_at"][0])
(('facebook:4567890', 'facebook:123'), '2021-01-12 15:03:40+00:00')
"""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from cib.errors import RecordError
from cib.schema import MEDIA_STRUCT
from loaders._common import canonical_url, media_item, opt_int, opt_ts, parse_ts
from loaders._fast import FAST_MIN_BYTES, mapped_list, strict_str, text_columns, to_posts
from loaders._read import MAX_CELL_BYTES

__all__ = ["crowdtangle_posts"]

PLATFORM = "facebook"
MIN_BYTES = FAST_MIN_BYTES
_NOT_CONTROL = bytes(range(0x20, 256)) + b"\t\r\n"  # what may remain: tab, CR, LF
_OPTIONAL = ("Image Text", "Type", "Link", "Final Link", "Facebook Id", "User Name", "Group Name", "Page Name",
             "Page Created", "Followers at Posting", "Likes at Posting", "Message")
_TS = pl.Datetime("us", "UTC")


def crowdtangle_posts(path: Path, fmt: str, tz: str | None, *, min_bytes: int | None = None) -> pl.DataFrame | None:
    """The posts of a CrowdTangle CSV, exactly as the per-record path maps them (`tz`: ``--tz``), or None
    when the file needs the per-record path; files under `min_bytes` (default `MIN_BYTES`) too."""
    if path.stat().st_size < (MIN_BYTES if min_bytes is None else min_bytes):
        return None
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    frame = _plain_csv(data)
    del data
    if frame is None or not frame.height:
        return None
    frame = frame.with_columns(*[pl.lit(None, pl.String).alias(c) for c in _OPTIONAL if c not in frame.columns])
    if "URL" not in frame.columns or "Post Created" not in frame.columns:
        return None
    first = [pl.when(pl.col(c) != "").then(pl.col(c)) for c in ("Facebook Id", "User Name", "Page Name")]
    link = pl.coalesce(pl.when(pl.col("Final Link") != "").then(pl.col("Final Link")),
                       pl.when(pl.col("Link") != "").then(pl.col("Link")))
    pieces = pl.concat_list([pl.when(pl.col(c) != "").then(pl.col(c)) for c in ("Message", "Image Text")])
    body = pieces.list.drop_nulls().list.join("\n")
    frame = frame.with_columns(
        strict_str(pl.coalesce(first)).alias("account_id"),
        pl.concat_list(link).list.drop_nulls().alias("links"),
        pl.when(body != "").then(body).alias("text"),
        pl.coalesce(pl.when(pl.col("Followers at Posting") != "").then(pl.col("Followers at Posting")),
                    pl.col("Likes at Posting")).alias("followers_raw"),
    )
    if frame.select((pl.col("URL").is_null() | (pl.col("URL") == "") | pl.col("account_id").is_null()
                     | (pl.col("Post Created") == "")).any()).item():
        return None
    try:
        created = _created(frame.get_column("Post Created"), tz)
        post_id = _post_ids(frame.get_column("URL"))
        account_created = _each(frame.get_column("Page Created"), lambda v: opt_ts(v, tz), _TS)
        followers = _each(frame.get_column("followers_raw"), opt_int, pl.Int64())
        kinds = frame.select(pl.concat_str([pl.col("Type").fill_null(""), pl.col("Link").fill_null("")],
                                           separator="\x00")).to_series()
        media = _each(kinds, _media, pl.List(MEDIA_STRUCT))
    except RecordError:  # AmbiguousZone included: the per-record path fails the file naming --tz
        return None
    if created.null_count() or post_id.null_count():
        return None
    texts = text_columns(frame.get_column("text"))
    frame = frame.with_columns(
        post_id.alias("post_id"), created.alias("created_at"), account_created.alias("account_created_at"),
        followers.alias("followers"), media.fill_null(pl.lit([], pl.List(MEDIA_STRUCT))).alias("media"),
        mapped_list(frame, "links", canonical_url).fill_null(pl.lit([], pl.List(pl.String))).alias("urls"),
        texts.get_column("text_norm"), texts.get_column("text_hashtags").alias("hashtags"),
        texts.get_column("text_mentions").alias("mentions"),
    ).with_columns(
        pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("post_id")).alias("uid"),
        pl.lit(PLATFORM).alias("platform"),
        pl.concat_str(pl.lit(f"{PLATFORM}:"), pl.col("account_id")).alias("account_uid"),
        strict_str(pl.col("User Name")).alias("handle"),
        strict_str(pl.coalesce(pl.when(pl.col("Page Name") != "").then(pl.col("Page Name")), pl.col("Group Name")))
        .alias("display_name"),
        *[pl.lit(None, pl.String).alias(k) for k in ("lang", "repost_of", "repost_account_uid", "reply_to",
                                                     "quote_of", "sound_id")],
        pl.lit([], pl.List(pl.String)).alias("effect_ids"),
        pl.col("URL").alias("post_url"),
        pl.lit(fmt).alias("format"),
        pl.lit(str(path)).alias("source_file"),
        pl.int_range(2, pl.len() + 2, dtype=pl.Int64).alias("source_record"),
    )
    return to_posts(frame)


def _plain_csv(data: bytes) -> pl.DataFrame | None:
    """`data` as a frame of strings when it is CSV that Python's ``csv`` module (the per-record reader) and
    polars split identically (see the module docstring), else None."""
    if not data or b'"' in data or data.translate(None, _NOT_CONTROL) \
            or data.count(b"\r") != data.count(b"\r\n") or b"\n\n" in data or b"\n\r\n" in data \
            or data[:1] in (b"\n", b"\r"):
        return None
    buf = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(buf == 0x0A)
    if not len(ends) or ends[-1] != len(buf) - 1:
        ends = np.append(ends, len(buf))
    starts = np.concatenate(([0], ends[:-1] + 1))
    if ((ends - starts) > MAX_CELL_BYTES).any():  # a cell over the limit is the per-record path's to refuse
        return None
    commas = np.bincount(np.searchsorted(starts, np.flatnonzero(buf == ord(",")), side="right") - 1,
                         minlength=len(starts))
    if (commas != commas[0]).any():
        return None
    header = [h.strip() for h in data[:ends[0]].decode("utf-8", "replace").rstrip("\r").split(",")]
    if len(set(header)) != len(header):
        return None
    try:
        frame = pl.read_csv(io.BytesIO(data), has_header=True, quote_char=None, infer_schema=False,
                            new_columns=header).with_columns(pl.all().fill_null(""))  # empty cells are ""
    except (pl.exceptions.PolarsError, ValueError, UnicodeError):
        return None
    if frame.height != len(starts) - 1:
        return None
    return frame


def _each(values: pl.Series, fn: Callable[[Any], Any], dtype: pl.DataType) -> pl.Series:
    """`fn` of each distinct non-null value (errors propagate); null stays null."""
    distinct = values.drop_nulls().unique().to_list()
    mapping = {v: fn(v) for v in distinct}
    if not mapping:
        return pl.Series(values.name, [None] * len(values), dtype)
    keys = pl.Series("k", list(mapping), values.dtype)
    table = pl.DataFrame([keys, pl.Series("v", list(mapping.values()), dtype)])
    return pl.DataFrame({"k": values}).join(table, on="k", how="left", maintain_order="left").get_column("v")


_SIMPLE_URL = r"^https?://[A-Za-z0-9.-]+(/[A-Za-z0-9._~-]*)*$"  # no query, fragment, port, user or escapes
_LOCAL_ABBR = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} [A-Z]{2,6}$"


def _post_ids(urls: pl.Series) -> pl.Series:
    """`loaders.facebook._post_id_from_url` of each URL: for a plain URL (`_SIMPLE_URL`) that has a path
    segment of six or more digits, the last such run, by expressions; any other by the function itself."""
    frame = pl.DataFrame({"url": urls}).with_columns(
        pl.col("url").str.contains(_SIMPLE_URL).fill_null(False).alias("simple"),
        pl.col("url").str.replace(r"^https?://[A-Za-z0-9.-]+", "").str.extract_all(r"/[0-9]{6,}").list.last()
        .str.slice(1).alias("number"))
    fast = frame.select(pl.when(pl.col("simple")).then(pl.col("number"))).to_series()
    slow = _each(frame.filter(fast.is_null()).get_column("url"), _post_id, pl.String())
    lookup = dict(zip(frame.filter(fast.is_null()).get_column("url").to_list(), slow.to_list(), strict=True))
    return fast.fill_null(frame.get_column("url").replace_strict(lookup, default=None, return_dtype=pl.String))


def _created(values: pl.Series, tz: str | None) -> pl.Series:
    """`parse_ts(value, tz)` of each ``Post Created``. Without ``--tz``, ``YYYY-MM-DD HH:MM:SS ABBR`` is
    resolved per (abbreviation, local day) when `abbreviation_offset` gives one offset at every quarter hour
    of that day and at its last second; other values and days go through `parse_ts` itself."""
    from datetime import datetime, timedelta

    from loaders._time import abbreviation_offset

    if tz is not None:
        return _each(values, lambda v: parse_ts(v, tz), _TS)
    frame = pl.DataFrame({"v": values}).with_columns(
        pl.col("v").str.contains(_LOCAL_ABBR).fill_null(False).alias("plain"),
        pl.col("v").str.slice(0, 19).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
        .alias("local"),
        pl.col("v").str.slice(20).alias("abbr"))
    frame = frame.with_columns((pl.col("plain") & pl.col("local").is_not_null()).alias("plain"))
    days = frame.filter("plain").select("abbr", pl.col("local").dt.date().alias("day")).unique()
    offsets: list[int | None] = []
    for abbr, day in days.iter_rows():
        start = datetime(day.year, day.month, day.day)
        moments = [start + timedelta(minutes=15 * k) for k in range(96)] + [start + timedelta(seconds=86399)]
        seen = {abbreviation_offset(abbr, m) for m in moments}  # RecordError/AmbiguousZone: the caller declines
        offsets.append(int(seen.pop().total_seconds()) if len(seen) == 1 else None)
    table = days.with_columns(pl.Series("offset", offsets, pl.Int64))
    frame = frame.with_columns(pl.col("local").dt.date().alias("day")).join(
        table, on=["abbr", "day"], how="left", maintain_order="left")
    utc = (pl.col("local") - pl.duration(seconds=pl.col("offset"))).dt.replace_time_zone("UTC")
    year = utc.dt.year()
    fast = frame.select(pl.when(pl.col("plain") & pl.col("offset").is_not_null() & (year >= 1970) & (year <= 2099))
                        .then(utc)).to_series()
    rest = frame.filter(fast.is_null()).get_column("v")
    lookup = {v: parse_ts(v) for v in rest.drop_nulls().unique().to_list()}
    slow = frame.get_column("v").replace_strict(lookup, default=None, return_dtype=_TS) if lookup else fast
    return fast.fill_null(slow)


def _post_id(url: str) -> str:
    from loaders.facebook import _post_id_from_url

    return _post_id_from_url(url)


def _media(key: str) -> list[Any]:
    kind_text, link = key.split("\x00", 1)
    kind = kind_text.lower()
    if kind not in ("photo", "native video", "live video complete", "video"):
        return []
    item = media_item(PLATFORM, "video" if "video" in kind else "photo", None, link or None)
    return [item] if item is not None else []
